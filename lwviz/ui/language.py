"""The session's language: ``?lang=`` in the URL wins, then the browser's, then English; a switch in the sidebar.

The choice lives in session state and is mirrored in the URL on every run, so every link the app makes (a
shared design, a page) opens in the same language. Changing it reruns the page: the design and every
control keep their values.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lwviz.errors import PhrasedError
from lwviz.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_of, said, translator

_last_run = {"lang": DEFAULT_LANGUAGE}  # see ``_``


def choose_language() -> str:
    """Settle this run's language (app.py calls it before any page runs) and put it in the URL.

    A ``?lang=`` other than the one this session put there last (a link, an edited address) wins; then
    the sidebar switch when it was just moved; on a session's first run, the browser's language.
    """
    state, in_url = st.session_state, language_of(st.query_params.get("lang"))
    if in_url and in_url != state.get("lang_in_url"):
        state.lang = in_url
    elif state.get("lang_switch") in LANGUAGES:
        state.lang = state.lang_switch
    elif "lang" not in state:
        state.lang = language_of(st.context.locale) or DEFAULT_LANGUAGE
    if state.get("lang_drawn", state.lang) != state.lang:
        _keep_choices()
    state.lang_drawn = state.lang
    state.lang_switch = state.lang  # the switch shows it (set before the widget is drawn in this run)
    st.query_params["lang"] = state.lang_in_url = _last_run["lang"] = state.lang
    return state.lang


def _keep_choices() -> None:
    """Pin every choice widget's value when the language changes.

    A browser sends a selectbox's choice as the label it showed, which the new language's labels no longer
    match: Streamlit would reset the widget to its first option. Read now (with the last run's labels), each
    value is the option itself, and setting it keeps the choice.
    """
    state = st.session_state
    for key in list(state.keys()):
        if key in ("lang", "lang_switch", "lang_in_url", "lang_drawn"):
            continue
        value = state[key]
        if isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)):
            state[key] = value


def _(message: str, /, **params) -> str:
    """``message`` in the session's language, with ``{name}`` fields filled from ``params``.

    Outside a script run there is no session: AppTest calls widgets' ``format_func`` between runs to match
    the options it was shown. Then the language of the last run in this process answers.
    """
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE) if get_script_run_ctx() else _last_run["lang"]
    return translator(lang)(message, **params)


def language_switch() -> None:
    """The sidebar's language control, labelled in both languages so anyone can find it (read by
    :func:`choose_language` on the next run)."""
    st.sidebar.segmented_control(
        "语言 · Language", list(LANGUAGES), format_func=LANGUAGES.get, required=True, key="lang_switch"
    )


def error_text(exc: BaseException) -> str:
    """What a library error says, in the session's language, safe to show as Markdown: a
    :class:`~lwviz.errors.PhrasedError`'s phrase said in that language, any other error as it reads."""
    return plain(said(exc.phrase, _) if isinstance(exc, PhrasedError) else str(exc))


def plain(text: str) -> str:
    """Escape Markdown in a library message (field names like ``stages[2]`` and ``net_...``)."""
    for char in "\\`*_[]<>#":
        text = text.replace(char, "\\" + char)
    return text


def translated_frame(frame):
    """``frame`` with its column names (catalog messages) in the session's language."""
    return frame.rename(columns=_)
