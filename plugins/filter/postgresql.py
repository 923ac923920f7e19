# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL filters: configuration and replication decisions derived from the inventory and the hosts.

Thin wrappers over ``plugins/module_utils/postgresql_config.py`` and
``plugins/module_utils/postgresql_replication.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import functools
import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.filter.topology import _plain, _topology
from ansible_collections.kaizen.hybrid.plugins.module_utils import postgresql_config as config
from ansible_collections.kaizen.hybrid.plugins.module_utils import postgresql_replication as replication
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import TopologyError, postgres_problems


def _filter_errors(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Report the helpers' errors as AnsibleFilterError, naming the filter."""

    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except (TopologyError, config.ConfigError, replication.ReplicationError, ValueError) as exc:
            raise AnsibleFilterError("kaizen.hybrid.%s: %s" % (func.__name__, exc)) from None

    return wrapper


@_filter_errors
def postgresql_topology_problems(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any]) -> list[str]:
    return postgres_problems(_topology(groups, hostvars))


@_filter_errors
def postgresql_tuning(memory_mb: t.Any, cpus: t.Any, max_connections: t.Any = 100, storage: str = "ssd") -> dict[str, t.Any]:
    return config.tuning(memory_mb, cpus, max_connections, storage)


@_filter_errors
def postgresql_conf_value(value: t.Any) -> str:
    return config.conf_value(value)


@_filter_errors
def postgresql_settings_problems(settings: t.Mapping[str, t.Any], catalogue: t.Any) -> list[str]:
    if isinstance(catalogue, str):
        catalogue = config.parse_describe_config(catalogue)
    return config.settings_problems(_plain(settings) or {}, _plain(catalogue) or [])


@_filter_errors
def postgresql_slot_name(hostname: t.Any) -> str:
    return config.slot_name(hostname)


@_filter_errors
def postgresql_synchronous_standby_names(hostname: str, groups: t.Mapping[str, t.Any], count: t.Any = 1, enabled: bool = True) -> str:
    return config.synchronous_standby_names(str(hostname), _topology(groups, {}), count, bool(enabled))


@_filter_errors
def postgresql_hba_rules(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], access: t.Any,
                         extra_rules: t.Any = None, local_users: t.Any = None) -> list[dict[str, str]]:
    return config.hba_rules(
        _topology(groups, hostvars), str(hostname), _plain(access) or [], _plain(extra_rules) or [],
        _plain(local_users) if local_users is not None else ("postgres",),
    )


@_filter_errors
def postgresql_url(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], dbname: str, user: str,
                   target_session_attrs: str = "read-write", port: t.Any = 5432, password: t.Any = None,
                   use_names: bool = False, sslmode: str = "verify-full", sslrootcert: t.Any = None,
                   connect_timeout: t.Any = 3, application_name: t.Any = None, group: str = "postgres") -> str:
    return config.libpq_url(
        _topology(groups, hostvars), str(dbname), str(user), str(target_session_attrs), port=port,
        password=password or None, use_names=bool(use_names), sslmode=str(sslmode), sslrootcert=sslrootcert or None,
        connect_timeout=connect_timeout, application_name=application_name or None, group=str(group),
    )


@_filter_errors
def postgresql_live_primary(states: t.Mapping[str, t.Any], inventory_primary: str) -> dict[str, t.Any]:
    return replication.live_primary(_plain(states) or {}, str(inventory_primary))


@_filter_errors
def postgresql_replica_action(state: t.Mapping[str, t.Any], primary_state: t.Mapping[str, t.Any]) -> dict[str, str]:
    return replication.replica_action(_plain(primary_state) or {}, _plain(state) or {})


@_filter_errors
def postgresql_failover_target(states: t.Mapping[str, t.Any], order: t.Any, requested: t.Any = None, force: bool = False) -> dict[str, t.Any]:
    return replication.failover_target(_plain(states) or {}, [str(host) for host in (order or [])], requested or None, bool(force))


@_filter_errors
def postgresql_switchover_ready(primary_state: t.Mapping[str, t.Any], target: str, max_lag_bytes: t.Any = 0) -> dict[str, t.Any]:
    return replication.switchover_ready(_plain(primary_state) or {}, str(target), int(max_lag_bytes))


@_filter_errors
def postgresql_restart_order(pending: t.Mapping[str, t.Any], primary: str, hosts: t.Any) -> dict[str, t.Any]:
    return replication.restart_order(_plain(pending) or {}, str(primary), [str(host) for host in (hosts or [])])


@_filter_errors
def postgresql_verify(states: t.Mapping[str, t.Any], hosts: t.Any, max_lag_bytes: t.Any = 16 << 20, synchronous_count: t.Any = 0) -> dict[str, t.Any]:
    members = [str(host) for host in (hosts or [])]
    return replication.verify_cluster(_plain(states) or {}, members, {host: config.slot_name(host) for host in members},
                                      int(max_lag_bytes), int(synchronous_count))


@_filter_errors
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
            "postgresql_switchover_ready": postgresql_switchover_ready,
            "postgresql_restart_order": postgresql_restart_order,
            "postgresql_verify": postgresql_verify,
            "postgresql_lsn_diff": postgresql_lsn_diff,
        }
