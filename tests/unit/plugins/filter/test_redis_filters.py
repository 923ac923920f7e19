# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/filter/redis.py: wiring, error conversion, documentation, and a real template."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.filter.redis import FilterModule

FILTERS = FilterModule().filters()
FILTER_DIR = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter"

GROUPS = {"all": ["r1", "r2", "r3"], "redis": ["r1", "r2", "r3"]}
HOSTVARS = {h: {"kaizen_address": "192.0.2.%d" % i, "redis_app_password": "app-password-123"} for i, h in enumerate(GROUPS["all"], 1)}


def test_filter_names_are_the_contract():
    assert set(FILTERS) == {"redis_app_connection", "redis_sentinel_endpoints", "redis_acl_problems",
                            "redis_acl_user_problems", "redis_maxmemory", "redis_verify"}


def test_redis_verify_maps_inventory_names():
    view = {"master": {"host": "192.0.2.1", "port": 6379, "down": False, "flags": ["master"]}, "answered": 2,
            "sentinels": [{"address": "192.0.2.1:26379", "state": "answered", "master_host": "192.0.2.1", "master_port": 6379},
                          {"address": "192.0.2.2:26379", "state": "answered", "master_host": "192.0.2.1", "master_port": 6379},
                          {"address": "192.0.2.3:26379", "state": "unreachable", "error": "timed out"}]}
    roles = {"r1": {"before": "master"}, "r2": {"before": "replica of 192.0.2.1:6379", "link_status": "up"}}
    result = FILTERS["redis_verify"](view, roles, GROUPS, HOSTVARS)
    assert result["master"] == "r1"
    assert result["problems"] == ["r3: Sentinel unreachable (timed out)",
                                  "r3: did not answer (host unreachable, or its role could not be read)"]


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_is_documented(name):
    doc = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text())
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["EXAMPLES"] and doc["RETURN"]["_value"]


def test_app_connection():
    connection = FILTERS["redis_app_connection"](GROUPS, HOSTVARS, ca_file="/ca.crt")
    assert connection["sentinel_addresses"] == "192.0.2.1:26379,192.0.2.2:26379,192.0.2.3:26379"
    assert connection["ca_file"] == "/ca.crt" and connection["env"]["KAIZEN_REDIS_CA_FILE"] == "/ca.crt"


def test_errors_name_the_filter():
    with pytest.raises(AnsibleFilterError, match="kaizen.hybrid.redis_app_connection: redis_app_password is not defined"):
        FILTERS["redis_app_connection"](GROUPS, {h: {"kaizen_address": "192.0.2.1"} for h in GROUPS["all"]})
    with pytest.raises(AnsibleFilterError, match="kaizen.hybrid.redis_maxmemory: redis_maxmemory_fraction"):
        FILTERS["redis_maxmemory"](1024, 2)
    with pytest.raises(AnsibleFilterError, match="mode must be"):
        FILTERS["redis_acl_problems"]([], "x", "cluster")


def test_sentinel_endpoints():
    assert FILTERS["redis_sentinel_endpoints"](GROUPS, HOSTVARS)[1] == {"name": "r2", "host": "192.0.2.2", "port": 26379}


def test_acl_problems_name_the_variable():
    assert FILTERS["redis_acl_problems"](["-@all", "+gett"], "redis_app_acl_rules") == [
        "redis_app_acl_rules: '+gett': unknown command 'gett'"]
    assert FILTERS["redis_acl_problems"](["+sentinel|masters"], "x", "sentinel") == []


def test_acl_user_problems():
    users = [
        {"name": "reports", "password": "a-long-password", "rules": ["~reports:*", "+@read"]},
        {"name": "bad name", "password": "short", "rules": ["+nosuch"]},
        "not a mapping",
        {"name": "nopw", "rules": []},
    ]
    problems = FILTERS["redis_acl_user_problems"](users, "redis_acl_users_extra")
    assert problems == [
        "redis_acl_users_extra[1].name: 'bad name' is not a valid user name (letters, digits, and . _ @ - after the first character)",
        "redis_acl_users_extra[1].password must be a real password of at least 12 characters (not shown)",
        "redis_acl_users_extra[1].rules: '+nosuch': unknown command 'nosuch'",
        "redis_acl_users_extra[2] must be a mapping with name, password and rules",
        "redis_acl_users_extra[3] (user nopw).password must be a real password of at least 12 characters (not shown)",
    ]
    assert "short" not in " ".join(problems)
    assert FILTERS["redis_acl_user_problems"]("x", "v") == ["v must be a list of users ({name, password, rules}), got str"]


def test_maxmemory():
    assert FILTERS["redis_maxmemory"](8192, 0.25) == "2048mb"
