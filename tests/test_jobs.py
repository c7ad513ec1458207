"""The machine-wide job queue and session-owned jobs (lwviz.ui.jobs), without a server."""

import threading

import pytest

from lwviz.ui import jobs
from lwviz.ui.jobs import Job, JobQueue, turn, waiting_text


def test_one_slot_runs_the_first_and_queues_the_rest_in_order():
    queue = JobQueue(1)
    first, second, third = queue.join("train"), queue.join("latency"), queue.join("export")
    assert queue.wait(first, 0) and not queue.wait(second, 0) and not queue.wait(third, 0)
    assert queue.ahead(first) == [] and queue.ahead(second) == ["train"] and queue.ahead(third) == ["train", "latency"]
    queue.leave(first)
    assert queue.wait(second, 0) and queue.ahead(third) == ["latency"]
    queue.leave(third)  # gave up while waiting: nobody is left behind it
    queue.leave(second)
    assert queue.running == 0


def test_two_slots_run_two_at_once():
    queue = JobQueue(2)
    tickets = [queue.join(str(i)) for i in range(3)]
    assert [queue.wait(t, 0) for t in tickets] == [True, True, False]
    assert queue.ahead(tickets[2]) == ["0", "1"]


def test_a_queue_needs_a_slot():
    with pytest.raises(ValueError, match="slots: must be at least 1, got 0"):
        JobQueue(0)


def test_waiting_text_names_the_jobs_ahead():
    assert waiting_text(["train"]) == ("Waiting for the machine: 1 job ahead of you (train). This starts by itself.")
    assert waiting_text(["train", "latency"]).startswith(
        "Waiting for the machine: 2 jobs ahead of you (train, latency)"
    )


def counting_work(release: threading.Event, steps: int = 1000):
    """Work that takes a step every few milliseconds until told to stop or released."""

    def work(progress, should_stop, on_accuracy):
        for step in range(1, steps + 1):
            if should_stop() or release.wait(0.005):
                return step
            progress(step, steps, 1.0 / step)
        return steps

    return work


def test_a_job_waits_for_its_turn_and_shows_what_is_ahead():
    queue = JobQueue(1)
    holder = queue.join("latency")
    release = threading.Event()
    job = Job(counting_work(release), 1000, "train", queue)
    assert not job.wait(0.3)
    state = job.state()
    assert state.ahead == ["latency"] and state.step == 0 and state.seconds == 0.0
    queue.leave(holder)
    for _ in range(200):
        if job.state().step:
            break
        threading.Event().wait(0.01)
    assert job.state().ahead == [] and job.state().step > 0
    release.set()
    assert job.wait(5) and job.result is not None
    assert queue.running == 0


def test_a_job_stops_when_its_session_ends(monkeypatch):
    alive = {"s1": True}
    monkeypatch.setattr(jobs, "session_id", lambda: "s1")
    monkeypatch.setattr(jobs, "session_alive", lambda session: alive[session])
    queue = JobQueue(1)
    job = Job(counting_work(threading.Event()), 1000, "train", queue)
    while job.state().step < 3:
        threading.Event().wait(0.01)
    alive["s1"] = False  # the tab was closed
    assert job.wait(2) and job.result < 1000 and job.error is None
    assert queue.running == 0


def test_a_waiting_job_of_an_ended_session_gives_up_its_place(monkeypatch):
    monkeypatch.setattr(jobs, "session_id", lambda: "gone")
    monkeypatch.setattr(jobs, "session_alive", lambda session: False)
    queue = JobQueue(1)
    holder = queue.join("latency")
    job = Job(counting_work(threading.Event()), 1000, "train", queue)
    assert job.wait(2) and job.result is None
    assert queue.ahead(holder) == [] and queue.running == 1  # only the holder is left


def test_a_failing_job_frees_its_slot():
    def fail(**_):
        raise RuntimeError("out of ideas")

    queue = JobQueue(1)
    job = Job(fail, 1, "train", queue)
    assert job.wait(2) and job.error == "RuntimeError: out of ideas"
    assert queue.running == 0


def test_turn_runs_at_once_when_a_slot_is_free_and_leaves_after():
    queue = JobQueue(1)
    with turn("export", queue):
        assert queue.running == 1
    assert queue.running == 0


def test_turn_leaves_the_queue_when_the_block_fails():
    queue = JobQueue(1)
    with pytest.raises(RuntimeError), turn("export", queue):
        raise RuntimeError("stopped")
    assert queue.running == 0


def test_outside_a_server_every_session_is_alive():
    assert jobs.session_id() is None and jobs.session_alive(None) and jobs.session_alive("anything")
