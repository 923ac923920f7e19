# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What other tiers need to know about the Redis tier, derived from the inventory.

- :func:`app_connection`: how the app reaches Redis: the Sentinel endpoints, the
  master name, the credentials, TLS, as a dict and as the environment the app
  containers get.
- :func:`maxmemory`: Redis ``maxmemory`` as a fraction of the host's memory.

Settings a host does not set in the inventory take the redis role's defaults
(:data:`ROLE_DEFAULTS`; a unit test keeps them equal to
``roles/redis/defaults/main.yml``). Nothing here imports Ansible.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import same_address
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import (
    Topology,
    TopologyError,
)
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology_checks import secret_missing
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_bool

ROLE_DEFAULTS: dict[str, t.Any] = {
    "redis_sentinel_master_name": "kaizen",
    "redis_app_user": "kaizen",
    "redis_app_key_patterns": ["kaizen:*"],
    "redis_tls": True,
}
"""The redis role's defaults for the settings the app needs (literal defaults only)."""

DEFAULT_CA_FILE = "/etc/kaizen/pki/ca.crt"
"""Where the pki role puts the CA certificate on every host (``pki_ca_cert_path``)."""

ENV_PREFIX = "KAIZEN_REDIS_"


def _setting(topology: Topology, host: str, name: str) -> t.Any:
    value = topology.var(host, name)
    return ROLE_DEFAULTS[name] if value is None else value


def _as_bool(value: t.Any, name: str) -> bool:
    flag = as_bool(value)
    if flag is None:
        raise TopologyError("%s is %r; it must be true or false" % (name, value))
    return flag


def key_prefix(patterns: t.Any) -> str:
    """The key prefix the app must use, from the app user's key patterns: ``['kaizen:*']`` -> ``kaizen:``.

    ``*`` (all keys) gives an empty prefix. Patterns with wildcards before the end, or several
    patterns with different prefixes, give the longest prefix they share.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    prefixes = []
    for pattern in patterns or []:
        text = str(pattern)
        cut = len(text)
        for index, char in enumerate(text):
            if char in "*?[\\":
                cut = index
                break
        prefixes.append(text[:cut])
    if not prefixes:
        return ""
    shared = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(shared):
            shared = shared[:-1]
    return shared


def sentinel_endpoints(topology: Topology) -> list[dict[str, t.Any]]:
    """``[{'name': host, 'host': address, 'port': port}]`` of every Sentinel, in inventory order."""
    sentinels = topology.redis_sentinels()
    if not sentinels:
        raise TopologyError("no host runs Redis Sentinel (group redis_sentinels, else redis); the app finds Redis through Sentinel")
    return [
        {"name": host, "host": topology.address(host), "port": topology.port(host, "redis_sentinel_port")}
        for host in sentinels
    ]


def _secret(topology: Topology, hosts: list[str], name: str) -> str:
    """The value of a secret from the first host that defines it (group_vars usually give every host the same)."""
    for host in hosts:
        value = topology.var(host, name)
        if value is not None:
            if secret_missing(value) or not isinstance(value, str):
                raise TopologyError("%s: %s is empty or a CHANGE_ME placeholder; set it in the inventory's vault" % (host, name))
            return value
    raise TopologyError("%s is not defined for the hosts of group redis (%s); set it in the inventory's vault"
                        % (name, ", ".join(hosts) or "none"))


def app_connection(topology: Topology, ca_file: str | None = None, env_prefix: str = ENV_PREFIX) -> dict[str, t.Any]:
    """How the app reaches Redis: through Sentinel, with the app user's credentials.

    Settings are read from the Redis primary's variables (the inventory's view; after a failover
    Sentinel knows the live master, which is exactly why the app asks Sentinel), falling back to the
    role's defaults. ``ca_file`` replaces the CA path (e.g. where the app container mounts it).
    """
    redis_hosts = topology.members("redis")
    if not redis_hosts:
        raise TopologyError("group redis has no hosts: there is no Redis to connect to")
    primary = topology.redis_primary()
    hosts = [primary] + [host for host in redis_hosts if host != primary]
    sentinels = sentinel_endpoints(topology)
    master_name = str(_setting(topology, primary, "redis_sentinel_master_name"))
    username = str(_setting(topology, primary, "redis_app_user"))
    password = _secret(topology, hosts, "redis_app_password")
    tls = _as_bool(_setting(topology, primary, "redis_tls"), "redis_tls")
    if ca_file is None:
        ca_file = topology.var(primary, "redis_tls_ca_file")
        if not isinstance(ca_file, str) or not ca_file or "{{" in ca_file:
            ca_file = DEFAULT_CA_FILE
    prefix = key_prefix(_setting(topology, primary, "redis_app_key_patterns"))
    addresses = ",".join(
        host_port(item["host"], item["port"]) for item in sentinels
    )
    result: dict[str, t.Any] = {
        "master_name": master_name,
        "sentinels": [{"host": item["host"], "port": item["port"]} for item in sentinels],
        "sentinel_addresses": addresses,
        "username": username,
        "password": password,
        "sentinel_username": username,
        "sentinel_password": password,
        "tls": tls,
        "ca_file": ca_file if tls else "",
        "key_prefix": prefix,
    }
    result["env"] = {
        env_prefix + "SENTINELS": addresses,
        env_prefix + "MASTER_NAME": master_name,
        env_prefix + "USERNAME": username,
        env_prefix + "PASSWORD": password,
        env_prefix + "SENTINEL_USERNAME": username,
        env_prefix + "SENTINEL_PASSWORD": password,
        env_prefix + "TLS": "true" if tls else "false",
        env_prefix + "CA_FILE": result["ca_file"],
        env_prefix + "KEY_PREFIX": prefix,
    }
    return result


def maxmemory(memtotal_mb: t.Any, fraction: t.Any) -> str:
    """``maxmemory`` for Redis: ``fraction`` of the host's memory in MiB, as ``<n>mb`` (at least 64mb)."""
    try:
        total = int(memtotal_mb)
    except (TypeError, ValueError):
        raise TopologyError("memtotal_mb is %r; pass ansible_facts['memtotal_mb']" % (memtotal_mb,)) from None
    try:
        share = float(fraction)
    except (TypeError, ValueError):
        share = -1.0
    if isinstance(fraction, bool) or not 0 < share <= 1:
        raise TopologyError("redis_maxmemory_fraction is %r; it must be a number above 0 and at most 1" % (fraction,))
    if total <= 0:
        raise TopologyError("memtotal_mb is %r; it must be positive" % (memtotal_mb,))
    return "%dmb" % max(64, int(total * share))


def verify(view: t.Mapping[str, t.Any], roles: t.Mapping[str, t.Any], addresses: t.Mapping[str, str],
           sentinel_names: t.Mapping[str, str] | None = None) -> dict[str, t.Any]:
    """What is wrong with a running Redis tier, one message per problem, each naming the host.

    ``view`` is what ``redis_sentinel_info`` returned; ``roles`` maps each Redis server to what
    ``redis_replication`` returned in check mode against the Sentinels' master (a host missing there
    did not answer); ``addresses`` maps each server to its address; ``sentinel_names`` maps a
    Sentinel's ``host:port`` to its inventory name. Checks: every Sentinel answers and names the
    same master, which is up and is one of the servers; each server has the role that master implies
    (the master, or a replica of it with its link up).
    Returns ``{'master': host or None, 'problems': [...], 'summary': [...]}``.
    """
    names = dict(sentinel_names or {})
    problems: list[str] = []
    summary: list[str] = []
    master = view.get("master") if isinstance(view, t.Mapping) else None
    for sentinel in (view.get("sentinels") or []) if isinstance(view, t.Mapping) else []:
        label = names.get(str(sentinel.get("address")), str(sentinel.get("address")))
        if sentinel.get("state") != "answered":
            problems.append("%s: Sentinel %s (%s)" % (label, str(sentinel.get("state")).replace("_", " "), sentinel.get("error") or "no answer"))
        elif master and not (same_address(sentinel.get("master_host"), master.get("host")) and sentinel.get("master_port") == master.get("port")):
            problems.append("%s: Sentinel names %s:%s as the master, the others %s:%s" % (
                label, sentinel.get("master_host"), sentinel.get("master_port"), master.get("host"), master.get("port")))
    if not master:
        problems.append("no Sentinel knows the master (%d answered)" % int(view.get("answered") or 0 if isinstance(view, t.Mapping) else 0))
        return {"master": None, "problems": problems, "summary": summary}
    master_host = next((host for host, address in addresses.items() if same_address(address, master.get("host"))), None)
    if master_host is None:
        problems.append("the Sentinels' master %s:%s is no host of group redis" % (master.get("host"), master.get("port")))
    if master.get("down"):
        problems.append("%s: the Sentinels see the master down (%s)" % (master_host or master.get("host"), ", ".join(master.get("flags") or [])))
    summary.append("%s: master (%s:%s), %d Sentinel(s) answered" % (master_host, master.get("host"), master.get("port"), int(view.get("answered") or 0)))
    for host in addresses:
        result = roles.get(host)
        if not isinstance(result, t.Mapping) or "before" not in result:
            reason = result.get("msg") if isinstance(result, t.Mapping) else None
            problems.append("%s: did not answer (%s)" % (host, str(reason or "host unreachable, or its role could not be read").strip()))
        elif result.get("failed") and host != master_host:
            problems.append("%s: %s" % (host, str(result.get("msg") or "its role could not be checked").strip()))
        elif result.get("failed") or result.get("changed"):
            problems.append("%s: is %s, should be %s" % (host, result.get("before"), "the master" if host == master_host else result.get("after")))
        elif host != master_host and result.get("link_status") != "up":
            problems.append("%s: replica of the master, but its link is %s" % (host, result.get("link_status") or "unknown"))
        elif host != master_host:
            summary.append("%s: %s, link up" % (host, result.get("before")))
    return {"master": master_host, "problems": problems, "summary": summary}
