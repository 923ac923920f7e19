# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment topology, derived from the inventory.

The inventory is the single description of a site: groups say what a host
does, a few host variables refine it. :class:`Topology` reads ``groups`` and
``hostvars`` (plain mappings in unit tests, Ansible's lazy ``HostVars`` in a
play) and answers the questions every role asks: the address of a host, the
members of a group, which host is the PostgreSQL or Redis primary, which hosts
run Sentinel. :func:`topology_problems` lists everything wrong with an
inventory, so the preflight play can refuse it before any host is touched.

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

SECRET_PLACEHOLDER_PREFIX = "CHANGE_ME"
"""Secrets whose value starts with this are unset placeholders (see the example inventories)."""

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
        """The role of every host of ``postgres`` (values are not validated here; see :func:`topology_problems`)."""
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


# --- preflight --------------------------------------------------------------


def topology_problems(
    hostvars: Mapping[str, t.Any] | None,
    groups: Mapping[str, t.Any] | None,
    required_secrets: Mapping[str, t.Any] | None = None,
) -> list[str]:
    """Every problem of the inventory, as sentences that name the host and the variable at fault.

    ``required_secrets`` maps a group (``all`` for every host) to the names of variables that
    each of its hosts must define with a real value (not empty, not a ``CHANGE_ME`` placeholder).
    """
    topology = Topology(groups, hostvars)
    checks: list[tuple[str, t.Callable[[], list[str]]]] = [
        ("PostgreSQL roles", lambda: postgres_problems(topology)),
        ("Redis roles and Sentinel", lambda: redis_problems(topology)),
        ("PostgreSQL high availability", lambda: ha_problems(topology)),
        ("addresses", lambda: address_problems(topology)),
        ("CIDRs", lambda: cidr_problems(topology)),
        ("required secrets", lambda: secret_problems(topology, required_secrets if required_secrets is not None else {})),
    ]
    problems: list[str] = []
    for subject, check in checks:
        try:
            problems.extend(check())
        except TopologyError as exc:  # a variable that cannot be resolved, or netaddr missing: report, run the other checks
            problems.append(str(exc))
        except Exception as exc:  # the templating engine raises its own error types
            problems.append("checking %s failed: %s" % (subject, _first_line(exc)))
    return problems


def _read_var(topology: Topology, host: str, name: str) -> tuple[t.Any, str | None]:
    """(value, None), or (None, why) when the variable cannot be templated; ``why`` does not name the host."""
    try:
        return topology.var(host, name), None
    except UnresolvedVariableError as exc:
        return None, "%s cannot be resolved (%s)" % (name, exc.reason)
    except Exception as exc:  # the templating engine raises its own error types
        return None, "%s cannot be resolved (%s)" % (name, _first_line(exc))


def _safe_var(topology: Topology, host: str, name: str) -> tuple[t.Any, str | None]:
    """(value, None), or (None, problem naming host and variable) when the variable cannot be templated."""
    value, why = _read_var(topology, host, name)
    return value, ("%s: %s" % (host, why) if why else None)


def _by_hosts(findings: list[tuple[str, str]]) -> list[str]:
    """Join (host, text) findings with the same text into one problem naming every host, in order of appearance."""
    hosts_by_text: dict[str, list[str]] = {}
    for host, text in findings:
        hosts = hosts_by_text.setdefault(text, [])
        if host not in hosts:
            hosts.append(host)
    return ["%s: %s" % (", ".join(hosts), text) for text, hosts in hosts_by_text.items()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _role_problems(topology: Topology, service: str, product: str) -> tuple[list[RoleAssignment], list[str]]:
    """Resolve roles of ``service`` hosts, reporting invalid values and unresolvable variables."""
    problems: list[str] = []
    valid: list[RoleAssignment] = []
    variable = "%s_role" % service
    for host in topology.members(service):
        _value, error = _safe_var(topology, host, variable)
        if error:
            problems.append(error)
    if problems:
        return [], problems
    roles = topology.postgres_roles() if service == "postgres" else topology.redis_roles()
    for assignment in roles:
        if assignment.source == "groups":
            problems.append(
                "%s: is in both groups %s_primary and %s_replicas; a %s host is either primary or replica"
                % (assignment.host, service, service, product)
            )
        elif assignment.role not in REPLICATION_ROLES:
            problems.append("%s: %s is %r; it must be 'primary' or 'replica'" % (assignment.host, variable, assignment.role))
        else:
            valid.append(assignment)
    return valid, problems


def _primary_problems(assignments: list[RoleAssignment], service: str, product: str) -> list[str]:
    primaries = [a for a in assignments if a.role == PRIMARY]
    replicas = [a for a in assignments if a.role == REPLICA]
    variable = "%s_role" % service
    problems = []
    if len(primaries) > 1:
        first = primaries[0]
        for other in primaries[1:]:
            problems.append(
                "%s: %s but %s is also primary (%s; exactly one %s primary allowed: set %s: replica on the others)"
                % (other.host, other.describe(), first.host, first.describe_with_host(), product, variable)
            )
    elif not primaries and replicas:
        problems.append(
            "%s: no %s primary; the replicas %s have nothing to replicate from. Set %s: primary on exactly one host "
            "of group %s (or put it in group %s_primary)"
            % (service, product, ", ".join("%s (%s)" % (a.host, a.describe()) for a in replicas), variable, service, service)
        )
    return problems


def postgres_problems(topology: Topology) -> list[str]:
    """Exactly one PostgreSQL primary; replicas only with a primary; valid ``postgres_role`` values."""
    if not topology.members("postgres"):
        return []
    assignments, problems = _role_problems(topology, "postgres", "PostgreSQL")
    if not problems:
        problems.extend(_primary_problems(assignments, "postgres", "PostgreSQL"))
    return problems


HA_MODES = ("auto", "patroni", "manual")
ETCD_SIZES = (3, 5)


def ha_problems(topology: Topology) -> list[str]:
    """A valid ``postgresql_ha_mode``, the same on every PostgreSQL host; with Patroni, an etcd cluster that can keep a
    quorum: 3 or 5 members (one is enough for a site without replicas)."""
    hosts = topology.members("postgres")
    if not hosts:
        return []
    findings: list[tuple[str, str]] = []
    modes: dict[str, str] = {}
    for host in hosts:
        value, why = _read_var(topology, host, "postgresql_ha_mode")
        if why:
            findings.append((host, why))
            continue
        mode = str("auto" if value in (None, "") else value).strip().lower()
        if mode not in HA_MODES:
            findings.append((host, "postgresql_ha_mode is %r; it must be one of %s" % (value, ", ".join(HA_MODES))))
        else:
            modes[host] = mode
    problems = _by_hosts(findings)
    if problems:
        return problems
    if len(set(modes.values())) > 1:
        return ["postgres: postgresql_ha_mode differs between PostgreSQL hosts (%s); set it once in group_vars"
                % ", ".join("%s: %s" % item for item in modes.items())]
    if topology.postgres_ha_mode() != "patroni":
        return []
    members = topology.etcd_members()
    chosen = "group etcd" if topology.has_group("etcd") else "the PostgreSQL hosts and the first other site hosts"
    replicas = len(hosts) > 1
    if len(members) in ETCD_SIZES or (len(members) == 1 and not replicas):
        return []
    if len(members) % 2 == 0:
        why = "an even number of members tolerates no more failures than one member fewer, and two halves cannot elect a leader"
    elif len(members) < 3:
        why = "Patroni keeps its leader lock in etcd, and fewer than three members cannot keep a quorum when one host is lost"
    else:
        why = "use 3 or 5 members: more makes every write wait for more hosts"
    return ["etcd: %d member(s) (%s, from %s): %s. Put 3 or 5 hosts in group etcd%s, or set postgresql_ha_mode: manual "
            "(an operator then runs the failover playbook when the primary is lost)"
            % (len(members), ", ".join(members) or "none", chosen, why, "" if replicas else " (or 1 for a site without replicas)")]


def redis_problems(topology: Topology) -> list[str]:
    """Exactly one Redis primary; a Sentinel quorum that is valid and survives losing the primary's host."""
    if not topology.members("redis"):
        return []
    assignments, problems = _role_problems(topology, "redis", "Redis")
    if problems:
        return problems
    problems.extend(_primary_problems(assignments, "redis", "Redis"))
    primaries = [a.host for a in assignments if a.role == PRIMARY]
    problems.extend(sentinel_problems(topology, primaries[0] if len(primaries) == 1 else None))
    return problems


def sentinel_problems(topology: Topology, primary: str | None) -> list[str]:
    """Sentinel checks: there are sentinels, the quorum is an integer in 1..sentinels, and (when there are replicas
    to fail over to) enough sentinels run away from the Redis primary's host to fail it over when that host dies."""
    sentinels = topology.redis_sentinels()
    if not sentinels:
        return [
            "redis: no host runs Redis Sentinel (group %s%s); clients find the Redis primary through Sentinel, so "
            "at least one Sentinel is required (three on separate hosts survive the loss of any one)"
            % ("redis_sentinels" if topology.has_group("redis_sentinels") else "redis", ", minus hosts with redis_sentinel: false")
        ]
    findings: list[tuple[str, str]] = []
    quorums: dict[str, int] = {}
    for host in sentinels:
        value, why = _read_var(topology, host, "redis_sentinel_quorum")
        if why:
            findings.append((host, why))
            continue
        if value is None:
            quorums[host] = len(sentinels) // 2 + 1
            continue
        quorum = as_int(value)
        if quorum is None or quorum < 1:
            findings.append((host, "redis_sentinel_quorum is %r; it must be an integer of at least 1" % (value,)))
        elif quorum > len(sentinels):
            findings.append((host,
                             "redis_sentinel_quorum is %d but only %d sentinels run (%s); a quorum larger than the number "
                             "of sentinels can never be reached, so no failover would ever happen"
                             % (quorum, len(sentinels), ", ".join(sentinels))))
        else:
            quorums[host] = quorum
    problems = _by_hosts(findings)
    if problems:
        return problems
    if len(set(quorums.values())) > 1:
        return [
            "redis: redis_sentinel_quorum differs between Sentinel hosts (%s); every Sentinel must use the same "
            "quorum: set it once in group_vars" % ", ".join("%s: %d" % item for item in quorums.items())
        ]
    quorum = next(iter(quorums.values()))
    # With a single Redis host there is nothing to fail over to: Sentinel only tells clients where Redis is.
    if primary is not None and len(topology.members("redis")) > 1:
        problems.extend(_failover_problems(topology, primary, sentinels, quorum))
    return problems


def _same_host(topology: Topology, host: str, other: str) -> bool:
    if host == other:
        return True
    try:
        return topology.address(host) == topology.address(other)
    except Exception:  # an unresolvable address is reported by address_problems
        return False


def _failover_problems(topology: Topology, primary: str, sentinels: list[str], quorum: int) -> list[str]:
    survivors = [host for host in sentinels if not _same_host(topology, host, primary)]
    majority = len(sentinels) // 2 + 1
    needed = max(quorum, majority)
    if len(survivors) >= needed:
        return []
    explicit = any(topology.var(host, "redis_sentinel_quorum") is not None for host in sentinels)
    origin = "redis_sentinel_quorum is %d" % quorum if explicit else "the Sentinel quorum is %d (default majority)" % quorum
    return [
        "%s: Redis Sentinel cannot fail over when the Redis primary's host %s is lost: %s, and only %d of the %d "
        "sentinels (%s) run on other hosts. To fail over, the surviving sentinels must reach the quorum (%d) and "
        "a majority of all sentinels (%d) must authorise the failover, so at least %d must run away from %s. Add "
        "sentinels on other hosts (group redis_sentinels, redis_sentinel: true) or lower redis_sentinel_quorum."
        % (primary, primary, origin, len(survivors), len(sentinels), ", ".join(survivors) or "none",
           quorum, majority, needed, primary)
    ]


def address_problems(topology: Topology) -> list[str]:
    """Every host of a site group has an address."""
    problems = []
    for host in topology.site_hosts():
        try:
            topology.address(host)
        except TopologyError as exc:
            problems.append(str(exc))
        except Exception as exc:  # templating errors in kaizen_address, ansible_host, ...
            problems.append("%s: the address variables (%s) cannot be resolved (%s)" % (host, ", ".join(ADDRESS_VARIABLES), _first_line(exc)))
    return problems


def _is_cidr_variable(name: t.Any) -> bool:
    return isinstance(name, str) and (name.endswith("_cidr") or name.endswith("_cidrs"))


def cidr_problems(topology: Topology) -> list[str]:
    """Every ``*_cidr`` (a string) and ``*_cidrs`` (a list of strings) variable of every host parses.

    A bad value shared by several hosts (a group variable) is one problem naming all of them.
    """
    _require_netaddr()
    findings: list[tuple[str, str]] = []
    for host in topology.all_hosts():
        for name in sorted(str(key) for key in topology.host_vars(host) if _is_cidr_variable(key)):
            value, why = _read_var(topology, host, name)
            if why:
                findings.append((host, why))
                continue
            findings.extend((host, text) for text in _cidr_value_problems(name, value))
    return _by_hosts(findings)


def _cidr_value_problems(name: str, value: t.Any) -> list[str]:
    if name.endswith("_cidr"):
        if not isinstance(value, str):
            return ["%s is %r; it must be a CIDR string such as '192.0.2.0/24'" % (name, value)]
        values = [value]
    else:
        if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
            return ["%s is %r; it must be a list of CIDR strings such as ['192.0.2.0/24']" % (name, value)]
        values = list(value)
    problems = []
    for item in values:
        try:
            parse_network(item)
        except TopologyError:
            verb = "contains" if name.endswith("_cidrs") else "is"
            problems.append("%s %s %r, which is not a CIDR or an IP address" % (name, verb, item))
    return problems


def secret_missing(value: t.Any) -> bool:
    """A secret is missing when undefined, None, empty, or still a ``CHANGE_ME`` placeholder."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or value.strip().startswith(SECRET_PLACEHOLDER_PREFIX)
    if isinstance(value, (Mapping, list, tuple)):
        return not value
    return False


_SECRET_REASONS = {
    "undefined": ("is not defined", "set it in the inventory's vault"),
    "unresolvable": ("cannot be resolved", "check the variables it refers to: is the vault loaded?"),
    "empty": ("is empty", "set a real value in the vault"),
    "placeholder": ("still holds the %s... placeholder" % SECRET_PLACEHOLDER_PREFIX, "set a real value in the vault"),
}


def secret_problems(topology: Topology, required_secrets: Mapping[str, t.Any]) -> list[str]:
    """Each host of each named group (``all`` = every host) defines the secrets required of it; values are never shown.

    One problem per variable and reason, naming every host concerned.
    """
    if not isinstance(required_secrets, Mapping):
        return ["kaizen_preflight_required_secrets must be a mapping of group name to a list of variable names, got %s"
                % type(required_secrets).__name__]
    findings: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for group, names in required_secrets.items():
        if isinstance(names, str):
            names = [names]
        hosts = topology.all_hosts() if group == "all" else topology.members(str(group))
        for name in names or []:
            for host in hosts:
                reason = _secret_state(topology, host, str(name))
                if reason is None:
                    continue
                bad_hosts, bad_groups = findings.setdefault((str(name), reason), ([], []))
                if host not in bad_hosts:
                    bad_hosts.append(host)
                if str(group) not in bad_groups:
                    bad_groups.append(str(group))
    problems = []
    for (name, reason), (hosts, groups) in findings.items():
        what, fix = _SECRET_REASONS[reason]
        problems.append("%s: required secret %s %s (required for hosts of group %s; %s)" % (
            ", ".join(hosts), name, what, ", ".join(groups), fix))
    return problems


def _secret_state(topology: Topology, host: str, name: str) -> str | None:
    """None when the secret is set, else why not (a key of _SECRET_REASONS)."""
    hostvars = topology.host_vars(host)
    if name not in hostvars:
        return "undefined"
    try:
        value = hostvars[name]
    except Exception:  # do not echo the error: it could quote the secret's template
        return "unresolvable"
    if value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (Mapping, list, tuple)) and not value):
        return "empty"
    if secret_missing(value):
        return "placeholder"
    return None
