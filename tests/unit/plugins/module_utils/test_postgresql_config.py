# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/postgresql_config.py: tuning, settings checks, pg_hba rules,
synchronous standby names and client URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils import postgresql_config as pc
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError

GROUPS = {
    "all": ["lb1", "app1", "app2", "pg1", "pg2", "pg3", "mon1"],
    "app": ["app1", "app2"],
    "postgres": ["pg1", "pg2", "pg3"],
    "postgres_primary": ["pg1"],
    "monitoring": ["mon1"],
    "backup": ["mon1"],
}
ADDRESSES = {"lb1": "192.0.2.10", "app1": "192.0.2.21", "app2": "192.0.2.22", "pg1": "192.0.2.31",
             "pg2": "192.0.2.32", "pg3": "2001:db8::33", "mon1": "192.0.2.41"}
HOSTVARS = {host: {"kaizen_address": address} for host, address in ADDRESSES.items()}
TOPOLOGY = Topology(GROUPS, HOSTVARS)

ACCESS = [
    {"group": "postgres", "peers": True, "databases": ["replication", "postgres"], "users": ["replicator"]},
    {"group": "app", "databases": ["kaizen"], "users": ["kaizen_owner", "kaizen_app", "kaizen_readonly"]},
    {"group": "monitoring", "databases": ["postgres", "kaizen"], "users": ["kaizen_monitoring"]},
    {"group": "backup", "databases": ["replication", "postgres"], "users": ["kaizen_backup"]},
]

# pg_settings rows as the server gives them (a few)
CATALOGUE = [
    {"name": "shared_buffers", "context": "postmaster", "vartype": "integer", "min_val": "16", "max_val": "1073741823", "enumvals": None},
    {"name": "max_connections", "context": "postmaster", "vartype": "integer", "min_val": "1", "max_val": "262143", "enumvals": None},
    {"name": "work_mem", "context": "user", "vartype": "integer", "min_val": "64", "max_val": "2147483647", "enumvals": None},
    {"name": "random_page_cost", "context": "user", "vartype": "real", "min_val": "0", "max_val": "1.79769e+308", "enumvals": None},
    {"name": "hot_standby", "context": "postmaster", "vartype": "bool", "min_val": None, "max_val": None, "enumvals": None},
    {"name": "wal_level", "context": "postmaster", "vartype": "enum", "min_val": None, "max_val": None,
     "enumvals": ["minimal", "replica", "logical"]},
    {"name": "ssl_min_protocol_version", "context": "sighup", "vartype": "enum", "min_val": None, "max_val": None,
     "enumvals": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]},
    {"name": "log_line_prefix", "context": "sighup", "vartype": "string", "min_val": None, "max_val": None, "enumvals": None},
]


# --- tuning ----------------------------------------------------------------------

def test_tuning_for_a_16_gb_8_cpu_host():
    result = pc.tuning(16384, 8)
    assert result["shared_buffers"] == "4GB"
    assert result["effective_cache_size"] == "12GB"
    assert result["maintenance_work_mem"] == "1GB"
    # (16384 - 4096) / (100 * 3) / 4 workers per gather = 10 MB
    assert result["work_mem"] == "10MB"
    assert result["wal_buffers"] == "16MB"
    assert result["min_wal_size"] == "1GB" and result["max_wal_size"] == "4GB"
    assert result["max_worker_processes"] == 8
    assert result["max_parallel_workers"] == 8
    assert result["max_parallel_workers_per_gather"] == 4
    assert result["random_page_cost"] == 1.1 and result["effective_io_concurrency"] == 200
    assert result["max_connections"] == 100


def test_tuning_small_host_has_floors():
    result = pc.tuning(512, 1, max_connections=200, storage="hdd")
    assert result["shared_buffers"] == "128MB"
    assert result["work_mem"] == "4MB"
    assert result["maintenance_work_mem"] == "64MB"
    assert result["min_wal_size"] == "256MB" and result["max_wal_size"] == "1GB"
    assert result["max_parallel_workers_per_gather"] == 1
    assert result["random_page_cost"] == 4.0 and result["effective_io_concurrency"] == 2
    assert result["max_worker_processes"] == 8


def test_tuning_large_host_has_caps():
    result = pc.tuning(256 * 1024, 64, max_connections="300")
    assert result["shared_buffers"] == "16GB"
    assert result["maintenance_work_mem"] == "2GB"
    assert result["max_worker_processes"] == 64
    assert result["max_connections"] == 300


def test_tuning_accepts_strings_from_facts():
    assert pc.tuning("2048", "2") == pc.tuning(2048, 2)


@pytest.mark.parametrize("args, message", [
    ((0, 2), "memory_mb"),
    (("lots", 2), "memory_mb"),
    ((1024, True), "cpus"),
    ((1024, 2, -5), "max_connections"),
    ((1024, 2, 100, "nvme"), "storage"),
])
def test_tuning_rejects_bad_input(args, message):
    with pytest.raises(pc.ConfigError, match=message):
        pc.tuning(*args)


@pytest.mark.parametrize("megabytes, text", [(0.5, "512kB"), (1, "1MB"), (640, "640MB"), (1024, "1GB"), (1536, "1536MB"), (16384, "16GB")])
def test_format_size(megabytes, text):
    assert pc.format_size_mb(megabytes) == text


@pytest.mark.parametrize("value, text", [
    (True, "on"), (False, "off"), (100, "100"), (0.9, "0.9"), ("4GB", "'4GB'"),
    ("it's", "'it''s'"), ("a\\b", "'a\\\\b'"), (["a", "b"], "'a, b'"), (None, "''"),
    ("%m [%p] %q%u@%d ", "'%m [%p] %q%u@%d '"),
])
def test_conf_value(value, text):
    assert pc.conf_value(value) == text


# --- settings against the catalogue --------------------------------------------------

def test_settings_problems_accepts_good_settings():
    settings = {"shared_buffers": "256MB", "max_connections": 100, "work_mem": "4MB", "random_page_cost": 1.1,
                "hot_standby": True, "wal_level": "replica", "ssl_min_protocol_version": "TLSv1.2",
                "log_line_prefix": "%m ", "pg_stat_statements.max": 1000}
    assert pc.settings_problems(settings, CATALOGUE) == []


def test_settings_problems_names_unknown_settings_with_a_hint():
    problems = pc.settings_problems({"shared_bufers": "1GB", "no_such_thing": 1}, CATALOGUE)
    assert problems == [
        "unknown setting 'no_such_thing': PostgreSQL has no parameter of that name",
        "unknown setting 'shared_bufers' (did you mean shared_buffers?): PostgreSQL has no parameter of that name",
    ]


@pytest.mark.parametrize("settings, fragment", [
    ({"hot_standby": "maybe"}, "must be a boolean"),
    ({"wal_level": "archive"}, "allowed values: minimal, replica, logical"),
    ({"max_connections": 0}, "between 1 and 262143"),
    ({"max_connections": "lots"}, "must be a number"),
    ({"max_connections": 10.5}, "must be an integer"),
    ({"shared_buffers": "1 parsec"}, "not a PostgreSQL unit"),
    ({"bad name": 1}, "not a valid setting name"),
])
def test_settings_problems_values(settings, fragment):
    problems = pc.settings_problems(settings, CATALOGUE)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_settings_problems_needs_a_catalogue():
    with pytest.raises(pc.ConfigError, match="catalogue is empty"):
        pc.settings_problems({"work_mem": "4MB"}, [])


def test_parse_describe_config():
    text = ("shared_buffers\tpostmaster\tResource Usage / Memory\tINTEGER\t1024\t16\t1073741823\tSets ...\t\n"
            "hot_standby\tpostmaster\tReplication / Standby Servers\tBOOLEAN\ttrue\t\t\tAllows ...\t\n"
            "broken line\n")
    rows = pc.parse_describe_config(text)
    assert [row["name"] for row in rows] == ["shared_buffers", "hot_standby"]
    assert rows[0]["vartype"] == "integer" and rows[0]["min_val"] == "16"
    assert rows[1]["vartype"] == "bool" and rows[1]["min_val"] is None
    assert pc.settings_problems({"hot_standby": "on", "shared_buffers": "1GB"}, rows) == []
    assert "must be a boolean" in pc.settings_problems({"hot_standby": "sometimes"}, rows)[0]
    assert "unknown setting" in pc.settings_problems({"shared_bufers": 1}, rows)[0]


# --- names ---------------------------------------------------------------------------

@pytest.mark.parametrize("host, slot", [("pg1", "pg1"), ("kaizen-mol-pg-2", "kaizen_mol_pg_2"), ("DB.Example.com", "db_example_com"),
                                        ("1db", "h_1db"), ("x" * 80, "x" * 63)])
def test_slot_name(host, slot):
    assert pc.slot_name(host) == slot


def test_synchronous_standby_names():
    assert pc.synchronous_standby_names("pg1", TOPOLOGY, 1) == 'ANY 1 ("pg2", "pg3")'
    assert pc.synchronous_standby_names("pg2", TOPOLOGY, 2) == 'ANY 2 ("pg1", "pg3")'
    assert pc.synchronous_standby_names("pg1", TOPOLOGY, 1, enabled=False) == ""
    single = Topology({"postgres": ["pg1"]}, {})
    assert pc.synchronous_standby_names("pg1", single, 1) == ""
    with pytest.raises(pc.ConfigError, match="postgresql_synchronous_count is 3 but pg1 has only 2"):
        pc.synchronous_standby_names("pg1", TOPOLOGY, 3)
    with pytest.raises(pc.ConfigError, match="positive integer"):
        pc.synchronous_standby_names("pg1", TOPOLOGY, 0)


# --- pg_hba ----------------------------------------------------------------------------

def test_hba_rules_for_the_primary():
    rules = pc.hba_rules(TOPOLOGY, "pg1", ACCESS)
    lines = [(r["type"], r["database"], r["user"], r["address"], r["method"]) for r in rules]
    assert lines == [
        ("local", "all", "postgres", "", "peer"),
        ("hostssl", "replication,postgres", "replicator", "192.0.2.32/32", "scram-sha-256"),
        ("hostssl", "replication,postgres", "replicator", "2001:db8::33/128", "scram-sha-256"),
        ("hostssl", "kaizen", "kaizen_owner,kaizen_app,kaizen_readonly", "192.0.2.21/32", "scram-sha-256"),
        ("hostssl", "kaizen", "kaizen_owner,kaizen_app,kaizen_readonly", "192.0.2.22/32", "scram-sha-256"),
        ("hostssl", "postgres,kaizen", "kaizen_monitoring", "192.0.2.41/32", "scram-sha-256"),
        ("hostssl", "replication,postgres", "kaizen_backup", "192.0.2.41/32", "scram-sha-256"),
    ]
    assert rules[1]["comment"] == "postgres: pg2"


def test_hba_rules_are_remote_tls_and_scram_only():
    rules = pc.hba_rules(TOPOLOGY, "pg2", ACCESS)
    remote = [r for r in rules if r["type"] != "local"]
    assert remote and all(r["type"] == "hostssl" and r["method"] == "scram-sha-256" for r in remote)
    assert not any(r["address"] in ("0.0.0.0/0", "::/0", "all") for r in remote)
    # every peer but itself may replicate from it (it may become the primary)
    assert [r["address"] for r in remote if r["user"] == "replicator"] == ["192.0.2.31/32", "2001:db8::33/128"]


def test_hba_rules_single_instance_and_missing_groups():
    single = Topology({"postgres": ["db"], "app": ["db"]}, {"db": {"kaizen_address": "10.0.0.5"}})
    rules = pc.hba_rules(single, "db", ACCESS)
    assert [(r["database"], r["address"]) for r in rules if r["type"] == "hostssl"] == [("kaizen", "10.0.0.5/32")]


def test_hba_rules_extra_rules():
    extra = [{"database": "kaizen", "user": "kaizen_app", "address": "198.51.100.0/24", "comment": "office"},
             {"type": "host", "database": "all", "user": "all", "address": "0.0.0.0/0", "method": "reject"}]
    rules = pc.hba_rules(TOPOLOGY, "pg1", ACCESS, extra)
    assert rules[-2] == {"type": "hostssl", "database": "kaizen", "user": "kaizen_app", "address": "198.51.100.0/24",
                         "method": "scram-sha-256", "comment": "office"}
    assert rules[-1]["method"] == "reject"


def test_hba_rules_local_extra_rule_is_password_only():
    rules = pc.hba_rules(TOPOLOGY, "pg1", ACCESS, [{"type": "local", "database": "replication", "user": "replicator"}])
    assert rules[-1] == {"type": "local", "database": "replication", "user": "replicator", "address": "",
                         "method": "scram-sha-256", "comment": "postgresql_hba_extra_rules[0]"}
    with pytest.raises(pc.ConfigError, match="scram-sha-256"):
        pc.hba_rules(TOPOLOGY, "pg1", ACCESS, [{"type": "local", "database": "all", "user": "x", "method": "trust"}])


@pytest.mark.parametrize("rule, fragment", [
    ({"type": "host", "database": "kaizen", "user": "x", "address": "10.0.0.0/8"}, "TLS only"),
    ({"database": "kaizen", "user": "x", "address": "10.0.0.0/8", "method": "trust"}, "scram-sha-256"),
    ({"database": "kaizen", "user": "x", "address": "everywhere"}, "not a CIDR"),
    ({"database": "", "user": "x", "address": "10.0.0.0/8"}, "empty"),
    ({"database": "kaizen; drop", "user": "x", "address": "10.0.0.0/8"}, "not a plain"),
    ("hostssl all all", "must be a mapping"),
])
def test_hba_rules_bad_extra_rules(rule, fragment):
    with pytest.raises(pc.ConfigError, match=fragment):
        pc.hba_rules(TOPOLOGY, "pg1", ACCESS, [rule])


def test_hba_rules_host_without_address():
    topology = Topology({"postgres": ["pg1", "pg2"]}, {"pg1": {"kaizen_address": "10.0.0.1"}, "pg2": {}})
    with pytest.raises(TopologyError, match="pg2: no address"):
        pc.hba_rules(topology, "pg1", ACCESS)


# --- client URLs -------------------------------------------------------------------------

def test_libpq_url_read_write():
    url = pc.libpq_url(TOPOLOGY, "kaizen", "kaizen_app", sslrootcert="/etc/kaizen/pki/ca.crt")
    assert url.startswith("postgresql://kaizen_app@192.0.2.31:5432,192.0.2.32:5432,[2001:db8::33]:5432/kaizen?")
    query = parse_qs(urlsplit(url).query)
    assert query == {"target_session_attrs": ["read-write"], "sslmode": ["verify-full"],
                     "sslrootcert": ["/etc/kaizen/pki/ca.crt"], "connect_timeout": ["3"]}


def test_libpq_url_prefer_standby_with_names_and_password():
    url = pc.libpq_url(TOPOLOGY, "kaizen", "kaizen_readonly", "prefer-standby", port=6432, password="p@ss:w/rd",
                       use_names=True, application_name="kaizen app", connect_timeout=None)
    assert url.startswith("postgresql://kaizen_readonly:p%40ss%3Aw%2Frd@pg1:6432,pg2:6432,pg3:6432/kaizen?")
    query = parse_qs(urlsplit(url).query)
    assert query["target_session_attrs"] == ["prefer-standby"]
    assert query["application_name"] == ["kaizen app"]
    assert "connect_timeout" not in query


def test_libpq_url_takes_each_hosts_own_port():
    """A non-default postgresql_port reaches the app's URL (it named 5432 whatever the servers listened on)."""
    topology = Topology({"postgres": ["pg1", "pg2"]}, {"pg1": {"kaizen_address": "192.0.2.31", "postgresql_port": 6543},
                                                       "pg2": {"kaizen_address": "192.0.2.32", "postgresql_port": "6544"}})
    assert pc.libpq_url(topology, "kaizen", "app").startswith("postgresql://app@192.0.2.31:6543,192.0.2.32:6544/kaizen?")
    assert pc.libpq_url(topology, "kaizen", "app", port=5000).startswith("postgresql://app@192.0.2.31:5000,192.0.2.32:5000/kaizen?")
    with pytest.raises(ValueError, match="postgresql_port of pg1 is 'x'"):
        pc.libpq_url(Topology({"postgres": ["pg1"]}, {"pg1": {"kaizen_address": "192.0.2.31", "postgresql_port": "x"}}), "kaizen", "app")
    with pytest.raises(pc.ConfigError, match="port is 'x'"):
        pc.libpq_url(topology, "kaizen", "app", port="x")


def test_libpq_url_during_a_port_change_lists_the_running_port_first():
    """Given before the restart, the URL reaches each server on its old port; after, on its new one."""
    running = {"pg1": 5432, "pg2": "5442", "pg3": ""}
    url = pc.libpq_url(TOPOLOGY, "kaizen", "app", running_ports=running)
    # pg1 and pg3 run where they are configured; pg2 still runs on 5442 (its configuration says 5432).
    assert url.startswith("postgresql://app@192.0.2.31:5432,192.0.2.32:5442,192.0.2.32:5432,[2001:db8::33]:5432/kaizen?")
    # An explicit port (HAProxy's) is not the servers' port: nothing is added.
    assert pc.libpq_url(TOPOLOGY, "kaizen", "app", port=5000, running_ports=running).startswith(
        "postgresql://app@192.0.2.31:5000,192.0.2.32:5000,[2001:db8::33]:5000/kaizen?")
    # Once every server runs where it is configured the URL is the plain one.
    assert pc.libpq_url(TOPOLOGY, "kaizen", "app", running_ports={"pg1": 5432, "pg2": 5432}) == pc.libpq_url(TOPOLOGY, "kaizen", "app")
    with pytest.raises(pc.ConfigError, match="running port is 'x'"):
        pc.libpq_url(TOPOLOGY, "kaizen", "app", running_ports={"pg1": "x"})


def test_libpq_url_errors():
    with pytest.raises(pc.ConfigError, match="target_session_attrs"):
        pc.libpq_url(TOPOLOGY, "kaizen", "x", "writable")
    with pytest.raises(pc.ConfigError, match="group postgres has no hosts"):
        pc.libpq_url(Topology({}, {}), "kaizen", "x")


def test_libpq_url_is_accepted_by_libpq():
    psycopg = pytest.importorskip("psycopg")
    url = pc.libpq_url(TOPOLOGY, "kaizen", "kaizen_app", sslrootcert="/tmp/ca.crt")
    info = psycopg.conninfo.conninfo_to_dict(url)
    assert info["host"] == "192.0.2.31,192.0.2.32,2001:db8::33"
    assert info["port"] == "5432,5432,5432"
    assert info["target_session_attrs"] == "read-write"
    assert info["dbname"] == "kaizen" and info["user"] == "kaizen_app"
