# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology filters: the wiring between hosts, derived from the inventory.

Thin wrappers over ``plugins/module_utils/topology.py``; each filter has its
documentation in ``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Mapping

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port as _host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import (
    Topology as _Topology,
    NoAddressError,
    TopologyError,
    UnresolvedVariableError,
    merge_cidrs as _merge_cidrs,
    topology_problems as _topology_problems,
)


def _undefined_reason(value: t.Any) -> str:
    try:
        str(value)  # an undefined value raises its own explanation
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return text[0] if text else "undefined"
    return "undefined"


def _resolved(value: t.Any, host: str, name: str) -> t.Any:
    """``value`` as plain data: lazily templated containers are walked so that an undefined value anywhere
    inside raises UnresolvedVariableError instead of surfacing later, somewhere in the topology code."""
    if isinstance(value, Undefined):
        raise UnresolvedVariableError(host, name, _undefined_reason(value))
    try:
        if isinstance(value, Mapping):
            return {key: _resolved(item, host, name) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [_resolved(item, host, name) for item in value]
    except UnresolvedVariableError:
        raise
    except Exception as exc:  # the templating engine raises its own error types for undefined items
        raise UnresolvedVariableError(host, name, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from None
    return value


class _HostView(Mapping):
    """One host's variables; reading a variable that cannot be templated raises UnresolvedVariableError.

    Values are templated once and remembered: a filter call sees one snapshot.
    """

    def __init__(self, host: str, variables: t.Mapping[str, t.Any]) -> None:
        self._host = host
        self._vars = variables
        self._cache: dict[str, t.Any] = {}

    def __getitem__(self, name: str) -> t.Any:
        if name not in self._cache:
            self._cache[name] = _resolved(self._vars[name], self._host, name)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)


class _HostVarsView(Mapping):
    """Ansible's ``hostvars`` (templated on access, undefined values as markers) as strict plain mappings.

    Each host's variables are fetched once per view (``hostvars[host]`` computes all of a host's variables).
    """

    def __init__(self, hostvars: t.Mapping[str, t.Any]) -> None:
        self._hostvars = hostvars
        self._hosts: dict[str, _HostView | None] = {}

    def _view(self, host: str) -> _HostView | None:
        if host not in self._hosts:
            variables = self._hostvars[host] if host in self._hostvars else None
            usable = isinstance(variables, Mapping) and not isinstance(variables, Undefined)
            self._hosts[host] = _HostView(str(host), variables) if usable else None
        return self._hosts[host]

    def __getitem__(self, host: str) -> _HostView:
        view = self._view(host)
        if view is None:
            raise KeyError(host)
        return view

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and self._view(host) is not None

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._hostvars)

    def __len__(self) -> int:
        return len(self._hostvars)


def _plain(value: t.Any) -> t.Any:
    """Lazily templated Ansible containers as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _topology(groups: t.Any, hostvars: t.Any) -> _Topology:
    """A topology over Ansible's ``groups`` and ``hostvars``."""
    if not isinstance(groups, Mapping):
        groups = {}
    if not isinstance(hostvars, Mapping):
        raise TopologyError("hostvars must be the 'hostvars' mapping (pass hostvars, not %s)" % type(hostvars).__name__)
    return _Topology(groups, _HostVarsView(hostvars))


def _filter_errors(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Report TopologyError (and the ValueError of input a filter cannot use) as AnsibleFilterError, naming the filter."""

    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except ValueError as exc:  # TopologyError is one
            raise AnsibleFilterError("kaizen.hybrid.%s: %s" % (func.__name__, exc)) from None

    return wrapper


_REQUIRED = object()


@_filter_errors
def host_address(hostname: str, hostvars: t.Mapping[str, t.Any], default: t.Any = _REQUIRED) -> t.Any:
    """The host's address; ``default`` (when given) instead of an error when the host has none yet
    (no kaizen_address, no IP in ansible_host, no facts). A wrong kaizen_address always fails."""
    try:
        return _topology({}, hostvars).address(str(hostname))
    except NoAddressError:
        if default is _REQUIRED:
            raise
        return default


@_filter_errors
def group_members(group_name: str, groups: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, {}).members(str(group_name))


@_filter_errors
def group_peers(hostname: str, group_name: str, groups: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, {}).peers(str(hostname), str(group_name))


@_filter_errors
def group_addresses(group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, hostvars).addresses(str(group_name))


@_filter_errors
def group_hosts_info(group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[dict[str, str]]:
    return _topology(groups, hostvars).hosts_info(str(group_name))


@_filter_errors
def group_networks(
    group_name: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], prefix: int = 32, prefix6: int = 128
) -> list[str]:
    return _topology(groups, hostvars).networks(str(group_name), prefix, prefix6)


@_filter_errors
def host_port(host: t.Any, port: t.Any) -> str:
    if isinstance(host, Undefined) or isinstance(port, Undefined) or host in (None, "") or port in (None, ""):
        raise ValueError("both a host and a port are required (got %r and %r)" % (host, port))
    return _host_port(host, port)


@_filter_errors
def merge_cidrs(cidrs: t.Any) -> list[str]:
    return _merge_cidrs(cidrs)


@_filter_errors
def postgres_primary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return _topology(groups, hostvars).postgres_primary()


@_filter_errors
def postgres_replicas(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, hostvars).postgres_replicas()


@_filter_errors
def postgres_role(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return _topology(groups, hostvars).postgres_role(str(hostname))


@_filter_errors
def redis_primary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return _topology(groups, hostvars).redis_primary()


@_filter_errors
def redis_replicas(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, hostvars).redis_replicas()


@_filter_errors
def redis_role(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return _topology(groups, hostvars).redis_role(str(hostname))


@_filter_errors
def redis_sentinels(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return _topology(groups, hostvars).redis_sentinels()


@_filter_errors
def redis_sentinel_quorum(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> int:
    return _topology(groups, hostvars).redis_sentinel_quorum()


@_filter_errors
def topology_summary(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return _topology(groups, hostvars).summary()


@_filter_errors
def topology_problems(
    hostvars: t.Mapping[str, t.Any], groups: t.Mapping[str, t.Any], required_secrets: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    if not isinstance(hostvars, Mapping):
        raise TopologyError("topology_problems is applied to hostvars: hostvars | kaizen.hybrid.topology_problems(groups, required_secrets)")
    return _topology_problems(_HostVarsView(hostvars), groups if isinstance(groups, Mapping) else {}, required_secrets)


class FilterModule:
    """kaizen.hybrid topology filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "host_address": host_address,
            "host_port": host_port,
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
