"""Look inside: Grad-CAM maps of where a network sees a class, and the channel attention of its SE blocks."""
from dataclasses import dataclass, replace

import streamlit as st

from lwviz.compress.train import DIGITS_CLASSES, DIGITS_STEPS, Dataset, digits, digits_se_spec, train
from lwviz.explain import NO_SE_REASON, Explainer, network_input, overlay, spec_has_se
from lwviz.ui.cache import design_explainer, source_explainer, usable_source
from lwviz.ui.pickers import pick_picture
from lwviz.ui.state import current_spec, plain
from lwviz.ui.training import TRAINED, trained_net
from lwviz.viz.cost_charts import short_name
from lwviz.viz.explain_charts import (feature_maps_figure, gate_bars, gate_difference_heatmap, gate_divergence_figure,
                                      gate_heatmap)
from lwviz.weights.offline import imagenet_categories
from lwviz.weights.preprocess import TORCHVISION_PREPROCESS, Preprocess
from lwviz.weights.sources import available_sources, get_source

DIGITS, DESIGN = "digits", "design"  # network choices besides the weight sources
spec = current_spec()


@dataclass(frozen=True)
class Network:
    explainer: Explainer
    label: str
    categories: tuple[str, ...]
    preprocess: Preprocess | None  # None: it reads the pictures of ``data`` (32x32 digits or CIFAR-10), not photos
    data: Dataset | None = None


def network(choice: str) -> Network:
    if choice == DIGITS:
        explainer, history = st.session_state.explain_digits
        return Network(explainer, f"digits SE network ({history.test_accuracy:.1%} on held-out digits)",
                       DIGITS_CLASSES, None, digits())
    if choice == TRAINED:
        trained = trained_net()
        if st.session_state.get("explain_trained", (None,))[0] is not trained:  # this session's own copy
            st.session_state.explain_trained = trained, Explainer(trained.model)
        return Network(st.session_state.explain_trained[1], trained.label, trained.data.classes, None, trained.data)
    if choice == DESIGN:
        categories = imagenet_categories() if spec.num_classes == 1000 else tuple(map(str, range(spec.num_classes)))
        return Network(design_explainer(spec), f"{spec.name}, untrained", categories,
                       replace(TORCHVISION_PREPROCESS, crop=spec.resolution))
    source = get_source(choice)
    return Network(source_explainer(choice), source.spec.name, source.categories, source.preprocess)


def usable(choice: str) -> str:
    """The choice, or what runs instead when its pretrained weights fail to load (the reason is shown)."""
    return (usable_source(choice) or DESIGN) if choice in ready else choice


def train_digits() -> None:
    bar = st.progress(0.0, text="Training a small SE network on handwritten digits...")
    model, history = train(digits_se_spec(), progress=lambda step, total, loss: bar.progress(
        step / total, text=f"Training on handwritten digits: step {step}/{total}, loss {loss:.3f}"))
    bar.empty()
    st.session_state.explain_digits = (Explainer(model), history)


def choose(name: str) -> None:
    st.session_state.explain_network = name


def network_name(choice: str) -> str:
    return {DIGITS: "Small SE network trained on digits (here, in seconds)",
            TRAINED: f"Trained on the Train page: {trained.label}" if (trained := trained_net()) else "",
            DESIGN: f"{spec.name}: your design, untrained"}.get(choice) or f"{get_source(choice).spec.name}, ImageNet"


def layer_label(explainer: Explainer, name: str) -> str:
    args = next(a for a in explainer.plan.layers if a.name == name)
    return f"{name} · {args.out_size}×{args.out_size} maps, {args.out_chs} channels"


st.title("Look inside")
st.markdown("**Grad-CAM** colors the parts of a picture that a layer found evidence for a class in: the class "
            "score's gradient says how much each feature map matters, the maps weighted by it show where. "
            "**Channel attention** shows the gates of squeeze-and-excitation blocks: how much each channel is "
            "needed for this picture.")

ready = [s.name for s in available_sources()]
net_col, picture_col = st.columns([1, 2], gap="large")
with net_col:
    labels = {c: network_name(c) for c in [*ready, *([TRAINED] if trained_net() else []), DIGITS, DESIGN]}
    picked = st.selectbox("Network", list(labels), key="explain_network", format_func=labels.get)
    choice = usable(picked)
    if choice == DIGITS and "explain_digits" not in st.session_state:
        train_digits()
    net = network(choice)
    if choice == DESIGN:
        st.caption("Random weights: its maps show what an untrained network reacts to. Train or load weights to "
                   "see evidence.")

with picture_col:
    if net.preprocess is None:
        test = net.data.test_x
        index = st.slider("Held-out picture", 0, len(test) - 1, 0, key=f"explain_digit_{net.data.name}")
        x, picture = test[index:index + 1], net.data.picture(test[index])
        caption = f"Held-out picture {index}: {net.data.classes[int(net.data.test_y[index])]}"
    else:
        picture = pick_picture("explain")
        if picture is None:
            st.stop()
        x = network_input(picture, net.preprocess)
        caption = "The picture"

cam_tab, se_tab = st.tabs(["Grad-CAM", "Channel attention (SE)"])

with cam_tab:
    names = net.explainer.layer_names()
    layer_col, class_col, opacity_col = st.columns(3)
    layer = layer_col.selectbox("Layer", names, index=names.index(net.explainer.default_layer()),
                                key=f"explain_layer_{choice}", format_func=lambda n: layer_label(net.explainer, n))
    target = class_col.selectbox(
        "Class to explain", [None, *range(len(net.categories))], key=f"explain_class_{choice}",
        format_func=lambda c: "the network's answer (top-1)" if c is None else net.categories[c])
    opacity = opacity_col.slider("Opacity of the map", 0.0, 1.0, 0.5, 0.05, key="explain_opacity")
    cam = net.explainer.grad_cam(x, layer, target)
    explained, sure, answer = st.columns(3)
    explained.metric("Explaining", net.categories[cam.target])
    sure.metric("Probability of it", f"{cam.prob:.0%}")
    answer.metric("The network's answer", net.categories[cam.top1])
    picture_left, map_right = st.columns(2)
    picture_left.image(picture, caption=caption, width="stretch")
    map_right.image(overlay(picture, cam.heatmap, opacity), caption=f"Grad-CAM of {layer}", width="stretch")
    st.caption(f"{plain(net.label)}. Red: strong evidence for the class; blue: none. Each map is scaled to its own "
               "maximum.")

    st.subheader("The same picture at several depths")
    st.caption("Early layers see small patches at high resolution: sharp maps of edges and textures. Deeper layers "
               "see the whole object on a coarse grid: blurrier maps that follow the class.")
    depths = net.explainer.depth_layers()
    for column, name in zip(st.columns(len(depths)), depths):
        column.image(overlay(picture, net.explainer.grad_cam(x, name, target).heatmap, opacity),
                     caption=layer_label(net.explainer, name), width="stretch")

    st.subheader("Two networks, one picture")
    if net.preprocess is None:
        st.info(plain(f"This network only reads {net.data.name} pictures; pick a photo network above to compare "
                      "networks."))
    else:
        others = [n for n in (*ready, DESIGN) if n not in (choice, picked)]
        other_choice = st.selectbox("Compare with", others, key="explain_other", format_func=labels.get)
        other = network(usable(other_choice))
        other_x = network_input(picture, other.preprocess)
        for column, shown, inputs in zip(st.columns(2), (net, other), (x, other_x)):
            result = shown.explainer.grad_cam(inputs)  # top-1, last layer: the networks may not share classes
            column.image(overlay(picture, result.heatmap, opacity), width="stretch",
                         caption=f"{shown.label}: {shown.categories[result.target]} ({result.prob:.0%}), "
                                 f"{shown.explainer.default_layer()}")
        if not any(spec_has_se(get_source(n).spec) for n in ready):
            st.caption("MobileNetV3 or EfficientNet-B0 appear here once their torchvision weights are downloaded "
                       "(Classify page).")

with se_tab:
    if not net.explainer.has_se:
        st.info(plain(NO_SE_REASON.get(net.explainer.spec.name, f"{net.label} has no squeeze-and-excitation "
                                                                 "blocks.")))
        with_se = [n for n in ready if spec_has_se(get_source(n).spec)]
        for name in with_se:
            st.button(f"Show {get_source(name).label}", key=f"explain_show_{name}", on_click=choose, args=(name,))
        if not with_se:
            st.markdown("No network with SE and pretrained weights is on this laptop (MobileNetV3 and "
                        "EfficientNet-B0 weights can be downloaded on the Classify page). Train a small one on "
                        f"scikit-learn's handwritten digits instead: {DIGITS_STEPS} steps, a few seconds.")
            st.button("Train and show an SE network", icon=":material/model_training:", key="explain_train",
                      on_click=choose, args=(DIGITS,))
        st.stop()

    blocks = net.explainer.se_blocks()
    block = st.selectbox("SE block", list(blocks), index=len(blocks) - 1, key=f"explain_block_{choice}",
                         format_func=lambda b: f"{b} · gates {blocks[b]} channels")
    capture = net.explainer.gates(x, features_of=block)
    sort = st.toggle("Sort each block's channels, most excited first", key="explain_sort")
    st.plotly_chart(gate_heatmap(capture, sort=sort), width="stretch", key="explain_gate_heatmap")
    bars_col, maps_col = st.columns(2)
    bars_col.plotly_chart(gate_bars(capture.gate(block), block), width="stretch", key="explain_gate_bars")
    maps_col.plotly_chart(feature_maps_figure(capture.features, capture.gate(block)), width="stretch",
                          key="explain_feature_maps")
    maps_col.caption("What enters the SE block: the channels it lets through most (top) and least (bottom).")

    st.subheader("Two pictures, two sets of gates")
    a_col, b_col = st.columns(2)
    a_col.image(picture, caption="Picture A: the one chosen above", width=200)
    with b_col:
        if net.preprocess is None:
            other_index = st.slider("Second held-out picture", 0, len(net.data.test_x) - 1, 1,
                                    key=f"explain_digit_b_{net.data.name}")
            x_b = net.data.test_x[other_index:other_index + 1]
            picture_b = net.data.picture(x_b[0])
        else:
            picture_b = pick_picture("explain_b", "Picture B", photo="A cup of coffee")
            x_b = None if picture_b is None else network_input(picture_b, net.preprocess)
        if picture_b is not None:
            st.image(picture_b, caption="Picture B", width=200)
    if x_b is not None:
        capture_b = net.explainer.gates(x_b)
        st.plotly_chart(gate_difference_heatmap(capture, capture_b), width="stretch", key="explain_gate_diff")
        st.plotly_chart(gate_divergence_figure(capture, capture_b), width="stretch", key="explain_gate_spread")
        st.caption("Early gates hardly depend on the picture; late ones differ with its class (Hu et al., 2018).")

    st.subheader("Switch SE off")
    if st.toggle("Ablate SE: force every gate to 1", key="explain_ablate"):
        if (key := f"explain_ablated_{choice}") not in st.session_state:
            st.session_state[key] = net.explainer.ablated()
        ablated = st.session_state[key]
        plain_cam = ablated.grad_cam(x, layer, target)
        for column, title, result in zip(st.columns(2), ("With SE", "Gates forced to 1"), (cam, plain_cam)):
            column.metric(title, f"{net.categories[result.top1]} ({result.probs[result.top1]:.0%})")
            column.image(overlay(picture, result.heatmap, opacity), width="stretch",
                         caption=f"Grad-CAM of {short_name(layer)} for {net.categories[result.target]} "
                                 f"({result.prob:.0%})")
