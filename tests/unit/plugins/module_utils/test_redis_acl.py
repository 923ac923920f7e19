# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/redis_acl.py: ACL rules as Redis 7.0 parses them."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_acl import (
    COMMANDS,
    SENTINEL,
    SERVER,
    rule_problems,
    split_rules,
    username_problem,
)

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "redis"


@pytest.mark.parametrize("rules", [
    ["on", "off", "nopass", "resetpass", "reset", "allkeys", "resetkeys", "allchannels", "resetchannels",
     "allcommands", "nocommands", "sanitize-payload", "skip-sanitize-payload", "clearselectors"],
    ["~*", "~kaizen:*", "%R~cache:*", "%W~log:*", "%RW~x:*", "%wr~y:*", "&*", "&kaizen:*"],
    ["-@all", "+@read", "+@write", "-@dangerous", "+@ALL"],
    ["+get", "+SET", "-flushall", "+config|get", "-config|set", "+select|0", "+client|setname"],
    ["-@all +get ~a:*", "(~temp:* +get %R~other:*)"],
])
def test_valid_rules(rules):
    assert rule_problems(rules) == []


@pytest.mark.parametrize("rule, expected", [
    ("+gett", "unknown command 'gett'"),
    ("+@nosuch", "unknown command category 'nosuch'"),
    ("-config|nosuch", "'config' has no subcommand 'nosuch'"),
    ("-select|0", "can only be allowed, not removed"),
    ("+", "names no command"),
    ("+get|", "nothing after '|'"),
    ("%X~a", "key permissions are written"),
    ("%R", "key permissions are written"),
    ("kaizen:*", "is not an ACL rule"),
    ("allkey", "is not an ACL rule"),
    (">secret", "passwords do not belong in ACL rules"),
    ("#" + "a" * 64, "password hashes do not belong"),
    ("#abc", "64 hexadecimal characters"),
    ("(~a +gett)", "unknown command 'gett'"),
    ("(on)", "only key, channel and command rules are allowed in a selector"),
    ("(~a +get", "must end with ')'"),
])
def test_invalid_rules_are_named(rule, expected):
    problems = rule_problems([rule])
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_secrets_are_never_echoed():
    problems = rule_problems([">hunter2-secret", "<hunter2-secret", "#" + "b" * 64])
    assert len(problems) == 3
    assert not any("hunter2" in problem or "b" * 64 in problem for problem in problems)


def test_sentinel_knows_other_commands():
    assert rule_problems(["+sentinel|get-master-addr-by-name", "+sentinel|masters"], SENTINEL) == []
    assert rule_problems(["+get"], SENTINEL) == ["'+get': unknown command 'get' in Sentinel"]
    assert rule_problems(["+sentinel|masters"], SERVER) == ["'+sentinel|masters': unknown command 'sentinel'"]


def test_not_a_list():
    assert rule_problems("+get") == ["must be a list of ACL rules (strings), got str"]
    assert rule_problems([1]) == ["1 is not a string"]
    with pytest.raises(ValueError):
        rule_problems([], "cluster")


def test_split_keeps_selectors_whole():
    assert split_rules("on  ~a:* (~b:* +get) +set") == ["on", "~a:*", "(~b:* +get)", "+set"]


@pytest.mark.parametrize("name, ok", [("kaizen", True), ("app.user-1@x", True), ("", False), ("a b", False),
                                      ("-lead", False), (None, False)])
def test_user_names(name, ok):
    assert (username_problem(name) is None) is ok


def test_command_lists_are_redis_7_0():
    assert len(COMMANDS[SERVER]) == 366 and len(COMMANDS[SENTINEL]) == 72
    assert {"replicaof", "config|rewrite", "acl|dryrun", "function|flush"} <= COMMANDS[SERVER]


def test_the_role_rules_parse():
    """The rules the role writes itself (vars/main.yml) and its defaults are valid."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert rule_problems(defaults["redis_app_acl_rules"]) == []
    assert rule_problems(defaults["redis_monitoring_acl_rules"]) == []
    for user in variables["__redis_server_users"]:
        if isinstance(user["rules"], list):
            assert rule_problems(user["rules"]) == [], user["name"]
    assert rule_problems(variables["__redis_sentinel_discovery_rules"] + ["+info", "+sentinel|ckquorum"], SENTINEL) == []
    for user in variables["__redis_sentinel_users"]:
        if isinstance(user["rules"], list):
            assert rule_problems(user["rules"], SENTINEL) == [], user["name"]
