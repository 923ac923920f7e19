# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL configuration derived from the host and the topology.

* :func:`tuning`: memory, WAL and parallelism settings from the host's RAM and CPUs;
* :func:`conf_value`: a Python value as ``postgresql.conf`` writes it;
* :func:`settings_problems`: setting names and values checked against the server's own catalogue
  (``pg_settings``, or ``postgres --describe-config`` before the server runs);
* :func:`hba_rules`: ``pg_hba.conf`` rules from the inventory groups (TLS and scram-sha-256 only);
* :func:`synchronous_standby_names`: ``ANY n (...)`` over a host's PostgreSQL peers;
* :func:`slot_name`: a host name as a replication slot / application name;
* :func:`libpq_url`: a multi-host connection URL for clients.

Pure functions; the topology is a :class:`~ansible_collections.kaizen.hybrid.plugins.module_utils.topology.Topology`
(or anything with ``members(group)`` and ``address(host)``). No Ansible imports.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import typing as t

from urllib.parse import quote

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int

MB = 1
GB = 1024


class ConfigError(ValueError):
    """Input that cannot produce a configuration (the message names the variable)."""


# --- sizes and values -------------------------------------------------------


def format_size_mb(megabytes: float) -> str:
    """Megabytes -> a postgresql.conf memory value: ``'2GB'`` when whole gigabytes, else ``'640MB'``
    (``'kB'`` below 1 MB)."""
    if megabytes < 1:
        return "%dkB" % max(64, int(megabytes * 1024))
    value = int(megabytes)
    if value >= GB and value % GB == 0:
        return "%dGB" % (value // GB)
    return "%dMB" % value


def tuning(memory_mb: t.Any, cpus: t.Any, max_connections: t.Any = 100, storage: str = "ssd") -> dict[str, t.Any]:
    """Settings for a dedicated database host with ``memory_mb`` of RAM and ``cpus`` CPUs.

    The usual rules of thumb: shared_buffers a quarter of RAM (at most 16 GB), effective_cache_size
    three quarters, maintenance_work_mem a sixteenth (64 MB..2 GB), work_mem what is left after
    shared_buffers shared by three sorts per connection and parallel worker (at least 4 MB), WAL
    sized for checkpoints every few minutes, parallelism from the CPU count, planner costs from the
    storage type (``ssd`` or ``hdd``).
    """
    memory = _positive_int(memory_mb, "memory_mb")
    cpu_count = _positive_int(cpus, "cpus")
    connections = _positive_int(max_connections, "max_connections")
    if storage not in ("ssd", "hdd"):
        raise ConfigError("storage is %r; it must be 'ssd' or 'hdd'" % (storage,))
    shared_buffers = max(128, min(memory // 4, 16 * GB))
    per_gather = max(1, min(4, cpu_count // 2))
    work_mem = max(4, (memory - shared_buffers) // (connections * 3) // per_gather)
    maintenance = max(64, min(memory // 16, 2 * GB))
    wal_buffers = max(1, min(16, shared_buffers * 3 // 100))
    small = memory < 2 * GB
    return {
        "max_connections": connections,
        "shared_buffers": format_size_mb(shared_buffers),
        "effective_cache_size": format_size_mb(max(256, memory * 3 // 4)),
        "maintenance_work_mem": format_size_mb(maintenance),
        "work_mem": format_size_mb(work_mem),
        "wal_buffers": format_size_mb(wal_buffers),
        "min_wal_size": "256MB" if small else "1GB",
        "max_wal_size": "1GB" if small else "4GB",
        "checkpoint_completion_target": 0.9,
        "random_page_cost": 1.1 if storage == "ssd" else 4.0,
        "effective_io_concurrency": 200 if storage == "ssd" else 2,
        "max_worker_processes": max(8, cpu_count),
        "max_parallel_workers": cpu_count,
        "max_parallel_workers_per_gather": per_gather,
        "max_parallel_maintenance_workers": per_gather,
    }


def _positive_int(value: t.Any, name: str) -> int:
    number = as_int(value)
    if number is None or number < 1:
        raise ConfigError("%s is %r; it must be a positive integer" % (name, value))
    return number


def conf_value(value: t.Any) -> str:
    """A value as written in postgresql.conf: booleans ``on``/``off``, numbers bare, everything else quoted
    (single quotes doubled); a list becomes a comma-separated quoted string."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if value is None:
        return "''"
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    return "'%s'" % str(value).replace("\\", "\\\\").replace("'", "''")


# --- checking settings against the server's catalogue -----------------------

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_BOOL_VALUES = {"on", "off", "true", "false", "yes", "no", "1", "0", "t", "f", "y", "n", "of"}
_MEMORY_UNITS = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}
_NUMBER_RE = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


_DESCRIBE_TYPES = {"boolean": "bool"}


def parse_describe_config(text: str) -> list[dict[str, t.Any]]:
    """``postgres --describe-config`` output -> catalogue rows like pg_settings (name, context, vartype, min_val,
    max_val, enumvals=None: that output does not list enum values)."""
    rows = []
    for line in (text or "").splitlines():
        fields = line.split("\t")
        if len(fields) < 7 or not fields[0]:
            continue
        rows.append({
            "name": fields[0], "context": fields[1], "vartype": _DESCRIBE_TYPES.get(fields[3].lower(), fields[3].lower()),
            "min_val": fields[5] or None, "max_val": fields[6] or None, "enumvals": None, "unit": None,
        })
    return rows


def settings_problems(settings: t.Mapping[str, t.Any], catalogue: t.Iterable[t.Mapping[str, t.Any]]) -> list[str]:
    """Problems with ``settings`` (name -> value) by the server's catalogue (pg_settings rows).

    Unknown names (with the closest known names as a hint), booleans and enum values the server does not
    accept, and plain numbers outside min/max. Names with a dot are extension settings (``pg_stat_statements.max``)
    and are accepted as the server does. Values with units are left to the server's own check
    (``postgres -C``), which the role runs on the whole file.
    """
    known = {str(row.get("name")): row for row in catalogue if row.get("name")}
    if not known:
        raise ConfigError("the server's settings catalogue is empty (pg_settings / postgres --describe-config gave nothing)")
    problems = []
    for name in sorted(settings):
        value = settings[name]
        if not isinstance(name, str) or not _NAME_RE.match(name):
            problems.append("%r is not a valid setting name" % (name,))
            continue
        if "." in name:
            continue
        row = known.get(name)
        if row is None:
            close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.75)
            hint = " (did you mean %s?)" % " or ".join(close) if close else ""
            problems.append("unknown setting %r%s: PostgreSQL has no parameter of that name" % (name, hint))
            continue
        problem = _value_problem(name, value, row)
        if problem:
            problems.append(problem)
    return problems


def _value_problem(name: str, value: t.Any, row: t.Mapping[str, t.Any]) -> str | None:
    vartype = str(row.get("vartype") or "").lower()
    if vartype == "bool":
        if isinstance(value, bool) or str(value).strip().lower() in _BOOL_VALUES:
            return None
        return "%s is %r; it must be a boolean (on/off)" % (name, value)
    if vartype == "enum":
        allowed = row.get("enumvals")
        if allowed and str(value).strip().lower() not in [str(item).lower() for item in allowed]:
            return "%s is %r; allowed values: %s" % (name, value, ", ".join(str(item) for item in allowed))
        return None
    if vartype in ("integer", "real"):
        if isinstance(value, bool):
            return "%s is %r; it must be a number" % (name, value)
        match = _NUMBER_RE.match(str(value))
        if not match:
            return "%s is %r; it must be a number, optionally with a unit" % (name, value)
        number, unit = match.group(1), match.group(2)
        if unit:
            if unit not in _MEMORY_UNITS and unit not in _TIME_UNITS:
                return "%s is %r; %r is not a PostgreSQL unit (kB, MB, GB, TB, ms, s, min, h, d)" % (name, value, unit)
            return None
        if vartype == "integer" and "." in number:
            return "%s is %r; it must be an integer" % (name, value)
        numeric = float(number)
        low, high = _as_float(row.get("min_val")), _as_float(row.get("max_val"))
        if low is not None and numeric < low or high is not None and numeric > high:
            return "%s is %r; it must be between %s and %s" % (name, value, row.get("min_val"), row.get("max_val"))
    return None


def _as_float(value: t.Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- names -------------------------------------------------------------------


def slot_name(hostname: t.Any) -> str:
    """A host name as a replication slot (and application) name: lower case, ``[a-z0-9_]``, at most 63 characters."""
    name = re.sub(r"[^a-z0-9_]", "_", str(hostname).lower())
    if not name or name[0].isdigit():
        name = "h_" + name
    return name[:63]


def synchronous_standby_names(host: str, topology: t.Any, count: t.Any = 1, enabled: bool = True) -> str:
    """``ANY count (peer, ...)`` over the other hosts of ``postgres`` (slot names, inventory order), or ``''``.

    Every host gets the same rule for its peers, so a replica that is promoted already waits for
    the right standbys. ``count`` must be between 1 and the number of peers.
    """
    if not enabled:
        return ""
    peers = [slot_name(member) for member in topology.members("postgres") if member != host]
    if not peers:
        return ""
    number = _positive_int(count, "postgresql_synchronous_count")
    if number > len(peers):
        raise ConfigError(
            "postgresql_synchronous_count is %d but %s has only %d PostgreSQL peer(s) (%s): a commit would wait forever"
            % (number, host, len(peers), ", ".join(peers))
        )
    return "ANY %d (%s)" % (number, ", ".join('"%s"' % peer for peer in peers))


# --- pg_hba.conf ----------------------------------------------------------------

HBA_METHOD = "scram-sha-256"


def _address_cidr(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return "%s/%d" % (ip, 32 if ip.version == 4 else 128)


def hba_rules(topology: t.Any, host: str, access: t.Iterable[t.Mapping[str, t.Any]],
              extra_rules: t.Iterable[t.Mapping[str, t.Any]] = (), local_users: t.Iterable[str] = ("postgres",)) -> list[dict[str, str]]:
    """``pg_hba.conf`` rules for ``host``.

    ``access`` lists what each inventory group may reach: ``{'group': 'app', 'databases': [...], 'users': [...]}``.
    Every address of every member (except ``host`` itself when ``'peers': true``) gets one ``hostssl``
    rule per entry with scram-sha-256: remote access is TLS and password only; anything not listed
    matches no rule and is refused. ``local_users`` connect over the Unix socket with peer
    authentication. ``extra_rules`` (``type``, ``database``, ``user``, ``address``, ``method``) come last
    but before the implicit reject; their ``type`` must be ``hostssl`` (or ``local``, over the Unix socket
    with no address) and their method scram-sha-256, or ``reject``.
    """
    rules: list[dict[str, str]] = []
    for user in local_users:
        rules.append({"type": "local", "database": "all", "user": str(user), "address": "", "method": "peer",
                      "comment": "local administration over the Unix socket"})
    seen: set[tuple[str, str, str, str]] = set()
    for entry in access:
        group = str(entry.get("group", ""))
        databases = _names(entry.get("databases"), "databases of access group %s" % group)
        users = _names(entry.get("users"), "users of access group %s" % group)
        members = [member for member in topology.members(group) if not (entry.get("peers") and member == host)]
        for member in members:
            cidr = _address_cidr(topology.address(member))
            key = (",".join(databases), ",".join(users), cidr, group)
            if key in seen:
                continue
            seen.add(key)
            rules.append({"type": "hostssl", "database": ",".join(databases), "user": ",".join(users),
                          "address": cidr, "method": HBA_METHOD, "comment": "%s: %s" % (group, member)})
    for index, rule in enumerate(extra_rules or []):
        rules.append(_extra_rule(index, rule))
    return rules


def _names(value: t.Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    names = [str(item) for item in (value or []) if str(item)]
    if not names:
        raise ConfigError("%s: the list is empty" % what)
    for name in names:
        if not re.match(r"^[A-Za-z0-9_.+@-]+$", name):
            raise ConfigError("%s: %r is not a plain database or role name" % (what, name))
    return names


def _extra_rule(index: int, rule: t.Mapping[str, t.Any]) -> dict[str, str]:
    where = "postgresql_hba_extra_rules[%d]" % index
    if not isinstance(rule, t.Mapping):
        raise ConfigError("%s must be a mapping with type, database, user, address, method" % where)
    kind = str(rule.get("type", "hostssl"))
    method = str(rule.get("method", HBA_METHOD))
    if kind == "local":
        if method not in (HBA_METHOD, "reject"):
            raise ConfigError("%s: method is %r; a local rule with a role other than peer's uses scram-sha-256 (or reject)"
                              % (where, method))
        return {"type": "local", "database": ",".join(_names(rule.get("database", rule.get("databases")), where + " database")),
                "user": ",".join(_names(rule.get("user", rule.get("users")), where + " user")), "address": "",
                "method": method, "comment": str(rule.get("comment", where))}
    if kind != "hostssl" and method != "reject":
        raise ConfigError("%s: type is %r; remote access is TLS only (hostssl), or method reject" % (where, kind))
    if kind not in ("hostssl", "host", "hostnossl"):
        raise ConfigError("%s: type is %r; expected hostssl" % (where, kind))
    if method not in (HBA_METHOD, "reject"):
        raise ConfigError("%s: method is %r; remote access uses scram-sha-256 (or reject)" % (where, method))
    address = str(rule.get("address", ""))
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        raise ConfigError("%s: address %r is not a CIDR" % (where, address)) from None
    return {
        "type": kind,
        "database": ",".join(_names(rule.get("database", rule.get("databases")), where + " database")),
        "user": ",".join(_names(rule.get("user", rule.get("users")), where + " user")),
        "address": str(network),
        "method": method,
        "comment": str(rule.get("comment", where)),
    }


# --- client connection strings -----------------------------------------------------

TARGET_SESSION_ATTRS = ("read-write", "read-only", "primary", "standby", "prefer-standby", "any")


def libpq_url(topology: t.Any, dbname: str, user: str, target_session_attrs: str = "read-write", port: t.Any = None,
              password: str | None = None, use_names: bool = False, sslmode: str = "verify-full",
              sslrootcert: str | None = None, connect_timeout: t.Any = 3, application_name: str | None = None,
              group: str = "postgres", extra: t.Mapping[str, t.Any] | None = None,
              running_ports: t.Mapping[str, t.Any] | None = None) -> str:
    """A libpq multi-host URL over every host of ``group``:
    ``postgresql://user@10.0.0.31:5432,10.0.0.32:5432/db?target_session_attrs=read-write&sslmode=verify-full...``.

    libpq tries the hosts in order and keeps the first whose session matches ``target_session_attrs``
    (``read-write`` finds the primary after a failover; ``prefer-standby`` reads from a replica when
    one is up). Hosts are addresses (in every certificate's SANs), or inventory names with ``use_names``. Each host's
    port is ``port`` when given, else its own ``postgresql_port`` (the role's default when unset).

    ``running_ports`` (host -> the port its server listens on now) covers a port change: a host whose
    server still runs on another port than its configured one is listed twice, on the running port
    first, so a client given this URL before the change reaches it before and after its restart.
    """
    if target_session_attrs not in TARGET_SESSION_ATTRS:
        raise ConfigError("target_session_attrs is %r; one of %s" % (target_session_attrs, ", ".join(TARGET_SESSION_ATTRS)))
    members = topology.members(group)
    if not members:
        raise ConfigError("group %s has no hosts: no PostgreSQL server to connect to" % group)
    hosts = []
    for member in members:
        member_port = _positive_int(port, "port") if port not in (None, "") else topology.port(member, "postgresql_port")
        address = member if use_names else topology.address(member)
        running = (running_ports or {}).get(member)
        if port in (None, "") and running not in (None, "") and _positive_int(running, "running port") != member_port:
            hosts.append(host_port(address, _positive_int(running, "running port")))
        hosts.append(host_port(address, member_port))
    userinfo = quote(str(user), safe="")
    if password:
        userinfo += ":" + quote(str(password), safe="")
    query: list[tuple[str, str]] = [("target_session_attrs", target_session_attrs), ("sslmode", sslmode)]
    if sslrootcert:
        query.append(("sslrootcert", sslrootcert))
    if connect_timeout not in (None, "", 0):
        query.append(("connect_timeout", str(_positive_int(connect_timeout, "connect_timeout"))))
    if application_name:
        query.append(("application_name", application_name))
    for key, value in sorted((extra or {}).items()):
        query.append((str(key), str(value)))
    return "postgresql://%s@%s/%s?%s" % (
        userinfo, ",".join(hosts), quote(str(dbname), safe=""), "&".join("%s=%s" % (key, quote(value, safe="/-")) for key, value in query)
    )
