"""Charts for the projector: a restyled copy, colour-blind-safe colours, larger text, thicker lines."""

from lwviz.cost import analyze
from lwviz.presets import get_preset
from lwviz.viz.cost_charts import KIND_COLORS, per_layer_figure, savings_figure
from lwviz.viz.presenter import FONT_PX, OKABE_ITO, TICK_PX, presenter_style


def test_the_figure_is_restyled_on_a_copy():
    table = analyze(get_preset("mobilenet_v2"))
    shared = per_layer_figure(table)
    before = shared.to_json()
    big = presenter_style(shared)
    assert shared.to_json() == before  # a cached figure every session shares is never touched
    depthwise = next(t for t in big.data if t.marker.color == OKABE_ITO[KIND_COLORS["depthwise"]])
    assert depthwise.y == next(t for t in shared.data if t.marker.color == KIND_COLORS["depthwise"]).y
    assert big.layout.font.size == FONT_PX and big.layout.xaxis.tickfont.size == TICK_PX
    assert big.layout.height > shared.layout.height


def test_lines_get_thicker_and_markers_bigger():
    fig = savings_figure(analyze(get_preset("mobilenet_v1")))
    big = presenter_style(fig)
    assert big.data[0].line.width == 2 * fig.data[0].line.width
    assert big.data[1].marker.size == 1.5 * fig.data[1].marker.size


def test_the_palette_has_no_two_category_colours_alike():
    assert len(set(OKABE_ITO.values())) == len(OKABE_ITO)  # the families of the Zoo stay apart
