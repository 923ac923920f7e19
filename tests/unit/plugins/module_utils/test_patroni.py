# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patroni's configuration from the postgresql role's settings, the shared-settings PATCH, and Patroni's view checked."""

from __future__ import annotations

from ansible_collections.kaizen.hybrid.plugins.module_utils import patroni
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology

SETTINGS = {
    "scope": "kaizen", "namespace": "/kaizen/", "name": "pg1", "address": "10.0.0.11", "listen_addresses": ["localhost", "10.0.0.11"],
    "port": 5432, "api_port": 8008, "etcd_hosts": ["10.0.0.11:2379", "10.0.0.12:2379", "10.0.0.5:2379"],
    "tls": {"cert": "/etc/kaizen/pki/host.crt", "key": "/etc/kaizen/pki/host.key", "ca": "/etc/kaizen/pki/ca.crt"},
    "api_username": "patroni", "api_password": "api-secret", "replication_username": "replicator", "replication_password": "repl-secret",
    "data_dir": "/var/lib/postgresql/15/main", "config_dir": "/etc/postgresql/15/main", "bin_dir": "/usr/lib/postgresql/15/bin",
    "socket_dir": "/var/run/postgresql", "custom_conf": "/etc/postgresql/15/main/kaizen.conf",
    "hba_file": "/etc/postgresql/15/main/pg_hba.conf", "ident_file": "/etc/postgresql/15/main/pg_ident.conf",
    "pgpass": "/var/lib/postgresql/.pgpass-patroni",
    "ttl": 20, "loop_wait": 3, "retry_timeout": 5, "maximum_lag_on_failover": 1048576, "failsafe_mode": False,
    "synchronous": True, "synchronous_count": 1, "parameters": {"max_connections": 120, "wal_level": "replica"},
}


def test_settings_split_between_the_shared_configuration_and_the_role_file():
    shared, local = patroni.split_parameters({"max_connections": 120, "wal_level": "replica", "shared_buffers": "128MB",
                                              "port": 5432, "synchronous_standby_names": "ANY 1 (a)", "hba_file": "/x"})
    assert shared == {"max_connections": 120, "wal_level": "replica"}
    assert local == {"shared_buffers": "128MB"}


def test_a_member_configuration():
    config = patroni.config(SETTINGS)
    assert config["scope"] == "kaizen" and config["name"] == "pg1"
    assert config["restapi"]["listen"] == "10.0.0.11:8008" and config["restapi"]["authentication"]["password"] == "api-secret"
    assert config["etcd3"] == {"hosts": SETTINGS["etcd_hosts"], "protocol": "https", "cacert": "/etc/kaizen/pki/ca.crt",
                               "cert": "/etc/kaizen/pki/host.crt", "key": "/etc/kaizen/pki/host.key"}
    pg = config["postgresql"]
    assert pg["listen"] == "localhost,10.0.0.11:5432" and pg["connect_address"] == "10.0.0.11:5432"
    assert pg["custom_conf"].endswith("kaizen.conf") and pg["parameters"]["hba_file"].endswith("pg_hba.conf")
    assert pg["authentication"]["superuser"] == {"username": "postgres"}
    assert pg["authentication"]["replication"]["sslmode"] == "verify-full"
    # Patroni's replication connections to its own server use the socket: "localhost" is in no host certificate.
    assert pg["use_unix_socket"] is True and pg["use_unix_socket_repl"] is True
    dcs = config["bootstrap"]["dcs"]
    assert dcs["ttl"] == 20 and dcs["synchronous_mode"] is True and dcs["synchronous_node_count"] == 1
    assert dcs["postgresql"] == {"use_pg_rewind": True, "use_slots": True, "parameters": {"max_connections": 120, "wal_level": "replica"}}
    assert "synchronous_node_count" not in patroni.config(dict(SETTINGS, synchronous=False))["bootstrap"]["dcs"]


def test_the_patch_holds_only_what_differs():
    wanted = patroni.dcs(SETTINGS)
    current = {"ttl": 20, "loop_wait": 3, "retry_timeout": 5, "maximum_lag_on_failover": 1048576, "synchronous_mode": True,
               "synchronous_mode_strict": False, "failsafe_mode": False, "synchronous_node_count": 1,
               "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": {"max_connections": "120", "wal_level": "replica"}}}
    assert patroni.dcs_changes(current, wanted) == {}
    current["loop_wait"] = 10
    current["postgresql"]["parameters"]["max_connections"] = 100
    assert patroni.dcs_changes(current, wanted) == {"loop_wait": 3, "postgresql": {"parameters": {"max_connections": 120}}}
    assert patroni.dcs_changes({}, wanted)["postgresql"]["use_slots"] is True


def test_members_and_their_rest_api():
    topology = Topology({"postgres": ["pg1", "pg2"]}, {"pg1": {"kaizen_address": "10.0.0.11"},
                                                       "pg2": {"kaizen_address": "2001:db8::2", "postgresql_patroni_api_port": 9008,
                                                               "postgresql_port": 5433}})
    assert patroni.members(topology) == [
        {"name": "pg1", "address": "10.0.0.11", "port": 5432, "api_port": 8008, "api_url": "https://10.0.0.11:8008"},
        {"name": "pg2", "address": "2001:db8::2", "port": 5433, "api_port": 9008, "api_url": "https://[2001:db8::2]:9008"}]


def test_patronis_view_checked():
    view = {"members": [{"name": "pg1", "role": "leader", "state": "running", "timeline": 3},
                        {"name": "pg2", "role": "sync_standby", "state": "streaming", "lag": 0},
                        {"name": "pg3", "role": "replica", "state": "stopped", "lag": None}]}
    verdict = patroni.verify_view({"pg1": {}, "pg2": view}, ["pg1", "pg2", "pg3"])
    assert verdict["leader"] == "pg1"
    assert verdict["problems"] == ["pg3: Patroni reports PostgreSQL stopped"]
    assert verdict["summary"] == ["pg1: leader, running", "pg2: sync_standby, streaming, lag 0 bytes", "pg3: replica, stopped, lag unknown bytes"]
    assert patroni.verify_view({}, ["pg1"])["problems"] == ["Patroni: no member's REST API answered (pg1)"]
    headless = patroni.verify_view({"pg1": {"members": [{"name": "pg1", "role": "replica", "state": "running"}], "pause": True}}, ["pg1", "pg2"])
    assert headless["problems"] == ["Patroni: no leader", "pg2: not a member of the Patroni cluster (Patroni does not run it, or it cannot reach etcd)",
                                    "Patroni: the cluster is paused (no automatic failover); resume it with patronictl resume"]


def test_patroni_settings_problems():
    good = {"ttl": 20, "loop_wait": 3, "retry_timeout": 5, "maximum_lag_on_failover": 1048576, "api_port": 8008}
    assert patroni.settings_problems(good) == []
    assert patroni.settings_problems(dict(good, ttl=10))[0].startswith("postgresql_patroni_ttl is 10; Patroni's leader lock cannot be shorter than 20")
    assert "exceeds postgresql_patroni_ttl" in patroni.settings_problems(dict(good, loop_wait=10, retry_timeout=6))[0]
    assert patroni.settings_problems(dict(good, api_port="x"))[0] == "postgresql_patroni_api_port is 'x'; it must be a whole number"
