# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event parsing, replaying ansible-runner events recorded from a real run.

fixtures/outcomes.jsonl: playbooks/outcomes.yml on two lab hosts (h1, h2)
and one that does not exist (ghost), recorded by tests/api/record_events.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kaizen_hybrid.events import (
    MESSAGE_LIMIT,
    HostStats,
    PlaybookStarted,
    PlaybookStats,
    PlayStarted,
    TaskChanged,
    TaskFailed,
    TaskOk,
    TaskSkipped,
    TaskStarted,
    TaskUnreachable,
    failure_message,
    parse_event,
)

FIXTURE = Path(__file__).parent / "fixtures" / "outcomes.jsonl"


@pytest.fixture(scope="module")
def raw_events() -> list[dict]:
    with open(FIXTURE, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def events(raw_events):
    return [e for e in (parse_event(raw) for raw in raw_events) if e is not None]


def _one(events, kind, **match):
    found = [e for e in events if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())]
    assert len(found) == 1, (kind.__name__, match, found)
    return found[0]


def test_every_followed_event_is_typed_and_the_rest_ignored(raw_events, events):
    kinds = Counter(type(e).__name__ for e in events)
    assert kinds == {
        "PlaybookStarted": 1,
        "PlayStarted": 1,
        "TaskStarted": 16,
        "TaskOk": 5,
        "TaskChanged": 2,
        "TaskSkipped": 3,
        "TaskFailed": 5,
        "TaskUnreachable": 1,
        "PlaybookStats": 1,
    }
    # playbook_on_task_start has no host: not typed (TaskStarted is per host).
    ignored = {raw["event"] for raw in raw_events if parse_event(raw) is None}
    assert ignored == {"playbook_on_task_start"}
    assert [e.counter for e in events] == sorted(e.counter for e in events)


def test_play_and_playbook(events):
    assert _one(events, PlaybookStarted).playbook == "tests/api/playbooks/outcomes.yml"
    play = _one(events, PlayStarted)
    assert (play.play, play.pattern) == ("API test | Outcomes", "all")
    assert play.play_uuid


def test_task_fields(events):
    started = _one(events, TaskStarted, host="h1", task="API test | Ping")
    assert started.play == "API test | Outcomes"
    assert started.action == "ansible.builtin.ping"
    assert started.task_path == "tests/api/playbooks/outcomes.yml:9"
    ok = _one(events, TaskOk, host="h1", task="API test | Ping")
    assert ok.task_uuid == started.task_uuid
    assert ok.duration is not None and ok.duration >= 0
    assert ok.result.get("ping") == "pong"


def test_changed_is_its_own_event(events):
    changed = [e for e in events if isinstance(e, TaskChanged)]
    assert {(e.host, e.task) for e in changed} == {("h1", "API test | Write a marker file"), ("h2", "API test | Write a marker file")}
    assert all(e.action == "ansible.builtin.copy" for e in changed)
    assert not any(isinstance(e, TaskOk) and e.task == "API test | Write a marker file" for e in events)


def test_skipped(events):
    skipped = [e for e in events if isinstance(e, TaskSkipped)]
    assert {(e.host, e.task) for e in skipped} == {
        ("h1", "API test | Skipped on purpose"),
        ("h2", "API test | Skipped on purpose"),
        ("h2", "API test | Fail on the first host"),
    }


def test_failures_ignored_rescued_and_real(events):
    ignored = [e for e in events if isinstance(e, TaskFailed) and e.ignored]
    assert {e.host for e in ignored} == {"h1", "h2"}
    assert all(e.task == "API test | Ignored failure" and e.rc == 1 for e in ignored)
    assert all(e.message.startswith("non-zero return code") for e in ignored)
    rescued = [e for e in events if isinstance(e, TaskFailed) and e.task == "API test | Fail inside a block"]
    # While it happens a rescued failure looks like any other; the result sorts it out.
    assert {e.host for e in rescued} == {"h1", "h2"} and not any(e.ignored for e in rescued)
    real = _one(events, TaskFailed, task="API test | Fail on the first host")
    assert real.host == "h1"
    assert real.message == "kaizen api test: deliberate failure on h1"
    assert real.action == "ansible.builtin.fail"
    assert real.rc is None


def test_unreachable(events):
    unreachable = _one(events, TaskUnreachable)
    assert unreachable.host == "ghost"
    assert unreachable.task == "API test | Ping"
    assert "Failed to create temporary directory" in unreachable.message


def test_stats(events):
    stats = _one(events, PlaybookStats).hosts
    assert stats["h1"] == HostStats(ok=4, changed=1, failed=1, unreachable=0, skipped=1, rescued=1, ignored=1)
    assert stats["h2"] == HostStats(ok=5, changed=1, failed=0, unreachable=0, skipped=2, rescued=1, ignored=1)
    assert stats["ghost"] == HostStats(unreachable=1)
    assert not stats["h1"].succeeded and stats["h2"].succeeded and not stats["ghost"].succeeded


def test_to_dict_is_json_and_leaves_results_out_unless_asked(events):
    for event in events:
        data = event.to_dict()
        assert data["kind"] == event.kind
        assert "result" not in data
        json.dumps(data)
        json.dumps(event.to_dict(include_result=True))
    failed = _one(events, TaskFailed, task="API test | Fail on the first host")
    assert failed.to_dict(include_result=True)["result"]["msg"] == failed.message
    stats = _one(events, PlaybookStats).to_dict()
    assert stats["hosts"]["ghost"]["unreachable"] == 1


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"event": "runner_on_ok"},
        {"event": "runner_on_ok", "event_data": None},
        {"event": "runner_on_failed", "event_data": {"res": ["not", "a", "mapping"]}},
        {"event": "playbook_on_stats", "event_data": {"ok": "garbage"}},
        {"event": "verbose", "stdout": "hello"},
    ],
)
def test_malformed_events_do_not_raise(raw):
    event = parse_event(raw)
    assert event is None or event.to_dict()


def test_censored_results_stay_censored():
    raw = {
        "event": "runner_on_failed",
        "counter": 3,
        "event_data": {"host": "h1", "task": "secret", "res": {"censored": "the output has been hidden"}},
    }
    event = parse_event(raw)
    assert isinstance(event, TaskFailed)
    assert event.message == "the output has been hidden"
    assert dict(event.result) == {"censored": "the output has been hidden"}


@pytest.mark.parametrize("stdout, kind", [("changed: [h1 -> localhost]", TaskChanged), ("ok: [h1]", TaskOk), ("", TaskOk)])
def test_censored_ok_results_still_say_whether_they_changed(stdout, kind):
    raw = {
        "event": "runner_on_ok",
        "stdout": stdout,
        "event_data": {"host": "h1", "task": "Create the CA key", "res": {"censored": "hidden"}},
    }
    assert parse_event(raw).kind == kind.kind


@pytest.mark.parametrize(
    "result, expected",
    [
        ({"msg": "boom"}, "boom"),
        ({"msg": "non-zero return code", "rc": 3, "stderr": "a\nb\nlast words"}, "non-zero return code\na\nb\nlast words"),
        ({"rc": 2, "stdout": "out only"}, "out only"),
        ({"exception": "Traceback\n  File x\nValueError: bad"}, "ValueError: bad"),
        ({"rc": 9}, "exit status 9"),
        ({}, "failed (no message)"),
        ("plain text", "plain text"),
        (
            {
                "msg": "One or more items failed",
                "results": [
                    {"item": "a", "failed": False},
                    {"item": "b", "failed": True, "msg": "b broke"},
                    {"_ansible_item_label": "c", "failed": True, "msg": "non-zero return code", "stderr": "c err"},
                ],
            },
            "One or more items failed\nitem b: b broke\nitem c: non-zero return code\nc err",
        ),
        ({"reason": "no route"}, "no route"),
    ],
)
def test_failure_message(result, expected):
    assert failure_message(result) == expected


def test_failure_message_is_bounded():
    message = failure_message({"msg": "x" * (MESSAGE_LIMIT * 3)})
    assert len(message) <= MESSAGE_LIMIT
    assert message.endswith("(truncated)")
