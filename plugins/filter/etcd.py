# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL high-availability filters: the mode (Patroni or manual) and the etcd cluster Patroni uses.

Thin wrappers over ``plugins/module_utils/topology.py`` and ``etcd.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

etcd = module_utils("etcd")


@filter_errors
def postgres_ha_mode(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return topology_of(groups, hostvars).postgres_ha_mode()


@filter_errors
def etcd_members(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return topology_of(groups, hostvars).etcd_members()


@filter_errors
def etcd_cluster(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    return etcd.cluster(topology_of(groups, hostvars))


@filter_errors
def etcd_initial_cluster(members: t.Any) -> str:
    return etcd.initial_cluster(plain(members) or [])


def etcd_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return etcd.settings_problems(plain(settings) or {})


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "postgres_ha_mode": postgres_ha_mode,
            "etcd_members": etcd_members,
            "etcd_cluster": etcd_cluster,
            "etcd_initial_cluster": etcd_initial_cluster,
            "etcd_settings_problems": etcd_settings_problems,
        }
