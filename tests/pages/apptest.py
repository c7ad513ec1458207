"""Run the real app.py in AppTest and land on a page."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parents[2]


def open_page(page: str = "build", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py").run()  # as if the link named the page
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def with_damaged_weights(page: str, key: str) -> AppTest:
    """``page`` with mobilenet_v3_small's cached weights file damaged and picked in selectbox ``key``.

    Checks the page shows the library's message and says it carries on with the offline Lite0.
    """
    from lwviz.ui.language import plain
    from lwviz.weights import LITE0, get_source
    from tests.weights_fakes import damage

    source = get_source("mobilenet_v3_small:torchvision")
    damage(source)
    at = open_page(page)
    at.selectbox(key).set_value(source.name).run()
    assert not at.exception, at.exception
    message = at.error[0].value
    assert "is damaged" in message and "delete it and download it again" in message
    assert message.endswith(plain(f"Using {LITE0.label} meanwhile."))
    return at
