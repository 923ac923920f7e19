# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kaizen reference app: a small stand-in for the Kaizen service that speaks its contract.

It is the lab's demo app and the collection's test fixture. It reads the configuration the app
role writes (environment variables only), really uses PostgreSQL (the current primary, through a
multi-host libpq URL) and Redis (through Sentinel, TLS, ACL key prefix), and answers the endpoints
the load balancers, the Docker health check and the monitoring use::

    python3 kaizen_ref.py [serve]    the HTTP service on KAIZEN_PORT (8080)
    python3 kaizen_ref.py migrate    create the table it uses (schema owner's DATABASE_URL), idempotent

Endpoints: ``GET /health`` (deep check, the Kaizen HealthChecker document), ``GET /ready``,
``GET /metrics`` (Prometheus text 0.0.4), ``GET /version``, ``GET /``, ``POST /api/notes`` and
``GET /api/notes/<id>`` (a write to PostgreSQL and Redis, read back). Errors are JSON; a dependency
that fails gives 503. SIGTERM stops accepting connections, lets the requests in progress finish
(up to 10 s) and exits 0.

Python 3.11 standard library; psycopg2 and redis (Debian's python3-psycopg2 and python3-redis)
are imported when first needed, so the service starts, and reports the missing piece in /health,
without them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import platform
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = "kaizen-reference"
SCHEMA = "public"
TABLE = "kaizen_notes"
MAX_BODY = 64 * 1024
CHECK_TIMEOUT = 2.0          # each dependency check of /health and /ready
DRAIN_TIMEOUT = 10.0         # SIGTERM: how long requests in progress may take to finish
SLOT_WAIT = 10.0             # how long a request waits for a free worker or database connection
KEEPALIVE_IDLE = 75.0        # idle keep-alive connections are closed after this (longer than nginx's 60 s)
DEGRADED_PERCENT = 90.0
LOG = logging.getLogger("kaizen")

# libpq settings added when DATABASE_URL does not set them: a bounded connect, and a dead server
# (a failed primary) noticed within seconds rather than after the kernel's retransmission timeout.
PG_DEFAULTS = {"connect_timeout": "3", "tcp_user_timeout": "5000", "keepalives_idle": "10", "keepalives_interval": "5",
               "keepalives_count": "3"}
MIGRATE_LOCK = 0x6B61697A656E  # pg_advisory_xact_lock key of migrate ("kaizen")
DDL = """CREATE TABLE {schema}.{table} (
    id bigserial PRIMARY KEY,
    text text NOT NULL,
    instance text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
)""".format(schema=SCHEMA, table=TABLE)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# --- configuration ------------------------------------------------------------------------------

class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable."""


def _text(env: t.Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name)
    return default if value is None or not value.strip() else value.strip()


def _flag(env: t.Mapping[str, str], name: str, default: bool) -> bool:
    value = _text(env, name).lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ConfigError("%s must be true or false, not %r" % (name, env[name]))


def _number(env: t.Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _text(env, name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError("%s must be an integer, not %r" % (name, env[name])) from None
    if number < minimum:
        raise ConfigError("%s must be at least %d, not %d" % (name, minimum, number))
    return number


def parse_sentinels(value: str) -> tuple[tuple[str, int], ...]:
    """``host:port,[v6]:port,host`` -> ``((host, port), ...)``; the port defaults to 26379."""
    result = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        match = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", item) or re.match(r"^([^:\[\]]+)(?::(\d+))?$", item)
        if not match or not 0 < int(match.group(2) or 26379) < 65536:
            raise ConfigError("KAIZEN_REDIS_SENTINELS: %r is not host:port" % item)
        result.append((match.group(1), int(match.group(2) or 26379)))
    return tuple(result)


@dataclasses.dataclass(frozen=True)
class Config:
    """The settings of the service, from the environment (the app role's env file)."""

    secret_key: str
    database_url: str
    host: str = "0.0.0.0"
    port: int = 8080
    instance: str = ""
    environment: str = "production"
    version: str = "0.0.0"
    fault: str = ""
    log_level: str = "INFO"
    log_format: str = "json"
    log_file: str = ""
    workers: int = 8
    model_latency_ms: int = 50
    database_pool_size: int = 20
    database_max_overflow: int = 0
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_master_name: str = "kaizen"
    redis_username: str = ""
    redis_password: str = ""
    redis_sentinel_username: str = ""
    redis_sentinel_password: str = ""
    redis_tls: bool = False
    redis_ca_file: str = ""
    redis_key_prefix: str = "kaizen:"
    redis_max_connections: int = 50
    cache_ttl: int = 3600
    metrics_enabled: bool = True

    @classmethod
    def from_env(cls, env: t.Mapping[str, str]) -> Config:
        """Read and check the settings; :class:`ConfigError` names the first wrong one."""
        secret_key = env.get("KAIZEN_SECRET_KEY", "")
        if not secret_key.strip():
            raise ConfigError("KAIZEN_SECRET_KEY is required (set it in the app's env file); refusing to start")
        database_url = env.get("DATABASE_URL", "").strip()
        if not database_url:
            raise ConfigError("DATABASE_URL is required (a libpq URL, postgresql://user:password@host:port/db); refusing to start")
        log_level = _text(env, "KAIZEN_LOG_LEVEL", "INFO").upper()
        if log_level not in _LEVELS:
            raise ConfigError("KAIZEN_LOG_LEVEL must be one of %s, not %r" % (", ".join(_LEVELS), env["KAIZEN_LOG_LEVEL"]))
        log_format = _text(env, "KAIZEN_LOG_FORMAT", "json").lower()
        if log_format not in ("json", "text"):
            raise ConfigError("KAIZEN_LOG_FORMAT must be json or text, not %r" % env["KAIZEN_LOG_FORMAT"])
        port = _number(env, "KAIZEN_PORT", 8080, 1)
        if port > 65535:
            raise ConfigError("KAIZEN_PORT must be a TCP port (1-65535), not %d" % port)
        return cls(
            secret_key=secret_key,
            database_url=database_url,
            host=_text(env, "KAIZEN_HOST", "0.0.0.0"),
            port=port,
            instance=_text(env, "KAIZEN_INSTANCE") or socket.gethostname(),
            environment=_text(env, "KAIZEN_ENVIRONMENT", "production"),
            version=_text(env, "KAIZEN_APP_VERSION", "0.0.0"),
            fault=_text(env, "KAIZEN_APP_FAULT").lower(),
            log_level=log_level,
            log_format=log_format,
            log_file=_text(env, "KAIZEN_LOG_FILE"),
            workers=_number(env, "KAIZEN_WORKERS", 8, 1),
            model_latency_ms=_number(env, "KAIZEN_MODEL_LATENCY_MS", 50, 0),
            database_pool_size=_number(env, "KAIZEN_DATABASE_POOL_SIZE", 20, 1),
            database_max_overflow=_number(env, "KAIZEN_DATABASE_MAX_OVERFLOW", 0, 0),
            redis_sentinels=parse_sentinels(env.get("KAIZEN_REDIS_SENTINELS", "")),
            redis_master_name=_text(env, "KAIZEN_REDIS_MASTER_NAME", "kaizen"),
            redis_username=_text(env, "KAIZEN_REDIS_USERNAME"),
            redis_password=env.get("KAIZEN_REDIS_PASSWORD", ""),
            redis_sentinel_username=_text(env, "KAIZEN_REDIS_SENTINEL_USERNAME"),
            redis_sentinel_password=env.get("KAIZEN_REDIS_SENTINEL_PASSWORD", ""),
            redis_tls=_flag(env, "KAIZEN_REDIS_TLS", False),
            redis_ca_file=_text(env, "KAIZEN_REDIS_CA_FILE"),
            redis_key_prefix=env.get("KAIZEN_REDIS_KEY_PREFIX", "kaizen:"),
            redis_max_connections=_number(env, "KAIZEN_REDIS_MAX_CONNECTIONS", 50, 1),
            cache_ttl=_number(env, "KAIZEN_CACHE_TTL", 3600, 0),
            metrics_enabled=_flag(env, "KAIZEN_METRICS_ENABLED", True),
        )


# --- logging ------------------------------------------------------------------------------------

class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % record.msecs
        doc: dict[str, t.Any] = {"timestamp": stamp, "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        doc.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <message> key=value ...``"""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        line = "%s %s %s" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)), record.levelname, record.getMessage())
        if fields:
            line += " " + " ".join("%s=%s" % (key, json.dumps(value, default=str)) for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(config: Config) -> None:
    formatter = JsonFormatter() if config.log_format == "json" else TextFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    problem = None
    if config.log_file:
        try:
            handlers.append(logging.FileHandler(config.log_file, encoding="utf-8"))
        except OSError as exc:
            problem = "cannot write KAIZEN_LOG_FILE %s (%s); logging to stdout only" % (config.log_file, exc.strerror or exc)
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=config.log_level, handlers=handlers, force=True)
    if problem:
        LOG.warning(problem, extra={"fields": {"event": "config"}})


def _event(level: int, message: str, **fields: t.Any) -> None:
    LOG.log(level, message, extra={"fields": fields})


# --- dependencies -------------------------------------------------------------------------------

class DependencyError(Exception):
    """A dependency (database, redis) failed; the request answers 503 with this message."""

    def __init__(self, dependency: str, message: str, retryable: bool = False):
        super().__init__("%s: %s" % (dependency, message))
        self.dependency = dependency
        self.message = message
        self.retryable = retryable  # a pooled connection broke: a new one may well work


class CheckTimeout(Exception):
    pass


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


class BoundedChecks:
    """Run dependency checks in threads and give up waiting after a timeout, so /health never hangs.

    A check that is still running after its timeout is "stuck": until it returns, the same check
    fails at once instead of piling up more threads behind the same dead server.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, list[tuple[threading.Thread, float]]] = {}

    def run(self, name: str, func: t.Callable[[], t.Any], timeout: float = CHECK_TIMEOUT) -> t.Any:
        box: dict[str, t.Any] = {}

        def target() -> None:
            try:
                box["result"] = func()
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                box["error"] = exc

        now = time.monotonic()
        with self._lock:
            alive = [(thread, start) for thread, start in self._running.get(name, []) if thread.is_alive()]
            stuck = [start for _thread, start in alive if now - start > timeout]
            if stuck:
                self._running[name] = alive
                raise CheckTimeout("a previous %s check has not returned for %.0fs" % (name, now - min(stuck)))
            thread = threading.Thread(target=target, name="check-" + name, daemon=True)
            alive.append((thread, now))
            self._running[name] = alive
            thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise CheckTimeout("no answer within %.1fs" % timeout)
        if "error" in box:
            raise box["error"]
        return box["result"]


def _pg_kwargs(url: str, instance: str, parse_dsn: t.Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The libpq settings to add to DATABASE_URL (only those it does not set itself)."""
    try:
        given = parse_dsn(url)
    except Exception:  # pylint: disable=broad-exception-caught
        # libpq's message may quote the string, password included: not repeated here.
        raise DependencyError("database", "DATABASE_URL is not a valid libpq connection string or URL (value not shown)") from None
    extra = {key: value for key, value in PG_DEFAULTS.items() if key not in given}
    if "application_name" not in given:
        extra["application_name"] = ("kaizen-ref " + instance)[:63]
    return extra


class Database:
    """PostgreSQL through a psycopg2 ThreadedConnectionPool, connected lazily.

    Up to ``pool_size`` idle connections are kept, ``pool_size + max_overflow`` at most are open.
    A connection that failed (server gone, or a server that is no longer the primary) is discarded
    together with every idle one, so that after a failover the next request connects again and
    libpq (target_session_attrs=read-write) finds the new primary.
    """

    def __init__(self, config: Config):
        self._url = config.database_url
        self._instance = config.instance
        self._keep = config.database_pool_size
        self._max = config.database_pool_size + config.database_max_overflow
        self._slots = threading.BoundedSemaphore(self._max)
        self._lock = threading.Lock()
        self._pool: t.Any = None
        self._pg: t.Any = None

    def _psycopg2(self) -> t.Any:
        if self._pg is None:
            try:
                import psycopg2  # pylint: disable=import-outside-toplevel
                import psycopg2.errors  # pylint: disable=import-outside-toplevel,unused-import
                import psycopg2.extensions  # pylint: disable=import-outside-toplevel,unused-import
                import psycopg2.pool  # pylint: disable=import-outside-toplevel,unused-import
            except ImportError:
                raise DependencyError("database", "the psycopg2 module is not installed (python3-psycopg2)") from None
            self._pg = psycopg2
        return self._pg

    def _get_pool(self) -> t.Any:
        with self._lock:
            if self._pool is None:
                pg = self._psycopg2()
                extra = _pg_kwargs(self._url, self._instance, pg.extensions.parse_dsn)

                class LazyPool(pg.pool.ThreadedConnectionPool):
                    """Opens no connection up front, keeps up to ``keep`` idle ones."""

                    def __init__(self, keep: int, maxconn: int, *args: t.Any, **kwargs: t.Any):
                        super().__init__(0, maxconn, *args, **kwargs)
                        self.minconn = keep

                    def discard_idle(self) -> int:
                        with self._lock:
                            idle = list(self._pool)
                            del self._pool[:]
                        for conn in idle:
                            conn.close()
                        return len(idle)

                self._pool = LazyPool(self._keep, self._max, self._url, **extra)
            return self._pool

    def _is_disconnect(self, exc: BaseException) -> bool:
        pg = self._pg
        if pg is None:
            return False
        return isinstance(exc, (pg.OperationalError, pg.InterfaceError, pg.errors.ReadOnlySqlTransaction, _NotPrimary))

    def _discard(self, pool: t.Any, conn: t.Any, error: str) -> None:
        """Close a failed connection and every idle one (after a failover they all lead to the old primary)."""
        pool.putconn(conn, close=True)
        dropped = pool.discard_idle()
        _event(logging.WARNING, "database connection failed (%s); connecting again" % error, event="database_reconnect",
               idle_discarded=dropped)

    def _checkout(self, pool: t.Any, pre_ping: bool) -> t.Any:
        """A connection from the pool; with ``pre_ping``, one that has just answered (else a new one)."""
        pg = self._pg
        for attempt in (1, 2):
            conn = pool.getconn()
            try:
                conn.autocommit = True
                if pre_ping and attempt == 1:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                return conn
            except pg.Error as exc:
                self._discard(pool, conn, _one_line(exc))
                if attempt == 2 or not self._is_disconnect(exc):
                    raise
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def connection(self, pre_ping: bool = False) -> t.Iterator[t.Any]:
        """A pooled connection in autocommit mode; psycopg2 errors become :class:`DependencyError`.

        ``pre_ping`` checks an idle connection with ``SELECT 1`` before handing it out, for
        statements that must not be retried (writes): a dead one is replaced instead.
        """
        pool = self._get_pool()
        pg = self._pg
        if not self._slots.acquire(timeout=SLOT_WAIT):
            raise DependencyError("database", "no database connection free within %.0fs (%d in use)" % (SLOT_WAIT, self._max))
        try:
            try:
                conn = self._checkout(pool, pre_ping)
            except pg.Error as exc:
                raise DependencyError("database", _one_line(exc)) from None
            try:
                yield conn
            except (pg.Error, _NotPrimary) as exc:
                broken = self._is_disconnect(exc) or bool(conn.closed)
                if broken:
                    self._discard(pool, conn, _one_line(exc))
                else:
                    pool.putconn(conn)
                if isinstance(exc, pg.errors.UndefinedTable):
                    raise DependencyError("database", "table %s.%s does not exist: run `kaizen_ref.py migrate` with the schema owner's URL"
                                          % (SCHEMA, TABLE)) from None
                raise DependencyError("database", _one_line(exc), retryable=broken) from None
            except BaseException:
                pool.putconn(conn, close=bool(conn.closed))
                raise
            pool.putconn(conn, close=bool(conn.closed))
        finally:
            self._slots.release()

    def _read(self, func: t.Callable[[], t.Any]) -> t.Any:
        """Run a read; once more on a new connection when the pooled one had broken."""
        try:
            return func()
        except DependencyError as exc:
            if not exc.retryable:
                raise
        return func()

    def check(self) -> dict[str, t.Any]:
        return self._read(self._check)

    def _check(self) -> dict[str, t.Any]:
        start = time.monotonic()
        with self.connection() as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery(), host(inet_server_addr()), inet_server_port(), current_setting('server_version')")
                in_recovery, address, port, server_version = cur.fetchone()
            details = {
                "latency_ms": round((time.monotonic() - start) * 1000, 2),
                "in_recovery": in_recovery,
                "server": "%s:%s" % (address or conn.info.host, port or conn.info.port),
                "server_version": server_version,
                "pool_max": self._max,
            }
            if in_recovery:
                raise _NotPrimary("the server %s is in recovery (a standby): writes would fail" % details["server"])
        return details

    def ping(self) -> bool:
        return self._read(self._ping)

    def _ping(self) -> bool:
        with self.connection() as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone()[0] == 1

    def insert_note(self, text: str, instance: str) -> tuple[int, str]:
        """Insert a note; return its id and its text as read back from the database. Not retried."""
        with self.connection(pre_ping=True) as conn:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO %s.%s (text, instance) VALUES (%%s, %%s) RETURNING id" % (SCHEMA, TABLE), (text, instance))
                note_id = cur.fetchone()[0]
                cur.execute("SELECT text FROM %s.%s WHERE id = %%s" % (SCHEMA, TABLE), (note_id,))
                return note_id, cur.fetchone()[0]

    def get_note(self, note_id: int) -> str | None:
        def read() -> str | None:
            with self.connection() as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT text FROM %s.%s WHERE id = %%s" % (SCHEMA, TABLE), (note_id,))
                    row = cur.fetchone()
            return None if row is None else row[0]
        return self._read(read)


class _NotPrimary(Exception):
    """Connected to a standby: the connection is dropped and the next one finds the primary."""


class Cache:
    """Redis through Sentinel (redis-py 4.3): the master's address is asked from the Sentinels."""

    def __init__(self, config: Config):
        self._config = config
        self._lock = threading.Lock()
        self._master: t.Any = None
        self._redis: t.Any = None

    def _client(self) -> t.Any:
        with self._lock:
            if self._master is None:
                config = self._config
                if not config.redis_sentinels:
                    raise DependencyError("redis", "KAIZEN_REDIS_SENTINELS is not set")
                if config.redis_tls and config.redis_ca_file and not os.access(config.redis_ca_file, os.R_OK):
                    raise DependencyError("redis", "KAIZEN_REDIS_CA_FILE %s is missing or not readable" % config.redis_ca_file)
                try:
                    import redis  # pylint: disable=import-outside-toplevel
                    import redis.backoff  # pylint: disable=import-outside-toplevel,unused-import
                    import redis.retry  # pylint: disable=import-outside-toplevel,unused-import
                    import redis.sentinel  # pylint: disable=import-outside-toplevel,unused-import
                except ImportError:
                    raise DependencyError("redis", "the redis module is not installed (python3-redis)") from None
                # One attempt per command (newer redis-py retry with backoff by default); _call retries once itself.
                timeouts = {"socket_timeout": CHECK_TIMEOUT, "socket_connect_timeout": CHECK_TIMEOUT,
                            "retry": redis.retry.Retry(redis.backoff.NoBackoff(), 0)}
                tls: dict[str, t.Any] = {}
                if config.redis_tls:
                    tls = {"ssl": True, "ssl_cert_reqs": "required", "ssl_check_hostname": True, "ssl_ca_certs": config.redis_ca_file or None}
                sentinel_kwargs = dict(timeouts, **tls)
                if config.redis_sentinel_username:
                    sentinel_kwargs["username"] = config.redis_sentinel_username
                if config.redis_sentinel_password:
                    sentinel_kwargs["password"] = config.redis_sentinel_password
                sentinel = redis.sentinel.Sentinel(
                    list(config.redis_sentinels), sentinel_kwargs=sentinel_kwargs,
                    username=config.redis_username or None, password=config.redis_password or None,
                    decode_responses=True, **timeouts, **tls)
                self._master = sentinel.master_for(config.redis_master_name, max_connections=config.redis_max_connections)
                self._redis = redis
            return self._master

    def _call(self, func: t.Callable[[t.Any], t.Any]) -> t.Any:
        """Run one idempotent command; retry once on a lost connection (it reconnects through Sentinel)."""
        master = self._client()
        errors = self._redis.exceptions
        for attempt in (1, 2):
            try:
                return func(master)
            except self._redis.sentinel.MasterNotFoundError:
                raise DependencyError("redis", self._no_master()) from None
            except (errors.ConnectionError, errors.TimeoutError) as exc:
                if attempt == 2:
                    raise DependencyError("redis", _one_line(exc)) from None
            except errors.RedisError as exc:
                raise DependencyError("redis", _one_line(exc)) from None
        raise AssertionError("unreachable")

    def _no_master(self) -> str:
        sentinels = ",".join(("[%s]:%d" if ":" in host else "%s:%d") % (host, port) for host, port in self._config.redis_sentinels)
        return "no Sentinel (%s) named a master %r: unreachable, refused the credentials, or the master is down" % (
            sentinels, self._config.redis_master_name)

    def key(self, note_id: int) -> str:
        return "%snote:%d" % (self._config.redis_key_prefix, note_id)

    def check(self) -> dict[str, t.Any]:
        master = self._client()
        try:
            host, port = master.connection_pool.get_master_address()
        except self._redis.sentinel.MasterNotFoundError:
            raise DependencyError("redis", self._no_master()) from None
        except self._redis.exceptions.RedisError as exc:
            raise DependencyError("redis", "Sentinel: %s" % _one_line(exc)) from None
        start = time.monotonic()
        self._call(lambda client: client.ping())
        return {"latency_ms": round((time.monotonic() - start) * 1000, 2), "master": "%s:%s" % (host, port),
                "master_name": self._config.redis_master_name, "sentinels": len(self._config.redis_sentinels),
                "tls": self._config.redis_tls}

    def ping(self) -> bool:
        return bool(self._call(lambda client: client.ping()))

    def put(self, note_id: int, text: str) -> None:
        ttl = self._config.cache_ttl or None
        self._call(lambda client: client.set(self.key(note_id), text, ex=ttl))

    def get(self, note_id: int) -> str | None:
        return self._call(lambda client: client.get(self.key(note_id)))


# --- metrics ------------------------------------------------------------------------------------

def _label(value: t.Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number_text(value: float) -> str:
    return repr(float(value)) if value != int(value) else "%d" % value


class Metrics:
    """The Prometheus metrics of the HTTP side, rendered as text format 0.0.4."""

    def __init__(self, config: Config, started: float):
        self._config = config
        self._started = started
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._durations: dict[tuple[str, str], list[float]] = {}  # bucket counts..., sum, count
        self.in_flight = 0

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1

    def end(self, method: str, path: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "OTHER"
        with self._lock:
            self.in_flight -= 1
            key = (method, path, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            row = self._durations.setdefault((method, path), [0.0] * (len(_BUCKETS) + 2))
            for index, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    row[index] += 1
            row[-2] += seconds
            row[-1] += 1

    def render(self) -> str:
        config = self._config
        out = [
            "# HELP kaizen_app_info The running app: version and instance.",
            "# TYPE kaizen_app_info gauge",
            'kaizen_app_info{version="%s",instance="%s"} 1' % (_label(config.version), _label(config.instance)),
            "# HELP kaizen_app_start_time_seconds When the app started, seconds since the Unix epoch.",
            "# TYPE kaizen_app_start_time_seconds gauge",
            "kaizen_app_start_time_seconds %.3f" % self._started,
        ]
        with self._lock:
            requests = sorted(self._requests.items())
            durations = sorted((key, list(row)) for key, row in self._durations.items())
            in_flight = self.in_flight
        out += ["# HELP kaizen_http_requests_in_flight HTTP requests being served.",
                "# TYPE kaizen_http_requests_in_flight gauge",
                "kaizen_http_requests_in_flight %d" % in_flight,
                "# HELP kaizen_http_requests_total HTTP requests answered, by method, route and status.",
                "# TYPE kaizen_http_requests_total counter"]
        out += ['kaizen_http_requests_total{method="%s",path="%s",status="%s"} %d' % (_label(m), _label(p), s, n)
                for (m, p, s), n in requests]
        out += ["# HELP kaizen_http_request_duration_seconds Time to answer HTTP requests, by method and route.",
                "# TYPE kaizen_http_request_duration_seconds histogram"]
        for (method, path), row in durations:
            labels = 'method="%s",path="%s"' % (_label(method), _label(path))
            out += ['kaizen_http_request_duration_seconds_bucket{%s,le="%s"} %d' % (labels, bound, row[index])
                    for index, bound in enumerate(_BUCKETS)]
            out.append('kaizen_http_request_duration_seconds_bucket{%s,le="+Inf"} %d' % (labels, row[-1]))
            out.append("kaizen_http_request_duration_seconds_sum{%s} %s" % (labels, _number_text(round(row[-2], 6))))
            out.append("kaizen_http_request_duration_seconds_count{%s} %d" % (labels, row[-1]))
        return "\n".join(out) + "\n"


# --- the application ----------------------------------------------------------------------------

@dataclasses.dataclass
class Response:
    status: int
    body: t.Any
    content_type: str = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class HttpError(Exception):
    """An answer other than 2xx that is the client's business (404, 405, 400, 413...)."""

    def __init__(self, status: int, message: str, close: bool = False, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close
        self.headers = headers or {}


def _component(name: str, status: str, details: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"service": name, "status": status, "details": details, "timestamp": time.time()}


def _meminfo() -> dict[str, int]:
    values = {}
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            name, _sep, rest = line.partition(":")
            fields = rest.split()
            if fields and fields[0].isdigit():
                values[name] = int(fields[0]) * 1024
    return values


def _cgroup_memory_percent() -> float | None:
    """Memory use against the container's limit (cgroup v2, else v1), or None without a limit."""
    for current, limit in (("/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.max"),
                           ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            with open(current, encoding="ascii") as used_file, open(limit, encoding="ascii") as limit_file:
                used, maximum = used_file.read().strip(), limit_file.read().strip()
        except OSError:
            continue
        if maximum == "max" or not maximum.isdigit() or int(maximum) >= 1 << 60:
            return None
        return round(int(used) * 100.0 / int(maximum), 1)
    return None


class App:
    """Routes, checks and the state shared by the request threads."""

    ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
        ("/", re.compile(r"^/$")),
        ("/health", re.compile(r"^/health$")),
        ("/ready", re.compile(r"^/ready$")),
        ("/metrics", re.compile(r"^/metrics$")),
        ("/version", re.compile(r"^/version$")),
        ("/api/notes", re.compile(r"^/api/notes$")),
        ("/api/notes/{id}", re.compile(r"^/api/notes/(?P<note_id>[^/]+)$")),
        ("/api/model", re.compile(r"^/api/model$")),
    )

    def __init__(self, config: Config):
        self.config = config
        self.started = time.time()
        self._started_monotonic = time.monotonic()
        self.metrics = Metrics(config, self.started)
        self.database = Database(config)
        self.cache = Cache(config)
        self.checks = BoundedChecks()
        self.workers = threading.BoundedSemaphore(config.workers)
        self.draining = False
        self.handlers: dict[str, dict[str, t.Callable[..., Response]]] = {
            "/": {"GET": self.index},
            "/health": {"GET": self.health},
            "/ready": {"GET": self.ready},
            "/metrics": {"GET": self.prometheus},
            "/version": {"GET": self.version},
            "/api/notes": {"POST": self.create_note},
            "/api/notes/{id}": {"GET": self.read_note},
            "/api/model": {"GET": self.model_call},
        }

    def route(self, path: str) -> tuple[str, dict[str, str]]:
        """The route template of a path (``other`` when none matches) and its parameters."""
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        for template, pattern in self.ROUTES:
            match = pattern.match(path)
            if match:
                return template, match.groupdict()
        return "other", {}

    def _identity(self) -> dict[str, str]:
        return {"version": self.config.version, "instance": self.config.instance}

    # endpoints

    def index(self, **_kwargs: t.Any) -> Response:
        return Response(200, dict({"service": SERVICE}, **self._identity()))

    def version(self, **_kwargs: t.Any) -> Response:
        return Response(200, self._identity())

    def _application(self) -> dict[str, t.Any]:
        details = {"version": self.config.version, "instance": self.config.instance, "environment": self.config.environment,
                   "pid": os.getpid(), "python": platform.python_version(), "threads": threading.active_count(),
                   "in_flight": self.metrics.in_flight}
        if self.config.fault == "health":
            return _component("application", "unhealthy", dict(details, error="fault injected (KAIZEN_APP_FAULT=health): a broken release"))
        if self.draining:
            return _component("application", "unhealthy", dict(details, error="shutting down"))
        return _component("application", "healthy", details)

    def _dependency(self, name: str, func: t.Callable[[], dict[str, t.Any]]) -> dict[str, t.Any]:
        start = time.monotonic()
        try:
            return _component(name, "healthy", func())
        except (DependencyError, CheckTimeout) as exc:
            error = exc.message if isinstance(exc, DependencyError) else str(exc)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            error = "%s: %s" % (type(exc).__name__, _one_line(exc))
        return _component(name, "unhealthy", {"error": error, "latency_ms": round((time.monotonic() - start) * 1000, 2)})

    def _system(self) -> dict[str, t.Any]:
        try:
            load = os.getloadavg()
            mem = _meminfo()
            memory_percent = round((mem["MemTotal"] - mem.get("MemAvailable", mem.get("MemFree", 0))) * 100.0 / mem["MemTotal"], 1)
            disk = os.statvfs("/")
            used = (disk.f_blocks - disk.f_bfree) * disk.f_frsize
            usable = used + disk.f_bavail * disk.f_frsize
            disk_percent = round(used * 100.0 / usable, 1) if usable else 0.0
            cgroup_percent = _cgroup_memory_percent()
        except (OSError, KeyError, ZeroDivisionError) as exc:
            return _component("system", "degraded", {"error": "cannot read the system's state: %s" % _one_line(exc)})
        details: dict[str, t.Any] = {"load_average": [round(value, 2) for value in load], "cpu_count": os.cpu_count(),
                                     "memory_percent": memory_percent, "disk_percent": disk_percent}
        if cgroup_percent is not None:
            details["container_memory_percent"] = cgroup_percent
        high = [name for name, value in (("memory", memory_percent), ("disk", disk_percent), ("container memory", cgroup_percent))
                if value is not None and value > DEGRADED_PERCENT]
        if high:
            details["warning"] = "%s above %d%%" % (" and ".join(high), DEGRADED_PERCENT)
        return _component("system", "degraded" if high else "healthy", details)

    def _parallel(self, calls: dict[str, t.Callable[[], t.Any]]) -> dict[str, t.Any]:
        """Run the calls at the same time, each bounded by :data:`CHECK_TIMEOUT`."""
        results: dict[str, t.Any] = {}
        threads = [threading.Thread(target=lambda name=name, call=call: results.__setitem__(name, call()), daemon=True)
                   for name, call in calls.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(CHECK_TIMEOUT + 1.0)
        return results

    def health(self, **_kwargs: t.Any) -> Response:
        checks = {"application": self._application()}
        checks.update(self._parallel({
            "database": lambda: self._dependency("database", lambda: self.checks.run("database", self.database.check)),
            "redis": lambda: self._dependency("redis", lambda: self.checks.run("redis", self.cache.check)),
        }))
        for name in ("database", "redis"):
            checks.setdefault(name, _component(name, "unhealthy", {"error": "the check did not finish"}))
        checks["system"] = self._system()
        healthy = all(check["status"] in ("healthy", "degraded") for check in checks.values())
        body = {"status": "healthy" if healthy else "unhealthy", "timestamp": time.time(),
                "uptime_seconds": round(time.monotonic() - self._started_monotonic, 3), "version": self.config.version,
                "instance": self.config.instance, "environment": self.config.environment, "checks": checks}
        return Response(200 if healthy else 503, body)

    def _ready_check(self, name: str, func: t.Callable[[], bool]) -> bool:
        try:
            return bool(self.checks.run("ready-" + name, func))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            _event(logging.DEBUG, "readiness check failed", event="ready_check", check=name, error=_one_line(exc))
            return False

    def ready(self, **_kwargs: t.Any) -> Response:
        results = self._parallel({
            "database": lambda: self._ready_check("database", self.database.ping),
            "redis": lambda: self._ready_check("redis", self.cache.ping),
        })
        checks = {"database": results.get("database") is True, "redis": results.get("redis") is True}
        if self.config.fault == "health" or self.draining:
            checks["application"] = False
        ready = all(checks.values())
        return Response(200 if ready else 503, {"ready": ready, "timestamp": time.time(), "checks": checks})

    def prometheus(self, **_kwargs: t.Any) -> Response:
        if not self.config.metrics_enabled:
            raise HttpError(404, "metrics are disabled (KAIZEN_METRICS_ENABLED=false)")
        return Response(200, self.metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")

    def create_note(self, body: bytes = b"", **_kwargs: t.Any) -> Response:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HttpError(400, 'the body must be JSON: {"text": "..."}') from None
        text = document.get("text") if isinstance(document, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, 'the body must be a JSON object with a non-empty string "text"')
        if "\x00" in text:
            raise HttpError(400, '"text" must not contain NUL characters')
        note_id, stored = self.database.insert_note(text, self.config.instance)
        try:
            self.cache.put(note_id, text)
            cached = self.cache.get(note_id)
        except DependencyError as exc:
            raise DependencyError(exc.dependency, "%s (note %d was stored in the database)" % (exc.message, note_id)) from None
        return Response(201, dict({"id": note_id, "text": text, "database": stored, "cache": cached}, **self._identity()),
                        headers={"Location": "/api/notes/%d" % note_id})

    def read_note(self, note_id: str = "", **_kwargs: t.Any) -> Response:
        if not note_id.isdigit() or not 0 < int(note_id) < 1 << 63:
            raise HttpError(404, "no note %r: ids are positive integers" % note_id[:40])
        number = int(note_id)
        cache_error = None
        try:
            text = self.cache.get(number)
        except DependencyError as exc:
            text, cache_error = None, exc.message
        if text is not None:
            return Response(200, dict({"id": number, "text": text, "source": "cache"}, **self._identity()))
        text = self.database.get_note(number)
        if text is None:
            raise HttpError(404, "no note %d" % number)
        if cache_error is None:
            try:
                self.cache.put(number, text)
            except DependencyError as exc:
                cache_error = exc.message
        body = dict({"id": number, "text": text, "source": "database"}, **self._identity())
        if cache_error:
            body["cache_error"] = cache_error
        return Response(200, body)

    def model_call(self, **_kwargs: t.Any) -> Response:
        """A stand-in for the Kaizen service's main work, a call to a model provider: it holds one of the
        ``KAIZEN_WORKERS`` slots for ``KAIZEN_MODEL_LATENCY_MS`` while waiting, as a worker blocked on the
        provider's answer does. No provider is contacted."""
        time.sleep(self.config.model_latency_ms / 1000.0)
        return Response(200, dict({"model": "simulated", "latency_ms": self.config.model_latency_ms}, **self._identity()))


# --- HTTP ---------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every answer is JSON (or the metrics text) with a Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "kaizen-reference"
    sys_version = ""
    timeout = KEEPALIVE_IDLE
    server: Server

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
        _event(logging.DEBUG, "http: " + (format % args), event="http")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the base class detects (bad request line, unsupported method...) as JSON too."""
        self.close_connection = True
        try:
            self._send(Response(code, {"error": message or self.responses.get(code, ("error",))[0]}))
        except OSError:
            pass

    def _send(self, response: Response) -> None:
        app = self.server.app
        if response.content_type == "application/json":
            payload = (json.dumps(response.body, default=str) + "\n").encode("utf-8")
        else:
            payload = str(response.body).encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Kaizen-Instance", app.config.instance)
        self.send_header("X-Kaizen-Version", app.config.version)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if app.draining:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "send the body with a Content-Length (chunked transfer encoding is not supported)", close=True)
        raw = self.headers.get("Content-Length") or "0"
        if not raw.strip().isdigit():
            raise HttpError(400, "Content-Length %r is not a number" % raw[:20], close=True)
        length = int(raw)
        if length > MAX_BODY:
            raise HttpError(413, "the body is %d bytes; at most %d are accepted" % (length, MAX_BODY), close=True)
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise HttpError(400, "the body ended after %d of %d bytes" % (len(body), length), close=True)
        return body

    def _dispatch(self) -> None:
        app = self.server.app
        start = time.monotonic()
        method = self.command
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        template, params = app.route(path)
        status = 500
        app.metrics.begin()
        slot = False
        # A body this request did not read would be taken for the next request: close instead.
        unread = bool(self.headers.get("Transfer-Encoding")) or (self.headers.get("Content-Length") or "0").strip() not in ("", "0")
        try:
            try:
                handlers = app.handlers.get(template)
                if handlers is None:
                    raise HttpError(404, "no route for %s" % path[:200])
                handler = handlers.get("GET" if method == "HEAD" else method)
                if handler is None:
                    allowed = ", ".join(sorted(set(handlers) | ({"HEAD"} if "GET" in handlers else set())))
                    raise HttpError(405, "%s is not allowed on %s (allowed: %s)" % (method, template, allowed), headers={"Allow": allowed})
                body = self._body() if method in ("POST", "PUT", "PATCH") else b""
                unread = False
                slot = app.workers.acquire(timeout=SLOT_WAIT)
                if not slot:
                    raise DependencyError("workers", "all %d workers busy for %.0fs" % (app.config.workers, SLOT_WAIT))
                response = handler(body=body, **params)
            except HttpError as exc:
                if exc.close:
                    self.close_connection = True
                response = Response(exc.status, {"error": exc.message}, headers=exc.headers)
            except DependencyError as exc:
                _event(logging.WARNING, "dependency failed", event="dependency_error", dependency=exc.dependency, error=exc.message,
                       method=method, path=template)
                response = Response(503, {"error": str(exc), "dependency": exc.dependency})
            except Exception:  # pylint: disable=broad-exception-caught
                LOG.exception("unexpected error", extra={"fields": {"event": "internal_error", "method": method, "path": template}})
                response = Response(500, {"error": "internal error (see the app's log)"})
            finally:
                if slot:
                    app.workers.release()
            status = response.status
            if unread:
                self.close_connection = True
            self._send(response)
        except OSError as exc:  # the client went away
            self.close_connection = True
            _event(logging.DEBUG, "client connection lost", event="client_gone", error=_one_line(exc))
        finally:
            duration = time.monotonic() - start
            app.metrics.end(method, template, status, duration)
            fields = {"event": "request", "method": method, "path": path[:200], "route": template, "status": status,
                      "duration_ms": round(duration * 1000, 2), "instance": app.config.instance, "client": self.client_address[0]}
            forwarded = self.headers.get("X-Forwarded-For")
            if forwarded:
                fields["forwarded_for"] = forwarded[:200]
            LOG.info("%s %s %d", method, path[:200], status, extra={"fields": fields})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False       # SIGTERM waits for requests in progress, not for idle keep-alive connections
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: App):
        self.app = app
        self.address_family = socket.AF_INET6 if ":" in app.config.host else socket.AF_INET
        super().__init__((app.config.host, app.config.port), Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the address up in DNS (getfqdn), which can stall an
        # air-gapped host at start; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        LOG.debug("connection error", exc_info=True, extra={"fields": {"event": "connection_error", "client": str(client_address)}})


# --- commands -----------------------------------------------------------------------------------

def serve(env: t.Mapping[str, str]) -> int:
    try:
        config = Config.from_env(env)
    except ConfigError as exc:
        print("kaizen_ref: %s" % exc, file=sys.stderr)
        return 2
    setup_logging(config)
    app = App(config)
    try:
        server = Server(app)
    except OSError as exc:
        _event(logging.ERROR, "cannot listen on %s:%d: %s" % (config.host, config.port, exc.strerror or exc), event="startup_failed")
        return 1
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: t.Any) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.25}, name="accept", daemon=True)
    loop.start()
    _event(logging.INFO, "kaizen-reference %s listening on %s:%d" % (config.version, config.host, config.port), event="startup",
           version=config.version, instance=config.instance, environment=config.environment, port=config.port, pid=os.getpid(),
           uid=os.getuid(), workers=config.workers, database_pool=config.database_pool_size,
           database_max_overflow=config.database_max_overflow, redis_sentinels=len(config.redis_sentinels),
           redis_tls=config.redis_tls, metrics=config.metrics_enabled, fault=config.fault or None)
    if config.fault and config.fault != "health":
        _event(logging.WARNING, "unknown KAIZEN_APP_FAULT %r ignored (known: health)" % config.fault, event="config")
    while not stop.wait(0.5):
        pass
    # Stop accepting, then let the requests in progress finish.
    app.draining = True
    _event(logging.INFO, "%s received: draining" % (received[0] if received else "signal"), event="shutdown_started",
           in_flight=app.metrics.in_flight, instance=config.instance)
    server.shutdown()
    server.server_close()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while app.metrics.in_flight > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    left = app.metrics.in_flight
    _event(logging.INFO if left == 0 else logging.WARNING, "stopped" if left == 0 else "stopped with %d requests unfinished" % left,
           event="shutdown", in_flight=left, instance=config.instance, uptime_seconds=round(time.time() - app.started, 3))
    logging.shutdown()
    return 0


def migrate(env: t.Mapping[str, str]) -> int:
    """Create the table if it does not exist; print ``{"changed": ..., "table": ...}``."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        print("kaizen_ref migrate: DATABASE_URL is required (the schema owner's libpq URL)", file=sys.stderr)
        return 2
    try:
        import psycopg2  # pylint: disable=import-outside-toplevel
        import psycopg2.extensions  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        print("kaizen_ref migrate: the psycopg2 module is not installed (python3-psycopg2)", file=sys.stderr)
        return 1
    exists = False
    try:
        conn = psycopg2.connect(url, **_pg_kwargs(url, "migrate", psycopg2.extensions.parse_dsn))
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                cur.execute("SELECT to_regclass(%s) IS NOT NULL", ("%s.%s" % (SCHEMA, TABLE),))
                exists = cur.fetchone()[0]
                if not exists:
                    cur.execute(DDL)
                    cur.execute("COMMENT ON TABLE %s.%s IS %%s" % (SCHEMA, TABLE), ("Kaizen reference app notes (kaizen_ref.py migrate)",))
        finally:
            conn.close()
    except (psycopg2.Error, DependencyError) as exc:
        print("kaizen_ref migrate: failed: %s" % (exc.message if isinstance(exc, DependencyError) else _one_line(exc)), file=sys.stderr)
        return 1
    print(json.dumps({"changed": not exists, "table": TABLE, "schema": SCHEMA}))
    return 0


USAGE = "usage: kaizen_ref.py [serve|migrate]"


def main(argv: list[str] | None = None, env: t.Mapping[str, str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    command = args[0] if args else "serve"
    if command in ("-h", "--help", "help"):
        print(USAGE + "\n\n" + (__doc__ or "").strip())
        return 0
    if command == "serve" and len(args) <= 1:
        return serve(env)
    if command == "migrate" and len(args) == 1:
        return migrate(env)
    print("kaizen_ref: unknown arguments %s\n%s" % (" ".join(args), USAGE), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
