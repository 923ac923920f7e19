# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every port a role publishes has one default (topology.PORT_DEFAULTS, equal to the owning role's), and every
consumer on the controller follows a host's own value: with every port variable and every address away from the
defaults, no derived URL, target, upstream or member names a default port or an address the inventory did not give."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import etcd, kaizen_app, monitoring, patroni, postgresql_config, redis_wiring
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import PORT_DEFAULTS, Topology, TopologyError

ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"
PORT_VARIABLE = re.compile(r"_port(_base)?$")
# Ports no role of the site publishes: the object store of the backup's repository 2 (outside the site), and
# sshd's, which the firewall keeps open.
OUTSIDE = {"backup_s3_port", "firewall_ssh_port"}


def role_port_defaults() -> dict[str, int]:
    found = {}
    for defaults in sorted(ROLES.glob("*/defaults/main.yml")):
        for name, value in (yaml.safe_load(defaults.read_text()) or {}).items():
            if PORT_VARIABLE.search(name) and name not in OUTSIDE:
                found[name] = value
    return found


def test_the_table_is_every_role_port_default():
    assert PORT_DEFAULTS == role_port_defaults()


def test_a_port_is_the_host_value_else_the_role_default():
    topology = Topology({"all": ["db1", "db2"]}, {"db1": {"postgresql_port": "6543"}, "db2": {}})
    assert topology.port("db1", "postgresql_port") == 6543
    assert topology.port("db2", "postgresql_port") == 5432


@pytest.mark.parametrize("value", [0, 65536, "x", True, None, 5432.5])
def test_a_port_that_is_not_a_port_names_host_and_variable(value):
    topology = Topology({"all": ["db1"]}, {"db1": {"postgresql_port": value}})
    with pytest.raises(TopologyError, match=r"postgresql_port of db1 is .*; it must be a port number"):
        topology.port("db1", "postgresql_port")


def test_an_unknown_port_variable_is_an_error():
    with pytest.raises(TopologyError, match="postgres_port is not a port variable of the collection"):
        Topology({"all": ["db1"]}, {"db1": {}}).port("db1", "postgres_port")


# A site with every tier, every port variable moved by 10000 (below 65536) and addresses of its own.
GROUPS = {
    "loadbalancers": ["lb1"], "app": ["app1", "app2"], "postgres": ["db1", "db2"], "postgres_primary": ["db1"],
    "postgres_replicas": ["db2"], "redis": ["db1", "db2", "mon1"], "redis_primary": ["db1"], "monitoring": ["mon1"],
    "backup": ["mon1"],
}
MOVED = {name: default + 10000 for name, default in PORT_DEFAULTS.items()}
HOSTS = ["lb1", "app1", "app2", "db1", "db2", "mon1"]
ADDRESSES = {host: "198.51.100.%d" % (index + 21) for index, host in enumerate(HOSTS)}


def site() -> Topology:
    groups = dict(GROUPS, all=HOSTS)
    hostvars = {host: dict(MOVED, kaizen_address=ADDRESSES[host], app_instances=2, redis_app_password="s3cret",
                           postgresql_ha_mode="patroni") for host in HOSTS}
    return Topology(groups, hostvars)


def consumers(topology: Topology) -> dict[str, object]:
    return {
        "database_url": postgresql_config.libpq_url(topology, "kaizen", "kaizen_app"),
        "redis": redis_wiring.app_connection(topology),
        "scrape": monitoring.scrape_configs(topology, {"defaults": {"app_instances": 2}}),
        "alertmanagers": monitoring.alertmanager_targets(topology),
        "upstreams": kaizen_app.upstreams(topology),
        "patroni": patroni.members(topology),
        "etcd": etcd.cluster(topology),
    }


def test_no_consumer_names_a_default_port_or_an_address_of_its_own():
    text = json.dumps(consumers(site()))
    endpoints = re.findall(r"(\d+\.\d+\.\d+\.\d+):(\d+)", text)
    assert endpoints
    ports = {int(port) for _address, port in endpoints}
    assert not ports & set(PORT_DEFAULTS.values()), sorted(ports & set(PORT_DEFAULTS.values()))
    assert {address for address, _port in endpoints} <= set(ADDRESSES.values())
    # Port numbers given as numbers, not in host:port text, follow too.
    numbers = {int(value) for value in re.findall(r'"(?:port|client_port|peer_port|metrics_port|api_port)": (\d+)', text)}
    assert numbers and not numbers & set(PORT_DEFAULTS.values())


def test_each_consumer_follows_the_moved_port_it_reads():
    derived = consumers(site())
    assert ":%d," % MOVED["postgresql_port"] in derived["database_url"]
    assert derived["redis"]["env"]["KAIZEN_REDIS_SENTINELS"].endswith(":%d" % MOVED["redis_sentinel_port"])
    targets = {config["job_name"]: [target for entry in config["static_configs"] for target in entry["targets"]]
               for config in derived["scrape"]}
    expected = {"node": "exporters_node_port", "postgres": "exporters_postgres_port", "redis": "exporters_redis_port",
                "nginx": "exporters_nginx_port", "nginx_log": "exporters_nginx_log_port", "docker": "docker_metrics_port",
                "prometheus": "prometheus_port", "alertmanager": "alertmanager_port", "etcd": "etcd_metrics_port"}
    for job, variable in expected.items():
        assert targets[job] and all(target.endswith(":%d" % MOVED[variable]) for target in targets[job]), (job, targets[job])
    assert sorted(int(target.rsplit(":", 1)[1]) for target in targets["kaizen"]) == sorted([MOVED["app_port_base"], MOVED["app_port_base"] + 1] * 2)
    assert derived["alertmanagers"] == ["%s:%d" % (ADDRESSES["mon1"], MOVED["alertmanager_port"])]
    assert {item["endpoint"] for item in derived["upstreams"]} == {
        "%s:%d" % (ADDRESSES[host], MOVED["app_port_base"] + index) for host in ("app1", "app2") for index in (0, 1)}
    assert [(member["port"], member["api_port"]) for member in derived["patroni"]] == [
        (MOVED["postgresql_port"], MOVED["postgresql_patroni_api_port"])] * 2
    assert {(member["client_port"], member["peer_port"], member["metrics_port"]) for member in derived["etcd"]} == {
        (MOVED["etcd_client_port"], MOVED["etcd_peer_port"], MOVED["etcd_metrics_port"])}
