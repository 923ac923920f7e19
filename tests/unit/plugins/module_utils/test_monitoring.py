# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/monitoring.py: scrape targets from the inventory, the Prometheus settings checks."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import monitoring
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError

ROOT = pathlib.Path(__file__).resolve().parents[4]


def _defaults(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}


GROUPS = {
    "all": ["lb1", "mon1", "app1", "app2", "db1", "db2", "cache1"],
    "loadbalancers": ["lb1"],
    "monitoring": ["mon1"],
    "app": ["app1", "app2"],
    "postgres": ["db1", "db2"],
    "redis": ["cache1"],
}
HOSTVARS = {
    "lb1": {"kaizen_address": "10.0.0.5"},
    "mon1": {"kaizen_address": "10.0.0.6", "kaizen_region": "eu-west"},
    "app1": {"kaizen_address": "10.0.0.11", "app_instances": 2},
    "app2": {"kaizen_address": "10.0.0.12", "app_instances": 1, "app_port_base": 9000},
    "db1": {"kaizen_address": "10.0.0.21"},
    "db2": {"kaizen_address": "fd00::22"},
    "cache1": {"kaizen_address": "10.0.0.31", "exporters_redis_port": 19121},
}


def configs(hostvars=None, **settings):
    settings.setdefault("site", "fra1")
    return monitoring.scrape_configs(Topology(GROUPS, hostvars or HOSTVARS), settings)


def by_job(result):
    return {config["job_name"]: config for config in result}


def targets(config):
    return [(entry["labels"]["host"], target) for entry in config["static_configs"] for target in entry["targets"]]


def test_every_exporter_and_instance_the_inventory_implies():
    jobs = by_job(configs())
    assert list(jobs) == list(monitoring.JOBS)
    assert targets(jobs["node"]) == [("lb1", "10.0.0.5:9100"), ("app1", "10.0.0.11:9100"), ("app2", "10.0.0.12:9100"),
                                     ("db1", "10.0.0.21:9100"), ("db2", "[fd00::22]:9100"), ("cache1", "10.0.0.31:9100"),
                                     ("mon1", "10.0.0.6:9100")]
    assert targets(jobs["postgres"]) == [("db1", "10.0.0.21:9187"), ("db2", "[fd00::22]:9187")]
    assert targets(jobs["redis"]) == [("cache1", "10.0.0.31:19121")]  # the host's own port
    assert targets(jobs["nginx"]) == [("lb1", "10.0.0.5:9113")]
    assert targets(jobs["nginx_log"]) == [("lb1", "10.0.0.5:3903")]
    assert targets(jobs["docker"]) == [("app1", "10.0.0.11:9323"), ("app2", "10.0.0.12:9323")]
    assert targets(jobs["kaizen"]) == [("app1", "10.0.0.11:8080"), ("app1", "10.0.0.11:8081"), ("app2", "10.0.0.12:9000")]
    assert targets(jobs["prometheus"]) == [("mon1", "10.0.0.6:9090")]
    assert targets(jobs["alertmanager"]) == [("mon1", "10.0.0.6:9093")]
    # Patroni runs the PostgreSQL tier (postgresql_ha_mode auto, three hosts for etcd): etcd's metrics.
    assert targets(jobs["etcd"]) == [("db1", "10.0.0.21:2381"), ("db2", "[fd00::22]:2381"), ("lb1", "10.0.0.5:2381")]
    assert jobs["etcd"]["static_configs"][0]["labels"]["group"] == "etcd"
    assert monitoring.target_count(configs()) == 7 + 2 + 1 + 1 + 1 + 2 + 3 + 1 + 1 + 3


def test_no_etcd_target_in_manual_mode():
    manual = {host: dict(values, postgresql_ha_mode="manual") for host, values in HOSTVARS.items()}
    assert "etcd" not in by_job(configs(manual))
    patroni = {host: dict(values, postgresql_ha_mode="patroni", etcd_metrics_port=12381) for host, values in HOSTVARS.items()}
    assert targets(by_job(configs(patroni))["etcd"])[0] == ("db1", "10.0.0.21:12381")


def test_labels_name_the_host_site_and_region():
    jobs = by_job(configs())
    labels = {entry["labels"]["host"]: entry["labels"] for entry in jobs["node"]["static_configs"]}
    assert labels["lb1"] == {"host": "lb1", "group": "loadbalancers", "site": "fra1"}
    assert labels["mon1"] == {"host": "mon1", "group": "monitoring", "site": "fra1", "region": "eu-west"}
    # A host in several groups: its node exporter names them all, each service job its own group.
    groups = dict(GROUPS, postgres=["db1", "db2", "app1"])
    jobs = by_job(monitoring.scrape_configs(Topology(groups, HOSTVARS), {}))
    node = {entry["labels"]["host"]: entry["labels"]["group"] for entry in jobs["node"]["static_configs"]}
    assert node["app1"] == "app,postgres"
    assert {entry["labels"]["group"] for entry in jobs["postgres"]["static_configs"]} == {"postgres"}


def test_disabled_exporters_and_metrics_have_no_target():
    hostvars = {host: dict(variables) for host, variables in HOSTVARS.items()}
    hostvars["app2"]["app_metrics_enabled"] = False
    hostvars["app1"]["docker_metrics_enabled"] = "false"
    hostvars["cache1"]["exporters_redis_enabled"] = False
    jobs = by_job(configs(hostvars))
    assert "redis" not in jobs
    assert targets(jobs["docker"]) == [("app2", "10.0.0.12:9323")]
    assert [host for host, _target in targets(jobs["kaizen"])] == ["app1", "app1"]


def test_role_defaults_apply_when_the_host_sets_nothing():
    hostvars = {host: {"kaizen_address": variables["kaizen_address"]} for host, variables in HOSTVARS.items()}
    jobs = by_job(configs(hostvars, defaults={"app_instances": 3}))
    assert [target for _host, target in targets(jobs["kaizen"])] == [
        "10.0.0.11:8080", "10.0.0.11:8081", "10.0.0.11:8082", "10.0.0.12:8080", "10.0.0.12:8081", "10.0.0.12:8082"]


def test_per_job_intervals_and_a_subset_of_jobs():
    jobs = by_job(configs(jobs=["node", "kaizen"], scrape_intervals={"kaizen": "10s"}))
    assert list(jobs) == ["node", "kaizen"]
    assert jobs["kaizen"]["scrape_interval"] == "10s" and "scrape_interval" not in jobs["node"]
    with pytest.raises(TopologyError, match="unknown scrape job"):
        configs(jobs=["nodes"])


@pytest.mark.parametrize("variable, value, message", [
    ("exporters_node_port", 70000, "exporters_node_port of app1 is 70000; it must be a port number"),
    ("app_instances", "two", "app_instances of app1: 'two' is not a count"),
    ("app_port_base", 65535, "app_port_base \\+ app_instances of app1"),
])
def test_bad_host_variables_name_the_host_and_variable(variable, value, message):
    hostvars = {host: dict(variables) for host, variables in HOSTVARS.items()}
    hostvars["app1"][variable] = value
    with pytest.raises(TopologyError, match=message):
        configs(hostvars)


def test_alertmanagers_of_every_monitoring_host():
    groups = dict(GROUPS, monitoring=["mon1", "lb1"])
    hostvars = dict(HOSTVARS, lb1={"kaizen_address": "10.0.0.5", "alertmanager_port": 19093})
    assert monitoring.alertmanager_targets(Topology(groups, hostvars)) == ["10.0.0.6:9093", "10.0.0.5:19093"]


def test_the_exporters_are_on_by_default():
    defaults = _defaults("exporters")
    for _job, _port_var, enabled_var in monitoring.EXPORTER_JOBS:
        assert defaults[enabled_var] is True, enabled_var


@pytest.mark.parametrize("value, ok", [
    ("15s", True), ("1h30m", True), ("15d", True), ("2w", True), ("1y", True), ("500ms", True), ("1d12h", True),
    ("", False), ("0s", False), ("15", False), ("1.5h", False), ("30m1h", False), ("15 d", False), (15, False), (None, False),
])
def test_durations(value, ok):
    assert monitoring.is_duration(value) is ok


def settings(**changes):
    values = {"retention_time": "15d", "retention_size": "", "scrape_interval": "15s", "scrape_timeout": "10s",
              "evaluation_interval": "15s", "port": 9090, "site": "fra1", "region": "", "scrape_intervals": {}}
    values.update(changes)
    return values


def test_good_settings_pass():
    assert monitoring.settings_problems(settings()) == []
    assert monitoring.settings_problems(settings(retention_time="", retention_size="50GB")) == []


@pytest.mark.parametrize("changes, expected", [
    ({"retention_time": "15 days"}, "prometheus_retention_time: '15 days' is not a Prometheus duration"),
    ({"retention_size": "50G"}, "prometheus_retention_size: '50G' is not a size"),
    ({"retention_time": "", "retention_size": ""}, "both empty"),
    ({"scrape_timeout": "20s"}, "prometheus_scrape_timeout 20s is longer than prometheus_scrape_interval 15s"),
    ({"evaluation_interval": "fast"}, "prometheus_evaluation_interval: 'fast'"),
    ({"scrape_intervals": {"nodes": "5s"}}, "prometheus_scrape_intervals: 'nodes' is not a scrape job"),
    ({"scrape_intervals": {"node": "5"}}, "prometheus_scrape_intervals.node: '5'"),
    ({"port": 0}, "prometheus_port: 0 is not a port number"),
])
def test_bad_settings_are_named(changes, expected):
    problems = monitoring.settings_problems(settings(**changes))
    assert any(expected in problem for problem in problems), problems


ALERT_DEFAULTS = yaml.safe_load((ROOT / "roles" / "prometheus" / "vars" / "alerts.yml").read_text())["__prometheus_alert_defaults"]


def test_alert_settings_over_the_shipped_defaults():
    assert monitoring.alert_settings_problems(ALERT_DEFAULTS, {"redis_down_for": "10s", "app_latency_p95_seconds": 2.5}) == []
    problems = monitoring.alert_settings_problems(ALERT_DEFAULTS, {
        "redis_down_for": 10, "rate_window": "5 m", "app_latency_p95_seconds": "fast", "certificate_expiry_days": 0,
        "redis_down": "1m"})
    assert problems == [
        "prometheus_alert_settings.redis_down_for: 10 is not a Prometheus duration (for example 30s, 5m, 1h)",
        "prometheus_alert_settings.rate_window: '5 m' is not a Prometheus duration (for example 30s, 5m, 1h)",
        "prometheus_alert_settings.app_latency_p95_seconds: 'fast' is not a positive number",
        "prometheus_alert_settings.certificate_expiry_days: 0 is not a positive number",
        "prometheus_alert_settings.redis_down is not an alert setting (known: %s)" % ", ".join(sorted(ALERT_DEFAULTS)),
    ]


def test_every_shipped_alert_default_passes_its_own_check():
    assert monitoring.alert_settings_problems(ALERT_DEFAULTS, ALERT_DEFAULTS) == []
