# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis filters: the app's connection settings, ACL rule checks, maxmemory.

Thin wrappers over ``plugins/module_utils/redis_wiring.py`` and
``plugins/module_utils/redis_acl.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

_acl = module_utils("redis_acl")
_wiring = module_utils("redis_wiring")


@filter_errors
def redis_app_connection(
    groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], ca_file: str | None = None, env_prefix: str | None = None
) -> dict[str, t.Any]:
    return _wiring.app_connection(topology_of(groups, hostvars), ca_file=ca_file,
                                  env_prefix=_wiring.ENV_PREFIX if env_prefix is None else env_prefix)


@filter_errors
def redis_sentinel_endpoints(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    return _wiring.sentinel_endpoints(topology_of(groups, hostvars))


def redis_acl_problems(rules: t.Any, variable: str = "rules", mode: str = "server") -> list[str]:
    """Problems of a list of ACL rules, each starting with ``variable``; empty when every rule parses."""
    if mode not in (_acl.SERVER, _acl.SENTINEL):
        raise AnsibleFilterError("kaizen.hybrid.redis_acl_problems: mode must be 'server' or 'sentinel', not %r" % (mode,))
    return ["%s: %s" % (variable, problem) for problem in _acl.rule_problems(rules, mode)]


def redis_acl_user_problems(users: t.Any, variable: str = "users", mode: str = "server") -> list[str]:
    """Problems of a list of users ``[{name, password, rules}]``: names, rules, passwords present (never shown)."""
    if not isinstance(users, (list, tuple)):
        return ["%s must be a list of users ({name, password, rules}), got %s" % (variable, type(users).__name__)]
    problems: list[str] = []
    for index, user in enumerate(users):
        where = "%s[%d]" % (variable, index)
        if not isinstance(user, Mapping):
            problems.append("%s must be a mapping with name, password and rules" % where)
            continue
        name_problem = _acl.username_problem(user.get("name"))
        if name_problem:
            problems.append("%s.name: %s" % (where, name_problem))
        else:
            where = "%s (user %s)" % (where, user["name"])
        password = user.get("password")
        if not isinstance(password, str) or len(password) < 12 or password.startswith("CHANGE_ME"):
            problems.append("%s.password must be a real password of at least 12 characters (not shown)" % where)
        problems.extend(redis_acl_problems(user.get("rules", []), where + ".rules", mode))
    return problems


@filter_errors
def redis_maxmemory(memtotal_mb: t.Any, fraction: t.Any) -> str:
    return _wiring.maxmemory(memtotal_mb, fraction)


@filter_errors
def redis_verify(view: t.Mapping[str, t.Any], roles: t.Mapping[str, t.Any], groups: t.Mapping[str, t.Any],
                 hostvars: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    topology = topology_of(groups, hostvars)
    addresses = {host: topology.address(host) for host in topology.members("redis")}
    sentinels = {"%s:%s" % (item["host"], item["port"]): item["name"] for item in _wiring.sentinel_endpoints(topology)}
    return _wiring.verify(plain(view), plain(roles), addresses, sentinels)


class FilterModule:
    """kaizen.hybrid Redis filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "redis_app_connection": redis_app_connection,
            "redis_sentinel_endpoints": redis_sentinel_endpoints,
            "redis_acl_problems": redis_acl_problems,
            "redis_acl_user_problems": redis_acl_user_problems,
            "redis_maxmemory": redis_maxmemory,
            "redis_verify": redis_verify,
        }
