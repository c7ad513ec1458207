"""Lesson: the ideas of lightweight CNNs for a class, one step per screen (the steps are in lwviz.lesson).

Each step: one idea, its formula with the current numbers (st.latex), one control that moves it, one question
with its answer on click, previous/next, and a link to the page that goes deeper. ``?step=N`` follows the
step both ways, so students on their own devices open the teacher's step from a link.
"""

import streamlit as st

from lwviz.i18n import N_, said
from lwviz.lesson import CLASS_PAGE, STEPS, step_number
from lwviz.lesson import numbers as num
from lwviz.lesson.scaling import MODELS, comparison, family, fitted_phi, rule
from lwviz.lesson.spiral import DIMENSIONS, experiment
from lwviz.ui.jobs import turn
from lwviz.ui.language import _
from lwviz.ui.nav import require_frame
from lwviz.ui.presenter import chart, columns
from lwviz.viz import lesson_charts as charts
from lwviz.viz.layer_figures import count

state = st.session_state


def tex(n: int) -> str:
    """An exact count for LaTeX: 4{,}231{,}976."""
    return f"{n:,}".replace(",", "{,}")


def words(text: str) -> str:
    r"""Words inside a formula (already in the reader's language): ``\text{...}``."""
    return r"\text{" + text + "}"


def go(number: int) -> None:
    state.lesson_step = number


def reveal(key: str) -> None:
    state[f"lesson_answer_{key}"] = True


# ----- the steps -------------------------------------------------------------------------------------------------


def why() -> None:
    res = st.select_slider(_("Input resolution"), num.RESOLUTIONS[::-1], value=224, key="lesson_why_res")
    dense, mobile = num.why_lightweight(res)
    w_storage = words(_("storage"))
    st.latex(
        rf"\text{{FLOPs}} = 2 \times \text{{MACs}} = 2 \times {tex(mobile.macs)} = {tex(mobile.flops)}"
        rf"\qquad {w_storage} = 4\,\text{{B}} \times {tex(mobile.params)} = {mobile.megabytes:.1f}\,\text{{MB}}"
    )
    ms = state.get(f"lesson_ms_{res}")
    cols = st.columns(4)
    rows = (
        (_("Parameters"), count(dense.params), count(mobile.params)),
        (_("MACs"), count(dense.macs), count(mobile.macs)),
        (_("Storage (float32)"), f"{dense.megabytes:.1f} MB", f"{mobile.megabytes:.1f} MB"),
        (_("Time on this laptop"), *((f"{m:.0f} ms" for m in ms) if ms else ("?", "?"))),
    )
    for col, (label, standard, light) in zip(cols, rows):
        col.metric(
            label, light, _("standard convolution: {value}", value=standard), delta_color="off", delta_arrow="off"
        )
    if st.button(_("Measure the speed on this laptop"), icon=":material/timer:", key="lesson_why_measure"):
        with turn(N_("latency timing")), st.spinner(_("Timing both networks...")):
            state[f"lesson_ms_{res}"] = ms = num.measure_speeds(res)
        st.rerun()
    st.caption(
        _(
            "MobileNetV1 against the same network with every depthwise convolution made dense (groups = 1). "
            "Time: median of 5 forward passes measured just now, one thread, batch 1."
        )
    )
    chart(charts.footprint_figure(dense, mobile, ms, _), width="stretch")


def standard() -> None:
    cols = st.columns(4)
    dk = cols[0].select_slider("D_K", [1, 3, 5, 7], value=3, key="lesson_std_k")
    m = cols[1].slider("M", 1, 1024, 512, key="lesson_std_m")
    n = cols[2].slider("N", 1, 1024, 512, key="lesson_std_n")
    df = cols[3].slider("D_F", 1, 112, 14, key="lesson_std_f")
    conv = num.one_layer(dk, m, n, df).standard
    st.latex(
        rf"D_K \cdot D_K \cdot M \cdot N \cdot D_F \cdot D_F"
        rf" = {dk} \cdot {dk} \cdot {m} \cdot {n} \cdot {df} \cdot {df}"
        rf" = {tex(conv.macs)}\ \text{{MACs}}"
    )
    w_weights = words(_("conv weights"))
    st.latex(rf"{w_weights}: D_K \cdot D_K \cdot M \cdot N = {tex(conv.params)}")
    st.metric(_("MACs of this convolution"), count(conv.macs))


def separable() -> None:
    cols = st.columns(2)
    dk = cols[0].select_slider("D_K", [1, 3, 5, 7], value=3, key="lesson_sep_k")
    n = cols[1].slider("N", 1, 1024, 512, key="lesson_sep_n")
    m, df = 512, 14
    layer = num.one_layer(dk, m, n, df)
    ratio = num.separable_ratio(layer)
    st.latex(
        rf"\frac{{D_K \cdot D_K \cdot M \cdot D_F^2 + M \cdot N \cdot D_F^2}}"
        rf"{{D_K \cdot D_K \cdot M \cdot N \cdot D_F^2}}"
        rf" = \frac{{{tex(layer.separable_macs)}}}{{{tex(layer.standard.macs)}}}"
        rf" = \frac{{1}}{{{n}}} + \frac{{1}}{{{dk * dk}}} = {float(ratio):.4f}"
    )
    cols = st.columns(3)
    cols[0].metric(_("Standard convolution, MACs"), count(layer.standard.macs))
    cols[1].metric(_("Depthwise-separable, MACs"), count(layer.separable_macs))
    cols[2].metric(_("Fewer by"), f"{1 / float(ratio):.1f}×")
    st.caption(_("M = {m} input channels on a {df}×{df} feature map, as in the MobileNet paper's example.", m=m, df=df))


def multipliers() -> None:
    cols = st.columns(2)
    alpha = cols[0].select_slider(_("Width multiplier α"), num.ALPHAS[::-1], value=1.0, key="lesson_alpha")
    res = cols[1].select_slider(_("Resolution"), num.RESOLUTIONS[::-1], value=224, key="lesson_rho")
    rho = num.rho(res)
    cost, full = num.multiplier_footprint(alpha, res), num.multiplier_footprint(1.0, 224)
    st.latex(
        rf"\frac{{\text{{MACs}}(\alpha={alpha:g}, \rho={rho:.3g})}}{{\text{{MACs}}(1, 1)}}"
        rf" = \frac{{{tex(cost.macs)}}}{{{tex(full.macs)}}} = {cost.macs / full.macs:.3f}"
        rf" \approx \alpha^2 \rho^2 = {alpha * alpha * rho * rho:.3f}"
    )
    w_parameters = words(_("parameters"))
    st.latex(
        rf"{w_parameters}: \frac{{{tex(cost.params)}}}{{{tex(full.params)}}} = {cost.params / full.params:.3f}"
        rf" \approx \alpha^2 = {alpha * alpha:.3f}"
    )
    left, right = columns(2)
    for col, title, rows, label in (
        (left, _("Table 6: width multiplier α (224 × 224)"), num.width_table(), lambda r: f"{r.alpha:g}"),
        (right, _("Table 7: resolution (α = 1)"), num.resolution_table(), lambda r: f"{r.resolution}"),
    ):
        col.markdown(f"**{title}**")
        col.dataframe(
            [
                {
                    _("setting"): label(r),
                    _("MACs, ours (M)"): round(r.macs / 1e6),
                    _("MACs, paper (M)"): r.paper_macs,
                    _("params, ours (M)"): round(r.params / 1e6, 1),
                    _("params, paper (M)"): r.paper_params,
                    _("top-1, paper"): r.paper_top1,
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
        )


def inverted() -> None:
    n = st.select_slider(_("Dimensions n of the embedding"), DIMENSIONS, value=2, key="lesson_spiral_n")
    results = experiment()
    chosen = next(r for r in results if r.n == n)
    w_information_lost = words(_("information lost"))
    st.latex(
        rf"\hat x = T^{{+}}\,\mathrm{{ReLU}}(T x),\ T \in \mathbb{{R}}^{{{n} \times 2}}"
        rf"\qquad {w_information_lost} = {chosen.error:.4f}"
    )
    block = num.InvertedResidual()
    t, m, df = block.expand, block.in_chs, block.size
    w_expansion_ratio = words(_("expansion ratio"))
    st.latex(
        rf"{w_expansion_ratio}\ t = {t}:\ "
        rf"{df}^2 \cdot {m} \cdot {t * m} + {df}^2 \cdot {t * m} \cdot 9"
        rf" + {df}^2 \cdot {t * m} \cdot {block.out_chs}"
        rf" = {tex(block.macs)}"
    )
    chart(charts.spiral_figure(results, n, _), width="stretch")
    chart(charts.spiral_error_figure(results, n, _), width="stretch")
    st.caption(
        _(
            "Seeded random T, the same for everyone. The picture is projected back with T's pseudo-inverse, as in "
            "the paper; the error is what the best linear map cannot bring back."
        )
    )


def se() -> None:
    from lwviz.explain import Explainer, network_input, spec_has_se
    from lwviz.explain.se_gates import se_blocks
    from lwviz.samples import SAMPLE_PHOTOS, sample_photo
    from lwviz.ui.cache import pretrained_model, source_explainer
    from lwviz.ui.network_picker import digits_net
    from lwviz.weights import available_sources

    ready = [s for s in available_sources() if spec_has_se(s.spec)]
    if ready:  # a pretrained SE network on this laptop: one photo's gates
        source = ready[0]
        photo = st.segmented_control(
            _("Photo"), list(SAMPLE_PHOTOS), format_func=_, default="Chelsea the cat", required=True, key="lesson_photo"
        )
        picture = sample_photo(photo)
        x, explainer, what = (
            network_input(picture, source.preprocess),
            source_explainer(source.name),
            said(source.label, _),
        )
        model = pretrained_model(source.name)
    else:  # as on the Look inside page: a small SE network trained here on handwritten digits
        if "lesson_digits" not in state:  # where digits_net keeps this page's network once trained
            st.info(_("No pretrained network with SE is on this laptop: train a small one on handwritten digits."))
            if not st.button(_("Train it (a few seconds)"), icon=":material/model_training:", key="lesson_se_train"):
                st.latex(r"s = \sigma\!\left(W_2\, \delta(W_1 z)\right)")
                return
        trained = digits_net("lesson")
        held = state.get("lesson_se_explainer")
        if held is None or held[0] is not trained.model:  # hooks go on the explainer's copy, never on the model
            held = state.lesson_se_explainer = trained.model, Explainer(trained.model)
        model, explainer = held
        test = trained.data.test_x
        index = st.slider(_("Handwritten digit"), 0, len(test) - 1, 0, key="lesson_digit")
        x, picture = test[index : index + 1], trained.data.picture(test[index])
        what = _("a small SE network trained here on handwritten digits")
    capture = explainer.gates(x)
    block = capture.blocks[-1]
    gates = capture.gate(block)
    squeeze = se_blocks(model)[block]
    chs, reduced = squeeze.fc2.out_channels, squeeze.fc1.out_channels
    params, _macs = num.se_cost(chs, reduced)
    w_parameters = words(_("parameters"))
    st.latex(
        rf"s = \sigma\!\left(W_2\, \delta(W_1 z)\right),\ z \in \mathbb{{R}}^{{{chs}}},\ "
        rf"W_1 \in \mathbb{{R}}^{{{reduced} \times {chs}}},\ W_2 \in \mathbb{{R}}^{{{chs} \times {reduced}}}:\ "
        rf"2 \cdot {chs} \cdot {reduced} + {reduced} + {chs} = {tex(params)}\ {w_parameters}"
    )
    pic, bars = st.columns([1, 3])
    pic.image(picture, width="stretch")
    with bars:
        chart(charts.gate_figure(gates, _), width="stretch")
    st.caption(
        _(
            "{network}, its last SE block ({block}): mean gate {mean}, from {low} to {high}.",
            network=what,
            block=block,
            mean=f"{gates.mean():.2f}",
            low=f"{gates.min():.2f}",
            high=f"{gates.max():.2f}",
        )
    )


def shuffle() -> None:
    cols = st.columns(2)
    groups = cols[0].slider(_("Groups g"), 1, 8, 3, key="lesson_groups")
    per = cols[1].slider(_("Channels per group"), 1, 8, 4, key="lesson_per_group")
    chs, df = groups * per, 28
    conv, dense = num.group_conv(chs, groups, df), num.group_conv(chs, 1, df)
    st.latex(
        rf"\frac{{D_F^2 \cdot M \cdot N}}{{g}} = \frac{{{df}^2 \cdot {chs} \cdot {chs}}}{{{groups}}}"
        rf" = {tex(conv.macs)}\ \text{{MACs}}\quad (g = 1:\ {tex(dense.macs)})"
    )
    chart(charts.shuffle_figure(chs, groups, _), width="stretch")


def fire() -> None:
    ratio = st.select_slider(
        _("Squeeze ratio (outputs per squeeze channel)"), [2, 4, 8, 16], value=8, key="lesson_fire"
    )
    module = num.Fire(ratio=float(ratio))
    s, e1, e3 = module.channels
    m = module.in_chs
    bias = module.params - module.weights
    w_biases = words(_("biases"))
    st.latex(
        rf"M \cdot s + s \cdot e_1 + 3 \cdot 3 \cdot s \cdot e_3"
        rf" = {m} \cdot {s} + {s} \cdot {e1} + 9 \cdot {s} \cdot {e3}"
        rf" = {tex(module.weights)}\quad (+\,{bias}\ {w_biases} = {tex(module.params)})"
    )
    w_standard_3_3_convolution = words(_("standard 3×3 convolution"))
    st.latex(
        rf"{w_standard_3_3_convolution}: 3 \cdot 3 \cdot {m} \cdot {e1 + e3} + {e1 + e3}"
        rf" = {tex(module.standard_params)}"
    )
    cols = st.columns(3)
    cols[0].metric(_("Fire module parameters"), count(module.params))
    cols[1].metric(_("Standard 3×3 convolution"), count(module.standard_params))
    cols[2].metric(_("Fewer by"), f"{module.standard_params / module.params:.1f}×")
    st.caption(
        _("SqueezeNet's fire2: {m} channels in, {out} out (e₁ = {e1}, e₃ = {e3}).", m=m, out=e1 + e3, e1=e1, e3=e3)
    )


def compound() -> None:
    b = st.select_slider(_("EfficientNet"), list(MODELS), value=0, format_func=lambda b: f"B{b}", key="lesson_phi")
    width, depth, res = MODELS[b]
    phi = fitted_phi(b)
    rows = comparison(b)
    compound_row, base = rows[0], family()[0]
    st.latex(
        rf"\alpha \cdot \beta^2 \cdot \gamma^2 = 1.2 \cdot 1.1^2 \cdot 1.15^2 = {rule():.2f} \approx 2"
        rf"\qquad \text{{B{b}}}:\ d = {depth:g},\ w = {width:g},\ r = {res}\ (\varphi \approx {phi:.1f})"
    )
    st.latex(
        rf"\frac{{\text{{MACs}}(\text{{B{b}}})}}{{\text{{MACs}}(\text{{B0}})}} = "
        rf"\frac{{{tex(compound_row.macs)}}}{{{tex(base.macs)}}} = {compound_row.macs / base.macs:.2f}"
        rf" \quad 2^{{\varphi}} = {2**phi:.2f}"
    )
    names = {
        "compound": _("compound (B{b})", b=b),
        "width": _("width alone"),
        "depth": _("depth alone"),
        "resolution": _("resolution alone"),
    }
    dims = ("compound", "width", "depth", "resolution")
    left, right = columns([2, 3])
    left.dataframe(
        [
            {
                _("scaling"): names[d],
                "w": f"{r.width:g}" if r else "—",
                "d": f"{r.depth:g}" if r else "—",
                "r": str(r.resolution) if r else "—",
                _("parameters"): count(r.params) if r else _("beyond 4× / 1024 px"),
                _("MACs"): count(r.macs) if r else "—",
            }
            for d, r in zip(dims, rows)
        ],
        hide_index=True,
        width="stretch",
    )
    with right:
        chart(charts.scaling_figure(family(), b, _), width="stretch")


def compress() -> None:
    from lwviz.ui.cache import pretrained_model
    from lwviz.weights import LITE0

    sparsity = st.slider(_("Weights zeroed by pruning"), 0, 90, 50, 10, format="%d%%", key="lesson_sparsity")
    params = num.compressed_params()
    kept = num.kept_weights(params, sparsity / 100)
    st.latex(
        rf"\text{{float32}}: 4\,\text{{B}} \times {tex(params)} = {num.storage(params, 32):.1f}\,\text{{MB}}"
        rf"\qquad \text{{int8}}: 1\,\text{{B}} \times {tex(params)} = {num.storage(params, 8):.1f}\,\text{{MB}}"
    )
    w_pruning = words(_("pruning"))
    w_non_zero_weights = words(_("non-zero weights"))
    st.latex(
        rf"{w_pruning}\ {sparsity}\%:\ {tex(params)} \times (1 - {sparsity / 100:g}) = {tex(kept)}"
        rf"\ {w_non_zero_weights}"
    )
    measured = state.get("lesson_compressed")
    if st.button(_("Measure int8 on this laptop"), icon=":material/speed:", key="lesson_compress_measure"):
        with turn(N_("compression")), st.spinner(_("Quantizing and timing {network}...", network=num.COMPRESSED)):
            measured = state.lesson_compressed = num.measure_int8(pretrained_model(LITE0.name), LITE0.preprocess)
    if measured:
        cols = st.columns(3)
        cols[0].metric(
            _("int8 file"),
            f"{measured.int8_bytes / num.MB:.1f} MB",
            _("float32: {value}", value=f"{measured.float_bytes / num.MB:.1f} MB"),
            delta_color="off",
            delta_arrow="off",
        )
        cols[1].metric(
            _("int8 time, one thread"),
            f"{measured.int8_ms:.0f} ms",
            _("float32: {value}", value=f"{measured.float_ms:.0f} ms"),
            delta_color="off",
            delta_arrow="off",
        )
        cols[2].metric(_("Same answer as float32"), f"{measured.agreement:.0%}")
    st.caption(
        _(
            "{network} with its pretrained weights, on the sample photos. The Compress page measures every "
            "variant, pruning and distillation included.",
            network=num.COMPRESSED,
        )
    )


def demo() -> None:
    fps = st.slider(_("Frames per second"), 1, 30, 30, key="lesson_fps")
    macs = num.demo_macs()
    w_macs_per_picture = words(_("MACs per picture"))
    w_frames_per_second = words(_("frames per second"))
    w_macs_per_second = words(_("MACs per second"))
    st.latex(
        rf"{w_macs_per_picture} \times {w_frames_per_second} = {tex(macs)} \times {fps}"
        rf" = {tex(macs * fps)}\ {w_macs_per_second}"
    )
    st.metric(_("{network} at {fps} frames per second", network=num.DEMO, fps=fps), f"{macs * fps / 1e9:.1f} GMACs/s")
    st.page_link(CLASS_PAGE[0], label=_("Join on your own device: the Class page"), icon=":material/qr_code_2:")


RENDER = {
    "why": why,
    "standard": standard,
    "separable": separable,
    "multipliers": multipliers,
    "inverted": inverted,
    "se": se,
    "shuffle": shuffle,
    "fire": fire,
    "compound": compound,
    "compress": compress,
    "demo": demo,
}

# ----- the frame -------------------------------------------------------------------------------------------------

require_frame()  # a shared /lesson?step=N link opens inside app.py's frame (language, presenter mode), also first

in_url = st.query_params.get("step")
if in_url != state.get("lesson_step_in_url"):  # a link or an edited address wins; bad values are step 1
    state.lesson_step = step_number(in_url)
number = state.setdefault("lesson_step", 1)
st.query_params["step"] = state.lesson_step_in_url = str(number)
step, total = STEPS[number - 1], len(STEPS)

back, progress, forward = st.columns([1, 5, 1], vertical_alignment="bottom")
progress.progress(number / total, text=_("Lesson · step {k} of {n}", k=number, n=total))
back.button(
    _("Previous"),
    icon=":material/arrow_back:",
    key="lesson_prev",
    on_click=go,
    args=(number - 1,),
    disabled=number == 1,
    width="stretch",
)
forward.button(
    _("Next"),
    icon=":material/arrow_forward:",
    key="lesson_next",
    on_click=go,
    args=(number + 1,),
    disabled=number == total,
    type="primary",
    width="stretch",
)
st.title(f"{number}. {_(step.title)}")
st.markdown(_(step.idea))
with st.container(border=True):  # the question first: the class thinks while the teacher moves the control
    ask, deeper = st.columns([3, 1], vertical_alignment="center")
    ask.markdown(_("**Question for the class:** {question}", question=_(step.question)))
    deeper.page_link(step.page, label=_("Go deeper: {page}", page=_(step.page_title)), icon=":material/open_in_new:")
    if state.get(f"lesson_answer_{step.key}"):
        st.success(_(step.answer), icon=":material/lightbulb:")
    else:
        st.button(_("Show the answer"), key=f"lesson_show_{step.key}", on_click=reveal, args=(step.key,))
RENDER[step.key]()
