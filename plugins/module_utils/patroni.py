# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patroni's configuration, derived from the postgresql role's settings (the single source).

* :func:`split_parameters` separates the server settings Patroni passes on the command line from the DCS (the same
  on every member, so kept in the cluster's shared configuration) from those that stay in the role's settings file.
* :func:`config` builds a member's Patroni configuration: etcd over TLS with client certificates, the REST API over
  TLS with authentication for changes, PostgreSQL with the role's files, and the cluster-wide settings Patroni
  bootstraps the DCS with (leader lock ttl, synchronous mode, rewind, slots, the shared parameters).
* :func:`dcs_changes` is the PATCH that brings a running cluster's shared configuration to the role's settings.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology

# Server settings Patroni passes on the command line: it takes them from the DCS (or its own defaults), whatever a
# configuration file says. listen_addresses, port and cluster_name come from Patroni's own settings instead.
SHARED_PARAMETERS = frozenset((
    "wal_level", "hot_standby", "max_connections", "max_wal_senders", "wal_keep_size", "max_prepared_transactions",
    "max_locks_per_transaction", "track_commit_timestamp", "max_replication_slots", "max_worker_processes", "wal_log_hints",
))
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int
# Patroni's own, per member; never in the role's settings file.
PATRONI_OWNED = frozenset(("listen_addresses", "port", "cluster_name", "hba_file", "ident_file", "data_directory",
                           "synchronous_standby_names", "primary_conninfo", "primary_slot_name", "recovery_target_timeline",
                           "restore_command", "external_pid_file"))
MIN_TTL = 20


def split_parameters(settings: t.Mapping[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """``(shared, local)``: the settings of the cluster's shared configuration, and those for the role's file."""
    shared = {name: value for name, value in settings.items() if name in SHARED_PARAMETERS}
    local = {name: value for name, value in settings.items() if name not in SHARED_PARAMETERS and name not in PATRONI_OWNED}
    return shared, local


def dcs(settings: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The cluster-wide settings (Patroni's DCS configuration) from the role's: ``ttl``, ``loop_wait``, ``retry_timeout``,
    ``maximum_lag_on_failover``, ``synchronous`` and ``synchronous_count``, ``parameters`` (the shared server settings)."""
    synchronous = bool(settings.get("synchronous"))
    document: dict[str, t.Any] = {
        "ttl": int(settings["ttl"]),
        "loop_wait": int(settings["loop_wait"]),
        "retry_timeout": int(settings["retry_timeout"]),
        "maximum_lag_on_failover": int(settings["maximum_lag_on_failover"]),
        "synchronous_mode": synchronous,
        "synchronous_mode_strict": False,
        "failsafe_mode": bool(settings.get("failsafe_mode", False)),
        "postgresql": {
            "use_pg_rewind": True,
            "use_slots": True,
            "parameters": dict(settings.get("parameters") or {}),
        },
    }
    if synchronous:
        document["synchronous_node_count"] = int(settings.get("synchronous_count", 1))
    return document


def config(settings: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One member's Patroni configuration (``/etc/patroni/<version>-<cluster>.yml``).

    ``settings``: scope, namespace, name, address, listen_addresses, port, api_port, etcd_hosts (``host:port``), tls (cert, key, ca),
    api_username, api_password, replication_username, replication_password, data_dir, config_dir, bin_dir, socket_dir,
    custom_conf, hba_file, ident_file, pgpass, and the :func:`dcs` settings.
    """
    tls = settings["tls"]
    address, port, api_port = settings["address"], int(settings["port"]), int(settings["api_port"])
    return {
        "scope": settings["scope"],
        "namespace": settings["namespace"],
        "name": settings["name"],
        "log": {"level": "INFO"},
        "restapi": {
            "listen": host_port(address, api_port),
            "connect_address": host_port(address, api_port),
            "certfile": tls["cert"],
            "keyfile": tls["key"],
            "cafile": tls["ca"],
            "authentication": {"username": settings["api_username"], "password": settings["api_password"]},
        },
        "ctl": {"insecure": False, "cacert": tls["ca"], "certfile": tls["cert"], "keyfile": tls["key"]},
        "etcd3": {
            "hosts": list(settings["etcd_hosts"]),
            "protocol": "https",
            "cacert": tls["ca"],
            "cert": tls["cert"],
            "key": tls["key"],
        },
        "bootstrap": {"dcs": dcs(settings)},
        "postgresql": {
            # Patroni's form: addresses separated by commas, the port after the last one.
            "listen": "%s:%d" % (",".join(settings["listen_addresses"]), port),
            "connect_address": host_port(address, port),
            "data_dir": settings["data_dir"],
            "config_dir": settings["config_dir"],
            "bin_dir": settings["bin_dir"],
            "pgpass": settings["pgpass"],
            "custom_conf": settings["custom_conf"],
            # Patroni's own replication connections to this server (the timeline and pg_rewind checks of a member that
            # restarts as a replica) go over the socket: over TCP they would go to "localhost", which no host
            # certificate names, and verify-full refuses it. pg_hba admits the replication role there by password.
            "use_unix_socket": True,
            "use_unix_socket_repl": True,
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {"username": settings["replication_username"], "password": settings["replication_password"],
                                "sslmode": "verify-full", "sslrootcert": tls["ca"]},
                "rewind": {"username": settings["replication_username"], "password": settings["replication_password"],
                           "sslmode": "verify-full", "sslrootcert": tls["ca"]},
            },
            "parameters": {
                "unix_socket_directories": settings["socket_dir"],
                "hba_file": settings["hba_file"],
                "ident_file": settings["ident_file"],
            },
            "create_replica_methods": ["basebackup"],
            "basebackup": [{"checkpoint": "fast"}],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }


def members(topology: Topology) -> list[dict[str, t.Any]]:
    """Every PostgreSQL host as Patroni's REST API is reached: ``name``, ``address``, ``port`` (its own
    ``postgresql_port``), ``api_port`` (``postgresql_patroni_api_port``; each the postgresql role's default when unset) and
    ``api_url`` (IPv6 in brackets)."""
    found = []
    for host in topology.members("postgres"):
        address, api_port = topology.address(host), topology.port(host, "postgresql_patroni_api_port")
        found.append({"name": host, "address": address, "port": topology.port(host, "postgresql_port"),
                      "api_port": api_port, "api_url": "https://%s" % host_port(address, api_port)})
    return found


def dcs_changes(current: t.Mapping[str, t.Any], wanted: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The PATCH (``/config``) that brings the running cluster's shared configuration ``current`` to ``wanted`` (both in
    the shape of :func:`dcs`): the keys whose values differ; parameters compared as text (the DCS keeps what it was
    given). Empty when nothing differs."""
    patch: dict[str, t.Any] = {}
    for key, value in wanted.items():
        if key == "postgresql":
            continue
        if current.get(key) != value:
            patch[key] = value
    wanted_pg, current_pg = wanted.get("postgresql") or {}, current.get("postgresql") or {}
    pg_patch: dict[str, t.Any] = {}
    for key in ("use_pg_rewind", "use_slots"):
        if key in wanted_pg and current_pg.get(key) != wanted_pg[key]:
            pg_patch[key] = wanted_pg[key]
    wanted_params, current_params = wanted_pg.get("parameters") or {}, current_pg.get("parameters") or {}
    params = {name: value for name, value in wanted_params.items() if str(current_params.get(name)) != str(value)}
    if params:
        pg_patch["parameters"] = params
    if pg_patch:
        patch["postgresql"] = pg_patch
    return patch


def verify_view(views: t.Mapping[str, t.Any], hosts: t.Sequence[str]) -> dict[str, t.Any]:
    """What Patroni says of the cluster (``GET /cluster`` as each host's API answered it; a host missing or without
    ``members`` did not answer): one leader, every member of group postgres known and running, and the lag of each.
    Returns ``{'leader': name or None, 'problems': [...], 'summary': [...]}``."""
    view = next((views[host] for host in hosts if isinstance(views.get(host), t.Mapping) and "members" in views[host]), None)
    if view is None:
        return {"leader": None, "problems": ["Patroni: no member's REST API answered (%s)" % ", ".join(hosts)], "summary": []}
    members = {str(member.get("name")): member for member in view.get("members") or []}
    leaders = [name for name, member in members.items() if member.get("role") in ("leader", "standby_leader")]
    problems, summary = [], []
    if len(leaders) != 1:
        problems.append("Patroni: %s" % ("no leader" if not leaders else "more than one leader (%s)" % ", ".join(leaders)))
    for host in hosts:
        member = members.get(host)
        if member is None:
            problems.append("%s: not a member of the Patroni cluster (Patroni does not run it, or it cannot reach etcd)" % host)
            continue
        state, role = member.get("state"), member.get("role")
        if state not in ("running", "streaming"):
            problems.append("%s: Patroni reports PostgreSQL %s" % (host, state or "in no state"))
        lag = member.get("lag")
        lag_text = "" if role == "leader" else ", lag %s bytes" % (lag if lag is not None else "unknown")
        summary.append("%s: %s, %s%s" % (host, role, state, lag_text))
    if view.get("pause"):
        problems.append("Patroni: the cluster is paused (no automatic failover); resume it with patronictl resume")
    return {"leader": leaders[0] if len(leaders) == 1 else None, "problems": problems, "summary": summary}


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The Patroni settings of the postgresql role: a leader lock Patroni accepts and timings that fit in it."""
    problems = []
    values = {}
    for name in ("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "api_port"):
        value = settings.get(name)
        number = as_int(value)
        if number is None:
            problems.append("postgresql_patroni_%s is %r; it must be a whole number" % (name, value))
        else:
            values[name] = number
    if len(values) == 5:
        if values["ttl"] < MIN_TTL:
            problems.append("postgresql_patroni_ttl is %d; Patroni's leader lock cannot be shorter than %d seconds" % (values["ttl"], MIN_TTL))
        elif values["loop_wait"] + 2 * values["retry_timeout"] > values["ttl"]:
            problems.append("postgresql_patroni_loop_wait (%d) plus twice postgresql_patroni_retry_timeout (%d) exceeds postgresql_patroni_ttl "
                            "(%d): a primary could lose its lock while it retries" % (values["loop_wait"], values["retry_timeout"], values["ttl"]))
        if not 1 <= values["api_port"] <= 65535:
            problems.append("postgresql_patroni_api_port is %d; it must be a port number" % values["api_port"])
    return problems
