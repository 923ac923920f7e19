# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/filter/postgresql.py: the wiring over the module_utils (tested there),
error conversion, documentation, and use from a real template."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.filter import postgresql as filters_module
from ansible_collections.kaizen.hybrid.plugins.filter.postgresql import FilterModule

FILTERS = FilterModule().filters()

GROUPS = {
    "all": ["app1", "pg1", "pg2", "pg3"],
    "app": ["app1"],
    "postgres": ["pg1", "pg2", "pg3"],
    "postgres_primary": ["pg1"],
}
HOSTVARS = {host: {"kaizen_address": "192.0.2.%d" % index} for index, host in enumerate(GROUPS["all"], start=10)}


def test_every_filter_is_documented():
    directory = os.path.dirname(filters_module.__file__)
    undocumented = [name for name in FILTERS if not os.path.exists(os.path.join(directory, name + ".yml"))]
    assert not undocumented


def test_filters_over_plain_mappings():
    assert FILTERS["postgresql_topology_problems"](GROUPS, HOSTVARS) == []
    assert FILTERS["postgresql_tuning"](4096, 2)["shared_buffers"] == "1GB"
    assert FILTERS["postgresql_conf_value"](True) == "on"
    assert FILTERS["postgresql_slot_name"]("kaizen-pg-1") == "kaizen_pg_1"
    assert FILTERS["postgresql_synchronous_standby_names"]("pg2", GROUPS, 1) == 'ANY 1 ("pg1", "pg3")'
    assert FILTERS["postgresql_synchronous_standby_names"]("pg2", GROUPS, 1, False) == ""
    rules = FILTERS["postgresql_hba_rules"]("pg1", GROUPS, HOSTVARS, [{"group": "app", "databases": ["kaizen"], "users": ["kaizen_app"]}])
    assert [(r["type"], r["address"]) for r in rules] == [("local", ""), ("hostssl", "192.0.2.10/32")]
    url = FILTERS["postgresql_url"](GROUPS, HOSTVARS, "kaizen", "kaizen_app")
    assert url.startswith("postgresql://kaizen_app@192.0.2.11:5432,192.0.2.12:5432,192.0.2.13:5432/kaizen?target_session_attrs=read-write")
    assert "target_session_attrs=prefer-standby" in FILTERS["postgresql_url"](GROUPS, HOSTVARS, "kaizen", "ro", "prefer-standby")
    assert FILTERS["postgresql_lsn_diff"]("0/20", "0/10") == 16


def test_settings_problems_accepts_describe_config_text():
    text = "work_mem\tuser\tResource Usage / Memory\tINTEGER\t4096\t64\t2147483647\tSets ...\t\n"
    assert FILTERS["postgresql_settings_problems"]({"work_mem": "8MB"}, text) == []
    assert "unknown setting 'work_meme'" in FILTERS["postgresql_settings_problems"]({"work_meme": "8MB"}, text)[0]


def test_replication_decisions():
    fresh = {"running": False, "data_initialized": False}
    assert FILTERS["postgresql_live_primary"]({"pg1": fresh, "pg2": fresh}, "pg1")["primary"] == "pg1"
    primary = {"running": True, "in_recovery": False, "data_initialized": True, "system_identifier": "1", "timeline": 1}
    assert FILTERS["postgresql_replica_action"](fresh, primary)["action"] == "clone"
    states = {"pg2": {"running": True, "in_recovery": True, "receive_lsn": "0/10"},
              "pg3": {"running": True, "in_recovery": True, "receive_lsn": "0/20"}}
    assert FILTERS["postgresql_failover_target"](states, ["pg1", "pg2", "pg3"])["target"] == "pg3"
    ready = FILTERS["postgresql_switchover_ready"]({"current_lsn": "0/20", "replicas": [
        {"application_name": "pg2", "state": "streaming", "replay_lsn": "0/20"}]}, "pg2", 0)
    assert ready["ready"] is True


def test_postmaster_and_a_url_that_follows_a_port_change():
    pid_file = "4242\n/var/lib/postgresql/15/main\n1796290000\n5442\n/var/run/postgresql\n*\n  5432001    12\nready   \n"
    assert FILTERS["postgresql_postmaster"](pid_file)["port"] == 5442
    assert FILTERS["postgresql_postmaster"](None) == {}
    hostvars = {"pg1": {"kaizen_address": "192.0.2.1", "postgresql_port": 5432}, "pg2": {"kaizen_address": "192.0.2.2", "postgresql_port": 5432}}
    url = FILTERS["postgresql_url"]({"postgres": ["pg1", "pg2"]}, hostvars, "kaizen", "app", running_ports={"pg1": 5442, "pg2": ""})
    assert url.startswith("postgresql://app@192.0.2.1:5442,192.0.2.1:5432,192.0.2.2:5432/kaizen?")


@pytest.mark.parametrize("name, args, fragment", [
    ("postgresql_tuning", (0, 2), "kaizen.hybrid.postgresql_tuning: memory_mb"),
    ("postgresql_synchronous_standby_names", ("pg1", GROUPS, 5), "postgresql_synchronous_count is 5"),
    ("postgresql_url", (GROUPS, HOSTVARS, "kaizen", "x", "writable"), "target_session_attrs"),
    ("postgresql_hba_rules", ("pg1", GROUPS, {"pg1": {}}, [{"group": "postgres", "databases": ["x"], "users": ["y"]}]), "no address"),
    ("postgresql_live_primary", ({"pg1": {"running": True, "in_recovery": False}, "pg2": {"running": True, "in_recovery": False}}, "pg1"),
     "split brain"),
    ("postgresql_failover_target", ({}, ["pg1"]), "no running replica"),
    ("postgresql_lsn_diff", ("nonsense", "0/1"), "not a PostgreSQL LSN"),
])
def test_errors_name_the_filter(name, args, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment) as info:
        FILTERS[name](*args)
    assert str(info.value).startswith("kaizen.hybrid.%s:" % name)


def test_topology_problems_replica_without_primary():
    groups = {"postgres": ["pg1", "pg2"], "postgres_replicas": ["pg1", "pg2"]}
    hostvars = {"pg1": {"kaizen_address": "192.0.2.1"}, "pg2": {"kaizen_address": "192.0.2.2"}}
    problems = FILTERS["postgresql_topology_problems"](groups, hostvars)
    assert len(problems) == 1 and "no PostgreSQL primary" in problems[0] and "pg1" in problems[0]
