# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patroni filters: a member's configuration and the cluster's shared settings, from the postgresql role's settings.

Thin wrappers over ``plugins/module_utils/patroni.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

patroni = module_utils("patroni")


@filter_errors
def patroni_parameters(settings: t.Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    shared, local = patroni.split_parameters(plain(settings) or {})
    return {"shared": shared, "local": local}


@filter_errors
def patroni_config(settings: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return patroni.config(plain(settings) or {})


@filter_errors
def patroni_dcs_changes(current: t.Mapping[str, t.Any], wanted: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return patroni.dcs_changes(plain(current) or {}, plain(wanted) or {})


@filter_errors
def patroni_members(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    return patroni.members(topology_of(groups, hostvars))


@filter_errors
def patroni_verify(views: t.Mapping[str, t.Any], hosts: t.Any) -> dict[str, t.Any]:
    return patroni.verify_view(plain(views) or {}, [str(host) for host in (hosts or [])])


def patroni_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return patroni.settings_problems(plain(settings) or {})


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "patroni_parameters": patroni_parameters,
            "patroni_config": patroni_config,
            "patroni_dcs_changes": patroni_dcs_changes,
            "patroni_members": patroni_members,
            "patroni_verify": patroni_verify,
            "patroni_settings_problems": patroni_settings_problems,
        }
