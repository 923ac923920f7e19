# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/pg_replication_info.py, with a fake database driver.

The queries are matched by a few words; each answer is what PostgreSQL 15 returns for a primary
with two replicas, a streaming replica, a stopped data directory or a server that is down.
"""

from __future__ import annotations

import datetime
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.kaizen.hybrid.plugins.modules import pg_replication_info as module

HISTORY = "1\t0/5000148\tno recovery target specified\n"


class FakeCursor:
    def __init__(self, answers):
        self.answers = answers
        self.description = []
        self._rows = []

    def execute(self, query, params=None):
        for needle, (columns, rows) in self.answers.items():
            if needle in query:
                if isinstance(rows, Exception):
                    raise rows
                self.description = [(name,) for name in columns]
                self._rows = rows
                return
        raise AssertionError("unexpected query: %s" % query)

    def fetchall(self):
        return self._rows


class FakeConnection:
    def __init__(self, answers):
        self.answers = answers
        self.autocommit = False
        self.closed = False

    def cursor(self):
        return FakeCursor(self.answers)

    def close(self):
        self.closed = True


class FakeDriver:
    def __init__(self, answers=None, error=None):
        self.answers = answers
        self.error = error
        self.kwargs = None

    def connect(self, **kwargs):
        self.kwargs = kwargs
        if self.error:
            raise self.error
        return FakeConnection(self.answers)


PRIMARY = {
    "pg_is_in_recovery() AS in_recovery": (
        ["in_recovery", "version", "sync_names", "system_identifier", "checkpoint_timeline"],
        [(False, 150010, 'ANY 1 ("pg2", "pg3")', "7311845627419874521", 1)]),
    "pg_current_wal_lsn()::text AS lsn": (["lsn"], [("0/7000100",)]),
    "bit(32)::int AS tli": (["tli"], [(2,)]),
    "pg_read_file": (["content"], [(HISTORY,)]),
    "FROM pg_stat_replication": (
        ["application_name", "client_addr", "state", "sync_state", "sync_priority", "sent_lsn", "write_lsn", "flush_lsn",
         "replay_lsn", "write_lag_seconds", "flush_lag_seconds", "replay_lag_seconds"],
        [("pg2", "192.0.2.32", "streaming", "quorum", 1, "0/7000100", "0/7000100", "0/7000100", "0/7000000",
          datetime.timedelta(milliseconds=2), datetime.timedelta(milliseconds=3), None),
         ("pg3", "192.0.2.33", "streaming", "quorum", 1, "0/7000100", "0/7000100", "0/7000100", "0/7000100", None, None, 0.004)]),
    "FROM pg_replication_slots": (
        ["slot_name", "slot_type", "active", "restart_lsn", "wal_status"],
        [("pg2", "physical", True, "0/7000000", "reserved"), ("pg3", "physical", True, None, None)]),
}

REPLICA = {
    "pg_is_in_recovery() AS in_recovery": (
        ["in_recovery", "version", "sync_names", "system_identifier", "checkpoint_timeline"],
        [(True, 150010, 'ANY 1 ("pg1", "pg3")', "7311845627419874521", 1)]),
    "pg_last_wal_receive_lsn()::text AS receive": (
        ["receive", "replay", "lag_seconds"], [("0/7000100", "0/7000000", 1.25)]),
    "FROM pg_stat_wal_receiver": (
        ["status", "sender_host", "sender_port", "slot_name", "received_tli", "flushed_lsn"],
        [("streaming", "pg1", 5432, "pg2", 2, "0/7000100")]),
    "pg_control_recovery()": (["min_recovery_end_timeline"], [(2,)]),
    "pg_read_file": (["content"], [(HISTORY,)]),
    "FROM pg_stat_replication": ([], []),
    "FROM pg_replication_slots": (["slot_name", "slot_type", "active", "restart_lsn", "wal_status"], []),
}

CONTROLDATA = """\
Database system identifier:           7311845627419874521
Database cluster state:               shut down in recovery
Latest checkpoint location:           0/6000060
Latest checkpoint's TimeLineID:       2
Minimum recovery ending location:     0/6000100
Min recovery ending loc's timeline:   2
"""


def run_module(monkeypatch, args, driver, run_command=None):
    monkeypatch.setattr(module, "DRIVER", driver)
    if run_command is not None:
        monkeypatch.setattr(module.AnsibleModule, "run_command", run_command)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()


def output(capsys):
    return json.loads(capsys.readouterr().out)


def test_primary(monkeypatch, capsys):
    driver = FakeDriver(PRIMARY)
    run_module(monkeypatch, {"_ansible_check_mode": True}, driver)
    result = output(capsys)
    assert driver.kwargs == {"host": "/var/run/postgresql", "port": 5432, "dbname": "postgres", "user": "postgres",
                             "connect_timeout": 5, "application_name": "kaizen.hybrid.pg_replication_info"}
    assert result["changed"] is False
    assert result["running"] is True and result["role"] == "primary" and result["in_recovery"] is False
    assert result["timeline"] == 2
    assert result["timeline_history"] == [{"timeline": 1, "switchpoint": "0/5000148", "reason": "no recovery target specified"}]
    assert result["current_lsn"] == result["wal_position"] == "0/7000100"
    assert result["system_identifier"] == "7311845627419874521"
    assert [(r["application_name"], r["sync_state"], r["replay_lag_bytes"]) for r in result["replicas"]] == [
        ("pg2", "quorum", 0x100), ("pg3", "quorum", 0)]
    assert result["replicas"][0]["write_lag_seconds"] == 0.002 and result["replicas"][0]["replay_lag_seconds"] is None
    assert result["replicas"][1]["replay_lag_seconds"] == 0.004
    assert [(s["slot_name"], s["retained_bytes"]) for s in result["slots"]] == [("pg2", 0x100), ("pg3", None)]
    assert result["data_initialized"] is None and result["controldata"] == {}


def test_replica(monkeypatch, capsys):
    run_module(monkeypatch, {}, FakeDriver(REPLICA))
    result = output(capsys)
    assert result["role"] == "replica" and result["in_recovery"] is True
    assert result["receive_lsn"] == "0/7000100" and result["replay_lsn"] == "0/7000000"
    assert result["wal_position"] == "0/7000100"
    assert result["replay_lag_bytes"] == 0x100 and result["replay_lag_seconds"] == 1.25
    assert result["wal_receiver"]["status"] == "streaming" and result["wal_receiver"]["sender_host"] == "pg1"
    assert result["timeline"] == 2
    assert result["current_lsn"] is None


def test_server_down_with_data_directory(monkeypatch, capsys, tmp_path):
    (tmp_path / "PG_VERSION").write_text("15\n")
    (tmp_path / "standby.signal").write_text("")
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return 0, CONTROLDATA, ""

    run_module(monkeypatch, {"data_directory": str(tmp_path)}, FakeDriver(error=RuntimeError("connection refused")), run_command)
    result = output(capsys)
    assert calls == [["/usr/lib/postgresql/15/bin/pg_controldata", "-D", str(tmp_path)]]
    assert result["running"] is False and "connection refused" in result["error"]
    assert result["data_initialized"] is True and result["standby_signal"] is True
    assert result["role"] == "replica"
    assert result["system_identifier"] == "7311845627419874521"
    assert result["timeline"] == 2 and result["wal_position"] == "0/6000100"
    assert result["controldata"]["shut_down_cleanly"] is True


def test_empty_data_directory(monkeypatch, capsys, tmp_path):
    run_module(monkeypatch, {"data_directory": str(tmp_path / "main"), "bin_dir": "/opt/pg/bin"}, FakeDriver(error=OSError("no socket")))
    result = output(capsys)
    assert result["data_initialized"] is False and result["standby_signal"] is False
    assert result["role"] is None and result["system_identifier"] is None


def test_controldata_failure_is_reported(monkeypatch, capsys, tmp_path):
    (tmp_path / "PG_VERSION").write_text("15\n")
    run_module(monkeypatch, {"data_directory": str(tmp_path)}, FakeDriver(error=OSError("down")),
               lambda self, argv, **kwargs: (1, "", "pg_controldata: error: could not open file"))
    result = output(capsys)
    assert result["controldata"] == {"error": "pg_controldata: error: could not open file"}


def test_history_without_privilege(monkeypatch, capsys):
    answers = dict(PRIMARY)
    answers["pg_read_file"] = (["content"], PermissionError("permission denied for function pg_read_file"))
    run_module(monkeypatch, {"login_user": "kaizen_monitoring"}, FakeDriver(answers))
    result = output(capsys)
    assert result["running"] is True and result["timeline_history"] == []


def test_missing_driver(monkeypatch, capsys):
    run_module(monkeypatch, {}, None)
    result = output(capsys)
    assert result["failed"] is True and "psycopg2" in result["msg"]


def test_query_error_fails_with_the_reason(monkeypatch, capsys):
    answers = dict(PRIMARY)
    answers["FROM pg_replication_slots"] = ([], RuntimeError("relation does not exist"))
    run_module(monkeypatch, {}, FakeDriver(answers))
    result = output(capsys)
    assert result["failed"] is True and "relation does not exist" in result["msg"]


class PortDriver(FakeDriver):
    """A server that answers on one port only."""

    def __init__(self, answers, port):
        super().__init__(answers)
        self.port, self.tried = port, []

    def connect(self, **kwargs):
        self.tried.append(kwargs["port"])
        if kwargs["port"] != self.port:
            raise OSError("No such file or directory: socket .s.PGSQL.%d" % kwargs["port"])
        return FakeConnection(self.answers)


def postmaster_pid(directory, port):
    (directory / "postmaster.pid").write_text("4242\n%s\n1796290000\n%d\n/var/run/postgresql\n*\n  5432001    12\nready   \n" % (directory, port))


def test_a_server_still_on_its_old_port_is_found_there(monkeypatch, capsys, tmp_path):
    # postgresql_port changed to 5433, the server has not restarted: it runs, on 5432.
    postmaster_pid(tmp_path, 5432)
    driver = PortDriver(REPLICA, 5432)
    run_module(monkeypatch, {"data_directory": str(tmp_path), "port": 5433}, driver)
    result = output(capsys)
    assert driver.tried == [5432]
    assert result["running"] is True and result["port"] == 5432 and result["role"] == "replica"


def test_a_stale_pid_file_falls_back_to_the_configured_port(monkeypatch, capsys, tmp_path):
    postmaster_pid(tmp_path, 5432)
    driver = PortDriver(PRIMARY, 5433)
    run_module(monkeypatch, {"data_directory": str(tmp_path), "port": 5433}, driver)
    result = output(capsys)
    assert driver.tried == [5432, 5433]
    assert result["running"] is True and result["port"] == 5433


def test_down_on_every_port_names_each_error(monkeypatch, capsys, tmp_path):
    postmaster_pid(tmp_path, 5432)
    driver = PortDriver(PRIMARY, 1)
    run_module(monkeypatch, {"data_directory": str(tmp_path), "port": 5433}, driver,
               lambda self, argv, **kwargs: (1, "", "pg_controldata: fatal"))
    result = output(capsys)
    assert result["running"] is False and result["port"] == 5433
    assert ".s.PGSQL.5432" in result["error"] and ".s.PGSQL.5433" in result["error"]
