from lwviz.ui.nav import PAGES

from .apptest import open_page


def test_home_links_every_page_with_what_it_teaches():
    at = open_page("home")
    text = " ".join(m.value for m in at.markdown)
    for page in PAGES:
        assert page.teaches.split("\n")[0].strip() in text
    assert not at.error
    (chart,) = at.get("plotly_chart")  # MobileNetV1 beside its standard-conv version
    assert "8.6× fewer" in chart.proto.spec


def test_home_carries_the_design_from_the_link():
    at = open_page("home", spec="mnasnet1_0")
    assert "mnasnet1\\_0" in " ".join(c.value for c in at.caption)
