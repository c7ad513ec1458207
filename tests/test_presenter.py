"""Charts for the projector: a restyled copy, colour-blind-safe colours, larger text, thicker lines."""

from lwviz.cost import analyze
from lwviz.lesson.scaling import family
from lwviz.presets import get_preset
from lwviz.viz.cost_charts import KIND_COLORS, per_layer_figure, savings_figure
from lwviz.viz.lesson_charts import scaling_figure
from lwviz.viz.presenter import FONT_PX, HEIGHT_SCALE, OKABE_ITO, TICK_PX, presenter_style
from lwviz.viz.zoo_charts import LABEL_FONT_PX, macs_figure
from lwviz.zoo import zoo_entries


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


def test_point_labels_grow_with_the_plot_and_notes_to_the_presenter_size():
    """The Zoo's labels were placed for 14 px in the plot's planned size: at 22 px they would cover each other,
    so they grow as much as the plot does; a note without a point to label gets the presenter's text size."""
    fig = macs_figure(zoo_entries())
    fig.add_annotation(text="a note", showarrow=False, x=0, y=0)
    big = presenter_style(fig)
    labels = [a for a in big.layout.annotations if a.showarrow]
    assert labels and {a.font.size for a in labels} == {LABEL_FONT_PX * HEIGHT_SCALE}
    assert big.layout.annotations[-1].font.size == FONT_PX


def test_a_log_axis_labels_fewer_ticks():
    fig = scaling_figure(family(), 0)
    assert presenter_style(fig).layout.yaxis.dtick == "D2" and fig.layout.yaxis.dtick is None
