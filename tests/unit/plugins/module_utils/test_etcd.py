# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The etcd cluster's members, how they are reached, and the etcd role's settings."""

from __future__ import annotations

from ansible_collections.kaizen.hybrid.plugins.module_utils import etcd
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology


def _site(hostvars=None):
    groups = {"all": ["lb1", "pg1", "pg2", "app1"], "loadbalancers": ["lb1"], "postgres": ["pg1", "pg2"], "app": ["app1"]}
    base = {"lb1": {"kaizen_address": "10.0.0.5"}, "pg1": {"kaizen_address": "10.0.0.11"}, "pg2": {"kaizen_address": "2001:db8::12"},
            "app1": {"kaizen_address": "10.0.0.21"}}
    for host, extra in (hostvars or {}).items():
        base[host] = dict(base[host], **extra)
    return Topology(groups, base)


def test_every_member_with_its_urls_ipv6_in_brackets_and_its_own_ports():
    members = etcd.cluster(_site({"lb1": {"etcd_client_port": 12379}}))
    assert [member["name"] for member in members] == ["pg1", "pg2", "lb1"]
    assert members[0]["client_url"] == "https://10.0.0.11:2379" and members[0]["peer_url"] == "https://10.0.0.11:2380"
    assert members[0]["metrics_url"] == "http://10.0.0.11:2381"
    assert members[1]["peer_url"] == "https://[2001:db8::12]:2380"
    assert members[2]["client_url"] == "https://10.0.0.5:12379" and members[2]["client_port"] == 12379


def test_the_initial_cluster():
    assert etcd.initial_cluster(etcd.cluster(_site())) == (
        "pg1=https://10.0.0.11:2380,pg2=https://[2001:db8::12]:2380,lb1=https://10.0.0.5:2380")
    assert etcd.initial_cluster([]) == ""


GOOD = {"client_port": 2379, "peer_port": 2380, "metrics_port": 2381, "heartbeat_interval": 100, "election_timeout": 1000,
        "data_dir": "/var/lib/etcd/kaizen", "members": ["pg1", "pg2", "lb1"], "host": "pg1"}


def test_good_settings_have_no_problem():
    assert etcd.settings_problems(GOOD) == []


def test_each_bad_setting_is_one_sentence():
    problems = etcd.settings_problems(dict(GOOD, client_port="http", peer_port=2381, election_timeout=300, data_dir="etcd", host="app1"))
    assert problems[0] == "etcd_client_port is 'http'; it must be a port number (1-65535)"
    assert "etcd_election_timeout is 300 ms: it must be at least five heartbeats" in problems[1]
    assert problems[2] == "etcd_data_dir is 'etcd'; it must be an absolute path"
    assert problems[3].startswith("app1 is not an etcd member (the members are pg1, pg2, lb1)")
    assert len(problems) == 4
    assert "must differ (client_port 2379, peer_port 2380, metrics_port 2379)" in etcd.settings_problems(dict(GOOD, metrics_port=2379))[0]
    assert "whole numbers" in etcd.settings_problems(dict(GOOD, heartbeat_interval="1s"))[0]
