# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json built and checked (plugins/module_utils/docker_daemon.py)."""

from __future__ import annotations

from ansible_collections.kaizen.hybrid.plugins.filter.docker import FilterModule
from ansible_collections.kaizen.hybrid.plugins.module_utils.docker_daemon import build, problems

POOLS = [{"base": "10.210.0.0/16", "size": 24}]


def test_build_and_a_clean_config():
    config = build("10m", 3, True, POOLS, "10.0.0.5:9323", {"storage-driver": "overlay2"})
    assert config == {
        "log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "live-restore": True,
        "default-address-pools": POOLS, "metrics-addr": "10.0.0.5:9323", "experimental": True, "storage-driver": "overlay2",
    }
    assert problems(config) == []
    assert build("5m", 2, False, [], "") == {"log-driver": "json-file", "log-opts": {"max-size": "5m", "max-file": "2"}, "live-restore": False}


def test_every_problem_is_named():
    config = build("ten", 0, "yes", [{"base": "10.210.0.0/16", "size": 12}, {"base": "10.210.1.0/24", "size": 28},
                                     {"base": "10.300.0.0/16", "size": 24}, {"base": "10.1.0.0/16"}],
                   "localhost:9323", {"live-restor": True})
    assert problems(config) == [
        "unknown key 'live-restor' (did you mean live-restore?)",
        "log-opts.max-size 'ten' is not a size such as 10m, 512k or 1g",
        "log-opts.max-file '0' is not a positive number of files",
        "default-address-pools[0]: size 12 must be between the base's prefix length 16 and 30",
        "default-address-pools[2]: base '10.300.0.0/16' is not a network in CIDR form "
        "('10.300.0.0/16' does not appear to be an IPv4 or IPv6 network)",
        "default-address-pools[3]: size None is not a prefix length (an integer)",
        "metrics-addr 'localhost:9323' is not <IP address>:<port>",
    ]


def test_overlapping_pools_and_odd_inputs():
    assert problems({"default-address-pools": [{"base": "10.0.0.0/8", "size": 24}, {"base": "10.5.0.0/16", "size": 24}]}) == [
        "default-address-pools: 10.0.0.0/8 and 10.5.0.0/16 overlap"]
    assert problems({"default-address-pools": "10.0.0.0/8"}) == ["default-address-pools must be a list, got '10.0.0.0/8'"]
    assert problems(["log-driver"]) == ["daemon.json must be a mapping, got ['log-driver']"]
    assert problems({"metrics-addr": "[::1]:9323"}) == []
    assert problems({"live-restore": "yes", "default-address-pools": [{"base": "10.1.0.0/16"}]}) == [
        "default-address-pools[0]: expected {base: <CIDR>, size: <prefix length>}, got {'base': '10.1.0.0/16'}",
        "live-restore must be true or false, got 'yes'"]


def test_filters():
    filters = FilterModule().filters()
    assert set(filters) == {"docker_daemon_config", "docker_daemon_problems"}
    config = filters["docker_daemon_config"]("10m", 3, True, POOLS, "10.0.0.5:9323")
    assert filters["docker_daemon_problems"](config) == []
