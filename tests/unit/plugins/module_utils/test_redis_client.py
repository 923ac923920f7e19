# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/redis_client.py: the RESP2 codec and a client against a loopback server."""

from __future__ import annotations

import io
import socket
import threading

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import (
    RedisClient,
    RedisConnectionError,
    RedisError,
    RedisReplyError,
    Role,
    connection_argument_spec,
    encode_command,
    pairs_to_dict,
    parse_info,
    parse_role,
    read_reply,
    same_address,
)


def reply(data: bytes):
    return read_reply(io.BytesIO(data))


def test_encode():
    assert encode_command(["SET", "k", 1]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"
    assert encode_command([b"\x00\xff"]) == b"*1\r\n$2\r\n\x00\xff\r\n"


def test_decode_each_type():
    assert reply(b"+OK\r\n") == "OK"
    assert reply(b":42\r\n") == 42
    assert reply(b"$5\r\nhello\r\n") == "hello"
    assert reply(b"$-1\r\n") is None
    assert reply(b"*-1\r\n") is None
    assert reply(b"*3\r\n$1\r\na\r\n:1\r\n*1\r\n+x\r\n") == ["a", 1, ["x"]]


def test_errors():
    with pytest.raises(RedisReplyError) as info:
        reply(b"-WRONGPASS invalid username-password pair\r\n")
    assert info.value.code == "WRONGPASS"
    nested = reply(b"*2\r\n+OK\r\n-ERR inside\r\n")
    assert nested[0] == "OK" and isinstance(nested[1], RedisReplyError)
    with pytest.raises(RedisConnectionError):
        reply(b"")
    with pytest.raises(RedisError):
        reply(b"?what\r\n")
    with pytest.raises(RedisConnectionError):
        reply(b"$10\r\nshort\r\n")


def test_helpers():
    assert pairs_to_dict(["ip", "10.0.0.1", "port", "6379"]) == {"ip": "10.0.0.1", "port": "6379"}
    assert pairs_to_dict("nope") == {}
    info = parse_info("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n\r\n")
    assert info == {"role": "slave", "master_link_status": "up"}
    assert host_port("2001:db8::1", 6379) == "[2001:db8::1]:6379"
    assert same_address("2001:DB8::1", "2001:db8::1") and not same_address("10.0.0.1", "10.0.0.2")
    assert same_address("redis1", "REDIS1") and not same_address(None, "x")


def test_roles():
    assert parse_role(["master", 10, []]) == Role("master")
    role = parse_role(["slave", "10.0.0.1", 6379, "connected", 10])
    assert role == Role("replica", "10.0.0.1", 6379, "connected")
    assert role.describe() == "replica of 10.0.0.1:6379"
    assert parse_role(["sentinel", []]).role == "sentinel"
    with pytest.raises(RedisError):
        parse_role("master")


def test_argument_spec():
    assert "login_host" not in connection_argument_spec()
    spec = connection_argument_spec(26379)
    assert spec["login_port"]["default"] == 26379 and spec["login_password"]["no_log"] is True


class LoopbackServer:
    """A one-connection-at-a-time RESP server on 127.0.0.1 answering from a table."""

    def __init__(self, answers):
        self.answers = answers
        self.seen = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            with conn:
                reader = conn.makefile("rb")
                while True:
                    try:
                        command = read_reply(reader)
                    except RedisError:
                        break
                    self.seen.append(command)
                    conn.sendall(self.answers.get(command[0].upper(), b"-ERR unknown\r\n"))

    def close(self):
        self.sock.close()


def test_client_against_a_loopback_server():
    server = LoopbackServer({"AUTH": b"+OK\r\n", "ROLE": b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", "GET": b"$-1\r\n"})
    try:
        with RedisClient("127.0.0.1", server.port, username="admin", password="pw") as client:
            assert parse_role(client.command("ROLE")).role == "master"
            assert client.command("GET", "k") is None
            with pytest.raises(RedisReplyError):
                client.command("NOPE")
        assert server.seen[0] == ["AUTH", "admin", "pw"]
    finally:
        server.close()


def test_refused_connection_is_a_connection_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(RedisConnectionError) as info:
        RedisClient("127.0.0.1", port, timeout=1).connect()
    assert "127.0.0.1:%d" % port in str(info.value)
