# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The code that measures outages, pauses and failed requests, fed known timelines.

Among them the cases a measurement most easily gets wrong: nothing acknowledged at all, an outage
that never ends, an acknowledgement already on its way when the server died, a single gap.
"""

from __future__ import annotations

import threading

import pytest

from labtest.load import Load, failure_kinds
from labtest.report import Report
from labtest.runs import wait_until
from labtest.timeline import Timeline
from labtest.writers import InDoubt, Writer


def steady(start: float, end: float, step: float = 0.1, ok: bool = True) -> list[tuple[float, bool]]:
    count = int(round((end - start) / step))
    return [(round(start + index * step, 3), ok) for index in range(count + 1)]


# Timeline -----------------------------------------------------------------------------

def test_an_empty_timeline_never_recovers_and_pauses_for_the_whole_window():
    timeline = Timeline()
    assert timeline.recovery(0.0) is None
    assert timeline.longest_pause(0.0, 10.0) == 10.0
    assert timeline.successes() == [] and timeline.first_success_after(0.0) is None


def test_nothing_acknowledged_at_all():
    timeline = Timeline(steady(0.0, 9.0, ok=False))
    assert timeline.recovery(1.0) is None
    assert timeline.longest_pause(0.0, 9.0) == 9.0


def test_an_outage_that_never_ends_counts_until_the_end_of_the_window():
    timeline = Timeline(steady(0.0, 4.9) + steady(5.1, 20.0, ok=False))
    assert timeline.recovery(5.0) is None
    # The last acknowledgement was at 4.9: the pause runs to the end of the window, not to the last sample.
    assert timeline.longest_pause(0.0, 30.0) == pytest.approx(25.1)


def test_a_single_gap():
    timeline = Timeline(steady(0.0, 5.0) + steady(5.1, 7.9, ok=False) + steady(8.0, 10.0))
    assert timeline.recovery(5.05) == 8.0
    assert timeline.longest_pause(0.0, 10.0) == pytest.approx(3.0)
    assert timeline.longest_pause(8.0, 10.0) == pytest.approx(0.1)


def test_an_acknowledgement_on_its_way_at_the_kill_does_not_end_the_outage():
    timeline = Timeline([(4.9, True), (5.01, True), (5.2, False), (6.0, False), (12.5, True), (12.6, True)])
    assert timeline.recovery(5.0) == 12.5
    assert timeline.first_success_after(5.0) == 5.01


def test_when_nothing_failed_the_first_success_after_the_moment_is_the_recovery():
    timeline = Timeline([(1.0, True), (2.0, True), (3.0, True)])
    assert timeline.recovery(1.5) == 2.0
    assert timeline.recovery(3.0) is None


def test_the_edges_of_the_window_count():
    timeline = Timeline([(4.0, True), (4.5, True)])
    assert timeline.longest_pause(0.0, 5.0) == 4.0      # from the start to the first acknowledgement
    assert timeline.longest_pause(4.0, 10.0) == 5.5     # from the last one to the end
    assert timeline.longest_pause(5.0, 5.0) == 0.0


def test_samples_recorded_from_threads_are_all_kept():
    timeline = Timeline()
    threads = [threading.Thread(target=lambda base=base: [timeline.record(base + i, True) for i in range(500)]) for base in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(timeline.successes()) == 1000


# Writer ------------------------------------------------------------------------------------

class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


def test_the_writer_measures_an_outage_on_a_known_timeline():
    clock = FakeClock()

    def operation(number: int) -> None:
        clock.now += 0.01
        if 5.0 <= clock.now < 8.0:
            raise ConnectionError("server closed the connection")

    writer = Writer(operation, interval=0.09, error_pause=0.1, max_seconds=10.0, clock=clock, sleep=clock.sleep)
    writer.run()
    assert 4.9 < clock.now - 0.1 <= 10.0
    recovered = writer.timeline.recovery(5.0)
    assert recovered is not None and 8.0 <= recovered < 8.2
    assert 2.9 < writer.timeline.longest_pause(0.0, clock.now) < 3.2
    assert writer.errors and all(text == "server closed the connection" for _at, text in writer.errors)
    assert len(writer.acked) + len(writer.errors) == writer.attempts
    assert writer.acked == sorted(writer.acked) and writer.acked[0] == 1


def test_a_writer_that_is_never_acknowledged_reports_so_within_its_bounds():
    clock = FakeClock()

    def operation(number: int) -> None:
        raise ConnectionRefusedError()

    writer = Writer(operation, max_seconds=5.0, clock=clock, sleep=clock.sleep)
    writer.run()
    assert writer.acked == [] and writer.timeline.recovery(0.0) is None
    assert writer.errors[0][1] == "ConnectionRefusedError"
    assert clock.now < 5.2
    # Waiting for acknowledgements or a recovery ends at its own bound, with the answer "no".
    assert writer.wait_for_acks(50, 30.0) is False
    assert writer.wait_for_recovery(0.0, 3.0, 30.0) is None
    assert clock.now < 66.0


def test_the_lost_window_is_from_the_oldest_lost_acknowledgement_to_the_loss():
    clock = FakeClock()
    writer = Writer(lambda number: None, interval=1.0, max_attempts=10, clock=clock, sleep=clock.sleep)
    writer.run()  # operations 1..10 acknowledged at 0, 1, ..., 9 s
    assert writer.acked == list(range(1, 11))
    assert writer.lost_window(range(1, 11), 9.5) == 0.0  # nothing lost
    assert writer.lost_window(range(1, 8), 9.5) == pytest.approx(2.5)  # 8, 9, 10 lost: acknowledged from 7 s on
    assert writer.lost_window([], 9.5) == pytest.approx(9.5)  # everything lost
    assert writer.lost_window([1, 2, 3, 5, 6, 7, 8, 9, 10], 9.5) == pytest.approx(6.5)  # a hole (4, at 3 s) counts from the hole
    never = Writer(lambda number: None, max_attempts=0, clock=clock, sleep=clock.sleep)
    never.run()
    assert never.acked == [] and never.lost_window([], 100.0) == 0.0  # nothing acknowledged, nothing lost


def test_a_lost_commit_answer_is_in_doubt_and_the_attempts_are_bounded():
    clock = FakeClock()

    def operation(number: int) -> None:
        if number == 3:
            raise InDoubt("connection lost during COMMIT")

    writer = Writer(operation, max_attempts=5, max_seconds=100.0, clock=clock, sleep=clock.sleep)
    writer.run()
    assert writer.attempts == 5 and writer.acked == [1, 2, 4, 5] and writer.in_doubt == [3]


def test_wait_for_recovery_waits_for_the_settling_time():
    clock = FakeClock()
    writer = Writer(lambda number: None, clock=clock, sleep=clock.sleep)
    for at, ok in [(1.0, True), (2.0, False), (4.0, True), (4.5, True)]:
        writer.timeline.record(at, ok)
    clock.now = 5.0
    assert writer.wait_for_recovery(1.5, settle=3.0, seconds=10.0) == 4.0
    assert clock.now >= 7.0


# Load --------------------------------------------------------------------------------------

class FakeClient:
    """Answers GET with a version document and POST with 201, failing the requests ``fail`` says."""

    def __init__(self, fail=lambda method, count: None) -> None:
        self.fail, self.count, self.closed, self.retries = fail, 0, False, 0

    def request(self, method, path, body=None):
        self.count += 1
        failure = self.fail(method, self.count)
        if isinstance(failure, Exception):
            raise failure
        if failure is not None:
            return failure, {}, {"error": "busy"}
        if method == "POST":
            return 201, {}, {"id": 1, "text": body["text"]}
        return 200, {}, {"version": "1.0.0", "instance": "app1-1"}

    def close(self) -> None:
        self.closed = True


def test_a_load_with_posts_counts_every_answer():
    load = Load(FakeClient, workers=1, rate=10000, post_every=4, max_requests=40, max_seconds=10)
    load.run()
    summary = load.summary()
    assert summary["requests"] == 40 and summary["answered"] == 40 and summary["failed"] == 0
    assert summary["by_method"]["POST"]["ok"] == 10 and summary["by_method"]["GET"]["ok"] == 30
    assert load.versions == {"1.0.0": 30} and load.instances == {"app1-1": 30}
    assert len(load.timeline.successes()) == 40
    assert load.first_answer == {"app1-1": min(load.timeline.successes())}


def test_the_first_answer_of_each_instance_is_when_it_started_serving():
    clock = FakeClock()

    class Joining(FakeClient):
        """app1-1 answers from the start, app2-1 from the 11th request on."""

        def request(self, method, path, body=None):
            status, headers, document = super().request(method, path, body)
            return status, headers, dict(document, instance="app2-1" if self.count > 10 and self.count % 2 else "app1-1")

    load = Load(Joining, workers=1, rate=1, post_every=0, max_requests=20, max_seconds=60, clock=clock, sleep=clock.sleep)
    load.worker()
    assert set(load.first_answer) == {"app1-1", "app2-1"}
    assert load.first_answer["app2-1"] - load.first_answer["app1-1"] == pytest.approx(10.0, abs=0.5)
    assert load.instances == {"app1-1": 15, "app2-1": 5}
    silent = Load(FakeClient, workers=1, max_requests=0, max_seconds=5)
    silent.run()
    assert silent.first_answer == {}


def test_several_workers_share_the_request_bound():
    load = Load(FakeClient, workers=4, rate=10000, post_every=3, max_requests=101, max_seconds=10)
    load.run()
    assert load.requests == 101 and load.answered == 101 and not load.failures
    assert load.sent["GET"] + load.sent["POST"] == 101 and load.sent["POST"] >= 101 // 3 - 4


def test_failed_and_wrong_answers_are_failures_with_their_text():
    def fail(method, count):
        if method == "POST":
            return ConnectionResetError("reset by peer")
        return 502 if count % 3 == 0 else None

    load = Load(lambda: FakeClient(fail), workers=1, rate=10000, post_every=5, max_requests=20, max_seconds=10)
    load.run()
    assert load.requests == 20
    assert load.sent == {"GET": 16, "POST": 4} and "POST" not in load.ok
    assert any("POST ConnectionResetError: reset by peer" in failure for failure in load.failures)
    assert any("GET HTTP 502" in failure for failure in load.failures)
    assert load.answered + len(load.failures) == 20


def test_an_empty_load_sends_nothing_and_fails_nothing():
    load = Load(FakeClient, workers=3, max_requests=0, max_seconds=5)
    load.run()
    assert load.summary() == {"requests": 0, "answered": 0, "failed": 0, "by_method": {}, "keepalive_retries": 0}


def test_a_load_that_never_gets_an_answer_stops_at_its_time_bound():
    clock = FakeClock()
    load = Load(lambda: FakeClient(lambda method, count: TimeoutError("timed out")), workers=1, rate=10, post_every=0,
                max_seconds=3.0, clock=clock, sleep=clock.sleep)
    load.worker()
    assert load.answered == 0 and len(load.failures) == load.requests and 25 <= load.requests <= 31
    assert load.timeline.recovery(0.0) is None


# Report ------------------------------------------------------------------------------------

def test_a_goal_writes_its_figure_before_it_judges():
    report = Report("t", say=lambda text: None)
    assert report.goal("rto", 7.5, 15, "seconds to recover") is True
    assert report.goal("pause", 6.0, 5, "longest pause") is False
    assert report.goal("ratio", None, 1.5, "throughput ratio", at_least=True) is False
    assert report.goal("acks", 50, 50, "acknowledged", at_least=True) is True
    document = report.document()
    assert document["rto"] == 7.5 and document["pause"] == 6.0 and document["ratio"] is None
    assert document["goals"]["pause"] == {"value": 6.0, "rule": "<=", "limit": 5, "met": False}
    assert document["checks_passed"] == 2 and len(document["checks_failed"]) == 2


def test_an_interruption_is_measured_and_the_writer_stopped_whatever_happens():
    clock = FakeClock()
    down = {"from": None}

    def operation(number: int) -> None:
        clock.now += 0.01
        if down["from"] is not None and down["from"] <= clock.now < down["from"] + 4.0:
            raise ConnectionError("gone")

    writer = Writer(operation, interval=0.09, error_pause=0.1, max_seconds=60.0, clock=clock, sleep=clock.sleep)

    def interrupt() -> float:
        down["from"] = clock.now
        return clock.now

    # The writer runs in this thread here: run it for a while around the interruption, then measure.
    for _step in range(20):
        writer.operation(0)
        writer.timeline.record(clock.now, True)
        clock.sleep(0.1)
    moment = interrupt()
    for _step in range(80):
        try:
            writer.operation(0)
            writer.timeline.record(clock.now, True)
        except ConnectionError:
            writer.timeline.record(clock.now, False)
        clock.sleep(0.1)
    from labtest.writers import interrupted
    measured, recovered = interrupted(writer, lambda: moment, 5.0, 1.0)
    assert measured == moment and recovered is not None and 4.0 <= recovered - moment < 4.3

    def failing() -> float:
        raise RuntimeError("the kill failed")

    stopped = Writer(lambda number: None, clock=clock, sleep=clock.sleep)
    with pytest.raises(RuntimeError):
        interrupted(stopped, failing, 5.0)
    assert stopped._stopping.is_set()


# Patroni settled: a leader and a synchronous standby, read the same several times in a row ------------------------

def _member(name: str, role: str, state: str = "streaming") -> dict[str, str]:
    return {"name": name, "role": role, "state": "running" if role == "leader" else state}


def test_a_cluster_is_settled_with_every_member_running_one_leader_and_one_synchronous_standby():
    from labtest.patroni import settled_pair

    members = [_member("db1", "leader"), _member("db2", "sync_standby"), _member("db3", "replica")]
    assert settled_pair(members, 3) == ("db1", "db2")
    assert settled_pair(members[:2], 3) is None                                            # a member missing
    assert settled_pair([], 0) is None and settled_pair([], 2) is None                      # nobody answers
    assert settled_pair([_member("db1", "leader"), _member("db2", "replica")], 2) is None   # no synchronous standby
    assert settled_pair([_member("db1", "leader"), _member("db2", "sync_standby", "starting")], 2) is None


def test_settled_only_when_the_same_pair_holds_for_the_last_reads():
    from labtest.patroni import holds

    pair = ("db2", "db1")
    assert not holds([], 3)
    assert not holds([pair, pair], 3)
    # Named, dropped, named again (what Patroni does a moment after etcd comes back): not yet.
    assert not holds([pair, None, pair, pair], 3)
    assert holds([None, pair, pair, pair], 3)
    assert not holds([pair, pair, ("db1", "db2")], 3)
    # Never settles.
    assert not holds([None] * 50, 3)


def test_failure_kinds_counts_each_method_and_cause():
    failures = ["81834.36 POST HTTP 503 {\"error\": \"database: connection refused\"}", "81834.40 POST HTTP 503 {}",
                "81835.01 GET RemoteDisconnected: Remote end closed connection", "81836.00 GET HTTP 502 {\"x\": 1}"]
    assert failure_kinds(failures) == {"POST HTTP 503": 2, "GET RemoteDisconnected": 1, "GET HTTP 502": 1}
    assert failure_kinds([]) == {}


# wait_until (Lab.wait_for, the site's machine_quiet step) ----------------------------------

class SleepClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_what_already_holds_returns_at_once():
    clock = SleepClock()
    assert wait_until(lambda: True, 60, clock=clock, sleep=clock.sleep) == 0.0
    assert clock.sleeps == []


def test_what_never_holds_ends_the_wait_at_its_bound():
    clock = SleepClock()
    assert wait_until(lambda: False, 30, clock=clock, sleep=clock.sleep, interval=4) is None
    assert clock.now - 100.0 == 30  # the last sleep is cut to the bound, not past it
    assert max(clock.sleeps) == 4


def test_the_wait_ends_when_the_last_file_appears():
    clock = SleepClock()
    present = {"/lanes/check-api.done"}

    def exists(path: str) -> bool:
        if clock.now >= 110:
            present.add("/lanes/single.done")
        return path in present

    marks = ["/lanes/check-api.done", "/lanes/single.done"]
    assert wait_until(lambda: all(exists(mark) for mark in marks), 60, clock=clock, sleep=clock.sleep, interval=2) == 10.0
