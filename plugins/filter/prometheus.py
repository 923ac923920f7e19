# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus filters: scrape targets and Alertmanagers from the inventory, the role's settings checks.

Thin wrappers over ``plugins/module_utils/monitoring.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

monitoring = module_utils("monitoring")


@filter_errors
def prometheus_scrape_configs(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any],
                              settings: t.Any = None) -> list[dict[str, t.Any]]:
    return monitoring.scrape_configs(topology_of(groups, hostvars), plain(settings) or {})


@filter_errors
def prometheus_alertmanagers(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return monitoring.alertmanager_targets(topology_of(groups, hostvars))


def prometheus_target_count(configs: t.Any) -> int:
    return monitoring.target_count(plain(configs) or [])


def prometheus_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return monitoring.settings_problems(plain(settings) or {})


def prometheus_alert_settings_problems(overrides: t.Any, defaults: t.Mapping[str, t.Any]) -> list[str]:
    if not isinstance(plain(overrides), dict):
        return ["prometheus_alert_settings must be a mapping of alert settings, not %r" % (overrides,)]
    return monitoring.alert_settings_problems(plain(defaults) or {}, plain(overrides))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "prometheus_scrape_configs": prometheus_scrape_configs,
            "prometheus_alertmanagers": prometheus_alertmanagers,
            "prometheus_target_count": prometheus_target_count,
            "prometheus_settings_problems": prometheus_settings_problems,
            "prometheus_alert_settings_problems": prometheus_alert_settings_problems,
        }
