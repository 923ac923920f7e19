# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the Redis modules, against scripted RESP servers on 127.0.0.1 (nothing else is contacted)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import RedisError, encode_command, read_reply
from ansible_collections.kaizen.hybrid.plugins.modules import redis_replication, redis_sentinel_info, redis_sentinel_quorum


def bulk_array(*items):
    """Encode a reply array the way a server does (RESP2)."""
    parts = [b"*%d\r\n" % len(items)]
    for item in items:
        if isinstance(item, int):
            parts.append(b":%d\r\n" % item)
        else:
            data = str(item).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class FakeRedis:
    """Answers each command with ``handler(command, state)``; records the commands."""

    def __init__(self, handler):
        self.handler = handler
        self.state = {}
        self.seen = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        with conn:
            reader = conn.makefile("rb")
            while True:
                try:
                    command = read_reply(reader)
                except (RedisError, OSError):
                    return
                self.seen.append([str(part) for part in command])
                conn.sendall(self.handler([str(part) for part in command], self.state))

    def close(self):
        self.sock.close()


@pytest.fixture
def servers():
    started = []

    def start(handler):
        server = FakeRedis(handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def sentinel(master_ip="10.0.0.1", epoch=0, flags="master", auth=b"+OK\r\n", ping=b"+PONG\r\n"):
    def handler(command, state):
        name = command[0].upper()
        if name == "AUTH":
            return auth
        if name == "PING":
            return ping
        if name == "SENTINEL" and command[1].upper() == "MASTER":
            if master_ip is None:
                return b"-ERR No such master with that name\r\n"
            return bulk_array("name", command[2], "ip", master_ip, "port", "6379", "flags", flags,
                              "config-epoch", str(epoch), "quorum", "2")
        return b"-ERR unknown command\r\n"
    return handler


def run_module(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def info_args(ports, **extra):
    args = {"sentinels": [{"host": "127.0.0.1", "port": port} for port in ports], "master_name": "kaizen",
            "login_user": "admin", "login_password": "secret-password", "connect_timeout": 1}
    args.update(extra)
    return args


# --- redis_sentinel_info -----------------------------------------------------------


def test_choose_takes_the_highest_epoch():
    answers = [
        {"address": "a", "state": "answered", "master_host": "10.0.0.1", "master_port": 6379, "flags": ["master"],
         "config_epoch": 1, "quorum": 2},
        {"address": "b", "state": "answered", "master_host": "10.0.0.2", "master_port": 6379, "flags": ["master"],
         "config_epoch": 2, "quorum": 2},
        {"address": "c", "state": "unreachable"},
    ]
    master, problem = redis_sentinel_info.choose(answers)
    assert problem is None and master["host"] == "10.0.0.2" and master["sentinel"] == "b" and not master["down"]


def test_choose_refuses_a_tie():
    answers = [
        {"address": "a", "state": "answered", "master_host": "10.0.0.1", "master_port": 6379, "flags": [], "config_epoch": 3, "quorum": 2},
        {"address": "b", "state": "answered", "master_host": "10.0.0.2", "master_port": 6379, "flags": [], "config_epoch": 3, "quorum": 2},
    ]
    master, problem = redis_sentinel_info.choose(answers)
    assert master is None and "disagree" in problem


def test_choose_without_answers():
    assert redis_sentinel_info.choose([{"address": "a", "state": "unreachable"}]) == (None, None)


def test_info_reports_the_master(servers, capsys):
    one = servers(sentinel("10.0.0.2", epoch=2))
    two = servers(sentinel("10.0.0.1", epoch=1))
    result = run_module(redis_sentinel_info, info_args([one.port, two.port, closed_port()]), capsys)
    assert not result.get("failed") and not result["changed"]
    assert result["master"]["host"] == "10.0.0.2" and result["answered"] == 2
    assert [s["state"] for s in result["sentinels"]] == ["answered", "answered", "unreachable"]
    assert one.seen[0] == ["AUTH", "admin", "secret-password"]
    assert "secret-password" not in json.dumps({k: v for k, v in result.items() if k != "invocation"})


def test_info_first_deployment_gives_no_master(servers, capsys):
    debian_default = servers(sentinel(None, auth=b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"))
    not_ours = servers(sentinel(None))
    result = run_module(redis_sentinel_info, info_args([debian_default.port, not_ours.port, closed_port()]), capsys)
    assert not result.get("failed")
    assert result["master"] is None
    assert [s["state"] for s in result["sentinels"]] == ["unconfigured", "unknown_master", "unreachable"]


def test_info_fails_rather_than_guess(servers, capsys):
    wrong_password = servers(sentinel("10.0.0.1", auth=b"-WRONGPASS invalid username-password pair\r\n",
                                      ping=b"-NOAUTH Authentication required.\r\n"))
    result = run_module(redis_sentinel_info, info_args([wrong_password.port, closed_port()]), capsys)
    assert result["failed"] and "not guessed" in result["msg"] and "WRONGPASS" in result["msg"]


def test_info_uses_answers_despite_one_error(servers, capsys):
    good = servers(sentinel("10.0.0.3", epoch=4))
    bad = servers(sentinel("10.0.0.1", auth=b"-WRONGPASS x\r\n", ping=b"-NOAUTH x\r\n"))
    result = run_module(redis_sentinel_info, info_args([good.port, bad.port]), capsys)
    assert not result.get("failed") and result["master"]["host"] == "10.0.0.3"
    assert [s["state"] for s in result["sentinels"]] == ["answered", "error"]


def test_info_waits_for_a_failover_then_fails(servers, capsys):
    down = servers(sentinel("10.0.0.1", flags="master,s_down,o_down"))
    result = run_module(redis_sentinel_info, info_args([down.port], settle_timeout=1), capsys)
    assert result["failed"] and "as down or failing over" in result["msg"] and "s_down,o_down" in result["msg"]
    assert len([c for c in down.seen if c[0] == "SENTINEL"]) >= 2


def test_info_without_wait_reports_down(servers, capsys):
    down = servers(sentinel("10.0.0.1", flags="master,s_down"))
    result = run_module(redis_sentinel_info, info_args([down.port]), capsys)
    assert not result.get("failed") and result["master"]["down"] is True


# --- redis_replication -------------------------------------------------------------


def instance(role="master", master=None, link="up"):
    def handler(command, state):
        name = command[0].upper()
        state.setdefault("role", role)
        state.setdefault("master", master)
        if name == "AUTH":
            return b"+OK\r\n"
        if name == "ROLE":
            if state["role"] == "master":
                return b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
            return bulk_array("slave", state["master"][0], state["master"][1], "connected", 0)
        if name == "REPLICAOF":
            if command[1].upper() == "NO":
                state["role"] = "master"
            else:
                state["role"], state["master"] = "replica", (command[1], int(command[2]))
            return b"+OK\r\n"
        if name == "CONFIG" and command[1].upper() == "REWRITE":
            state["rewritten"] = True
            return b"+OK\r\n"
        if name == "INFO":
            text = "# Replication\r\nrole:slave\r\nmaster_link_status:%s\r\n" % link
            return b"$%d\r\n%s\r\n" % (len(text), text.encode())
        return b"-ERR unknown command\r\n"
    return handler


def replication_args(port, **extra):
    args = {"login_port": port, "login_user": "admin", "login_password": "secret-password", "connect_timeout": 1}
    args.update(extra)
    return args


def test_replica_follows_the_master(servers, capsys):
    server = servers(instance("replica", ("10.0.0.1", 6379)))
    result = run_module(redis_replication, dict(replication_args(server.port, master_host="10.0.0.2", wait_timeout=2), _ansible_diff=True), capsys)
    assert result["changed"] and result["before"] == "replica of 10.0.0.1:6379" and result["after"] == "replica of 10.0.0.2:6379"
    assert result["diff"] == {"before": "replica of 10.0.0.1:6379\n", "after": "replica of 10.0.0.2:6379\n"}
    assert ["REPLICAOF", "10.0.0.2", "6379"] in server.seen and ["CONFIG", "REWRITE"] in server.seen
    assert result["link_status"] == "up"


def test_nothing_sent_when_already_right(servers, capsys):
    server = servers(instance("replica", ("10.0.0.2", 6379)))
    result = run_module(redis_replication, replication_args(server.port, master_host="10.0.0.2"), capsys)
    assert not result["changed"]
    assert not any(command[0] in ("REPLICAOF", "CONFIG") for command in server.seen)


def test_check_mode_sends_nothing(servers, capsys):
    server = servers(instance("master"))
    result = run_module(redis_replication, dict(replication_args(server.port, master_host="10.0.0.2"), _ansible_check_mode=True), capsys)
    assert result["changed"] and result["after"] == "replica of 10.0.0.2:6379"
    assert not any(command[0] in ("REPLICAOF", "CONFIG") for command in server.seen)


def test_check_mode_reports_the_link_of_a_replica_in_place(servers, capsys):
    server = servers(instance("replica", ("10.0.0.2", 6379), link="down"))
    result = run_module(redis_replication, dict(replication_args(server.port, master_host="10.0.0.2"), _ansible_check_mode=True), capsys)
    assert not result["changed"] and result["link_status"] == "down"
    assert not any(command[0] in ("REPLICAOF", "CONFIG") for command in server.seen)


def test_master_is_not_promoted_without_promote(servers, capsys):
    server = servers(instance("replica", ("10.0.0.1", 6379)))
    result = run_module(redis_replication, replication_args(server.port), capsys)
    assert result["failed"] and "not promoted here" in result["msg"]
    assert not any(command[0] == "REPLICAOF" for command in server.seen)


def test_promote_on_first_deployment(servers, capsys):
    server = servers(instance("replica", ("10.0.0.1", 6379)))
    result = run_module(redis_replication, replication_args(server.port, promote=True), capsys)
    assert result["changed"] and result["after"] == "master" and ["REPLICAOF", "NO", "ONE"] in server.seen


def test_link_that_stays_down_fails(servers, capsys):
    server = servers(instance("replica", ("10.0.0.2", 6379), link="down"))
    result = run_module(redis_replication, replication_args(server.port, master_host="10.0.0.2", wait_timeout=1), capsys)
    assert result["failed"] and "still down" in result["msg"]


def test_unreachable_instance_fails(capsys):
    result = run_module(redis_replication, replication_args(closed_port(), master_host="10.0.0.2"), capsys)
    assert result["failed"] and "127.0.0.1" in result["msg"]


# --- redis_sentinel_quorum ---------------------------------------------------------


def quorum_sentinel(quorum=3, known=True):
    def handler(command, state):
        state.setdefault("quorum", quorum)
        name = command[0].upper()
        if name == "AUTH":
            return b"+OK\r\n"
        if name == "SENTINEL" and command[1].upper() == "MASTER":
            if not known:
                return b"-ERR No such master with that name\r\n"
            return bulk_array("name", command[2], "quorum", str(state["quorum"]))
        if name == "SENTINEL" and command[1].upper() == "SET":
            state["quorum"] = int(command[4])
            return b"+OK\r\n"
        return b"-ERR unknown command\r\n"
    return handler


def quorum_args(port, quorum, **extra):
    args = {"login_port": port, "login_user": "admin", "login_password": "secret-password", "master_name": "kaizen",
            "quorum": quorum, "connect_timeout": 1}
    args.update(extra)
    return args


def test_quorum_is_changed(servers, capsys):
    server = servers(quorum_sentinel(3))
    result = run_module(redis_sentinel_quorum, dict(quorum_args(server.port, 2), _ansible_diff=True), capsys)
    assert result["changed"] and result["before"] == 3 and result["after"] == 2
    assert result["diff"] == {"before": "quorum 3\n", "after": "quorum 2\n"}
    assert ["SENTINEL", "SET", "kaizen", "quorum", "2"] in server.seen


def test_quorum_unchanged_and_check_mode(servers, capsys):
    server = servers(quorum_sentinel(2))
    assert not run_module(redis_sentinel_quorum, quorum_args(server.port, 2), capsys)["changed"]
    result = run_module(redis_sentinel_quorum, dict(quorum_args(server.port, 1), _ansible_check_mode=True), capsys)
    assert result["changed"] and not any(command[1:2] == ["SET"] for command in server.seen)


def test_quorum_unknown_master_fails(servers, capsys):
    server = servers(quorum_sentinel(known=False))
    result = run_module(redis_sentinel_quorum, quorum_args(server.port, 2), capsys)
    assert result["failed"] and "does not monitor a master named 'kaizen'" in result["msg"]


def test_encode_used_by_the_fake_server_roundtrips():
    assert encode_command(["PING"]) == b"*1\r\n$4\r\nPING\r\n"
