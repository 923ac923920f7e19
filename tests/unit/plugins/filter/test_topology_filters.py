# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/filter/topology.py.

The filters are thin wrappers over module_utils/topology.py (tested there); these tests check the
wiring, the error conversion, and behaviour over Ansible's real, lazily templated ``hostvars``.
"""

from __future__ import annotations

import textwrap

import pytest
from jinja2 import StrictUndefined

from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.kaizen.hybrid.plugins.filter import topology as filters_module
from ansible_collections.kaizen.hybrid.plugins.filter.topology import FilterModule

FILTERS = FilterModule().filters()

GROUPS = {
    "all": ["lb1", "app1", "app2", "pg1", "pg2", "r1", "r2", "r3"],
    "loadbalancers": ["lb1"],
    "app": ["app1", "app2"],
    "postgres": ["pg1", "pg2"],
    "postgres_primary": ["pg2"],
    "redis": ["r1", "r2", "r3"],
}
HOSTVARS = {host: {"ansible_host": "192.0.2.%d" % index} for index, host in enumerate(GROUPS["all"], start=10)}


def test_filter_names_are_the_contract():
    assert set(FILTERS) >= {
        "host_address", "group_members", "group_peers", "group_addresses", "group_hosts_info", "group_networks",
        "merge_cidrs", "postgres_primary", "postgres_replicas", "redis_primary", "redis_sentinels", "topology_problems",
    }
    assert all(callable(function) for function in FILTERS.values())


def test_every_filter_is_documented():
    import os
    directory = os.path.dirname(filters_module.__file__)
    undocumented = [name for name in FILTERS if not os.path.exists(os.path.join(directory, name + ".yml"))]
    assert not undocumented


def test_wrappers_over_plain_mappings():
    assert FILTERS["host_address"]("app2", HOSTVARS) == "192.0.2.12"
    assert FILTERS["group_members"]("app", GROUPS) == ["app1", "app2"]
    assert FILTERS["group_members"]("backup", GROUPS) == []
    assert FILTERS["group_peers"]("r2", "redis", GROUPS) == ["r1", "r3"]
    assert FILTERS["group_addresses"]("app", GROUPS, HOSTVARS) == ["192.0.2.11", "192.0.2.12"]
    assert FILTERS["group_hosts_info"]("loadbalancers", GROUPS, HOSTVARS) == [{"name": "lb1", "address": "192.0.2.10"}]
    assert FILTERS["group_networks"]("app", GROUPS, HOSTVARS) == ["192.0.2.11/32", "192.0.2.12/32"]
    assert FILTERS["group_networks"]("app", GROUPS, HOSTVARS, 24) == ["192.0.2.0/24"]
    assert FILTERS["group_networks"]("app", GROUPS, HOSTVARS, prefix=24) == ["192.0.2.0/24"]
    assert FILTERS["merge_cidrs"]([["10.0.0.0/9", "10.128.0.0/9"], "192.0.2.1"]) == ["10.0.0.0/8", "192.0.2.1/32"]
    assert FILTERS["host_port"]("192.0.2.10", 9093) == "192.0.2.10:9093"
    assert FILTERS["host_port"]("2001:db8::10", "9093") == "[2001:db8::10]:9093"
    assert FILTERS["host_port"]("[2001:db8::10]", 9093) == "[2001:db8::10]:9093"
    assert FILTERS["host_port"]("db1.example", 5432) == "db1.example:5432"
    assert FILTERS["postgres_primary"](GROUPS, HOSTVARS) == "pg2"
    assert FILTERS["postgres_replicas"](GROUPS, HOSTVARS) == ["pg1"]
    assert FILTERS["postgres_role"]("pg1", GROUPS, HOSTVARS) == "replica"
    assert FILTERS["redis_primary"](GROUPS, HOSTVARS) == "r1"
    assert FILTERS["redis_replicas"](GROUPS, HOSTVARS) == ["r2", "r3"]
    assert FILTERS["redis_role"]("r1", GROUPS, HOSTVARS) == "primary"
    assert FILTERS["redis_sentinels"](GROUPS, HOSTVARS) == ["r1", "r2", "r3"]
    assert FILTERS["redis_sentinel_quorum"](GROUPS, HOSTVARS) == 2
    assert FILTERS["topology_summary"](GROUPS, HOSTVARS)["postgres_primary"] == "pg2"
    assert FILTERS["topology_problems"](HOSTVARS, GROUPS, {}) == []
    assert FILTERS["topology_problems"](HOSTVARS, GROUPS) == []


@pytest.mark.parametrize("facts, expected", [
    ({"virtualization_role": "guest", "virtualization_type": "docker"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "systemd-nspawn"}, True),
    ({"virtualization_role": "guest", "virtualization_type": "kvm"}, False),
    ({"virtualization_role": "host", "virtualization_type": "docker"}, False),  # a Docker host is not in a container
    ({"virtualization_role": "NA", "virtualization_type": "NA"}, False),
    ({}, False),  # facts gathered without the virtual subset
])
def test_in_container(facts, expected):
    assert FILTERS["in_container"](facts) is expected


@pytest.mark.parametrize("name, args, message", [
    ("host_address", ("nothere", HOSTVARS), "kaizen.hybrid.host_address: nothere: no address"),
    ("host_address", ("h", {"h": {"kaizen_address": "h.example"}}), "h: kaizen_address is 'h.example'"),
    ("merge_cidrs", (["10.0.0.0/8", "bogus"],), "kaizen.hybrid.merge_cidrs: 'bogus' is not a CIDR"),
    ("host_port", ("", 9093), "kaizen.hybrid.host_port: both a host and a port are required"),
    ("host_port", ("192.0.2.10", None), "kaizen.hybrid.host_port: both a host and a port are required"),
    ("host_port", (StrictUndefined(name="x"), 1), "kaizen.hybrid.host_port: both a host and a port are required"),
    ("in_container", ("docker",), "kaizen.hybrid.in_container: expects ansible_facts (a mapping), got str"),
    ("group_networks", ("app", GROUPS, HOSTVARS, 40), "prefix 40 is not a valid IPv4 prefix length"),
    ("postgres_primary", ({"postgres": ["a", "b"]}, {}), "exactly one PostgreSQL primary, found 0"),
    ("redis_primary", ({"redis": []}, {}), "exactly one Redis primary, found 0"),
    ("host_address", ("h", None), "hostvars must be the 'hostvars' mapping"),
    ("topology_problems", (["not", "hostvars"], GROUPS), "topology_problems is applied to hostvars"),
])
def test_errors_become_filter_errors(name, args, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FILTERS[name](*args)


class TestUndefinedValues:
    """In a play, hostvars return undefined markers (jinja2 Undefined subclasses) for values that cannot be templated."""

    def test_undefined_value_is_reported_with_host_and_variable(self):
        hostvars = {"h": {"ansible_host": "192.0.2.1", "office_cidr": StrictUndefined(name="vault_office")}}
        assert FILTERS["topology_problems"](hostvars, {"all": ["h"]}) == ["h: office_cidr cannot be resolved ('vault_office' is undefined)"]

    def test_undefined_inside_a_list(self):
        hostvars = {"h": {"kaizen_admin_cidrs": ["10.0.0.0/8", StrictUndefined(name="vault_vpn")]}}
        assert FILTERS["topology_problems"](hostvars, {"all": ["h"]}) == [
            "h: kaizen_admin_cidrs cannot be resolved ('vault_vpn' is undefined)"
        ]

    def test_undefined_host_is_unknown(self):
        hostvars = {"h": StrictUndefined(name="h")}
        with pytest.raises(AnsibleFilterError, match=r"h: no address \(the host is not in the inventory\)"):
            FILTERS["host_address"]("h", hostvars)

    def test_undefined_address_in_filter(self):
        hostvars = {"h": {"kaizen_address": StrictUndefined(name="vault_address")}}
        with pytest.raises(AnsibleFilterError, match="h: kaizen_address cannot be resolved"):
            FILTERS["host_address"]("h", hostvars)

    def test_default_replaces_a_missing_address(self):
        hostvars = {"a": {"kaizen_address": "192.0.2.7"}, "b": {"ansible_host": "b.example.internal"}}
        assert FILTERS["host_address"]("a", hostvars, default="") == "192.0.2.7"
        assert FILTERS["host_address"]("b", hostvars, default="") == ""
        assert FILTERS["host_address"]("b", hostvars, default=None) is None
        with pytest.raises(AnsibleFilterError, match="b: no address"):
            FILTERS["host_address"]("b", hostvars)

    def test_default_does_not_hide_a_wrong_address(self):
        hostvars = {"a": {"kaizen_address": "not-an-ip"}}
        with pytest.raises(AnsibleFilterError, match="a: kaizen_address is 'not-an-ip'"):
            FILTERS["host_address"]("a", hostvars, default="")

    def test_secret_error_text_is_not_echoed(self):
        hostvars = {"h": {"pki_ca_passphrase": StrictUndefined(name="vault_pki_ca_passphrase")}}
        problems = FILTERS["topology_problems"](hostvars, {"all": ["h"]}, {"all": ["pki_ca_passphrase"]})
        assert problems == ["h: required secret pki_ca_passphrase cannot be resolved (required for hosts of group all; check the "
                            "variables it refers to: is the vault loaded?)"]


@pytest.fixture
def real_hostvars(tmp_path):
    """Ansible's own (lazily templating) HostVars and groups for a small inventory."""
    inventory_file = tmp_path / "hosts.yml"
    inventory_file.write_text(textwrap.dedent("""\
        all:
          vars:
            pki_ca_passphrase: "{{ vault_pki_ca_passphrase | default('CHANGE_ME') }}"
            kaizen_admin_cidrs: ["10.0.0.0/8", "{{ office_network }}"]
            office_network: 198.51.100.0/24
          children:
            postgres:
              hosts:
                pg1: {ansible_host: 192.0.2.11}
                pg2: {ansible_host: kaizen-lab-pg2, kaizen_address: "{{ '192.0.2.' ~ 12 }}", postgres_role: primary}
            redis:
              hosts:
                r1: {ansible_host: 192.0.2.21, ansible_default_ipv4: {address: 192.0.2.99}}
                r2: {ansible_host: kaizen-lab-r2, ansible_default_ipv4: {address: 192.0.2.22}}
                r3: {ansible_host: 192.0.2.23, vpn_cidr: "{{ vault_vpn_cidr }}"}
        """))
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    return inventory.get_groups_dict(), HostVars(inventory, variable_manager, loader)


class TestRealHostVars:
    def test_addresses(self, real_hostvars):
        groups, hostvars = real_hostvars
        assert FILTERS["host_address"]("pg2", hostvars) == "192.0.2.12"
        assert FILTERS["group_addresses"]("redis", groups, hostvars) == ["192.0.2.21", "192.0.2.22", "192.0.2.23"]
        assert FILTERS["group_networks"]("postgres", groups, hostvars) == ["192.0.2.11/32", "192.0.2.12/32"]

    def test_roles(self, real_hostvars):
        groups, hostvars = real_hostvars
        assert FILTERS["postgres_primary"](groups, hostvars) == "pg2"
        assert FILTERS["redis_primary"](groups, hostvars) == "r1"

    def test_problems(self, real_hostvars):
        groups, hostvars = real_hostvars
        problems = FILTERS["topology_problems"](hostvars, groups, {"all": ["pki_ca_passphrase"]})
        assert problems[0] == "r3: vpn_cidr cannot be resolved ('vault_vpn_cidr' is undefined)"
        assert problems[1:] == ["pg1, pg2, r1, r2, r3: required secret pki_ca_passphrase still holds the CHANGE_ME... placeholder "
                                "(required for hosts of group all; set a real value in the vault)"]
