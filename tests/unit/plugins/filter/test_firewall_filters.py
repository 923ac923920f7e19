# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/filter/firewall.py: wiring, error conversion, documentation."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.kaizen.hybrid.plugins.filter.firewall import FilterModule

FILTERS = FilterModule().filters()
FILTER_DIR = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter"

GROUPS = {"all": ["lb", "db"], "loadbalancers": ["lb"], "postgres": ["db"], "app": []}
HOSTVARS = {"lb": {"kaizen_address": "192.0.2.1", "kaizen_admin_cidrs": ["198.51.100.0/24"], "kaizen_client_cidrs": ["0.0.0.0/0"]},
            "db": {"kaizen_address": "192.0.2.2", "kaizen_admin_cidrs": ["198.51.100.0/24"]}}


def test_filter_names_are_the_contract():
    assert set(FILTERS) == {"firewall_rules", "firewall_nft", "firewall_admits"}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_is_documented(name):
    doc = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text())
    assert doc["DOCUMENTATION"]["name"] == name
    assert doc["EXAMPLES"] and doc["RETURN"]["_value"]


def test_rules_as_nftables_and_the_admission_of_an_address():
    rules = FILTERS["firewall_rules"]("lb", GROUPS, HOSTVARS, {"ssh_port": 2222})
    text = FILTERS["firewall_nft"](rules)
    assert "ip saddr 0.0.0.0/0 meta l4proto tcp ct original proto-dst 443 accept" in text
    assert FILTERS["firewall_admits"](rules, "198.51.100.9", "2222")
    assert not FILTERS["firewall_admits"](rules, "198.51.100.9", 22)


def test_errors_name_the_filter():
    with pytest.raises(AnsibleFilterError, match="kaizen.hybrid.firewall_rules: firewall_admin_services of lb must be"):
        FILTERS["firewall_rules"]("lb", GROUPS, HOSTVARS, {"admin_services": 3})
    with pytest.raises(AnsibleFilterError, match="kaizen.hybrid.firewall_admits"):
        FILTERS["firewall_admits"]({"rules": []}, "not-an-address", 22)
