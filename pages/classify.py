"""Classify page: a real pretrained lightweight network names what is in a photo, an upload or a snapshot."""

import streamlit as st

from lwviz.classify import classify
from lwviz.i18n import DEFAULT_LANGUAGE
from lwviz.networks import DOWNLOADABLE, OWN, READY
from lwviz.ui.language import _
from lwviz.ui.network_picker import pick_network
from lwviz.ui.pickers import pick_picture
from lwviz.ui.presenter import chart
from lwviz.ui.state import current_spec
from lwviz.viz.classify_charts import topk_figure

spec = current_spec()

st.title(_("Classify a picture"))
st.markdown(
    _(
        "A real network trained on ImageNet's 1000 classes looks at a picture and says what it sees, with how "
        "sure it is and how long it took on this laptop."
    )
)
network_col, picture_col = st.columns([1, 2], gap="large")

with network_col:
    net = pick_network("classify", spec, (READY, DOWNLOADABLE, OWN), key="classify_source")
    if net is None:
        st.stop()
    if net.top1:
        st.caption(_("ImageNet top-1 accuracy {accuracy}%.", accuracy=f"{net.top1:.1f}"))
    if len(net.categories) == 1000 and st.session_state.get("lang", DEFAULT_LANGUAGE) != DEFAULT_LANGUAGE:
        st.caption(
            _("ImageNet's class names are shown in English: no reliable Chinese list of them is available offline.")
        )

with picture_col:
    image = pick_picture("classify")
    if image is None:
        st.stop()
    result = classify(net.model, image, net.preprocess, net.categories, topk=5)
    image_col, chart_col = st.columns([2, 3])
    image_col.image(image, caption=f"{image.width}×{image.height}", width="stretch")
    with chart_col:
        st.metric(_("The network says"), result.top.label)
        st.markdown(_("**{prob}** sure", prob=f"{result.top.prob:.0%}"))
        chart(topk_figure(result, _=_), width="stretch")
        st.caption(
            _(
                "{ms} ms for one forward pass on this CPU ({size}×{size} input).",
                ms=f"{result.latency_ms:.0f}",
                size=net.resolution,
            )
        )
