# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup filters: the pgBackRest repository host, each host's pgbackrest.conf, the backup role's settings, restore targets.

Thin wrappers over ``plugins/module_utils/pgbackrest.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

pgbackrest = module_utils("pgbackrest")


@filter_errors
def pgbackrest_repository(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> str:
    return pgbackrest.repository_host(topology_of(groups, hostvars)) or ""


@filter_errors
def pgbackrest_config(host: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any],
                      settings: t.Mapping[str, t.Any]) -> str:
    return pgbackrest.render(pgbackrest.config(topology_of(groups, hostvars), str(host), plain(settings) or {}))


@filter_errors
def pgbackrest_tls_server(host: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> bool:
    return pgbackrest.tls_server_needed(topology_of(groups, hostvars), str(host))


def backup_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return pgbackrest.settings_problems(plain(settings) or {})


@filter_errors
def backup_s3_environment(settings: t.Mapping[str, t.Any]) -> dict[str, str]:
    return pgbackrest.s3_environment(plain(settings) or {})


@filter_errors
def backup_restore_target(stanza: t.Mapping[str, t.Any], time: t.Any = None, lsn: t.Any = None, latest: t.Any = False,
                          now: t.Any = None) -> dict[str, t.Any]:
    return pgbackrest.restore_target(plain(stanza) or {}, time or None, lsn or None, bool(latest),
                                     float(now) if now not in (None, "") else None)


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "pgbackrest_repository": pgbackrest_repository,
            "pgbackrest_config": pgbackrest_config,
            "pgbackrest_tls_server": pgbackrest_tls_server,
            "backup_settings_problems": backup_settings_problems,
            "backup_restore_target": backup_restore_target,
            "backup_s3_environment": backup_s3_environment,
        }
