# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host firewall, derived from the topology: who may reach which port of a host.

:func:`host_rules` answers, for one host, every service port it publishes and the sources
allowed to reach it: the hosts of the groups that use the service (the same model every
consumer reads its endpoints from), ``kaizen_client_cidrs`` for the load balancers' HTTP
and HTTPS, ``kaizen_admin_cidrs`` for SSH and the services an operator opens to them, and
the host's own containers for the services the app uses on its own host. :func:`nft_ruleset`
writes them as one nftables table (``inet kaizen``) that replaces itself atomically and
leaves every other table (Docker's) alone. Everything not allowed is dropped, IPv4 and IPv6.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible_collections.kaizen.hybrid.plugins.module_utils.kaizen_app import upstreams
from ansible_collections.kaizen.hybrid.plugins.module_utils.monitoring import job_port_variable, scrape_configs
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import (
    PORT_DEFAULTS, Topology, TopologyError, merge_cidrs, parse_network,
)
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_bool, as_port

TABLE = "kaizen"
PROTOCOLS = ("tcp", "udp")
ALL = "all"

ADMIN_SERVICES = ("prometheus_port", "alertmanager_port", "grafana_http_port")
"""The services ``kaizen_admin_cidrs`` reach besides SSH, unless ``firewall_admin_services`` says otherwise."""

CONTAINER_INTERFACES = ("docker0", "br-*")
"""Docker's bridges (the default one and user-defined networks): the app's containers on its host."""


def _cidrs(value: t.Any, what: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TopologyError("%s must be a list of CIDRs, not %r" % (what, value))
    return merge_cidrs(list(value))


class _Host:
    """The rules of one host, collected service by service."""

    def __init__(self, topology: Topology, host: str, settings: Mapping[str, t.Any]) -> None:
        self.topology = topology
        self.host = host
        self.admin = _cidrs(topology.var(host, "kaizen_admin_cidrs", []), "kaizen_admin_cidrs of %s" % host)
        services = settings.get("admin_services", ADMIN_SERVICES)
        if services == ALL:
            self.admin_services: t.Container[str] = _Everything()
        elif isinstance(services, (list, tuple)) and all(isinstance(name, str) for name in services):
            unknown = sorted(set(services) - set(PORT_DEFAULTS))
            if unknown:
                raise TopologyError("firewall_admin_services of %s names %s, which %s not a port variable of the collection "
                                    "(those are: %s)" % (host, ", ".join(unknown), "is" if len(unknown) == 1 else "are",
                                                         ", ".join(sorted(PORT_DEFAULTS))))
            self.admin_services = set(services)
        else:
            raise TopologyError("firewall_admin_services of %s must be 'all' or a list of port variables, not %r" % (host, services))
        self.rules: list[dict[str, t.Any]] = []

    def addresses(self, groups: t.Iterable[str]) -> list[str]:
        hosts: list[str] = []
        for group in groups:
            hosts.extend(member for member in self.topology.members(group) if member not in hosts and member != self.host)
        return [self.topology.address(member) for member in hosts]

    def add(self, service: str, comment: str, ports: t.Iterable[int], groups: t.Iterable[str] = (), cidrs: t.Iterable[str] = (),
            containers: bool = False, proto: str = "tcp") -> None:
        sources = self.addresses(groups) + list(cidrs)
        if service in self.admin_services:
            sources += self.admin
        ports = sorted(set(ports))
        if not ports or not (sources or containers):
            return
        networks = merge_cidrs(sources)
        self.rules.append({
            "service": service, "comment": comment, "proto": proto, "ports": ports,
            "ipv4": [network for network in networks if ":" not in network],
            "ipv6": [network for network in networks if ":" in network],
            "containers": containers,
        })

    def port(self, name: str) -> int:
        return self.topology.port(self.host, name)


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def _haproxy_hosts(topology: Topology) -> list[str]:
    return [host for host in topology.members("app") if as_bool(topology.var(host, "haproxy_enabled", False))]


def _extra_rules(rules: _Host, extra: t.Any) -> None:
    """``firewall_allow``: ``[{port: 9000, proto: tcp, from: [group or CIDR, ...], comment: ...}]``."""
    if extra in (None, ""):
        return
    if not isinstance(extra, (list, tuple)):
        raise TopologyError("firewall_allow of %s must be a list of {port, from} entries, not %r" % (rules.host, extra))
    for number, entry in enumerate(extra, 1):
        what = "firewall_allow entry %d of %s" % (number, rules.host)
        if not isinstance(entry, Mapping):
            raise TopologyError("%s must be a mapping with port and from, not %r" % (what, entry))
        ports = entry.get("port")
        ports = ports if isinstance(ports, (list, tuple)) else [ports]
        checked = [as_port(port) for port in ports]
        if not ports or None in checked:
            raise TopologyError("%s: port must be a port number or a list of them, not %r" % (what, entry.get("port")))
        proto = str(entry.get("proto", "tcp"))
        if proto not in PROTOCOLS:
            raise TopologyError("%s: proto must be one of %s, not %r" % (what, ", ".join(PROTOCOLS), proto))
        sources = entry.get("from")
        if not isinstance(sources, (list, tuple)) or not sources:
            raise TopologyError("%s: from must be a list of inventory groups and CIDRs" % what)
        groups = [str(source) for source in sources if rules.topology.has_group(str(source))]
        cidrs = [source for source in sources if str(source) not in groups]
        for cidr in cidrs:
            parse_network(cidr)
        rules.add("firewall_allow", str(entry.get("comment") or "firewall_allow entry %d" % number), t.cast(list, checked),
                  groups=groups, cidrs=cidrs, proto=proto)


def host_rules(topology: Topology, host: str, settings: Mapping[str, t.Any] | None = None) -> dict[str, t.Any]:
    """The firewall of ``host``: ``{'rules': [...], 'container_interfaces': [...]}``.

    Each rule: ``service`` (the port variable it opens), ``comment``, ``proto``, ``ports``, the allowed
    ``ipv4`` and ``ipv6`` networks and ``containers`` (the host's own containers may connect too).

    ``settings``: ``ssh_port`` (default 22), ``admin_services`` (:data:`ADMIN_SERVICES`, or ``'all'``),
    ``allow`` (the host's ``firewall_allow``), ``container_interfaces`` (:data:`CONTAINER_INTERFACES`).
    """
    settings = settings or {}
    rules = _Host(topology, host, settings)
    member = topology.in_group
    app_host = member(host, "app")
    ssh_port = as_port(settings.get("ssh_port", 22))
    if ssh_port is None:
        raise TopologyError("firewall_ssh_port of %s is %r; it must be a port number" % (host, settings.get("ssh_port")))
    rules.add("ssh_port", "SSH from kaizen_admin_cidrs", [ssh_port], cidrs=rules.admin)

    if member(host, "loadbalancers"):
        clients = _cidrs(topology.var(host, "kaizen_client_cidrs", []), "kaizen_client_cidrs of %s" % host)
        rules.add("loadbalancer_https_port", "HTTP and HTTPS from kaizen_client_cidrs",
                  [rules.port("loadbalancer_http_port"), rules.port("loadbalancer_https_port")], cidrs=clients)
    if app_host:
        ports = [server["port"] for server in upstreams(topology) if server["host"] == host]
        rules.add("app_port_base", "the app instances from the load balancers", ports, groups=["loadbalancers"])
    if host in _haproxy_hosts(topology):
        rules.add("haproxy_rw_port", "HAProxy's PostgreSQL ports from this host's containers",
                  [rules.port("haproxy_rw_port"), rules.port("haproxy_ro_port")], containers=True)

    patroni = bool(topology.members("postgres")) and topology.postgres_ha_mode() == "patroni"
    if member(host, "postgres"):
        # A server keeps its old port until a restart moves it (the fact postgresql_running_port): both stay open meanwhile.
        running = as_port(topology.var(host, "postgresql_running_port"))
        rules.add("postgresql_port", "PostgreSQL from the app, PostgreSQL and backup hosts",
                  [rules.port("postgresql_port")] + ([running] if running else []), groups=["app", "postgres", "backup"], containers=app_host)
        if patroni:
            rules.add("postgresql_patroni_api_port", "Patroni's REST API from the PostgreSQL hosts and HAProxy",
                      [rules.port("postgresql_patroni_api_port")], groups=["postgres"],
                      cidrs=[topology.address(other) for other in _haproxy_hosts(topology) if other != host])
        rules.add("backup_tls_port", "pgBackRest's server from the backup hosts", [rules.port("backup_tls_port")], groups=["backup"])
    if patroni and host in topology.etcd_members():
        etcd = [topology.address(other) for other in topology.etcd_members() if other != host]
        rules.add("etcd_client_port", "etcd's clients: Patroni and the other members", [rules.port("etcd_client_port")],
                  groups=["postgres"], cidrs=etcd)
        rules.add("etcd_peer_port", "etcd's peers", [rules.port("etcd_peer_port")], cidrs=etcd)
    if member(host, "backup") and topology.members("postgres"):
        rules.add("backup_tls_port", "the pgBackRest repository from the PostgreSQL hosts", [rules.port("backup_tls_port")],
                  groups=["postgres"])

    if member(host, "redis"):
        rules.add("redis_port", "Redis from the app, Redis, Sentinel and backup hosts", [rules.port("redis_port")],
                  groups=["app", "redis", "backup"], cidrs=[topology.address(other) for other in topology.redis_sentinels() if other != host],
                  containers=app_host)
    if host in (topology.redis_sentinels() if topology.members("redis") else []):
        rules.add("redis_sentinel_port", "Sentinel from the app hosts and the other Sentinels", [rules.port("redis_sentinel_port")],
                  groups=["app"], cidrs=[topology.address(other) for other in topology.redis_sentinels() if other != host],
                  containers=app_host)

    if member(host, "monitoring"):
        rules.add("prometheus_port", "Prometheus from the monitoring hosts (Grafana)", [rules.port("prometheus_port")],
                  groups=["monitoring"])
        rules.add("alertmanager_port", "Alertmanager from the monitoring hosts (Prometheus)", [rules.port("alertmanager_port")],
                  groups=["monitoring"])
        for proto in PROTOCOLS:
            rules.add("alertmanager_cluster_port", "the Alertmanager cluster", [rules.port("alertmanager_cluster_port")],
                      groups=["monitoring"], proto=proto)
        rules.add("grafana_http_port", "Grafana", [rules.port("grafana_http_port")])

    # Every target Prometheus scrapes on this host, from the monitoring hosts (its own jobs are above).
    for config in scrape_configs(topology, {}):
        job = config["job_name"]
        if job in ("prometheus", "alertmanager"):
            continue
        for entry in config["static_configs"]:
            if entry["labels"]["host"] == host:
                ports = [int(target.rsplit(":", 1)[1]) for target in entry["targets"]]
                rules.add(job_port_variable(job), "Prometheus scrapes %s" % job, ports, groups=["monitoring"])

    _extra_rules(rules, settings.get("allow"))
    interfaces = settings.get("container_interfaces", CONTAINER_INTERFACES)
    if not isinstance(interfaces, (list, tuple)) or not all(isinstance(name, str) and name for name in interfaces):
        raise TopologyError("firewall_container_interfaces of %s must be a list of interface names, not %r" % (host, interfaces))
    return {"rules": rules.rules, "container_interfaces": list(interfaces) if app_host else []}


def admits(firewall: Mapping[str, t.Any], address: str, port: int, proto: str = "tcp") -> bool:
    """Whether ``firewall`` (from :func:`host_rules`) lets ``address`` reach ``port``."""
    source = parse_network(address)
    for rule in firewall.get("rules") or []:
        if rule["proto"] != proto or int(port) not in rule["ports"]:
            continue
        if any(source in parse_network(network) for network in rule["ipv4"] + rule["ipv6"]):
            return True
    return False


def _set(items: t.Iterable[t.Any]) -> str:
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else "{ %s }" % ", ".join(items)


def _quoted(text: str) -> str:
    return '"%s"' % text.replace('"', "'")


def nft_ruleset(firewall: Mapping[str, t.Any]) -> str:
    """The nftables script of ``firewall``: it replaces table ``inet kaizen`` in one transaction (``nft -f``).

    Input and forward drop what no rule allows. A port is matched as the client addressed it (conntrack's
    original destination), so one rule covers a service of the host and a container port Docker publishes
    and forwards (DNAT). The host's containers may open connections out; replies are allowed by state.
    """
    lines = ["table inet %s" % TABLE, "delete table inet %s" % TABLE, "", "table inet %s {" % TABLE]
    lines += ["    chain allowed {"]
    for rule in firewall.get("rules") or []:
        comment = "comment %s" % _quoted(rule["comment"])
        # One port per rule: nftables 1.0.6 gives an anonymous set of conntrack ports no type.
        for port in rule["ports"]:
            match = "meta l4proto %s ct original proto-dst %d" % (rule["proto"], port)
            for family in ("ipv4", "ipv6"):
                if rule[family]:
                    lines.append("        %s saddr %s %s accept %s" % ("ip" if family == "ipv4" else "ip6", _set(rule[family]), match, comment))
            if rule["containers"]:
                for interface in firewall.get("container_interfaces") or []:
                    lines.append("        iifname %s %s accept %s" % (_quoted(interface), match, comment))
    lines += ["    }", ""]
    state = ["        ct state established,related accept", "        ct state invalid drop"]
    lines += ["    chain input {", "        type filter hook input priority filter; policy drop;", *state,
              "        iif lo accept",
              "        meta l4proto icmp icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept",
              "        meta l4proto icmpv6 accept",
              "        ip6 saddr fe80::/10 udp dport 546 accept comment \"DHCPv6\"",
              "        jump allowed",
              "    }", ""]
    lines += ["    chain forward {", "        type filter hook forward priority filter; policy drop;", *state]
    for interface in firewall.get("container_interfaces") or []:
        lines.append("        iifname %s accept comment \"the containers' own connections\"" % _quoted(interface))
    lines += ["        ct status dnat jump allowed", "    }", "}", ""]
    return "\n".join(lines)
