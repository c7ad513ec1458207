"""Heavy work in a real browser: a second student's training waits in the queue and says so; a closed tab's
training stops and frees the machine (the server runs one heavy job at a time here)."""

import time

import psutil

STEP = "Step "  # the progress text of a running training job


def start_training(page, url: str) -> None:
    page.goto(f"{url}/train")
    page.get_by_text("A small SE network (digits_se)").click()
    page.get_by_role("button", name="Train", exact=True).click()


def server_cpu(pid: int, seconds: float = 0.5) -> float:
    """Cores the server process used over the next ``seconds``."""
    process = psutil.Process(pid)
    process.cpu_percent()
    time.sleep(seconds)
    return process.cpu_percent() / 100


def test_a_second_training_waits_its_turn_and_a_closed_tab_frees_the_machine(app_server, browser):
    first_tab, second_tab = browser.new_context(), browser.new_context()
    first, second = first_tab.new_page(), second_tab.new_page()
    start_training(first, app_server.url)
    first.get_by_text(STEP).first.wait_for(timeout=60_000)

    start_training(second, app_server.url)
    second.get_by_text("Waiting for the machine: 1 job ahead of you (train)").wait_for(timeout=30_000)

    first_tab.close()  # the first student leaves: their job stops, the second one starts
    closed = time.monotonic()
    second.get_by_text(STEP).first.wait_for(timeout=10_000)
    assert time.monotonic() - closed < 5

    second_tab.close()
    closed = time.monotonic()
    while server_cpu(app_server.pid) > 0.1:
        assert time.monotonic() - closed < 5, "the closed tab's training still runs"
