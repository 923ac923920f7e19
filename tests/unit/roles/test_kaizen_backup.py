# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup runner (roles/backup/files/kaizen_backup.py): its metrics from pgBackRest 2.45's ``info`` output,
and its runs, with pgBackRest replaced by a stand-in."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "backup" / "files" / "kaizen_backup.py"


def _script():
    spec = importlib.util.spec_from_file_location("kaizen_backup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _backup(kind, start, stop, delta):
    return {"label": "%s-%s" % (kind, start), "type": kind, "timestamp": {"start": start, "stop": stop},
            "info": {"size": 10 * delta, "delta": delta, "repository": {"size": 3 * delta, "delta": delta}}}


# The shape pgBackRest 2.45 prints (trimmed to what the runner reads), two stanzas.
INFO = [
    {"name": "other", "status": {"code": 0, "message": "ok"}, "backup": [_backup("full", 5000, 5100, 1)]},
    {"name": "kaizen", "status": {"code": 0, "message": "ok"}, "archive": [{"min": "000000010000000000000003"}],
     "backup": [_backup("full", 1000, 1090, 4096), _backup("diff", 2000, 2010, 512), _backup("full", 3000, 3060, 8192),
                _backup("incr", 3500, 3502, 64)]},
]


def _metrics(text):
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}


def test_the_newest_backup_of_each_type_its_duration_and_size():
    metrics = _metrics(_script().render_metrics("kaizen", INFO, {"diff": 2}))
    assert metrics['kaizen_backup_last_success_timestamp_seconds{stanza="kaizen"}'] == 3502
    assert metrics['kaizen_backup_type_last_success_timestamp_seconds{stanza="kaizen",type="full"}'] == 3060
    assert metrics['kaizen_backup_duration_seconds{stanza="kaizen",type="full"}'] == 60
    assert metrics['kaizen_backup_repository_size_bytes{stanza="kaizen",type="full"}'] == 8192
    assert metrics['kaizen_backup_duration_seconds{stanza="kaizen",type="incr"}'] == 2
    assert metrics['kaizen_backup_failures_total{stanza="kaizen",type="diff"}'] == 2
    assert metrics['kaizen_backup_failures_total{stanza="kaizen",type="full"}'] == 0
    assert metrics['kaizen_backup_stanza_status{stanza="kaizen"}'] == 0


def test_a_stanza_without_backups_or_unknown_publishes_zero_so_that_the_age_alert_fires():
    script = _script()
    for info in ([], None, [{"name": "kaizen", "status": {"code": 2, "message": "no valid backups"}, "backup": []}]):
        metrics = _metrics(script.render_metrics("kaizen", info, {}))
        assert metrics['kaizen_backup_last_success_timestamp_seconds{stanza="kaizen"}'] == 0
        assert not [name for name in metrics if name.startswith("kaizen_backup_duration_seconds")]
    assert _metrics(script.render_metrics("kaizen", [], {}))['kaizen_backup_stanza_status{stanza="kaizen"}'] == -1


class _FakePgBackRest:
    """Stands in for subprocess.run: answers ``info`` with INFO, fails or succeeds ``backup``, records the calls."""

    def __init__(self, backup_rc):
        self.backup_rc, self.calls = backup_rc, []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        if argv[-1] == "info":
            return subprocess.CompletedProcess(argv, 0, stdout=json.dumps(INFO))
        return subprocess.CompletedProcess(argv, self.backup_rc, stdout=None)


@pytest.fixture
def paths(tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    return ["--stanza", "kaizen", "--user", "postgres", "--textfile-dir", str(textfiles), "--state-file",
            str(tmp_path / "state" / "state.json")], textfiles / "kaizen_backup.prom", tmp_path / "state" / "state.json"


def test_a_failed_run_is_counted_across_runs_and_its_exit_code_kept(monkeypatch, paths):
    argv, prom, state = paths
    script = _script()
    fake = _FakePgBackRest(backup_rc=56)
    monkeypatch.setattr(script.subprocess, "run", fake)
    assert script.main(argv + ["run", "--type", "full"]) == 56
    assert script.main(argv + ["run", "--type", "full"]) == 56
    assert json.loads(state.read_text())["failures"] == {"full": 2}
    assert _metrics(prom.read_text())['kaizen_backup_failures_total{stanza="kaizen",type="full"}'] == 2
    backup_call = [call for call in fake.calls if call[-1] == "backup"][0]
    assert backup_call[-4:] == ["pgbackrest", "--stanza=kaizen", "--type=full", "backup"]


def test_a_good_run_and_a_metrics_refresh_leave_the_counter_and_write_the_file(monkeypatch, paths):
    argv, prom, state = paths
    script = _script()
    monkeypatch.setattr(script.subprocess, "run", _FakePgBackRest(backup_rc=0))
    assert script.main(argv + ["run", "--type", "diff"]) == 0
    assert not state.exists()
    assert script.main(argv + ["metrics"]) == 0
    assert _metrics(prom.read_text())['kaizen_backup_last_success_timestamp_seconds{stanza="kaizen"}'] == 3502
    assert [path.name for path in prom.parent.iterdir()] == ["kaizen_backup.prom"]  # no temporary file left


def test_a_repository_that_does_not_answer_publishes_zero_and_fails(monkeypatch, paths):
    argv, prom, _state = paths
    script = _script()
    monkeypatch.setattr(script.subprocess, "run", lambda argv, **kwargs: subprocess.CompletedProcess(argv, 49, stdout=""))
    assert script.main(argv + ["metrics"]) == 49
    assert _metrics(prom.read_text())['kaizen_backup_last_success_timestamp_seconds{stanza="kaizen"}'] == 0
