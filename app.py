"""lwviz: run with ``streamlit run app.py``.

Streamlit imports this file once to serve it (the ``st.App`` below, whose start-up warms what every class
needs: lwviz.ui.warmup) and runs it as ``__main__`` on every visit: the frame of every page.
"""

from pathlib import Path

import streamlit as st

if __name__ == "__main__":
    from lwviz.ui.warmup import wait_for_imports

    wait_for_imports()  # a first visit during the start-up must not import beside it (see there)
    from lwviz.perf import keep_freed_memory
    from lwviz.ui.language import _, choose_language, language_switch
    from lwviz.ui.nav import st_pages
    from lwviz.ui.presenter import choose_presenting, presenter_css, presenter_switch

    keep_freed_memory()  # faster forward passes for every page (see lwviz/perf.py)
    lang = choose_language()
    st.set_page_config(
        page_title=_("lwviz: lightweight CNNs, layer by layer"),
        page_icon=":material/memory:",
        layout="wide",
        initial_sidebar_state="collapsed" if choose_presenting() else "auto",
    )
    page = st.navigation(st_pages(lang))
    language_switch()
    presenter_switch()
    presenter_css()
    page.run()
else:
    from lwviz.ui.warmup import warming_up

    app = st.App(__file__, lifespan=lambda _app: warming_up(Path(__file__).parent))
