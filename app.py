"""lwviz: run with ``streamlit run app.py``.

Streamlit imports this file once to serve it (the ``st.App`` below, whose start-up warms what every class
needs: lwviz.ui.warmup) and runs it as ``__main__`` on every visit: the frame of every page.
"""

from pathlib import Path

import streamlit as st

if __name__ == "__main__":
    from lwviz.perf import keep_freed_memory
    from lwviz.ui.nav import st_pages

    keep_freed_memory()  # faster forward passes for every page (see lwviz/perf.py)
    st.set_page_config(
        page_title="lwviz: lightweight CNNs, layer by layer", page_icon=":material/memory:", layout="wide"
    )
    st.navigation(st_pages()).run()
else:
    from lwviz.ui.warmup import warming_up

    app = st.App(__file__, lifespan=lambda _app: warming_up(Path(__file__).parent))
