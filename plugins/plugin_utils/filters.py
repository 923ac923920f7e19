# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every filter file of the collection shares: Ansible's ``hostvars`` as strict plain mappings, the
topology over them, and errors reported as filter errors naming the filter."""

from __future__ import annotations

import functools
import importlib
import typing as t
from collections.abc import Mapping

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError


class LazyModule:
    """A module imported when one of its names is first read.

    To find one filter, Ansible loads every filter file of the collection, and it does so again in every
    worker process (one per task and host), compiling each collection file from source: a filter file that
    imported its module_utils at the top would make every task that uses any of our filters compile all of
    them. The filter files import their module_utils through this instead, so only what a filter runs is
    loaded.
    """

    def __init__(self, name: str) -> None:
        self.__dict__["_name"] = name

    def __getattr__(self, attribute: str) -> t.Any:
        return getattr(importlib.import_module(self.__dict__["_name"]), attribute)


def module_utils(name: str) -> LazyModule:
    """``plugins/module_utils/<name>.py`` of this collection, imported at first use."""
    return LazyModule("ansible_collections.kaizen.hybrid.plugins.module_utils." + name)


_topology = module_utils("topology")


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
        raise _topology.UnresolvedVariableError(host, name, _undefined_reason(value))
    try:
        if isinstance(value, Mapping):
            return {key: _resolved(item, host, name) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [_resolved(item, host, name) for item in value]
    except _topology.UnresolvedVariableError:
        raise
    except Exception as exc:  # the templating engine raises its own error types for undefined items
        raise _topology.UnresolvedVariableError(host, name, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from None
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


class HostVarsView(Mapping):
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


def plain(value: t.Any) -> t.Any:
    """Lazily templated Ansible containers as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def topology_of(groups: t.Any, hostvars: t.Any) -> t.Any:
    """A topology over Ansible's ``groups`` and ``hostvars``."""
    if not isinstance(groups, Mapping):
        groups = {}
    if not isinstance(hostvars, Mapping):
        raise _topology.TopologyError("hostvars must be the 'hostvars' mapping (pass hostvars, not %s)" % type(hostvars).__name__)
    return _topology.Topology(groups, HostVarsView(hostvars))


def filter_errors(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Report TopologyError (and the ValueError of input a filter cannot use) as AnsibleFilterError, naming the filter."""

    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except ValueError as exc:  # TopologyError is one
            raise AnsibleFilterError("kaizen.hybrid.%s: %s" % (func.__name__, exc)) from None

    return wrapper
