# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology filters: the wiring between hosts, derived from the inventory.

Thin wrappers over ``plugins/module_utils/topology.py`` and ``topology_checks.py``; each filter
has its documentation in ``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from jinja2 import Undefined

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import HostVarsView, filter_errors, module_utils, topology_of

_addresses = module_utils("addresses")
_topology = module_utils("topology")
_topology_checks = module_utils("topology_checks")


_REQUIRED = object()


@filter_errors
def host_address(hostname: str, hostvars: t.Mapping[str, t.Any], default: t.Any = _REQUIRED) -> t.Any:
    """The host's address; ``default`` (when given) instead of an error when the host has none yet
    (no kaizen_address, no IP in ansible_host, no facts). A wrong kaizen_address always fails."""
    try:
        return topology_of({}, hostvars).address(str(hostname))
    except _topology.NoAddressError:
        if default is _REQUIRED:
            raise
        return default


@filter_errors
def group_members(group_name: str, groups: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, {}).members(str(group_name))


@filter_errors
def group_peers(hostname: str, group_name: str, groups: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, {}).peers(str(hostname), str(group_name))


@filter_errors
def group_addresses(group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, hostvars).addresses(str(group_name))


@filter_errors
def group_hosts_info(group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[dict[str, str]]:
    return topology_of(groups, hostvars).hosts_info(str(group_name))


@filter_errors
def group_networks(
    group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], prefix: int = 32, prefix6: int = 128
) -> list[str]:
    return topology_of(groups, hostvars).networks(str(group_name), prefix, prefix6)


@filter_errors
def published_port(hostname: str, name: str, hostvars: t.Mapping[str, t.Any]) -> int:
    return topology_of({}, hostvars).port(str(hostname), str(name))


@filter_errors
def host_port(host: t.Any, port: t.Any) -> str:
    if isinstance(host, Undefined) or isinstance(port, Undefined) or host in (None, "") or port in (None, ""):
        raise ValueError("both a host and a port are required (got %r and %r)" % (host, port))
    return _addresses.host_port(host, port)


# What Ansible's virtualization facts call a container guest.
CONTAINER_TYPES = frozenset(("container", "containerd", "docker", "lxc", "podman", "systemd-nspawn"))


@filter_errors
def in_container(facts: t.Any) -> bool:
    if not isinstance(facts, Mapping):
        raise ValueError("expects ansible_facts (a mapping), got %s" % type(facts).__name__)
    return facts.get("virtualization_role") == "guest" and facts.get("virtualization_type") in CONTAINER_TYPES


@filter_errors
def merge_cidrs(cidrs: t.Any) -> list[str]:
    return _topology.merge_cidrs(cidrs)


@filter_errors
def postgres_primary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return topology_of(groups, hostvars).postgres_primary()


@filter_errors
def postgres_replicas(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, hostvars).postgres_replicas()


@filter_errors
def postgres_role(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return topology_of(groups, hostvars).postgres_role(str(hostname))


@filter_errors
def redis_primary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return topology_of(groups, hostvars).redis_primary()


@filter_errors
def redis_replicas(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, hostvars).redis_replicas()


@filter_errors
def redis_role(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return topology_of(groups, hostvars).redis_role(str(hostname))


@filter_errors
def redis_sentinels(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, hostvars).redis_sentinels()


@filter_errors
def redis_sentinel_quorum(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> int:
    return topology_of(groups, hostvars).redis_sentinel_quorum()


@filter_errors
def topology_summary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return topology_of(groups, hostvars).summary()


@filter_errors
def topology_problems(
    hostvars: t.Mapping[str, t.Any], groups: t.Mapping[str, t.Any], required_secrets: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    if not isinstance(hostvars, Mapping):
        raise _topology.TopologyError("topology_problems is applied to hostvars: hostvars | kaizen.hybrid.topology_problems(groups, required_secrets)")
    return _topology_checks.topology_problems(HostVarsView(hostvars), groups if isinstance(groups, Mapping) else {}, required_secrets)


class FilterModule:
    """kaizen.hybrid topology filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "host_address": host_address,
            "host_port": host_port,
            "in_container": in_container,
            "published_port": published_port,
            "group_members": group_members,
            "group_peers": group_peers,
            "group_addresses": group_addresses,
            "group_hosts_info": group_hosts_info,
            "group_networks": group_networks,
            "merge_cidrs": merge_cidrs,
            "postgres_primary": postgres_primary,
            "postgres_replicas": postgres_replicas,
            "postgres_role": postgres_role,
            "redis_primary": redis_primary,
            "redis_replicas": redis_replicas,
            "redis_role": redis_role,
            "redis_sentinels": redis_sentinels,
            "redis_sentinel_quorum": redis_sentinel_quorum,
            "topology_summary": topology_summary,
            "topology_problems": topology_problems,
        }
