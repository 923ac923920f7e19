# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Result building from recorded ansible-runner events, through the same
dispatcher a run uses (so the caller's handler cannot lose events or stats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaizen_hybrid.credentials import scrub_environment
from kaizen_hybrid.events import HostStats, PlaybookStats, RunStatusChanged, TaskFailed
from kaizen_hybrid.result import Failure, ResultBuilder
from kaizen_hybrid.runner import _Dispatcher

FIXTURE = Path(__file__).parent / "fixtures" / "outcomes.jsonl"


@pytest.fixture(scope="module")
def raw_events() -> list[dict]:
    with open(FIXTURE, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _replay(raw_events, handler=None):
    builder = ResultBuilder()
    dispatcher = _Dispatcher(handler, builder, "ident")
    for raw in raw_events:
        assert dispatcher.on_event(dict(raw)) is True  # ansible-runner keeps every event file
    return builder, dispatcher


def test_result_from_a_full_run(raw_events):
    builder = _replay(raw_events)[0]
    result = builder.build(status="failed", rc=4, duration=12.3456, playbook="outcomes.yml", ident="x")
    assert not result.ok
    assert result.rc == 4
    assert result.stats_complete
    assert result.duration == 12.346
    assert result.stats["h1"] == HostStats(ok=4, changed=1, failed=1, unreachable=0, skipped=1, rescued=1, ignored=1)
    assert result.changed_hosts == ("h1", "h2")
    assert result.failed_hosts == ("ghost", "h1")
    assert result.plays == ("API test | Outcomes",)
    # Rescued and ignored failures are not failures of the run.
    assert [(f.host, f.task, f.unreachable) for f in result.failures] == [
        ("ghost", "API test | Ping", True),
        ("h1", "API test | Fail on the first host", False),
    ]
    real = result.failures[1]
    assert real.message == "kaizen api test: deliberate failure on h1"
    assert real.play == "API test | Outcomes" and real.action == "ansible.builtin.fail"
    assert str(real) == "h1: task 'API test | Fail on the first host' failed: kaizen api test: deliberate failure on h1"
    # Task failures are events, not ansible errors.
    assert result.errors == ()
    data = result.to_dict()
    json.dumps(data)
    assert data["ok"] is False and data["failures"][1]["host"] == "h1"


def test_handler_returning_nothing_loses_nothing(raw_events):
    seen = []
    builder = _replay(raw_events, handler=seen.append)[0]  # list.append returns None
    result = builder.build(status="failed", rc=4, duration=1.0)
    assert len(seen) == builder.events_seen == 35
    assert isinstance(seen[-1], PlaybookStats)
    assert result.stats_complete and set(result.stats) == {"ghost", "h1", "h2"}


def test_a_raising_handler_does_not_break_the_run(raw_events):
    def handler(event):
        raise RuntimeError("handler bug")

    builder = _replay(raw_events, handler=handler)[0]
    result = builder.build(status="failed", rc=4, duration=1.0)
    assert result.stats_complete and len(result.failures) == 2
    assert 0 < len(result.callback_errors) <= 20
    assert "RuntimeError" in result.callback_errors[0]


def test_without_a_recap_stats_are_tallied(raw_events):
    cut = [raw for raw in raw_events if raw["counter"] < 30]  # stopped after the rescued failure
    builder = _replay(cut)[0]
    result = builder.build(status="canceled", rc=254, duration=1.0)
    assert not result.stats_complete and result.canceled
    assert result.stats["h1"] == HostStats(ok=2, changed=1, failed=1, unreachable=0, skipped=1, rescued=0, ignored=1)
    assert result.stats["ghost"] == HostStats(unreachable=1)
    # Without a recap nothing says the block failure was rescued: it is reported.
    assert [(f.host, f.task) for f in result.failures] == [
        ("ghost", "API test | Ping"),
        ("h1", "API test | Fail inside a block"),
        ("h2", "API test | Fail inside a block"),
    ]
    assert result.changed_hosts == ("h1", "h2")


def test_status_events_reach_the_handler():
    seen = []
    dispatcher = _Dispatcher(seen.append, ResultBuilder(), "the-ident")
    dispatcher.on_status({"status": "running"})
    dispatcher.on_status({"status": "successful"})
    assert [(e.status, e.ident) for e in seen] == [("running", "the-ident"), ("successful", "the-ident")]
    assert all(isinstance(e, RunStatusChanged) and e.created for e in seen)


def test_ansible_errors_and_warnings_are_collected():
    builder = ResultBuilder()
    dispatcher = _Dispatcher(None, builder, "x")
    dispatcher.on_event({"event": "verbose", "stdout": "[WARNING]: Could not match supplied host pattern, ignoring: nope"})
    dispatcher.on_event({"event": "error", "stdout": "\x1b[0;31m[ERROR]: YAML parsing failed: bad\x1b[0m\n  Origin: x.yml:3"})
    dispatcher.on_event({"event": "verbose", "stdout": "ERROR! the playbook: nope.yml could not be found"})
    # A task's own [ERROR] line is its TaskFailed event, not a run error.
    dispatcher.on_event({"event": "runner_on_failed", "stdout": "[ERROR]: Task failed: boom", "event_data": {"host": "h"}})
    result = builder.build(status="failed", rc=1, duration=0.1)
    assert result.warnings == ("Could not match supplied host pattern, ignoring: nope",)
    assert result.errors == ("YAML parsing failed: bad\nOrigin: x.yml:3", "the playbook: nope.yml could not be found")
    assert result.failures == (Failure("h", "", "failed (no message)"),)


def test_unreadable_events_are_skipped():
    builder = ResultBuilder()
    dispatcher = _Dispatcher(None, builder, "x")
    assert dispatcher.on_event({"event": "runner_on_ok", "counter": "not a number"}) is True
    assert builder.callback_errors and "unreadable runner_on_ok" in builder.callback_errors[0]


def test_recorded_environment_keeps_ansible_settings_only():
    env = {
        "ANSIBLE_COLLECTIONS_PATH": "/x",
        "ANSIBLE_VAULT_PASSWORD": "oops",
        "PATH": "/usr/bin",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "DATABASE_URL": "postgres://u:p@h/db",
        "LC_ALL": "C.UTF-8",
    }
    scrubbed = scrub_environment(env)
    assert scrubbed["ANSIBLE_COLLECTIONS_PATH"] == "/x" and scrubbed["PATH"] == "/usr/bin" and scrubbed["LC_ALL"] == "C.UTF-8"
    assert "oops" not in scrubbed.values() and "s3cr3t" not in scrubbed.values()
    assert "postgres://u:p@h/db" not in scrubbed.values()
    assert set(scrubbed) == set(env)


def test_failure_str_for_unreachable():
    failure = Failure("h9", "Gather facts", "ssh: no route", unreachable=True)
    assert str(failure) == "h9: task 'Gather facts' unreachable: ssh: no route"


def test_failed_event_kind_names_are_stable():
    # The JSON lines the CLI prints for CI use these names.
    assert TaskFailed.kind == "task_failed" and PlaybookStats.kind == "playbook_stats"
