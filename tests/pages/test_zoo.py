from lwviz.zoo import latency_column, thread_counts, zoo_entries
from tests.pages.apptest import open_page

MEASURE_TIMEOUT = 180  # a real measurement of all 15 networks; a busy CI machine can be slow


def _measured(at):
    at.number_input("zoo_runs").set_value(1).run()
    at.button(key="zoo_measure").click().run(timeout=MEASURE_TIMEOUT)
    assert not at.exception and not at.error
    return at


def test_table_shows_every_network_with_its_numbers():
    at = open_page("zoo")
    assert not at.error and at.title[0].value == "Zoo"
    table = at.dataframe[0].value
    entries = zoo_entries()
    assert list(table["network"]) == [e.name for e in entries]
    assert list(table["params"]) == [e.params for e in entries]
    assert list(table["MACs"]) == [e.macs for e in entries]
    assert list(table["top-1 %"]) == [e.top1 for e in entries]
    assert table.set_index("network").loc["mobilenet_v2", "top-1 %"] == 71.878
    assert table.set_index("network").loc["vgg16", "design"] == "standard conv"
    assert all(latency_column(t) not in table for t in thread_counts())
    assert len(at.get("plotly_chart")) == 1  # the MACs chart; the latency chart waits for a measurement
    assert "Measure latency" in at.info[0].value


def test_measuring_fills_latency_for_every_network_and_keeps_it_for_the_session():
    at = _measured(open_page("zoo"))
    table = at.dataframe[0].value
    for threads in thread_counts():
        assert table[latency_column(threads)].notna().all() and (table[latency_column(threads)] > 0).all()
    assert len(at.get("plotly_chart")) == 2 and not at.info
    assert any(
        c.value.startswith(f"Measured {len(zoo_entries())} networks in") and "(1 timed run each)" in c.value
        for c in at.caption
    )
    lessons = [m.value for m in at.markdown if m.value.startswith("- **")]
    assert any("GMAC/s" in lesson for lesson in lessons)

    shown = thread_counts()[-1]
    at.button_group(key="zoo_threads").set_value(shown).run()  # another chart, no new measurement
    assert not at.exception
    assert at.dataframe[0].value[latency_column(1)].tolist() == table[latency_column(1)].tolist()
    assert f"{shown} thread" in at.get("plotly_chart")[1].proto.spec
