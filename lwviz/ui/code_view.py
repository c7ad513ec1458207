"""The design as code: one standalone PyTorch file (lwviz.codegen) to read on the page and take home."""

from __future__ import annotations

import streamlit as st

from lwviz.codegen import file_name, network_code
from lwviz.spec import Spec
from lwviz.ui.language import _, error_text


def code_view(spec: Spec) -> None:
    """``spec``'s network as Python, with its download button (``<design>.py``).

    Writing the file takes a couple of milliseconds, so it is not cached: every rerun shows the current design.
    """
    try:
        code = network_code(spec)
    except ValueError as exc:  # a design that does not resolve, or a block type with no code yet
        st.error(_("This design cannot be written as code: {reason}", reason=error_text(exc)))
        return
    name = file_name(spec)
    st.caption(
        _(
            "This network as one PyTorch file that needs nothing but torch: a class per block type, the stages as "
            "a table, and `build()`. Run `python {file}` to build it and print its parameter count and output "
            "shape. Its layers have the names they have here, so weights saved from this app load into it with "
            "`load_state_dict`.",
            file=name,
        )
    )
    st.download_button(
        _("Download {file}", file=name),
        code,
        name,
        "text/x-python",
        key="code_download",
        icon=":material/download:",
        help=_("{lines} lines of Python", lines=code.count("\n")),
    )
    st.code(code, language="python", line_numbers=True)
