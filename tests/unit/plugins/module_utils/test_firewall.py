# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/firewall.py: who may reach which port, derived from the topology, and its nftables."""

from __future__ import annotations

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils import firewall
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError

GROUPS = {
    "all": ["lb", "app1", "app2", "db1", "db2", "stray"],
    "loadbalancers": ["lb"], "monitoring": ["lb"], "backup": ["lb"],
    "app": ["app1", "app2"],
    "postgres": ["app1", "db1", "db2"], "postgres_primary": ["db1"], "postgres_replicas": ["app1", "db2"],
    "redis": ["lb", "db1", "db2"], "redis_primary": ["db2"],
}
ADDRESSES = {"lb": "10.0.0.11", "app1": "10.0.0.12", "app2": "10.0.0.13", "db1": "10.0.0.14", "db2": "fd00::15", "stray": "10.0.0.99"}
COMMON = {"kaizen_admin_cidrs": ["192.0.2.0/24"], "kaizen_client_cidrs": ["0.0.0.0/0", "::/0"], "postgresql_ha_mode": "manual"}


def topology(**changes: dict) -> Topology:
    hostvars = {host: dict(COMMON, kaizen_address=address, app_instances=1) for host, address in ADDRESSES.items()}
    for host, values in changes.items():
        hostvars[host].update(values)
    return Topology(GROUPS, hostvars)


def allowed(rules: dict, proto: str = "tcp") -> dict[int, set[str]]:
    """port -> the sources that reach it (networks, and 'containers')."""
    found: dict[int, set[str]] = {}
    for rule in rules["rules"]:
        if rule["proto"] != proto:
            continue
        for port in rule["ports"]:
            found.setdefault(port, set()).update(rule["ipv4"] + rule["ipv6"] + (["containers"] if rule["containers"] else []))
    return found


def test_a_database_host_admits_its_users_only():
    ports = allowed(firewall.host_rules(topology(), "db1"))
    assert ports == {
        22: {"192.0.2.0/24"},
        5432: {"10.0.0.11/32", "10.0.0.12/31", "fd00::15/128"},  # backup (lb), app1 and app2, db2 (app1 is a replica too)
        8432: {"10.0.0.11/32"},  # pgBackRest's server, from the backup host
        6379: {"10.0.0.11/32", "10.0.0.12/31", "fd00::15/128"},  # app hosts, the other Redis hosts (lb is backup and Sentinel too)
        26379: {"10.0.0.11/32", "10.0.0.12/31", "fd00::15/128"},  # app hosts and the other Sentinels
        9100: {"10.0.0.11/32"}, 9187: {"10.0.0.11/32"}, 9121: {"10.0.0.11/32"},  # scraped by the monitoring host
    }


def test_an_app_host_admits_the_load_balancer_and_its_own_containers():
    rules = firewall.host_rules(topology(), "app1")
    ports = allowed(rules)
    assert ports[8080] == {"10.0.0.11/32"}  # the load balancer, and Prometheus on the same host
    assert ports[5432] == {"10.0.0.11/32", "10.0.0.13/32", "10.0.0.14/32", "fd00::15/128", "containers"}
    assert ports[9323] == {"10.0.0.11/32"}
    assert 6379 not in ports and 26379 not in ports
    assert rules["container_interfaces"] == ["docker0", "br-*"]
    assert firewall.host_rules(topology(), "db1")["container_interfaces"] == []


def test_the_load_balancer_admits_clients_and_the_monitoring_plane_admins():
    ports = allowed(firewall.host_rules(topology(), "lb"))
    assert ports[80] == ports[443] == {"0.0.0.0/0", "::/0"}
    assert ports[9090] == ports[9093] == ports[3000] == {"192.0.2.0/24"}
    assert ports[8432] == {"10.0.0.12/32", "10.0.0.14/32", "fd00::15/128"}  # the repository, from the PostgreSQL hosts
    assert allowed(firewall.host_rules(topology(), "lb"), "udp") == {}  # one monitoring host: no Alertmanager peers
    # Prometheus scrapes its own host over loopback: no rule for the exporters here
    assert set(ports) == {22, 80, 443, 9090, 9093, 3000, 8432, 6379, 26379}


def test_a_host_outside_the_site_admits_ssh_and_its_extra_rules():
    rules = firewall.host_rules(topology(), "stray", {"allow": [{"port": [9000, 9001], "from": ["postgres", "198.51.100.7"]},
                                                                {"port": 53, "proto": "udp", "from": ["app"], "comment": "DNS"}]})
    assert allowed(rules) == {22: {"192.0.2.0/24"}, 9000: {"10.0.0.12/32", "10.0.0.14/32", "198.51.100.7/32", "fd00::15/128"},
                              9001: {"10.0.0.12/32", "10.0.0.14/32", "198.51.100.7/32", "fd00::15/128"}}
    assert allowed(rules, "udp") == {53: {"10.0.0.12/31"}}


def test_patroni_opens_etcd_and_the_rest_api():
    patroni = {host: {"postgresql_ha_mode": "patroni", "haproxy_enabled": True} for host in ADDRESSES}
    ports = allowed(firewall.host_rules(topology(**patroni), "db1"))
    assert ports[8008] == {"10.0.0.12/31", "fd00::15/128"}  # the other PostgreSQL hosts and HAProxy on app2
    assert ports[2379] == {"10.0.0.12/32", "fd00::15/128"}
    assert ports[2380] == {"10.0.0.12/32", "fd00::15/128"}
    assert ports[2381] == {"10.0.0.11/32"}
    app2 = allowed(firewall.host_rules(topology(**patroni), "app2"))
    assert app2[5000] == app2[5001] == {"containers"}
    assert 2379 not in app2
    assert 2379 not in allowed(firewall.host_rules(topology(), "db1"))


def test_ports_and_addresses_follow_the_inventory():
    moved = topology(db1={"postgresql_port": 6432, "exporters_node_port": 19100, "kaizen_address": "10.9.0.14"},
                     lb={"kaizen_address": "10.9.0.11", "loadbalancer_https_port": 8443})
    ports = allowed(firewall.host_rules(moved, "db1", {"ssh_port": 2222}))
    assert 6432 in ports and 5432 not in ports and 19100 in ports and 2222 in ports and 22 not in ports
    assert ports[19100] == {"10.9.0.11/32"}
    assert 8443 in allowed(firewall.host_rules(moved, "lb"))


def test_a_server_that_moves_keeps_its_old_port_open_until_it_restarts():
    moving = allowed(firewall.host_rules(topology(db1={"postgresql_port": 6432, "postgresql_running_port": "5432"}), "db1"))
    assert moving[6432] == moving[5432]
    moved = allowed(firewall.host_rules(topology(db1={"postgresql_port": 6432, "postgresql_running_port": 6432}), "db1"))
    assert 6432 in moved and 5432 not in moved


def test_admin_services_open_more_to_the_admins():
    ports = allowed(firewall.host_rules(topology(), "db1", {"admin_services": ["postgresql_port"]}))
    assert "192.0.2.0/24" in ports[5432] and "192.0.2.0/24" not in ports[6379]
    everything = allowed(firewall.host_rules(topology(), "db1", {"admin_services": "all"}))
    assert all("192.0.2.0/24" in sources for sources in everything.values())


@pytest.mark.parametrize("settings, message", [
    ({"admin_services": ["postgres_port"]}, "names postgres_port, which is not a port variable"),
    ({"admin_services": "some"}, "must be 'all' or a list of port variables"),
    ({"ssh_port": 0}, "firewall_ssh_port of db1 is 0"),
    ({"allow": {"port": 1}}, "must be a list of {port, from} entries"),
    ({"allow": [{"port": "x", "from": ["app"]}]}, "firewall_allow entry 1 of db1: port must be a port number"),
    ({"allow": [{"port": 1, "proto": "sctp", "from": ["app"]}]}, "proto must be one of tcp, udp"),
    ({"allow": [{"port": 1}]}, "from must be a list of inventory groups and CIDRs"),
    ({"allow": [{"port": 1, "from": ["nowhere"]}]}, "nowhere"),
    ({"container_interfaces": "br-*"}, "must be a list of interface names"),
])
def test_bad_settings_name_the_host_and_the_setting(settings, message):
    with pytest.raises(TopologyError, match=message.replace("{", r"\{").replace("(", r"\(")):
        firewall.host_rules(topology(), "db1", settings)


def test_cidrs_that_are_not_a_list_are_refused():
    with pytest.raises(TopologyError, match="kaizen_admin_cidrs of db1 must be a list of CIDRs"):
        firewall.host_rules(topology(db1={"kaizen_admin_cidrs": "192.0.2.0/24"}), "db1")


def test_admits_answers_for_a_source_and_a_port():
    rules = firewall.host_rules(topology(), "db1")
    assert firewall.admits(rules, "192.0.2.7", 22)
    assert not firewall.admits(rules, "198.51.100.7", 22)
    assert not firewall.admits(rules, "192.0.2.7", 5432)
    assert firewall.admits(rules, "fd00::15", 5432)
    assert not firewall.admits(rules, "192.0.2.7", 22, "udp")
    assert not firewall.admits({}, "192.0.2.7", 22)


def test_the_ruleset_replaces_only_its_own_table_and_drops_the_rest():
    text = firewall.nft_ruleset(firewall.host_rules(topology(), "app1"))
    head = text.splitlines()[:4]
    assert head == ["table inet kaizen", "delete table inet kaizen", "", "table inet kaizen {"]
    assert "flush ruleset" not in text
    assert text.count("policy drop;") == 2 and "hook output" not in text
    assert 'ip saddr 192.0.2.0/24 meta l4proto tcp ct original proto-dst 22 accept comment "SSH from kaizen_admin_cidrs"' in text
    assert 'ip6 saddr fd00::15 meta l4proto tcp ct original proto-dst 5432 accept' in text.replace("/128", "")
    assert 'iifname "br-*" meta l4proto tcp ct original proto-dst 5432 accept' in text
    assert "ct status dnat jump allowed" in text
    # the forward chain lets the containers out; a host without containers has no such rule
    assert 'iifname "docker0" accept' in text
    assert "iifname" not in firewall.nft_ruleset(firewall.host_rules(topology(), "db1"))


def test_the_ruleset_of_nothing_still_drops():
    text = firewall.nft_ruleset({})
    assert "chain allowed {\n    }" in text and text.count("policy drop;") == 2
