# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd cluster Patroni keeps its leader lock in: its members and how they are reached.

* :func:`cluster` lists the members the topology model chooses (:meth:`Topology.etcd_members`) with their
  client, peer and metrics URLs, each from the member's own ``etcd_*_port`` (the etcd role's defaults when
  unset), IPv6 addresses in brackets.
* :func:`initial_cluster` is etcd's ``--initial-cluster`` for a set of them.
* :func:`settings_problems` checks the etcd role's settings, one sentence per problem.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_port

PORT_KINDS = ("client", "peer", "metrics")


def url(scheme: str, address: str, port: int) -> str:
    """``scheme://address:port``, an IPv6 address in brackets."""
    return "%s://%s" % (scheme, host_port(address, int(port)))


def cluster(topology: Topology) -> list[dict[str, t.Any]]:
    """Every member: ``name`` (the inventory host), ``address``, ``client_url``, ``peer_url``, ``metrics_url`` and the ports."""
    members = []
    for host in topology.etcd_members():
        address = topology.address(host)
        ports = {kind: topology.port(host, "etcd_%s_port" % kind) for kind in PORT_KINDS}
        members.append({
            "name": host, "address": address,
            "client_port": ports["client"], "peer_port": ports["peer"], "metrics_port": ports["metrics"],
            "client_url": url("https", address, ports["client"]),
            "peer_url": url("https", address, ports["peer"]),
            "metrics_url": url("http", address, ports["metrics"]),
        })
    return members


def initial_cluster(members: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    """etcd's ``--initial-cluster``: ``name=peer_url`` of each member, comma-separated."""
    return ",".join("%s=%s" % (member["name"], member["peer_url"]) for member in members)


def _port_problem(name: str, value: t.Any) -> str | None:
    if as_port(value) is None:
        return "etcd_%s is %r; it must be a port number (1-65535)" % (name, value)
    return None


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The etcd role's settings: ports that are ports and differ, Raft timing etcd accepts, an absolute data directory,
    and this host among the members."""
    problems = []
    ports = {}
    for name in ("client_port", "peer_port", "metrics_port"):
        problem = _port_problem(name, settings.get(name))
        if problem:
            problems.append(problem)
        else:
            ports[name] = int(settings[name])
    if len(ports) == 3 and len(set(ports.values())) < 3:
        problems.append("etcd_client_port, etcd_peer_port and etcd_metrics_port must differ (%s)" % ", ".join(
            "%s %d" % item for item in ports.items()))
    heartbeat, election = settings.get("heartbeat_interval"), settings.get("election_timeout")
    if not all(str(value).strip().isdigit() for value in (heartbeat, election)):
        problems.append("etcd_heartbeat_interval and etcd_election_timeout must be milliseconds (whole numbers); got %r and %r"
                        % (heartbeat, election))
    elif int(election) < 5 * int(heartbeat) or int(election) > 50000:
        problems.append("etcd_election_timeout is %s ms: it must be at least five heartbeats (etcd_heartbeat_interval %s ms) "
                        "and at most 50000" % (election, heartbeat))
    if not str(settings.get("data_dir") or "").startswith("/"):
        problems.append("etcd_data_dir is %r; it must be an absolute path" % (settings.get("data_dir"),))
    members = list(settings.get("members") or [])
    host = settings.get("host")
    if host is not None and host not in members:
        problems.append("%s is not an etcd member (the members are %s): run this role on the hosts of "
                        "kaizen.hybrid.etcd_members" % (host, ", ".join(members) or "none"))
    return problems
