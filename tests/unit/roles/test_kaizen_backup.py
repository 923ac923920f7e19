# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup runner (roles/backup/files/kaizen_backup.py): its metrics from pgBackRest 2.45's ``info`` output,
and its runs, with pgBackRest replaced by a stand-in."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "backup" / "files" / "kaizen_backup.py"
REAL_RUN = subprocess.run  # the stand-ins below replace subprocess.run, and run openssl for real


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
    metrics = _metrics(_script().render_metrics("kaizen", INFO, {"1": {"diff": 2}}))
    assert metrics['kaizen_backup_last_success_timestamp_seconds{repo="1",stanza="kaizen"}'] == 3502
    assert metrics['kaizen_backup_type_last_success_timestamp_seconds{repo="1",stanza="kaizen",type="full"}'] == 3060
    assert metrics['kaizen_backup_duration_seconds{repo="1",stanza="kaizen",type="full"}'] == 60
    assert metrics['kaizen_backup_repository_size_bytes{repo="1",stanza="kaizen",type="full"}'] == 8192
    assert metrics['kaizen_backup_duration_seconds{repo="1",stanza="kaizen",type="incr"}'] == 2
    assert metrics['kaizen_backup_failures_total{repo="1",stanza="kaizen",type="diff"}'] == 2
    assert metrics['kaizen_backup_failures_total{repo="1",stanza="kaizen",type="full"}'] == 0
    assert metrics['kaizen_backup_stanza_status{repo="1",stanza="kaizen"}'] == 0


def test_a_stanza_without_backups_or_unknown_publishes_zero_so_that_the_age_alert_fires():
    script = _script()
    for info in ([], None, [{"name": "kaizen", "status": {"code": 2, "message": "no valid backups"}, "backup": []}]):
        metrics = _metrics(script.render_metrics("kaizen", info, {}))
        assert metrics['kaizen_backup_last_success_timestamp_seconds{repo="1",stanza="kaizen"}'] == 0
        assert not [name for name in metrics if name.startswith("kaizen_backup_duration_seconds")]
    assert _metrics(script.render_metrics("kaizen", [], {}))['kaizen_backup_stanza_status{repo="1",stanza="kaizen"}'] == -1


def _two_repositories():
    """INFO's stanza with a repository 2 (S3) holding one full backup, and each repository's status."""
    stanza = dict(INFO[1], repo=[{"key": 1, "status": {"code": 0, "message": "ok"}}, {"key": 2, "status": {"code": 0, "message": "ok"}}])
    s3 = dict(_backup("full", 4000, 4030, 2048), database={"id": 1, "repo-key": 2})
    stanza["backup"] = [dict(backup, database={"id": 1, "repo-key": 1}) for backup in stanza["backup"]] + [s3]
    return [INFO[0], stanza]


def test_each_repository_has_its_own_series():
    metrics = _metrics(_script().render_metrics("kaizen", _two_repositories(), {"2": {"full": 1}}, repos=[1, 2]))
    assert metrics['kaizen_backup_last_success_timestamp_seconds{repo="1",stanza="kaizen"}'] == 3502
    assert metrics['kaizen_backup_last_success_timestamp_seconds{repo="2",stanza="kaizen"}'] == 4030
    assert metrics['kaizen_backup_repository_size_bytes{repo="2",stanza="kaizen",type="full"}'] == 2048
    assert 'kaizen_backup_duration_seconds{repo="2",stanza="kaizen",type="incr"}' not in metrics
    assert metrics['kaizen_backup_failures_total{repo="2",stanza="kaizen",type="full"}'] == 1
    assert metrics['kaizen_backup_failures_total{repo="1",stanza="kaizen",type="full"}'] == 0
    assert metrics['kaizen_backup_stanza_status{repo="2",stanza="kaizen"}'] == 0
    # A repository info does not list (added to the configuration, no stanza there yet) shows as not found.
    assert _metrics(_script().render_metrics("kaizen", _two_repositories(), {}, repos=[1, 3]))[
        'kaizen_backup_stanza_status{repo="3",stanza="kaizen"}'] == -1
    assert _script().repo_summary(_two_repositories()[1]) == {"1": {"code": 0, "message": "ok", "backups": 4},
                                                              "2": {"code": 0, "message": "ok", "backups": 1}}


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
    assert json.loads(state.read_text())["failures"] == {"1": {"full": 2}}
    assert _metrics(prom.read_text())['kaizen_backup_failures_total{repo="1",stanza="kaizen",type="full"}'] == 2
    backup_call = [call for call in fake.calls if call[-1] == "backup"][0]
    assert backup_call[-5:] == ["pgbackrest", "--stanza=kaizen", "--type=full", "--repo=1", "backup"]


def test_a_run_backs_up_each_repository_and_one_that_fails_does_not_stop_the_next(monkeypatch, paths):
    argv, prom, state = paths
    script = _script()
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        if command[-1] == "info":
            return subprocess.CompletedProcess(command, 0, stdout=json.dumps(_two_repositories()))
        return subprocess.CompletedProcess(command, 56 if "--repo=1" in command else 0, stdout=None)

    monkeypatch.setattr(script.subprocess, "run", run)
    # A state file from before there were repositories counts for repository 1.
    state.parent.mkdir()
    state.write_text(json.dumps({"failures": {"full": 3}}))
    assert script.main(argv + ["--repo", "1", "--repo", "2", "run", "--type", "full"]) == 56
    assert [call[-2] for call in calls if call[-1] == "backup"] == ["--repo=1", "--repo=2"]
    assert json.loads(state.read_text())["failures"] == {"1": {"full": 4}}
    metrics = _metrics(prom.read_text())
    assert metrics['kaizen_backup_failures_total{repo="1",stanza="kaizen",type="full"}'] == 4
    assert metrics['kaizen_backup_last_success_timestamp_seconds{repo="2",stanza="kaizen"}'] == 4030
    calls.clear()
    assert script.main(argv + ["--repo", "1", "--repo", "2", "run", "--type", "full", "--only", "2"]) == 0
    assert [call[-2] for call in calls if call[-1] == "backup"] == ["--repo=2"]


def test_a_good_run_and_a_metrics_refresh_leave_the_counter_and_write_the_file(monkeypatch, paths):
    argv, prom, state = paths
    script = _script()
    monkeypatch.setattr(script.subprocess, "run", _FakePgBackRest(backup_rc=0))
    assert script.main(argv + ["run", "--type", "diff"]) == 0
    assert not state.exists()
    assert script.main(argv + ["metrics"]) == 0
    assert _metrics(prom.read_text())['kaizen_backup_last_success_timestamp_seconds{repo="1",stanza="kaizen"}'] == 3502
    assert [path.name for path in prom.parent.iterdir()] == ["kaizen_backup.prom"]  # no temporary file left


def test_a_repository_that_does_not_answer_publishes_zero_and_fails(monkeypatch, paths):
    argv, prom, _state = paths
    script = _script()
    monkeypatch.setattr(script.subprocess, "run", lambda argv, **kwargs: subprocess.CompletedProcess(argv, 49, stdout=""))
    assert script.main(argv + ["metrics"]) == 49
    assert _metrics(prom.read_text())['kaizen_backup_last_success_timestamp_seconds{repo="1",stanza="kaizen"}'] == 0


def test_info_is_the_stanza_with_its_exit_code(monkeypatch, paths, capsys):
    argv, _prom, state = paths
    script = _script()
    monkeypatch.setattr(script.subprocess, "run", _FakePgBackRest(backup_rc=0))
    assert script.main(argv + ["info"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["name"] == "kaizen" and answer["rc"] == 0 and answer["error"] == "" and len(answer["backup"]) == 4
    assert not state.exists()
    monkeypatch.setattr(script.subprocess, "run", lambda argv, **kwargs: subprocess.CompletedProcess(argv, 0, stdout="[]", stderr=""))
    assert script.main(argv + ["info"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rc": 0, "error": "", "repos": {}}


def test_info_of_a_repository_the_passphrase_does_not_open_is_readable_json(monkeypatch, paths, capsys):
    """pgBackRest echoes what the wrong passphrase decrypted: bytes that are not UTF-8 must not break the answer."""
    argv, prom, _state = paths
    script = _script()
    garbage = b"ERROR: [029]: unable to read info file: invalid format '\xf3\x9c\xff\x01'\n"

    def run(command, **kwargs):
        return subprocess.CompletedProcess(command, 29, stdout="", stderr=garbage.decode("utf-8", kwargs.get("errors", "strict")))

    monkeypatch.setattr(script.subprocess, "run", run)
    assert script.main(argv + ["info"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["rc"] == 29 and answer["error"].startswith("ERROR: [029]: unable to read info file") and "\ufffd" in answer["error"]
    assert "status" not in answer
    assert script.main(argv + ["metrics"]) == 29
    assert _metrics(prom.read_text())['kaizen_backup_stanza_status{repo="1",stanza="kaizen"}'] == -1
    # What pgBackRest 2.45 answers: exit 0, the stanza's status "other", the reason (with the garbage) per repository.
    reason = ("[FormatError] unable to load info file 'backup.info':\nFormatError: key/value found outside of section at line 1: "
              + garbage[-8:-2].decode("utf-8", "replace"))
    wrong = [{"name": "kaizen", "backup": [], "status": {"code": 99, "message": "other"},
              "repo": [{"key": 1, "status": {"code": 99, "message": reason}}]}]
    # As pgBackRest prints it: the garbage's control characters raw inside the JSON string (json.dumps would escape them).
    printed = json.dumps(wrong).replace("at line 1: ", "at line 1: \x01\x1f\t")
    monkeypatch.setattr(script.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(
        command, 0, stdout=printed, stderr=""))
    assert script.main(argv + ["info"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["rc"] == 0 and answer["status"]["code"] == 99
    assert answer["error"].startswith("other; repo1: [FormatError] unable to load info file 'backup.info': FormatError: key/value")


# --- Redis snapshots ----------------------------------------------------------------------------------------------


class _FakeRedisCli:
    """Stands in for subprocess.run: ``redis-cli`` answers per host from ``answers`` (rc, stderr, what it writes to the
    --rdb file, or None to write nothing), ``pg_dump`` answers as host "postgresql" (its --file); ``openssl`` really runs."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, argv, **kwargs):
        env = kwargs.get("env", {})
        self.calls.append((argv, env.get("REDISCLI_AUTH") or env.get("PGPASSWORD")))
        if argv[0] == "openssl":
            return REAL_RUN(argv, check=kwargs.pop("check", False), **kwargs)
        if argv[0] == "pg_dump":
            (rc, stderr, content), out = self.answers["postgresql"], argv[argv.index("--file") + 1]
        else:
            (rc, stderr, content), out = self.answers[argv[argv.index("-h") + 1]], argv[argv.index("--rdb") + 1]
        if content is not None:
            with open(out, "wb") as stream:
                stream.write(content)
        return subprocess.CompletedProcess(argv, rc, stdout="", stderr=stderr)


@pytest.fixture
def redis_config(tmp_path):
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple, twenty+\n")
    return {"sources": [{"host": "r2", "port": 6379}, {"host": "r1", "port": 6379}], "user": "replication", "password": "pw",
            "tls": True, "ca_file": "/pki/ca.crt", "passphrase_file": str(passphrase), "dir": str(tmp_path / "redis"), "keep_days": 7}


def test_a_snapshot_comes_from_the_first_server_that_answers_and_is_kept_only_encrypted(redis_config):
    script = _script()
    fake = _FakeRedisCli({"r2": (1, "Could not connect to Redis at r2:6379: Connection refused", None),
                          "r1": (0, "", b"REDIS0010" + b"kaizen-secret-value" * 10)})
    path, size, source = script.redis_snapshot(redis_config, "20261203T010000Z", run=fake)
    assert source == "r1" and path.endswith("/redis-20261203T010000Z.rdb.enc") and size > 0
    assert os.listdir(redis_config["dir"]) == ["redis-20261203T010000Z.rdb.enc"]  # no plaintext left
    with open(path, "rb") as stream:
        kept = stream.read()
    assert kept.startswith(b"Salted__") and b"kaizen-secret-value" not in kept
    clear = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-in", path, "-pass", "file:" + redis_config["passphrase_file"]],
                           capture_output=True, check=True).stdout
    assert clear.startswith(b"REDIS") and b"kaizen-secret-value" in clear
    argv, password = fake.calls[0]
    assert argv[:3] == ["redis-cli", "-h", "r2"] and "--tls" in argv and "pw" not in argv and password == "pw"


def test_no_server_answering_is_one_error_naming_each_and_leaves_nothing(redis_config):
    script = _script()
    fake = _FakeRedisCli({"r2": (1, "NOPERM this user has no permissions to run the 'sync' command", None),
                          "r1": (0, "", b"<html>not an rdb</html>")})
    with pytest.raises(script.SnapshotError) as info:
        script.redis_snapshot(redis_config, "20261203T010000Z", run=fake)
    assert "r2: NOPERM this user has no permissions" in str(info.value) and "r1: exit 0, nothing written" in str(info.value)
    assert os.listdir(redis_config["dir"]) == []
    with pytest.raises(script.SnapshotError, match="no Redis server to copy from"):
        script.redis_snapshot(dict(redis_config, sources=[]), "20261203T010000Z", run=fake)


def test_old_snapshots_go_the_newest_always_stays(tmp_path):
    script = _script()
    now = 1_800_000_000
    for name, age_days in (("redis-a.rdb.enc", 30), ("redis-b.rdb.enc", 8), ("redis-c.rdb.enc", 2), ("other.txt", 99)):
        path = tmp_path / name
        path.write_bytes(b"x")
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    assert sorted(script.prune(str(tmp_path), "redis", 7, now)) == ["redis-a.rdb.enc", "redis-b.rdb.enc"]
    assert sorted(os.listdir(tmp_path)) == ["other.txt", "redis-c.rdb.enc"]
    # All of them too old: the newest stays (a snapshot, however old, beats none).
    assert script.prune(str(tmp_path), "redis", 1, now) == [] and "redis-c.rdb.enc" in os.listdir(tmp_path)
    assert script.prune(str(tmp_path / "missing"), "redis", 1, now) == []


def test_the_redis_run_counts_failures_and_publishes_the_newest_snapshot(monkeypatch, redis_config, tmp_path):
    script = _script()
    config_file = tmp_path / "redis.json"
    config_file.write_text(json.dumps(redis_config))
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    argv = ["--textfile-dir", str(textfiles), "--state-file", str(tmp_path / "state.json"), "redis", "--config", str(config_file)]
    monkeypatch.setattr(script.subprocess, "run", _FakeRedisCli({"r2": (1, "refused", None), "r1": (1, "refused", None)}))
    assert script.main(argv) == 1 and script.main(argv) == 1
    metrics = _metrics((textfiles / "kaizen_backup_redis.prom").read_text())
    assert metrics['kaizen_backup_failures_total{stanza="redis",type="rdb"}'] == 2
    assert metrics['kaizen_backup_last_success_timestamp_seconds{stanza="redis"}'] == 0
    monkeypatch.setattr(script.subprocess, "run", _FakeRedisCli({"r2": (0, "", b"REDIS0010data"), "r1": (1, "refused", None)}))
    assert script.main(argv) == 0
    metrics = _metrics((textfiles / "kaizen_backup_redis.prom").read_text())
    assert metrics['kaizen_backup_last_success_timestamp_seconds{stanza="redis"}'] > 1_700_000_000
    assert metrics['kaizen_backup_failures_total{stanza="redis",type="rdb"}'] == 2
    assert metrics['kaizen_backup_repository_size_bytes{stanza="redis",type="rdb"}'] > 0


def test_a_logical_dump_is_checked_encrypted_and_published_as_its_own_stanza(monkeypatch, redis_config, tmp_path):
    script = _script()
    config = {"url": "postgresql://backup@10.0.0.1:5432,10.0.0.2:5432/kaizen?target_session_attrs=prefer-standby", "password": "pw",
              "passphrase_file": redis_config["passphrase_file"], "dir": str(tmp_path / "dumps"), "keep_days": 7}
    config_file = tmp_path / "dump.json"
    config_file.write_text(json.dumps(config))
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    argv = ["--textfile-dir", str(textfiles), "--state-file", str(tmp_path / "state.json"), "dump", "--config", str(config_file)]
    # Not a dump (an error page, say): refused, nothing kept.
    fake = _FakeRedisCli({"postgresql": (0, "", b"pg_dump: error")})
    monkeypatch.setattr(script.subprocess, "run", fake)
    assert script.main(argv) == 1 and os.listdir(config["dir"]) == []
    monkeypatch.setattr(script.subprocess, "run", _FakeRedisCli({"postgresql": (0, "", b"PGDMP" + b"kaizen-row" * 20)}))
    assert script.main(argv) == 0
    kept = os.listdir(config["dir"])
    assert len(kept) == 1 and kept[0].startswith("dump-") and kept[0].endswith(".pgdump.enc")
    assert b"kaizen-row" not in (tmp_path / "dumps" / kept[0]).read_bytes()
    metrics = _metrics((textfiles / "kaizen_backup_dump.prom").read_text())
    assert metrics['kaizen_backup_last_success_timestamp_seconds{stanza="dump"}'] > 1_700_000_000
    assert metrics['kaizen_backup_failures_total{stanza="dump",type="pg_dump"}'] == 1
    argv_seen, password = fake.calls[0]
    assert argv_seen[0] == "pg_dump" and "--format=custom" in argv_seen and "pw" not in " ".join(argv_seen) and password == "pw"
