# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Redis client for the collection's modules: RESP2 over TCP, TLS optional, standard library only.

The modules run on managed hosts, where the Python ``redis`` package is not
installed; what they need (AUTH, ROLE, INFO, REPLICAOF, CONFIG REWRITE,
SENTINEL MASTER/SET) is a few request/reply exchanges, which this module
implements. Nothing here imports Ansible.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port

DEFAULT_TIMEOUT = 3.0


class RedisError(Exception):
    """The instance could not be asked (connection, TLS or protocol trouble)."""


class RedisConnectionError(RedisError):
    """The instance could not be reached: refused, timed out, unreachable, TLS handshake failed."""


class RedisReplyError(RedisError):
    """The instance answered with an error reply (``-ERR ...``, ``-WRONGPASS ...``, ``-NOPERM ...``)."""

    @property
    def code(self) -> str:
        """The error code: the first word of the reply (``ERR``, ``WRONGPASS``, ``NOPERM``, ...)."""
        text = str(self)
        return text.split(" ", 1)[0] if text else ""


def connection_argument_spec(default_port: int | None = None) -> dict[str, t.Any]:
    """The connection options of the collection's Redis modules; ``login_host`` and ``login_port`` only with
    ``default_port`` (modules that talk to one instance)."""
    spec: dict[str, t.Any] = {}
    if default_port is not None:
        spec.update(login_host=dict(type="str", default="127.0.0.1"), login_port=dict(type="int", default=default_port))
    spec.update(
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=False),
        tls_ca_file=dict(type="path"),
        tls_cert_file=dict(type="path"),
        tls_key_file=dict(type="path", no_log=False),
        connect_timeout=dict(type="float", default=DEFAULT_TIMEOUT),
    )
    return spec


class RedisClient:
    """One connection to a Redis server or Sentinel; ``command()`` sends a request and returns the decoded reply.

    Replies: simple strings and bulk strings as ``str`` (``None`` for a null bulk), integers as ``int``,
    arrays as ``list``; an error reply raises :class:`RedisReplyError` (inside an array it is returned as
    a :class:`RedisReplyError` instance).
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_file = ca_file
        self.cert_file = cert_file
        self.key_file = key_file
        self.timeout = timeout
        self._sock: t.Any = None
        self._reader: t.Any = None

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any], host: str | None = None, port: int | None = None) -> "RedisClient":
        """A client from a module's parameters (see :func:`connection_argument_spec`)."""
        return cls(
            host=host if host is not None else params.get("login_host", "127.0.0.1"),
            port=port if port is not None else params.get("login_port", 6379),
            username=params.get("login_user"),
            password=params.get("login_password"),
            tls=params.get("tls", False),
            ca_file=params.get("tls_ca_file"),
            cert_file=params.get("tls_cert_file"),
            key_file=params.get("tls_key_file"),
            timeout=params.get("connect_timeout") or DEFAULT_TIMEOUT,
        )

    @property
    def address(self) -> str:
        return host_port(self.host, self.port)

    def __enter__(self) -> "RedisClient":
        self.connect()
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self.close()

    def connect(self) -> None:
        """Connect, negotiate TLS when asked, and authenticate when a password is set."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise RedisConnectionError("%s: %s" % (self.address, _reason(exc))) from None
        if self.tls:
            try:
                context = ssl.create_default_context(cafile=self.ca_file)
                if self.cert_file:
                    context.load_cert_chain(self.cert_file, self.key_file)
                sock = context.wrap_socket(sock, server_hostname=self.host)
            except (OSError, ssl.SSLError, ValueError) as exc:
                sock.close()
                raise RedisConnectionError("%s: TLS: %s" % (self.address, _reason(exc))) from None
        sock.settimeout(self.timeout)
        self._sock = sock
        self._reader = sock.makefile("rb")
        if self.password:
            if self.username:
                self.command("AUTH", self.username, self.password)
            else:
                self.command("AUTH", self.password)

    def close(self) -> None:
        for item in (self._reader, self._sock):
            if item is not None:
                try:
                    item.close()
                except OSError:
                    pass
        self._reader = self._sock = None

    def command(self, *args: t.Any) -> t.Any:
        """Send one command and return its reply."""
        if self._sock is None:
            raise RedisConnectionError("%s: not connected" % self.address)
        try:
            self._sock.sendall(encode_command(args))
            return read_reply(self._reader, raise_errors=True)
        except RedisError:
            raise
        except (OSError, ValueError) as exc:
            raise RedisConnectionError("%s: %s" % (self.address, _reason(exc))) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc)
    return text or type(exc).__name__


def same_address(one: t.Any, other: t.Any) -> bool:
    """True when two host strings name the same IP address (or are the same name)."""
    if one is None or other is None:
        return False
    try:
        return ipaddress.ip_address(str(one)) == ipaddress.ip_address(str(other))
    except ValueError:
        return str(one).lower() == str(other).lower()


def encode_command(args: t.Sequence[t.Any]) -> bytes:
    """A command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        else:
            data = str(arg).encode("utf-8")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def read_reply(reader: t.Any, raise_errors: bool = True) -> t.Any:
    """Read one RESP2 reply from a binary file-like object."""
    line = reader.readline()
    if not line:
        raise RedisConnectionError("connection closed by the server")
    if not line.endswith(b"\r\n"):
        raise RedisError("malformed reply: %r" % line[:80])
    kind, payload = line[:1], line[1:-2]
    if kind == b"+":
        return _decode(payload)
    if kind == b"-":
        error = RedisReplyError(_decode(payload))
        if raise_errors:
            raise error
        return error
    if kind == b":":
        return int(payload)
    if kind == b"$":
        length = int(payload)
        if length < 0:
            return None
        data = reader.read(length + 2)
        if len(data) != length + 2:
            raise RedisConnectionError("connection closed in the middle of a reply")
        return _decode(data[:-2])
    if kind == b"*":
        count = int(payload)
        if count < 0:
            return None
        return [read_reply(reader, raise_errors=False) for _index in range(count)]
    raise RedisError("unexpected reply type %r" % kind)


def pairs_to_dict(reply: t.Any) -> dict[str, t.Any]:
    """A flat ``[key, value, key, value, ...]`` reply (SENTINEL MASTER, CONFIG GET) as a dict."""
    if not isinstance(reply, list):
        return {}
    return {str(reply[i]): reply[i + 1] for i in range(0, len(reply) - 1, 2)}


def parse_info(text: t.Any) -> dict[str, str]:
    """An INFO reply as ``{field: value}`` (sections flattened, comments dropped)."""
    result: dict[str, str] = {}
    for line in str(text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        result[key] = value
    return result


class Role(t.NamedTuple):
    """What ROLE says about an instance: ``master``, or ``replica`` of ``master_host:master_port``."""

    role: str
    master_host: str | None = None
    master_port: int | None = None
    link_state: str | None = None

    def describe(self) -> str:
        if self.role == "replica":
            return "replica of %s" % host_port(self.master_host or "?", self.master_port or "?")
        return self.role


def parse_role(reply: t.Any) -> Role:
    """A ROLE reply as a :class:`Role` (``slave`` is reported as ``replica``)."""
    if not isinstance(reply, list) or not reply:
        raise RedisError("unexpected ROLE reply: %r" % (reply,))
    kind = str(reply[0])
    if kind == "master":
        return Role("master")
    if kind in ("slave", "replica"):
        host = str(reply[1]) if len(reply) > 1 else None
        port = int(reply[2]) if len(reply) > 2 and reply[2] is not None else None
        state = str(reply[3]) if len(reply) > 3 else None
        return Role("replica", host, port, state)
    return Role(kind)
