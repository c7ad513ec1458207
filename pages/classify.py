"""Classify page: a real pretrained lightweight network names what is in a photo, an upload or a snapshot."""
import streamlit as st

from lwviz.classify import classify
from lwviz.ui.cache import pretrained_model, usable_source
from lwviz.ui.pickers import pick_picture
from lwviz.ui.state import current_spec, plain
from lwviz.viz.classify_charts import topk_figure
from lwviz.weights.base import WeightsUnavailable
from lwviz.weights.checkpoint import CheckpointError, CheckpointSource
from lwviz.weights.sources import SOURCES, available_sources, get_source

OWN = "own"  # the network choice meaning "the current design with an uploaded checkpoint"
spec = current_spec()

st.title("Classify a picture")
st.markdown("A real network trained on ImageNet's 1000 classes looks at a picture and says what it sees, with how "
            "sure it is and how long it took on this laptop.")
network_col, picture_col = st.columns([1, 2], gap="large")

with network_col:
    ready = [s.name for s in available_sources()]
    names = ready + [n for n in SOURCES if n not in ready] + [OWN]
    choice = st.selectbox(
        "Network", names, key="classify_source",
        format_func=lambda n: f"{plain(spec.name)} with your checkpoint" if n == OWN
        else SOURCES[n].label + ("" if n in ready else " (download needed)"))
    if choice == OWN:
        upload = st.file_uploader("Checkpoint for the current design (.pt, .pth, .safetensors)",
                                  type=["pt", "pth", "safetensors"], key="classify_checkpoint",
                                  help="A state_dict only; pickles that try to run code are refused.")
        if upload is None:
            st.info(f"Upload a state_dict for **{plain(spec.name)}** (design it on the Build page).")
            st.stop()
        source = CheckpointSource(spec, upload.getvalue(), upload.name)
        try:
            with st.spinner("Loading your checkpoint..."):
                model = source.load()
        except CheckpointError as exc:
            st.error(plain(str(exc)))
            st.stop()
    else:
        source = get_source(choice)
        if choice not in ready:
            st.warning(plain(source.missing()))
            if st.button("Download the weights now", icon=":material/download:", key="classify_download"):
                bar = st.progress(0.0, text="Downloading...")
                try:
                    source.load(progress=lambda done, total: bar.progress(min(done / total, 1.0) if total else 0.0,
                                                                          f"{done / 2**20:.1f} MiB"))
                except WeightsUnavailable as exc:
                    st.error(plain(str(exc)))
                else:
                    st.session_state.classify_downloaded = choice
                    st.rerun()
            st.stop()
        if st.session_state.pop("classify_downloaded", None) == choice:
            st.success(plain(f"Downloaded and cached: {source.spec.name} works offline from now on."),
                       icon=":material/download_done:")
        with st.spinner(f"Loading {source.label}..."):
            usable = usable_source(choice)
        if usable is None:
            st.stop()
        source, model = get_source(usable), pretrained_model(usable)
    if source.top1:
        st.caption(f"ImageNet top-1 accuracy {source.top1:.1f}%.")

with picture_col:
    image = pick_picture("classify")
    if image is None:
        st.stop()
    result = classify(model, image, source.preprocess, source.categories, topk=5)
    image_col, chart_col = st.columns([2, 3])
    image_col.image(image, caption=f"{image.width}×{image.height}", width="stretch")
    with chart_col:
        st.metric("The network says", result.top.label)
        st.markdown(f"**{result.top.prob:.0%}** sure")
        st.plotly_chart(topk_figure(result), width="stretch")
        st.caption(f"{result.latency_ms:.0f} ms for one forward pass on this CPU "
                   f"({source.preprocess.crop}×{source.preprocess.crop} input).")
