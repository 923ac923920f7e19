# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of an inventory, run by the preflight play before any host is touched.

:func:`topology_problems` lists everything wrong with an inventory (PostgreSQL and
Redis roles, Sentinel quorum, PostgreSQL high availability, addresses, CIDRs,
required secrets) as sentences that name the host and the variable at fault. The
model they check, :class:`Topology`, is in ``topology.py``.

Nothing here imports Ansible; the filter plugins in ``plugins/filter`` are thin
wrappers over this module.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping

from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import (
    ADDRESS_VARIABLES,
    PRIMARY,
    REPLICA,
    REPLICATION_ROLES,
    RoleAssignment,
    Topology,
    TopologyError,
    UnresolvedVariableError,
    _require_netaddr,
    parse_network,
)
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int

SECRET_PLACEHOLDER_PREFIX = "CHANGE_ME"
"""Secrets whose value starts with this are unset placeholders (see the example inventories)."""


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
