"""Landing page: what each page teaches, with a link to it."""

import streamlit as st

from lwviz.ui.cache import home_figure
from lwviz.ui.language import _, plain
from lwviz.ui.nav import PAGES
from lwviz.ui.presenter import chart
from lwviz.ui.state import current_spec

spec = current_spec()
st.title(_("lwviz: how lightweight CNNs get small and fast"))
st.markdown(
    _(
        "Depthwise-separable convolutions, inverted residuals, squeeze-and-excitation, channel shuffle, "
        "Fire modules and compound scaling, measured layer by layer. Everything runs offline on this laptop."
    )
)
with st.container(border=True):
    st.markdown(_("**New here, or teaching a class?** The lesson takes you through the ideas one step at a time."))
    st.page_link("pages/lesson.py", label=_("Start the lesson"), icon=":material/play_circle:")
chart(home_figure(st.session_state.lang), width="stretch", config={"displayModeBar": False})
st.caption(
    _(
        "MobileNetV1 beside the same network built of standard convolutions (the MobileNet paper's Table 4): "
        "splitting each convolution into a depthwise and a pointwise one keeps the shapes and drops most of the cost."
    )
)
for col, page in zip(st.columns(2) * len(PAGES), PAGES):
    with col.container(border=True):
        st.page_link(page.path, label=_(page.title), icon=page.icon)
        st.markdown(_(page.teaches))
st.caption(
    _("Current design: **{name}**. Every page works on it; a link to any page carries it along.", name=plain(spec.name))
)
