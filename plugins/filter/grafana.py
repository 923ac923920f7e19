# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana filters: the role's settings and the dashboards it provisions, checked before any host changes.

Thin wrappers over ``plugins/module_utils/grafana.py`` (settings) and ``grafana_lint.py`` (dashboards); each
filter has its documentation in ``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import module_utils, plain

grafana = module_utils("grafana")
grafana_lint = module_utils("grafana_lint")


def grafana_dashboard_problems(paths: t.Any, datasource_uid: str = grafana_lint.DATASOURCE_UID,
                               datasource_name: t.Any = grafana_lint.DATASOURCE_NAME) -> list[str]:
    if isinstance(paths, str):
        paths = [paths]
    return grafana_lint.dashboard_file_problems(plain(paths) or [], str(datasource_uid), grafana_lint.DATASOURCE_TYPE,
                                                str(datasource_name) if datasource_name else None)


def grafana_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return grafana.settings_problems(plain(settings) or {})


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "grafana_dashboard_problems": grafana_dashboard_problems,
            "grafana_settings_problems": grafana_settings_problems,
        }
