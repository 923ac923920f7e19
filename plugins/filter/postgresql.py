# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL filters: configuration and replication decisions derived from the inventory and the hosts.

Thin wrappers over ``plugins/module_utils/postgresql_config.py`` and
``plugins/module_utils/postgresql_replication.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

config = module_utils("postgresql_config")
replication = module_utils("postgresql_replication")
_topology_checks = module_utils("topology_checks")


@filter_errors
def postgresql_topology_problems(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return _topology_checks.postgres_problems(topology_of(groups, hostvars))


@filter_errors
def postgresql_tuning(memory_mb: t.Any, cpus: t.Any, max_connections: t.Any = 100, storage: str = "ssd") -> dict[str, t.Any]:
    return config.tuning(memory_mb, cpus, max_connections, storage)


@filter_errors
def postgresql_conf_value(value: t.Any) -> str:
    return config.conf_value(value)


@filter_errors
def postgresql_settings_problems(settings: t.Mapping[str, t.Any], catalogue: t.Any) -> list[str]:
    if isinstance(catalogue, str):
        catalogue = config.parse_describe_config(catalogue)
    return config.settings_problems(plain(settings) or {}, plain(catalogue) or [])


@filter_errors
def postgresql_slot_name(hostname: t.Any) -> str:
    return config.slot_name(hostname)


@filter_errors
def postgresql_synchronous_standby_names(hostname: str, groups: t.Mapping[str, t.Any], count: t.Any = 1, enabled: bool = True) -> str:
    return config.synchronous_standby_names(str(hostname), topology_of(groups, {}), count, bool(enabled))


@filter_errors
def postgresql_hba_rules(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], access: t.Any,
                         extra_rules: t.Any = None, local_users: t.Any = None) -> list[dict[str, str]]:
    return config.hba_rules(
        topology_of(groups, hostvars), str(hostname), plain(access) or [], plain(extra_rules) or [],
        plain(local_users) if local_users is not None else ("postgres",),
    )


@filter_errors
def postgresql_url(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], dbname: str, user: str,
                   target_session_attrs: str = "read-write", port: t.Any = None, password: t.Any = None,
                   use_names: bool = False, sslmode: str = "verify-full", sslrootcert: t.Any = None,
                   connect_timeout: t.Any = 3, application_name: t.Any = None, group: str = "postgres",
                   running_ports: t.Any = None) -> str:
    return config.libpq_url(
        topology_of(groups, hostvars), str(dbname), str(user), str(target_session_attrs), port=port,
        password=password or None, use_names=bool(use_names), sslmode=str(sslmode), sslrootcert=sslrootcert or None,
        connect_timeout=connect_timeout, application_name=application_name or None, group=str(group),
        running_ports=plain(running_ports) or None,
    )


@filter_errors
def postgresql_live_primary(states: t.Mapping[str, t.Any], inventory_primary: str) -> dict[str, t.Any]:
    return replication.live_primary(plain(states) or {}, str(inventory_primary))


@filter_errors
def postgresql_replica_action(state: t.Mapping[str, t.Any], primary_state: t.Mapping[str, t.Any]) -> dict[str, str]:
    return replication.replica_action(plain(primary_state) or {}, plain(state) or {})


@filter_errors
def postgresql_failover_target(states: t.Mapping[str, t.Any], order: t.Any, requested: t.Any = None, force: bool = False) -> dict[str, t.Any]:
    return replication.failover_target(plain(states) or {}, [str(host) for host in (order or [])], requested or None, bool(force))


@filter_errors
def postgresql_failover_plan(inspected: t.Mapping[str, t.Any], order: t.Any, requested: t.Any = None, force: t.Any = False) -> dict[str, t.Any]:
    return replication.failover_plan(plain(inspected) or {}, [str(host) for host in (order or [])], requested or None, boolean(force))


@filter_errors
def postgresql_switchover_ready(primary_state: t.Mapping[str, t.Any], target: str, max_lag_bytes: t.Any = 0) -> dict[str, t.Any]:
    return replication.switchover_ready(plain(primary_state) or {}, str(target), int(max_lag_bytes))


@filter_errors
def postgresql_restart_order(pending: t.Mapping[str, t.Any], primary: str, hosts: t.Any, patroni: t.Any = False) -> dict[str, t.Any]:
    return replication.restart_order(plain(pending) or {}, str(primary), [str(host) for host in (hosts or [])], boolean(patroni, strict=False))


@filter_errors
def postgresql_verify(states: t.Mapping[str, t.Any], hosts: t.Any, max_lag_bytes: t.Any = 16 << 20, synchronous_count: t.Any = 0) -> dict[str, t.Any]:
    members = [str(host) for host in (hosts or [])]
    return replication.verify_cluster(plain(states) or {}, members, {host: config.slot_name(host) for host in members},
                                      int(max_lag_bytes), int(synchronous_count))


@filter_errors
def postgresql_postmaster(text: t.Any) -> dict[str, t.Any]:
    return replication.parse_postmaster_pid(str(text or ""))


@filter_errors
def postgresql_lsn_diff(left: t.Any, right: t.Any) -> t.Any:
    return replication.lsn_diff(left, right)


class FilterModule:
    """kaizen.hybrid PostgreSQL filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "postgresql_topology_problems": postgresql_topology_problems,
            "postgresql_tuning": postgresql_tuning,
            "postgresql_conf_value": postgresql_conf_value,
            "postgresql_settings_problems": postgresql_settings_problems,
            "postgresql_slot_name": postgresql_slot_name,
            "postgresql_synchronous_standby_names": postgresql_synchronous_standby_names,
            "postgresql_hba_rules": postgresql_hba_rules,
            "postgresql_url": postgresql_url,
            "postgresql_live_primary": postgresql_live_primary,
            "postgresql_replica_action": postgresql_replica_action,
            "postgresql_failover_target": postgresql_failover_target,
            "postgresql_failover_plan": postgresql_failover_plan,
            "postgresql_switchover_ready": postgresql_switchover_ready,
            "postgresql_restart_order": postgresql_restart_order,
            "postgresql_verify": postgresql_verify,
            "postgresql_lsn_diff": postgresql_lsn_diff,
            "postgresql_postmaster": postgresql_postmaster,
        }
