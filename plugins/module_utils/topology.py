# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment topology, derived from the inventory.

The inventory is the single description of a site: groups say what a host
does, a few host variables refine it. :class:`Topology` reads ``groups`` and
``hostvars`` (plain mappings in unit tests, Ansible's lazy ``HostVars`` in a
play) and answers the questions every role asks: the address of a host, the
members of a group, which host is the PostgreSQL or Redis primary, which hosts
run Sentinel. The checks of an inventory (what the preflight play refuses)
are in ``topology_checks.py``.

Nothing here imports Ansible; the filter plugins in ``plugins/filter`` are thin
wrappers over this module.
"""

from __future__ import annotations

import ipaddress
import traceback
import typing as t
from collections.abc import Iterable, Mapping

from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int

try:
    import netaddr
except ImportError:
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None


SITE_GROUPS = ("loadbalancers", "app", "postgres", "redis", "monitoring", "backup")
"""The groups that make up a site; a host may be in several."""

PRIMARY = "primary"
REPLICA = "replica"
REPLICATION_ROLES = (PRIMARY, REPLICA)

ADDRESS_VARIABLES = ("kaizen_address", "ansible_host", "ansible_facts['default_ipv4']['address']")
"""Where a host's address comes from, in order of precedence."""

PORT_DEFAULTS: dict[str, int] = {
    "postgresql_port": 5432,
    "postgresql_patroni_api_port": 8008,
    "haproxy_rw_port": 5000,
    "haproxy_ro_port": 5001,
    "etcd_client_port": 2379,
    "etcd_peer_port": 2380,
    "etcd_metrics_port": 2381,
    "redis_port": 6379,
    "redis_sentinel_port": 26379,
    "app_port_base": 8080,
    "app_container_port": 8080,
    "docker_metrics_port": 9323,
    "loadbalancer_http_port": 80,
    "loadbalancer_https_port": 443,
    "loadbalancer_stub_status_port": 8081,
    "exporters_node_port": 9100,
    "exporters_postgres_port": 9187,
    "exporters_redis_port": 9121,
    "exporters_nginx_port": 9113,
    "exporters_nginx_log_port": 3903,
    "prometheus_port": 9090,
    "alertmanager_port": 9093,
    "alertmanager_cluster_port": 9094,
    "grafana_http_port": 3000,
    "backup_tls_port": 8432,
}
"""Every port a role publishes, by its variable, with the owning role's default: the one place a consumer
on another host (or in another role, which does not see the owner's defaults) reads it from, through
:meth:`Topology.port`. tests/unit/plugins/module_utils/test_topology.py keeps it equal to the roles' defaults."""


class TopologyError(ValueError):
    """The inventory does not describe a usable topology (the message says why and what to set)."""


class NoAddressError(TopologyError):
    """None of the address sources of a host gives an address (as opposed to one that is wrong)."""


class UnresolvedVariableError(TopologyError):
    """A host variable is defined but its value cannot be computed (it refers to an undefined variable, ...)."""

    def __init__(self, host: str, name: str, reason: str) -> None:
        super().__init__("%s: %s cannot be resolved (%s)" % (host, name, reason))
        self.host = host
        self.name = name
        self.reason = reason


def _require_netaddr() -> None:
    if not HAS_NETADDR:
        lines = (NETADDR_IMPORT_ERROR or "ImportError").strip().splitlines()
        raise TopologyError(
            "the Python library 'netaddr' is required on the Ansible controller for CIDR handling; "
            "install it with 'pip install netaddr' (%s)" % lines[-1]
        )


# --- addresses and networks ------------------------------------------------


def ip_literal(value: t.Any) -> str | None:
    """Return ``value`` as a normalised IP address string, or None when it is not an IP literal."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def parse_network(value: t.Any) -> t.Any:
    """Parse a CIDR or a bare address into a ``netaddr.IPNetwork``; raise TopologyError when it does not parse."""
    _require_netaddr()
    if isinstance(value, netaddr.IPNetwork):
        return value
    if isinstance(value, netaddr.IPAddress):
        return netaddr.IPNetwork(value)
    if not isinstance(value, str):
        raise TopologyError("%r is not a CIDR or an IP address (expected a string such as '192.0.2.0/24')" % (value,))
    try:
        return netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise TopologyError("%r is not a CIDR or an IP address (%s)" % (value, exc)) from None


def _flatten(items: t.Any) -> Iterable[t.Any]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        yield items
        return
    for item in items:
        yield from _flatten(item)


def merge_cidrs(items: t.Any) -> list[str]:
    """Merge CIDRs and addresses (a string, or lists nested to any depth) into the minimal sorted list of CIDR strings.

    Overlapping and adjacent networks collapse; bare addresses become /32 (/128 for IPv6);
    host bits are cleared. IPv4 sorts before IPv6.
    """
    networks = [parse_network(item).cidr for item in _flatten(items)]
    return [str(network) for network in netaddr.cidr_merge(networks)]


def widen(address: str, prefix: int = 32, prefix6: int = 128) -> str:
    """Return the network of length ``prefix`` (``prefix6`` for IPv6) that contains ``address``, as a CIDR string."""
    network = parse_network(address)
    length = prefix if network.version == 4 else prefix6
    maximum = 32 if network.version == 4 else 128
    if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= maximum:
        raise TopologyError("prefix %r is not a valid IPv%d prefix length (0..%d)" % (length, network.version, maximum))
    network.prefixlen = length
    return str(network.cidr)


# --- role assignments -------------------------------------------------------


class RoleAssignment(t.NamedTuple):
    """The replication role of one host and where it came from.

    ``source`` is the variable name (e.g. ``postgres_role``), ``group <name>`` for
    child-group membership, or ``default``.
    """

    host: str
    role: t.Any
    source: str

    def describe(self) -> str:
        """Say why the host has its role, in the inventory's terms."""
        if self.source.startswith("group "):
            return "is in group %s" % self.source[len("group "):]
        if self.source == "default":
            return "is %s by default" % self.role
        return "%s is %r" % (self.source, self.role)

    def describe_with_host(self) -> str:
        """Like describe(), starting with the host name."""
        if self.source.startswith("group ") or self.source == "default":
            return "%s %s" % (self.host, self.describe())
        return "%s has %s %r" % (self.host, self.source, self.role)


# --- the topology -----------------------------------------------------------


class Topology:
    """The site described by an inventory's ``groups`` and ``hostvars``."""

    def __init__(self, groups: Mapping[str, t.Any] | None, hostvars: Mapping[str, t.Any] | None) -> None:
        self._groups = groups if groups is not None else {}
        self._hostvars = hostvars if hostvars is not None else {}

    # membership

    def members(self, group: str) -> list[str]:
        """Hosts of ``group`` in inventory order, without duplicates; empty when the group does not exist."""
        hosts = self._groups.get(group) if isinstance(self._groups, Mapping) else None
        if not hosts or isinstance(hosts, str):
            return []
        seen: list[str] = []
        for host in hosts:
            name = str(host)
            if name not in seen:
                seen.append(name)
        return seen

    def has_group(self, group: str) -> bool:
        return group in self._groups

    def in_group(self, host: str, group: str) -> bool:
        return host in self.members(group)

    def peers(self, host: str, group: str) -> list[str]:
        """Members of ``group`` except ``host``."""
        return [member for member in self.members(group) if member != host]

    def all_hosts(self) -> list[str]:
        """Every inventory host (``groups['all']``, else every host in ``hostvars``)."""
        hosts = self.members("all")
        if hosts or "all" in self._groups:
            return hosts
        return [str(host) for host in self._hostvars]

    def site_hosts(self) -> list[str]:
        """Hosts that belong to any site group (and Sentinel hosts), in order of first appearance."""
        hosts: list[str] = []
        for group in SITE_GROUPS + ("redis_sentinels",):
            hosts.extend(host for host in self.members(group) if host not in hosts)
        return hosts

    # variables

    def host_vars(self, host: str) -> Mapping[str, t.Any]:
        """The variables of ``host``; empty when the host is unknown."""
        if host not in self._hostvars:
            return {}
        try:
            hostvars = self._hostvars[host]
        except KeyError:
            return {}
        return hostvars if isinstance(hostvars, Mapping) else {}

    def var(self, host: str, name: str, default: t.Any = None) -> t.Any:
        """One variable of ``host`` (templated, when ``hostvars`` templates on access), or ``default``."""
        hostvars = self.host_vars(host)
        if name not in hostvars:
            return default
        return hostvars[name]

    def port(self, host: str, name: str) -> int:
        """The port ``host`` publishes under the variable ``name`` (a key of :data:`PORT_DEFAULTS`): its own
        value, else the owning role's default. TopologyError naming the host and the variable when it is not
        a port number."""
        if name not in PORT_DEFAULTS:
            raise TopologyError("%s is not a port variable of the collection (those are: %s)" % (name, ", ".join(sorted(PORT_DEFAULTS))))
        value = self.var(host, name, PORT_DEFAULTS[name])
        port = as_int(value)
        if port is None or not 1 <= port <= 65535:
            raise TopologyError("%s of %s is %r; it must be a port number (1-65535)" % (name, host, value))
        return port

    # addresses

    def address(self, host: str) -> str:
        """The IP address other hosts use to reach ``host``.

        ``kaizen_address`` (must be an IP literal), else ``ansible_host`` when it is an IP
        literal (a DNS or container name is not an address), else the cached fact
        ``ansible_facts['default_ipv4']['address']`` (or the injected ``ansible_default_ipv4``).
        """
        explicit = self.var(host, "kaizen_address")
        if explicit not in (None, ""):
            address = ip_literal(explicit)
            if address is None:
                raise TopologyError(
                    "%s: kaizen_address is %r, which is not an IP address; set it to the IPv4 or IPv6 "
                    "address other hosts use to reach %s" % (host, explicit, host)
                )
            return address
        address = ip_literal(self.var(host, "ansible_host"))
        if address is not None:
            return address
        address = self._fact_address(host)
        if address is not None:
            return address
        hint = "" if host in self._hostvars else " (the host is not in the inventory)"
        raise NoAddressError(
            "%s: no address%s; set kaizen_address (or ansible_host) to an IP address, or gather facts so that "
            "ansible_facts['default_ipv4']['address'] is known" % (host, hint)
        )

    def _fact_address(self, host: str) -> str | None:
        facts = self.var(host, "ansible_facts")
        default_ipv4 = facts.get("default_ipv4") if isinstance(facts, Mapping) else None
        if not isinstance(default_ipv4, Mapping):
            default_ipv4 = self.var(host, "ansible_default_ipv4")
        if isinstance(default_ipv4, Mapping):
            return ip_literal(default_ipv4.get("address"))
        return None

    def addresses(self, group: str) -> list[str]:
        """Addresses of the hosts of ``group``, in inventory order."""
        return [self.address(host) for host in self.members(group)]

    def hosts_info(self, group: str) -> list[dict[str, str]]:
        """``[{'name': host, 'address': address}, ...]`` for the hosts of ``group``."""
        return [{"name": host, "address": self.address(host)} for host in self.members(group)]

    def networks(self, group: str, prefix: int = 32, prefix6: int = 128) -> list[str]:
        """Merged CIDRs covering the hosts of ``group``, each address widened to ``prefix`` (``prefix6`` for IPv6)."""
        return merge_cidrs([widen(address, prefix, prefix6) for address in self.addresses(group)])

    # PostgreSQL

    def postgres_roles(self) -> list[RoleAssignment]:
        """The role of every host of ``postgres`` (values are not validated here; see ``topology_checks.topology_problems``)."""
        hosts = self.members("postgres")
        assignments = []
        for host in hosts:
            assignment = self._assigned_role(host, "postgres")
            if assignment is None:
                role = PRIMARY if len(hosts) == 1 else REPLICA
                assignment = RoleAssignment(host, role, "default")
            assignments.append(assignment)
        return assignments

    def postgres_role(self, host: str) -> str:
        """``primary`` or ``replica`` for a host of ``postgres``."""
        return self._role_of(host, "postgres", self.postgres_roles())

    def postgres_primary(self) -> str:
        """The PostgreSQL primary; raises TopologyError unless there is exactly one."""
        return self._single_primary("postgres", "PostgreSQL", self.postgres_roles())

    def postgres_replicas(self) -> list[str]:
        """The PostgreSQL replicas, in inventory order."""
        return [a.host for a in self.postgres_roles() if a.role == REPLICA]

    # Redis

    def redis_roles(self) -> list[RoleAssignment]:
        """The role of every host of ``redis``: unmarked hosts are replicas, except that the first unmarked
        host becomes the primary when no host is marked primary."""
        assignments: list[RoleAssignment | None] = [self._assigned_role(host, "redis") for host in self.members("redis")]
        has_primary = any(a is not None and a.role == PRIMARY for a in assignments)
        result = []
        for host, assignment in zip(self.members("redis"), assignments):
            if assignment is None:
                assignment = RoleAssignment(host, REPLICA if has_primary else PRIMARY, "default")
                has_primary = True
            result.append(assignment)
        return result

    def redis_role(self, host: str) -> str:
        """``primary`` or ``replica`` for a host of ``redis``."""
        return self._role_of(host, "redis", self.redis_roles())

    def redis_primary(self) -> str:
        """The Redis primary at deployment time; raises TopologyError unless there is exactly one."""
        return self._single_primary("redis", "Redis", self.redis_roles())

    def redis_replicas(self) -> list[str]:
        """The Redis replicas, in inventory order."""
        return [a.host for a in self.redis_roles() if a.role == REPLICA]

    def redis_sentinels(self) -> list[str]:
        """Hosts that run Redis Sentinel: group ``redis_sentinels`` when it exists, else every host of ``redis``,
        minus hosts with ``redis_sentinel: false``."""
        group = "redis_sentinels" if self.has_group("redis_sentinels") else "redis"
        return [host for host in self.members(group) if not _is_false(self.var(host, "redis_sentinel", True))]

    def redis_sentinel_quorum(self) -> int:
        """The Sentinel quorum: ``redis_sentinel_quorum`` of the Sentinel hosts, else a majority of the sentinels."""
        quorums = self._sentinel_quorums()
        values = [as_int(value) for value in quorums.values()]
        if None in values:
            raise TopologyError("redis_sentinel_quorum must be an integer (%s)" % ", ".join("%s: %r" % item for item in quorums.items()))
        if len(set(values)) != 1:
            raise TopologyError(
                "redis_sentinel_quorum differs between Sentinel hosts (%s); set it once, in group_vars"
                % ", ".join("%s: %r" % item for item in quorums.items())
            )
        return values[0]

    def _sentinel_quorums(self) -> dict[str, t.Any]:
        sentinels = self.redis_sentinels()
        default = len(sentinels) // 2 + 1
        hosts = sentinels or self.members("redis")
        return {host: self.var(host, "redis_sentinel_quorum", default) for host in hosts} or {"": default}

    # shared role logic

    def _assigned_role(self, host: str, service: str) -> RoleAssignment | None:
        """The role set for ``host`` by ``<service>_role`` or child groups, or None when unset."""
        variable = "%s_role" % service
        value = self.var(host, variable)
        if value not in (None, ""):
            return RoleAssignment(host, value, variable)
        in_primary = self.in_group(host, "%s_primary" % service)
        in_replicas = self.in_group(host, "%s_replicas" % service)
        if in_primary and in_replicas:
            return RoleAssignment(host, "%s_primary and %s_replicas" % (service, service), "groups")
        if in_primary:
            return RoleAssignment(host, PRIMARY, "group %s_primary" % service)
        if in_replicas:
            return RoleAssignment(host, REPLICA, "group %s_replicas" % service)
        return None

    @staticmethod
    def _role_of(host: str, group: str, assignments: list[RoleAssignment]) -> str:
        for assignment in assignments:
            if assignment.host == host:
                if assignment.role not in REPLICATION_ROLES:
                    raise TopologyError("%s: %s (expected primary or replica)" % (host, assignment.describe()))
                return assignment.role
        raise TopologyError("%s is not in group %s" % (host, group))

    @staticmethod
    def _single_primary(group: str, product: str, assignments: list[RoleAssignment]) -> str:
        primaries = [a.host for a in assignments if a.role == PRIMARY]
        if len(primaries) != 1:
            raise TopologyError(
                "group %s needs exactly one %s primary, found %d (%s); run the preflight play for details"
                % (group, product, len(primaries), ", ".join(primaries) or "none")
            )
        return primaries[0]

    # PostgreSQL high availability: Patroni, and etcd for its leader lock

    def postgres_ha_mode(self) -> str:
        """How the PostgreSQL primary is chosen after deployment: ``patroni`` (automatic failover, with etcd) or ``manual``
        (an operator runs the failover playbook). ``postgresql_ha_mode`` of the PostgreSQL hosts; ``auto`` (the default)
        is ``patroni`` when the site has hosts for an etcd quorum of three, else ``manual``."""
        hosts = self.members("postgres")
        value = str(self.var(hosts[0], "postgresql_ha_mode", "auto") if hosts else "auto").strip().lower()
        if value == "auto":
            return "patroni" if len(self.etcd_members()) >= 3 else "manual"
        return value

    def etcd_members(self) -> list[str]:
        """The etcd cluster: group ``etcd`` when the inventory has it, else the PostgreSQL hosts and then the first other
        site hosts (in site order) until there are three."""
        if self.has_group("etcd"):
            return self.members("etcd")
        members = list(self.members("postgres"))
        for host in self.site_hosts():
            if len(members) >= 3:
                break
            if host not in members:
                members.append(host)
        return members

    def summary(self) -> dict[str, t.Any]:
        """What the topology resolves to, for display (the preflight play prints it)."""
        result: dict[str, t.Any] = {group: self.members(group) for group in SITE_GROUPS}
        if self.members("postgres"):
            result["postgres_primary"] = self.postgres_primary()
            result["postgres_replicas"] = self.postgres_replicas()
            result["postgres_ha_mode"] = self.postgres_ha_mode()
            if result["postgres_ha_mode"] == "patroni":
                result["etcd"] = self.etcd_members()
        if self.members("redis"):
            result["redis_primary"] = self.redis_primary()
            result["redis_replicas"] = self.redis_replicas()
            result["redis_sentinels"] = self.redis_sentinels()
            result["redis_sentinel_quorum"] = self.redis_sentinel_quorum()
        return result


def _is_false(value: t.Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("false", "no", "off", "0", "n", "f")
    return value is False or value == 0
