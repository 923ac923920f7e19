# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/redis_wiring.py: the app's connection settings and maxmemory."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError
from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_wiring import (
    DEFAULT_CA_FILE,
    ROLE_DEFAULTS,
    app_connection,
    key_prefix,
    maxmemory,
    sentinel_endpoints,
    verify,
)

ROLE_DEFAULTS_FILE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "redis" / "defaults" / "main.yml"

GROUPS = {
    "all": ["r1", "r2", "r3", "mon1"],
    "redis": ["r1", "r2", "r3"],
    "redis_primary": ["r2"],
}


def hostvars(**extra):
    result = {host: {"kaizen_address": "192.0.2.%d" % index} for index, host in enumerate(GROUPS["all"], start=1)}
    for host in GROUPS["redis"]:
        result[host]["redis_app_password"] = "app-password-123"
    for host, values in extra.items():
        result[host].update(values)
    return result


def test_role_defaults_match_the_role():
    defaults = yaml.safe_load(ROLE_DEFAULTS_FILE.read_text())
    for name, value in ROLE_DEFAULTS.items():
        assert defaults[name] == value, name
    assert "'%s'" % DEFAULT_CA_FILE in defaults["redis_tls_ca_file"]


def test_app_connection_defaults():
    connection = app_connection(Topology(GROUPS, hostvars()))
    assert connection["master_name"] == "kaizen"
    assert connection["sentinels"] == [{"host": "192.0.2.1", "port": 26379}, {"host": "192.0.2.2", "port": 26379},
                                       {"host": "192.0.2.3", "port": 26379}]
    assert connection["sentinel_addresses"] == "192.0.2.1:26379,192.0.2.2:26379,192.0.2.3:26379"
    assert connection["username"] == connection["sentinel_username"] == "kaizen"
    assert connection["password"] == connection["sentinel_password"] == "app-password-123"
    assert connection["tls"] is True and connection["ca_file"] == DEFAULT_CA_FILE
    assert connection["key_prefix"] == "kaizen:"
    assert connection["env"] == {
        "KAIZEN_REDIS_SENTINELS": "192.0.2.1:26379,192.0.2.2:26379,192.0.2.3:26379",
        "KAIZEN_REDIS_MASTER_NAME": "kaizen",
        "KAIZEN_REDIS_USERNAME": "kaizen",
        "KAIZEN_REDIS_PASSWORD": "app-password-123",
        "KAIZEN_REDIS_SENTINEL_USERNAME": "kaizen",
        "KAIZEN_REDIS_SENTINEL_PASSWORD": "app-password-123",
        "KAIZEN_REDIS_TLS": "true",
        "KAIZEN_REDIS_CA_FILE": DEFAULT_CA_FILE,
        "KAIZEN_REDIS_KEY_PREFIX": "kaizen:",
    }


def test_app_connection_reads_the_primary_settings_and_sentinel_hosts():
    groups = dict(GROUPS, redis_sentinels=["r1", "r3", "mon1"])
    variables = hostvars(r2={"redis_sentinel_master_name": "shop", "redis_app_user": "shop", "redis_tls": "false",
                             "redis_app_key_patterns": ["*"]},
                         mon1={"redis_sentinel_port": 26380}, r1={"redis_tls_ca_file": "{{ pki_ca_cert_path }}"})
    connection = app_connection(Topology(groups, variables), env_prefix="APP_REDIS_")
    assert connection["master_name"] == "shop" and connection["username"] == "shop"
    assert connection["tls"] is False and connection["ca_file"] == ""
    assert connection["key_prefix"] == ""
    assert [s["port"] for s in connection["sentinels"]] == [26379, 26379, 26380]
    assert connection["env"]["APP_REDIS_TLS"] == "false"


def test_app_connection_ca_override():
    assert app_connection(Topology(GROUPS, hostvars()), ca_file="/run/ca.crt")["ca_file"] == "/run/ca.crt"


@pytest.mark.parametrize("groups, variables, message", [
    ({"all": []}, {}, "group redis has no hosts"),
    (GROUPS, {h: {"kaizen_address": "192.0.2.9"} for h in GROUPS["all"]}, "redis_app_password is not defined"),
    (GROUPS, hostvars(r2={"redis_app_password": "CHANGE_ME"}), "r2: redis_app_password is empty or a CHANGE_ME placeholder"),
    (dict(GROUPS, redis_sentinels=[]), hostvars(), "no host runs Redis Sentinel"),
    (GROUPS, hostvars(r2={"redis_tls": "maybe"}), "redis_tls is 'maybe'"),
    (GROUPS, hostvars(r1={"redis_sentinel_port": 0}), "redis_sentinel_port of r1 is 0; it must be a port number"),
])
def test_app_connection_errors(groups, variables, message):
    with pytest.raises(TopologyError) as info:
        app_connection(Topology(groups, variables))
    assert message in str(info.value)


def test_sentinel_endpoints_ipv6():
    variables = hostvars(r1={"kaizen_address": "2001:db8::1"})
    assert sentinel_endpoints(Topology(GROUPS, variables))[0] == {"name": "r1", "host": "2001:db8::1", "port": 26379}
    assert app_connection(Topology(GROUPS, variables))["sentinel_addresses"].startswith("[2001:db8::1]:26379,")


@pytest.mark.parametrize("patterns, prefix", [
    (["kaizen:*"], "kaizen:"), (["*"], ""), ("app:*", "app:"), (["a:x:*", "a:y:*"], "a:"), ([], ""),
    (["cache:[ab]*"], "cache:"), (["exact"], "exact"),
])
def test_key_prefix(patterns, prefix):
    assert key_prefix(patterns) == prefix


@pytest.mark.parametrize("memory, fraction, expected", [(16384, 0.25, "4096mb"), (24105, "0.5", "12052mb"), (100, 0.1, "64mb"),
                                                        (2048, 1, "2048mb")])
def test_maxmemory(memory, fraction, expected):
    assert maxmemory(memory, fraction) == expected


@pytest.mark.parametrize("memory, fraction, message", [(2048, 0, "redis_maxmemory_fraction is 0"),
                                                       (2048, 1.5, "redis_maxmemory_fraction is 1.5"),
                                                       (2048, True, "redis_maxmemory_fraction is True"),
                                                       (2048, "half", "redis_maxmemory_fraction is 'half'"),
                                                       ("lots", 0.5, "memtotal_mb is 'lots'"), (0, 0.5, "memtotal_mb is 0")])
def test_maxmemory_errors(memory, fraction, message):
    with pytest.raises(TopologyError) as info:
        maxmemory(memory, fraction)
    assert message in str(info.value)


# --- verify -------------------------------------------------------------------

ADDRESSES = {"r1": "10.0.0.1", "r2": "10.0.0.2", "r3": "10.0.0.3"}
SENTINELS = {"10.0.0.1:26379": "r1", "10.0.0.2:26379": "r2", "10.0.0.3:26379": "r3"}


def _view(master="10.0.0.2", down=False, sentinels=None):
    answers = sentinels or [dict(address=a, state="answered", master_host=master, master_port=6379) for a in SENTINELS]
    return {"master": {"host": master, "port": 6379, "down": down, "flags": ["master"] + (["s_down"] if down else [])},
            "sentinels": answers, "answered": sum(1 for s in answers if s["state"] == "answered")}


def test_verify_after_a_failover_is_healthy():
    roles = {"r1": {"changed": False, "before": "replica of 10.0.0.2:6379", "link_status": "up"},
             "r2": {"changed": False, "before": "master", "link_status": None},
             "r3": {"changed": False, "before": "replica of 10.0.0.2:6379", "link_status": "up"}}
    result = verify(_view(), roles, ADDRESSES, SENTINELS)
    assert result["master"] == "r2" and result["problems"] == []
    assert result["summary"][0] == "r2: master (10.0.0.2:6379), 3 Sentinel(s) answered"


def test_verify_names_every_problem():
    sentinels = [dict(address="10.0.0.1:26379", state="unreachable", error="connection refused"),
                 dict(address="10.0.0.2:26379", state="answered", master_host="10.0.0.2", master_port=6379),
                 dict(address="10.0.0.3:26379", state="answered", master_host="10.0.0.3", master_port=6379)]
    roles = {"r1": {"unreachable": True, "msg": "Failed to connect"},
             "r2": {"changed": False, "before": "master"},
             "r3": {"changed": True, "before": "master", "after": "replica of 10.0.0.2:6379"}}
    result = verify(_view(sentinels=sentinels, down=True), roles, ADDRESSES, SENTINELS)
    assert result["problems"] == [
        "r1: Sentinel unreachable (connection refused)",
        "r3: Sentinel names 10.0.0.3:6379 as the master, the others 10.0.0.2:6379",
        "r2: the Sentinels see the master down (master, s_down)",
        "r1: did not answer (Failed to connect)",
        "r3: is master, should be replica of 10.0.0.2:6379",
    ]


def test_verify_link_down_and_unknown_master():
    roles = {"r1": {"before": "replica of 10.0.0.2:6379", "link_status": "down"}, "r2": {"before": "master"},
             "r3": {"failed": True, "before": "replica of 10.0.0.1:6379", "msg": "10.0.0.3:6379: WRONGPASS"}}
    assert verify(_view(), roles, ADDRESSES)["problems"] == [
        "r1: replica of the master, but its link is down", "r3: 10.0.0.3:6379: WRONGPASS"]
    roles["r2"] = {"failed": True, "before": "replica of 10.0.0.1:6379", "msg": "not promoted here"}
    assert verify(_view(), roles, ADDRESSES)["problems"][1] == "r2: is replica of 10.0.0.1:6379, should be the master"
    assert verify(_view(master="10.9.9.9"), {}, {"r1": "10.0.0.1"})["problems"][0] == "the Sentinels' master 10.9.9.9:6379 is no host of group redis"
    nobody = {"master": None, "sentinels": [], "answered": 0}
    assert verify(nobody, {}, ADDRESSES) == {"master": None, "problems": ["no Sentinel knows the master (0 answered)"], "summary": []}
