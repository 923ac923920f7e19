# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/kaizen_app.py: settings checks, environment, image references, upstreams."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import kaizen_app
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology

ROLE_DEFAULTS = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles" / "app" / "defaults" / "main.yml").read_text())


def good_settings(**changes):
    settings = {field: ROLE_DEFAULTS["app_" + field] for field in kaizen_app.FIELDS if "app_" + field in ROLE_DEFAULTS}
    settings.update(secret_key="k" * 40, database_url="postgresql://kaizen_app:pw@10.0.0.1:5432/kaizen", openai_api_key="sk-test")
    settings.update(changes)
    return settings


def test_role_defaults_cover_every_kaizen_field_but_the_derived_ones():
    missing = [field for field in kaizen_app.FIELDS if "app_" + field not in ROLE_DEFAULTS]
    assert missing == [], missing
    assert ROLE_DEFAULTS["app_instances"] == kaizen_app.DEFAULT_INSTANCES


def test_the_postgresql_role_admits_the_app_network_the_app_role_creates():
    # A host in both groups: its containers reach the local server from app_network_subnet.
    postgresql_vars = (pathlib.Path(__file__).resolve().parents[4] / "roles" / "postgresql" / "vars" / "main.yml").read_text()
    assert "app_network_subnet | default('%s')" % ROLE_DEFAULTS["app_network_subnet"] in postgresql_vars


def test_good_settings_have_no_problem():
    assert kaizen_app.settings_problems(good_settings()) == []


@pytest.mark.parametrize("changes, expected", [
    ({"secret_key": ""}, "app_secret_key is required"),
    ({"secret_key": "CHANGE_ME"}, "app_secret_key is a placeholder"),
    ({"secret_key": "short"}, "at least 32"),
    ({"database_url": ""}, "app_database_url is empty"),
    ({"database_url": "mysql://x@h/db"}, "postgresql:// URL"),
    ({"openai_api_key": "", "anthropic_api_key": ""}, "app_model_api_keys_required: false"),
    ({"workers": "4"}, "app_workers must be an integer"),
    ({"workers": 0}, "app_workers must be at least 1"),
    ({"debug": "no"}, "app_debug must be true or false"),
    ({"log_level": "verbose"}, "app_log_level must be one of DEBUG"),
    ({"log_file": "logs/kaizen.log"}, "absolute path"),
    ({"allowed_hosts": "kaizen.example.com"}, "app_allowed_hosts must be a list"),
    ({"max_requests_per_minute": -5}, "app_max_requests_per_minute must be at least 1"),
    ({"debug": True, "environment": "production"}, "debug output"),
])
def test_each_wrong_setting_is_named(changes, expected):
    problems = kaizen_app.settings_problems(good_settings(**changes))
    assert len(problems) == 1 and expected in problems[0], problems


def test_model_keys_may_be_waived_explicitly():
    assert kaizen_app.settings_problems(good_settings(openai_api_key="", model_api_keys_required=False)) == []
    assert kaizen_app.settings_problems(good_settings(openai_api_key="", anthropic_api_key="ak")) == []


def test_every_problem_at_once():
    settings = good_settings(secret_key="", workers=0)
    del settings["cache_ttl"]
    problems = kaizen_app.settings_problems(settings)
    assert len(problems) == 3, problems
    assert any("app_cache_ttl is not set" in problem for problem in problems)


def test_environment_uses_the_kaizen_names_and_leaves_empty_secrets_out():
    env = kaizen_app.environment(good_settings(anthropic_api_key=""), {"KAIZEN_REDIS_TLS": True, "KAIZEN_REDIS_SENTINELS": "a:1,b:2"})
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert env["KAIZEN_SECRET_KEY"] == "k" * 40
    assert env["OPENAI_API_KEY"] == "sk-test"
    assert "ANTHROPIC_API_KEY" not in env
    assert env["KAIZEN_WORKERS"] == str(ROLE_DEFAULTS["app_workers"])
    assert env["KAIZEN_DEBUG"] == "false"
    assert env["KAIZEN_REDIS_TLS"] == "true"
    assert "KAIZEN_MODEL_API_KEYS_REQUIRED" not in env
    assert all(isinstance(value, str) for value in env.values())


def test_environment_lists_are_joined_and_bad_names_refused():
    env = kaizen_app.environment(good_settings(cors_origins=["https://a.example", "https://b.example"]))
    assert env["KAIZEN_CORS_ORIGINS"] == "https://a.example,https://b.example"
    with pytest.raises(ValueError, match="not a valid environment variable name"):
        kaizen_app.environment(good_settings(), {"BAD-NAME": "x"})


def test_env_file_is_sorted_lines_and_refuses_line_breaks():
    assert kaizen_app.env_file({"B": "2", "A": "x=y z"}) == "A=x=y z\nB=2\n"
    with pytest.raises(ValueError, match="line break"):
        kaizen_app.env_file({"A": "one\ntwo"})


@pytest.mark.parametrize("reference, expected", [
    ("kaizen", {"registry": "", "repository": "kaizen", "tag": "latest", "digest": ""}),
    ("kaizen-lab/kaizen-ref:3.0.0-broken", {"registry": "", "repository": "kaizen-lab/kaizen-ref", "tag": "3.0.0-broken", "digest": ""}),
    ("registry.example.com:5000/team/kaizen:1.4.2",
     {"registry": "registry.example.com:5000", "repository": "team/kaizen", "tag": "1.4.2", "digest": ""}),
    ("localhost/kaizen:1", {"registry": "localhost", "repository": "kaizen", "tag": "1", "digest": ""}),
    ("kaizen@sha256:" + "a" * 64, {"registry": "", "repository": "kaizen", "tag": "", "digest": "sha256:" + "a" * 64}),
])
def test_image_references_parse(reference, expected):
    assert kaizen_app.parse_image(reference) == expected
    assert kaizen_app.image_problems(reference) == []


@pytest.mark.parametrize("reference, expected", [
    ("", "an image reference is required"),
    ("Kaizen/App:1", "lowercase"),
    ("kaizen:1 2", "contains a space"),
    ("kaizen::1", "not a valid image reference"),
    ("kaizen:-1", "not a valid image reference"),
    ("kaizen@sha256:abc", "not a valid image reference"),
    ("kaizen/", "not a valid image reference"),
])
def test_malformed_image_references_are_refused(reference, expected):
    problems = kaizen_app.image_problems(reference, "app_update_image")
    assert len(problems) == 1 and problems[0].startswith("app_update_image: ") and expected in problems[0], problems


def test_instances_number_containers_and_ports():
    assert kaizen_app.instances("app1", 2, 8080) == [
        {"index": 1, "name": "kaizen-1", "port": 8080, "instance": "app1-1"},
        {"index": 2, "name": "kaizen-2", "port": 8081, "instance": "app1-2"},
    ]
    with pytest.raises(ValueError, match="app_instances of app1 must be at least 1"):
        kaizen_app.instances("app1", 0, 8080)
    with pytest.raises(ValueError, match="past port 65535"):
        kaizen_app.instances("app1", 3, 65534)


def test_upstreams_cover_every_instance_and_mark_drained_hosts_down():
    groups = {"all": ["lb1", "app1", "app2"], "app": ["app1", "app2"], "loadbalancers": ["lb1"]}
    hostvars = {"lb1": {"kaizen_address": "10.0.0.5"}, "app1": {"kaizen_address": "10.0.0.11"},
                "app2": {"kaizen_address": "10.0.0.12", "app_instances": 1, "app_port_base": 9000}}
    servers = kaizen_app.upstreams(Topology(groups, hostvars), drained=["app2"])
    assert [(s["endpoint"], s["instance"], s["down"]) for s in servers] == [
        ("10.0.0.11:8080", "app1-1", False), ("10.0.0.11:8081", "app1-2", False), ("10.0.0.12:9000", "app2-1", True)]
    with pytest.raises(ValueError, match="cannot drain lb1: not in group app"):
        kaizen_app.upstreams(Topology(groups, hostvars), drained=["lb1"])


def _site(*hosts: tuple[str, int]) -> Topology:
    names = [name for name, _count in hosts]
    return Topology({"all": names, "app": names}, {name: {"kaizen_address": "10.0.0.%d" % (index + 10), "app_instances": count}
                                                   for index, (name, count) in enumerate(hosts)})


def test_a_rolling_update_drains_whole_hosts_while_others_serve():
    plan = kaizen_app.rolling_plan(_site(("app1", 1), ("app2", 1), ("app3", 2)), batch=2)
    assert plan == {"modes": {"app1": "host", "app2": "host", "app3": "host"}, "problems": []}


def test_a_batch_of_every_app_host_replaces_instance_by_instance():
    assert kaizen_app.rolling_plan(_site(("single1", 2))) == {"modes": {"single1": "instance"}, "problems": []}
    assert kaizen_app.rolling_plan(_site(("app1", 2), ("app2", 3)), batch=5)["modes"] == {"app1": "instance", "app2": "instance"}


def test_a_host_that_cannot_leave_rotation_is_refused_unless_an_outage_is_accepted():
    plan = kaizen_app.rolling_plan(_site(("single1", 1)))
    assert plan["modes"] == {} and len(plan["problems"]) == 1
    assert plan["problems"][0].startswith("single1 cannot leave rotation: it is the only app host, and it runs one instance")
    assert "add an app host" in plan["problems"][0] and "kaizen_rolling_allow_downtime=true" in plan["problems"][0]
    assert kaizen_app.rolling_plan(_site(("single1", 1)), allow_downtime=True) == {"modes": {"single1": "outage"}, "problems": []}
    plan = kaizen_app.rolling_plan(_site(("app1", 1), ("app2", 2)), batch=2)
    assert plan["modes"] == {"app2": "instance"} and "every app host is in the same batch (kaizen_rolling_batch 2)" in plan["problems"][0]
    with pytest.raises(ValueError, match="kaizen_rolling_batch of the rolling update must be at least 1"):
        kaizen_app.rolling_plan(_site(("app1", 2)), batch=0)


def _scaled(app: list[str], others: list[str]) -> Topology:
    """A site whose inventory already says what it will be: ``app`` in group app, ``others`` in the inventory only."""
    names = app + others
    hostvars = {name: {"kaizen_address": "10.0.0.%d" % (index + 10)} for index, name in enumerate(names)}
    return Topology({"all": names, "app": app, "ungrouped": others}, hostvars)


def test_a_scale_plan_takes_hosts_as_a_list_or_as_a_cli_option_gives_them():
    site = _scaled(["app1", "app2", "app3"], ["old1"])
    assert kaizen_app.scale_plan(site, add="app3") == {"add": ["app3"], "remove": [], "problems": []}
    assert kaizen_app.scale_plan(site, add=" app2, app3,,app2 ") == {"add": ["app2", "app3"], "remove": [], "problems": []}
    assert kaizen_app.scale_plan(site, remove=["old1"]) == {"add": [], "remove": ["old1"], "problems": []}


def test_a_scale_plan_names_each_host_the_inventory_does_not_describe_that_way():
    site = _scaled(["app1", "app2"], ["old1", "spare"])
    problems = kaizen_app.scale_plan(site, add="spare,ghost")["problems"]
    assert problems == ["spare is not in group app: add it there in the inventory first.",
                        "ghost is not in the inventory: add it, with its address, to group app first."]
    problems = kaizen_app.scale_plan(site, remove="app2,gone")["problems"]
    assert problems == [
        "app2 is still in group app: take it out of the group in the inventory first (keep the host itself, so it can be reached).",
        "gone is not in the inventory: keep it there, outside group app, until scale has drained and stopped it."]


def test_a_scale_plan_goes_one_way_per_run_and_keeps_an_app_host():
    site = _scaled(["app1", "app3"], ["old1"])
    assert kaizen_app.scale_plan(site)["problems"] == [
        "Name the app hosts that join (kaizen_scale_add, --add) or leave (kaizen_scale_remove, --remove)."]
    assert kaizen_app.scale_plan(site, add=[], remove="")["problems"] == kaizen_app.scale_plan(site)["problems"]
    assert kaizen_app.scale_plan(site, add="app3", remove="old1")["problems"] == [
        "Add and remove in two runs: first --add app3, then --remove old1 (a leaving host keeps serving until the new one does)."]
    assert kaizen_app.scale_plan(_scaled([], ["old1"]), remove="old1")["problems"] == [
        "Group app would have no host left: the site would stop serving."]
