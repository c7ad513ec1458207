"""Look inside: Grad-CAM maps of where a network sees a class, and the channel attention of its SE blocks."""

import streamlit as st

from lwviz.explain import NO_SE_REASON, Explainer, network_input, overlay, spec_has_se
from lwviz.i18n import DEFAULT_LANGUAGE, said
from lwviz.networks import DESIGN, DIGITS, READY, TRAINED, network_label
from lwviz.train.loop import DIGITS_STEPS
from lwviz.ui.language import _, plain
from lwviz.ui.network_picker import network_explainer, pick_network
from lwviz.ui.pickers import pick_picture
from lwviz.ui.presenter import chart, more_controls
from lwviz.ui.state import current_spec
from lwviz.ui.training import dataset_name
from lwviz.viz.cost_charts import short_name
from lwviz.viz.explain_charts import (
    feature_maps_figure,
    gate_bars,
    gate_difference_heatmap,
    gate_divergence_figure,
    gate_heatmap,
)
from lwviz.weights import available_sources, get_source

spec = current_spec()


def choose(name: str) -> None:
    st.session_state.explain_network = name


def layer_label(explainer: Explainer, name: str) -> str:
    args = next(a for a in explainer.plan.layers if a.name == name)
    return _("{name} · {size}×{size} maps, {channels} channels", name=name, size=args.out_size, channels=args.out_chs)


st.title(_("Look inside"))
st.markdown(
    _(
        "**Grad-CAM** colors the parts of a picture that a layer found evidence for a class in: the class "
        "score's gradient says how much each feature map matters, the maps weighted by it show where. "
        "**Channel attention** shows the gates of squeeze-and-excitation blocks: how much each channel is "
        "needed for this picture."
    )
)

ready = [s.name for s in available_sources()]
net_col, picture_col = st.columns([1, 2], gap="large")
with net_col:
    net = pick_network("explain", spec, (READY, TRAINED, DIGITS, DESIGN))
    if net is None:
        st.stop()
    explainer, choice = network_explainer(net), net.key
    if choice == DESIGN:
        st.caption(
            _(
                "Random weights: its maps show what an untrained network reacts to. "
                "Train or load weights to see evidence."
            )
        )
    if len(net.categories) == 1000 and st.session_state.get("lang", DEFAULT_LANGUAGE) != DEFAULT_LANGUAGE:
        st.caption(
            _("ImageNet's class names are shown in English: no reliable Chinese list of them is available offline.")
        )

with picture_col:
    if net.data is not None:  # a network trained here reads the pictures it learned from, not photos
        test = net.data.test_x
        index = st.slider(_("Held-out picture"), 0, len(test) - 1, 0, key=f"explain_digit_{net.data.name}")
        x, picture = test[index : index + 1], net.data.picture(test[index])
        caption = _(
            "Held-out picture {index}: {label}", index=index, label=net.data.classes[int(net.data.test_y[index])]
        )
    else:
        picture = pick_picture("explain")
        if picture is None:
            st.stop()
        x = network_input(picture, net.preprocess)
        caption = _("The picture")

names = explainer.layer_names()
with more_controls():  # in presenter mode, behind one expander
    layer_col, class_col, opacity_col = st.columns(3)
    layer = layer_col.selectbox(
        _("Layer"),
        names,
        index=names.index(explainer.default_layer()),
        key=f"explain_layer_{choice}",
        format_func=lambda n: layer_label(explainer, n),
    )
    target = class_col.selectbox(
        _("Class to explain"),
        [None, *range(len(net.categories))],
        key=f"explain_class_{choice}",
        format_func=lambda c: _("the network's answer (top-1)") if c is None else net.categories[c],
    )
    opacity = opacity_col.slider(_("Opacity of the map"), 0.0, 1.0, 0.5, 0.05, key="explain_opacity")
cam = explainer.grad_cam(x, layer, target)
explained, sure, answer = st.columns(3)
explained.metric(_("Explaining"), net.categories[cam.target])
sure.metric(_("Probability of it"), f"{cam.prob:.0%}")
answer.metric(_("The network's answer"), net.categories[cam.top1])
view = st.segmented_control(  # one view at a time: Streamlit would send and draw hidden tabs on every change
    _("View"),
    ["cam", "se"],
    format_func={"cam": "Grad-CAM", "se": _("Channel attention (SE)")}.get,
    default="cam",
    required=True,
    key="explain_view",
    label_visibility="collapsed",
)


def cam_view() -> None:
    picture_left, map_right = st.columns(2)
    picture_left.image(picture, caption=caption, width="stretch")
    map_right.image(
        overlay(picture, cam.heatmap, opacity), caption=_("Grad-CAM of {layer}", layer=layer), width="stretch"
    )
    st.caption(
        _(
            "{network}. Red: strong evidence for the class; blue: none. Each map is scaled to its own maximum.",
            network=plain(network_label(net, _)),
        )
    )

    st.subheader(_("The same picture at several depths"))
    st.caption(
        _(
            "Early layers see small patches at high resolution: sharp maps of edges and textures. Deeper layers "
            "see the whole object on a coarse grid: blurrier maps that follow the class."
        )
    )
    depths = explainer.depth_layers()
    for column, name in zip(st.columns(len(depths)), depths):
        column.image(
            overlay(picture, explainer.grad_cam(x, name, target).heatmap, opacity),
            caption=layer_label(explainer, name),
            width="stretch",
        )

    st.subheader(_("Two networks, one picture"))
    if net.data is not None:
        st.info(
            plain(
                _(
                    "This network only reads {dataset} pictures; pick a photo network above to compare networks.",
                    dataset=dataset_name(net.data.name),
                )
            )
        )
    else:
        other = pick_network(
            "explain",
            spec,
            (READY, DESIGN),
            key="explain_other",
            label=_("Compare with"),
            exclude=(choice, st.session_state.explain_network),
        )
        if other is not None:
            other_x = network_input(picture, other.preprocess)
            for column, shown, inputs in zip(st.columns(2), (net, other), (x, other_x)):
                shown_explainer = network_explainer(shown)
                result = shown_explainer.grad_cam(inputs)  # top-1, last layer: the networks may not share classes
                column.image(
                    overlay(picture, result.heatmap, opacity),
                    width="stretch",
                    caption=_(
                        "{network}: {category} ({prob}), {layer}",
                        network=network_label(shown, _),
                        category=shown.categories[result.target],
                        prob=f"{result.prob:.0%}",
                        layer=shown_explainer.default_layer(),
                    ),
                )
        if not any(spec_has_se(get_source(n).spec) for n in ready):
            st.caption(
                _(
                    "MobileNetV3 or EfficientNet-B0 appear here once their torchvision weights are downloaded "
                    "(Classify page)."
                )
            )


def se_view() -> None:
    if not explainer.has_se:
        reason = NO_SE_REASON.get(explainer.spec.name)  # lwviz.explain's words, in the catalog
        st.info(
            plain(
                _(reason)
                if reason
                else _("{network} has no squeeze-and-excitation blocks.", network=network_label(net, _))
            )
        )
        with_se = [n for n in ready if spec_has_se(get_source(n).spec)]
        for name in with_se:
            st.button(
                _("Show {name}", name=said(get_source(name).label, _)),
                key=f"explain_show_{name}",
                on_click=choose,
                args=(name,),
            )
        if not with_se:
            st.markdown(
                _(
                    "No network with SE and pretrained weights is on this laptop (MobileNetV3 and "
                    "EfficientNet-B0 weights can be downloaded on the Classify page). Train a small one on "
                    "scikit-learn's handwritten digits instead: {steps} steps, a few seconds.",
                    steps=DIGITS_STEPS,
                )
            )
            st.button(
                _("Train and show an SE network"),
                icon=":material/model_training:",
                key="explain_train",
                on_click=choose,
                args=(DIGITS,),
            )
        st.stop()

    blocks = explainer.se_blocks()
    block = st.selectbox(
        _("SE block"),
        list(blocks),
        index=len(blocks) - 1,
        key=f"explain_block_{choice}",
        format_func=lambda b: _("{block} · gates {channels} channels", block=b, channels=blocks[b]),
    )
    capture = explainer.gates(x, features_of=block)
    sort = st.toggle(_("Sort each block's channels, most excited first"), key="explain_sort")
    chart(gate_heatmap(capture, sort=sort, _=_), width="stretch", key="explain_gate_heatmap")
    bars_col, maps_col = st.columns(2)
    bars_col.plotly_chart(gate_bars(capture.gate(block), block, _=_), width="stretch", key="explain_gate_bars")
    maps_col.plotly_chart(
        feature_maps_figure(capture.features, capture.gate(block), _=_), width="stretch", key="explain_feature_maps"
    )
    maps_col.caption(_("What enters the SE block: the channels it lets through most (top) and least (bottom)."))

    st.subheader(_("Two pictures, two sets of gates"))
    a_col, b_col = st.columns(2)
    a_col.image(picture, caption=_("Picture A: the one chosen above"), width=200)
    with b_col:
        if net.data is not None:
            other_index = st.slider(
                _("Second held-out picture"), 0, len(net.data.test_x) - 1, 1, key=f"explain_digit_b_{net.data.name}"
            )
            x_b = net.data.test_x[other_index : other_index + 1]
            picture_b = net.data.picture(x_b[0])
        else:
            picture_b = pick_picture("explain_b", _("Picture B"), photo="A cup of coffee")  # photo: a sample's key
            x_b = None if picture_b is None else network_input(picture_b, net.preprocess)
        if picture_b is not None:
            st.image(picture_b, caption=_("Picture B"), width=200)
    if x_b is not None:
        capture_b = explainer.gates(x_b)
        chart(gate_difference_heatmap(capture, capture_b, _=_), width="stretch", key="explain_gate_diff")
        chart(gate_divergence_figure(capture, capture_b, _=_), width="stretch", key="explain_gate_spread")
        st.caption(_("Early gates hardly depend on the picture; late ones differ with its class (Hu et al., 2018)."))

    st.subheader(_("Switch SE off"))
    if st.toggle(_("Ablate SE: force every gate to 1"), key="explain_ablate"):
        held = st.session_state.get(key := f"explain_ablated_{choice}")
        if held is None or held[0] is not explainer:  # made once per network: another design gets its own
            held = st.session_state[key] = explainer, explainer.ablated()
        ablated = held[1]
        plain_cam = ablated.grad_cam(x, layer, target)
        for column, title, result in zip(st.columns(2), (_("With SE"), _("Gates forced to 1")), (cam, plain_cam)):
            column.metric(title, f"{net.categories[result.top1]} ({result.probs[result.top1]:.0%})")
            column.image(
                overlay(picture, result.heatmap, opacity),
                width="stretch",
                caption=_(
                    "Grad-CAM of {layer} for {category} ({prob})",
                    layer=short_name(layer),
                    category=net.categories[result.target],
                    prob=f"{result.prob:.0%}",
                ),
            )


{"cam": cam_view, "se": se_view}[view]()
