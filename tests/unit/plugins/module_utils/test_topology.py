# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/topology.py and topology_checks.py (plain dicts stand in for groups and hostvars)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils import topology as tp
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError, merge_cidrs
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology_checks import ha_problems, topology_problems


def inventory(groups: dict, hostvars: dict | None = None, addresses: bool = True) -> tuple[dict, dict]:
    """(groups, hostvars) with ``all`` filled in; every host gets a 192.0.2.x address unless ``addresses`` is false."""
    hosts: list[str] = []
    for members in groups.values():
        hosts.extend(host for host in members if host not in hosts)
    for host in (hostvars or {}):
        if host not in hosts:
            hosts.append(host)
    full_groups = dict(groups, all=hosts)
    full_hostvars = {}
    for index, host in enumerate(hosts, start=10):
        variables = {"ansible_host": "192.0.2.%d" % index} if addresses else {}
        variables.update((hostvars or {}).get(host, {}))
        full_hostvars[host] = variables
    return full_groups, full_hostvars


def problems_of(groups: dict, hostvars: dict | None = None, secrets: dict | None = None, addresses: bool = True) -> list[str]:
    g, hv = inventory(groups, hostvars, addresses)
    return topology_problems(hv, g, secrets)


# --- addresses ----------------------------------------------------------------


class TestHostAddress:
    def test_kaizen_address_wins_over_everything(self):
        hv = {"h": {"kaizen_address": "192.0.2.1", "ansible_host": "192.0.2.2",
                    "ansible_facts": {"default_ipv4": {"address": "192.0.2.3"}}}}
        assert Topology({}, hv).address("h") == "192.0.2.1"

    def test_ansible_host_ip_used_when_no_kaizen_address(self):
        hv = {"h": {"ansible_host": "192.0.2.2", "ansible_facts": {"default_ipv4": {"address": "192.0.2.3"}}}}
        assert Topology({}, hv).address("h") == "192.0.2.2"

    def test_ansible_host_dns_name_is_not_an_address(self):
        hv = {"h": {"ansible_host": "kaizen-lab-pg1", "ansible_facts": {"default_ipv4": {"address": "192.0.2.3"}}}}
        assert Topology({}, hv).address("h") == "192.0.2.3"

    def test_legacy_injected_fact(self):
        hv = {"h": {"ansible_host": "h.example.internal", "ansible_default_ipv4": {"address": "192.0.2.4"}}}
        assert Topology({}, hv).address("h") == "192.0.2.4"

    def test_ansible_facts_preferred_over_injected_fact(self):
        hv = {"h": {"ansible_facts": {"default_ipv4": {"address": "192.0.2.3"}}, "ansible_default_ipv4": {"address": "192.0.2.4"}}}
        assert Topology({}, hv).address("h") == "192.0.2.3"

    def test_empty_kaizen_address_counts_as_unset(self):
        assert Topology({}, {"h": {"kaizen_address": "", "ansible_host": "192.0.2.2"}}).address("h") == "192.0.2.2"

    def test_ipv6_is_normalised(self):
        assert Topology({}, {"h": {"kaizen_address": "2001:DB8:0::10"}}).address("h") == "2001:db8::10"

    def test_returns_plain_str(self):
        address = Topology({}, {"h": {"ansible_host": "192.0.2.2"}}).address("h")
        assert address.__class__ is str  # not a str subclass such as a templating marker

    @pytest.mark.parametrize("bad", ["pg1.example.internal", "192.0.2.300", "192.0.2.0/24", 42])
    def test_invalid_kaizen_address_names_the_variable(self, bad):
        with pytest.raises(TopologyError, match=r"^h: kaizen_address is .*not an IP address"):
            Topology({}, {"h": {"kaizen_address": bad, "ansible_host": "192.0.2.2"}}).address("h")

    def test_no_address_names_host_and_variables(self):
        with pytest.raises(TopologyError) as info:
            Topology({}, {"h": {"ansible_host": "h.example.internal"}}).address("h")
        message = str(info.value)
        assert message.startswith("h: no address")
        assert "kaizen_address" in message and "ansible_host" in message and "default_ipv4" in message

    def test_unknown_host(self):
        with pytest.raises(TopologyError, match=r"nothere: no address \(the host is not in the inventory\)"):
            Topology({}, {}).address("nothere")

    def test_facts_without_default_ipv4(self):
        with pytest.raises(TopologyError):
            Topology({}, {"h": {"ansible_facts": {"hostname": "h"}}}).address("h")


def test_ip_literal():
    assert tp.ip_literal("192.0.2.1") == "192.0.2.1"
    assert tp.ip_literal("::1") == "::1"
    assert tp.ip_literal("example.org") is None
    assert tp.ip_literal("") is None
    assert tp.ip_literal(None) is None
    assert tp.ip_literal(3232235521) is None


# --- membership ---------------------------------------------------------------


class TestMembership:
    groups = {"app": ["a1", "a2", "a1", "a3"], "redis": ["r1"], "weird": "a1"}

    def test_members_in_order_without_duplicates(self):
        assert Topology(self.groups, {}).members("app") == ["a1", "a2", "a3"]

    def test_missing_group_is_empty(self):
        assert Topology(self.groups, {}).members("backup") == []

    def test_string_is_not_a_list_of_hosts(self):
        assert Topology(self.groups, {}).members("weird") == []

    def test_none_groups(self):
        assert Topology(None, None).members("app") == []

    def test_peers(self):
        assert Topology(self.groups, {}).peers("a2", "app") == ["a1", "a3"]
        assert Topology(self.groups, {}).peers("x", "app") == ["a1", "a2", "a3"]
        assert Topology(self.groups, {}).peers("r1", "redis") == []

    def test_addresses_and_hosts_info(self):
        groups, hostvars = inventory({"app": ["a1", "a2"]})
        topology = Topology(groups, hostvars)
        assert topology.addresses("app") == ["192.0.2.10", "192.0.2.11"]
        assert topology.hosts_info("app") == [{"name": "a1", "address": "192.0.2.10"}, {"name": "a2", "address": "192.0.2.11"}]
        assert topology.addresses("nothing") == []

    def test_all_hosts_falls_back_to_hostvars(self):
        assert Topology({}, {"x": {}, "y": {}}).all_hosts() == ["x", "y"]

    def test_site_hosts_first_appearance_order(self):
        groups = {"app": ["a1", "both"], "postgres": ["both", "pg"], "other": ["o"], "redis_sentinels": ["s"]}
        assert Topology(groups, {}).site_hosts() == ["a1", "both", "pg", "s"]


# --- CIDRs --------------------------------------------------------------------


class TestMergeCidrs:
    def test_overlapping(self):
        assert merge_cidrs(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3"]) == ["10.0.0.0/8"]

    def test_adjacent(self):
        assert merge_cidrs(["192.0.2.0/25", "192.0.2.128/25"]) == ["192.0.2.0/24"]

    def test_not_adjacent_stays_apart_and_sorted(self):
        assert merge_cidrs(["198.51.100.0/24", "192.0.2.0/24"]) == ["192.0.2.0/24", "198.51.100.0/24"]

    def test_host_addresses(self):
        assert merge_cidrs(["192.0.2.5", "192.0.2.4"]) == ["192.0.2.4/31"]
        assert merge_cidrs("192.0.2.7") == ["192.0.2.7/32"]

    def test_host_bits_are_cleared(self):
        assert merge_cidrs(["192.0.2.77/24"]) == ["192.0.2.0/24"]

    def test_ipv6_and_mixed(self):
        assert merge_cidrs(["2001:db8::1", "2001:db8::/64", "192.0.2.1"]) == ["192.0.2.1/32", "2001:db8::/64"]
        assert merge_cidrs(["2001:db8:0:1::/64", "2001:db8::/64"]) == ["2001:db8::/63"]

    def test_nested_lists(self):
        assert merge_cidrs([["10.0.0.0/9"], [["10.128.0.0/9"], []], "192.0.2.1"]) == ["10.0.0.0/8", "192.0.2.1/32"]

    def test_empty(self):
        assert merge_cidrs([]) == []

    @pytest.mark.parametrize("bad", ["bogus", "10.0.0.0/33", "10/8", "", None, 7])
    def test_invalid_names_the_value(self, bad):
        with pytest.raises(TopologyError, match="not a CIDR or an IP address"):
            merge_cidrs(["10.0.0.0/8", bad])


class TestNetworks:
    def test_widen(self):
        assert tp.widen("192.0.2.77") == "192.0.2.77/32"
        assert tp.widen("192.0.2.77", 24) == "192.0.2.0/24"
        assert tp.widen("2001:db8::5", 24, 64) == "2001:db8::/64"

    @pytest.mark.parametrize("prefix", [33, -1, "24", True])
    def test_widen_rejects_bad_prefix(self, prefix):
        with pytest.raises(TopologyError, match="prefix"):
            tp.widen("192.0.2.1", prefix)

    def test_group_networks_exact_hosts_merge(self):
        groups, hostvars = inventory({"app": ["a1", "a2", "a3"]})
        # .10 .11 .12 -> .10/31 + .12/32
        assert Topology(groups, hostvars).networks("app") == ["192.0.2.10/31", "192.0.2.12/32"]

    def test_group_networks_prefix_widening(self):
        hostvars = {"a1": {"kaizen_address": "192.0.2.10"}, "a2": {"kaizen_address": "198.51.100.7"},
                    "a3": {"kaizen_address": "192.0.2.200"}, "a4": {"kaizen_address": "2001:db8:1::9"}}
        topology = Topology({"app": ["a1", "a2", "a3", "a4"]}, hostvars)
        assert topology.networks("app", prefix=24) == ["192.0.2.0/24", "198.51.100.0/24", "2001:db8:1::9/128"]
        assert topology.networks("app", prefix=16, prefix6=48) == ["192.0.0.0/16", "198.51.0.0/16", "2001:db8:1::/48"]

    def test_group_networks_empty_group(self):
        assert Topology({}, {}).networks("app") == []


# --- PostgreSQL roles ---------------------------------------------------------


class TestPostgresRoles:
    def test_sole_host_is_primary(self):
        groups, hostvars = inventory({"postgres": ["pg1"]})
        topology = Topology(groups, hostvars)
        assert topology.postgres_primary() == "pg1"
        assert topology.postgres_replicas() == []
        assert topology.postgres_role("pg1") == "primary"

    def test_explicit_variable(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2", "pg3"]}, {"pg2": {"postgres_role": "primary"}})
        topology = Topology(groups, hostvars)
        assert topology.postgres_primary() == "pg2"
        assert topology.postgres_replicas() == ["pg1", "pg3"]
        assert topology.postgres_role("pg3") == "replica"

    def test_child_groups(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg2"], "postgres_replicas": ["pg1"]})
        topology = Topology(groups, hostvars)
        assert topology.postgres_primary() == "pg2"
        assert topology.postgres_replicas() == ["pg1"]
        assert [a.source for a in topology.postgres_roles()] == ["group postgres_replicas", "group postgres_primary"]

    def test_variable_beats_child_group(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"]},
                                     {"pg1": {"postgres_role": "replica"}, "pg2": {"postgres_role": "primary"}})
        assert Topology(groups, hostvars).postgres_primary() == "pg2"

    def test_several_unmarked_hosts_are_replicas(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"]})
        topology = Topology(groups, hostvars)
        assert topology.postgres_replicas() == ["pg1", "pg2"]
        with pytest.raises(TopologyError, match="exactly one PostgreSQL primary, found 0"):
            topology.postgres_primary()

    def test_two_primaries_raise(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"]}, {"pg1": {"postgres_role": "primary"}, "pg2": {"postgres_role": "primary"}})
        with pytest.raises(TopologyError, match=r"found 2 \(pg1, pg2\)"):
            Topology(groups, hostvars).postgres_primary()

    def test_role_of_non_member_and_invalid(self):
        groups, hostvars = inventory({"postgres": ["pg1"], "app": ["a1"]}, {"pg1": {"postgres_role": "leader"}})
        topology = Topology(groups, hostvars)
        with pytest.raises(TopologyError, match="a1 is not in group postgres"):
            topology.postgres_role("a1")
        with pytest.raises(TopologyError, match="pg1: postgres_role is 'leader'"):
            topology.postgres_role("pg1")

    def test_describe(self):
        assert tp.RoleAssignment("h", "primary", "postgres_role").describe() == "postgres_role is 'primary'"
        assert tp.RoleAssignment("h", "primary", "group postgres_primary").describe() == "is in group postgres_primary"
        assert tp.RoleAssignment("h", "replica", "default").describe() == "is replica by default"
        assert tp.RoleAssignment("h", "primary", "postgres_role").describe_with_host() == "h has postgres_role 'primary'"
        assert tp.RoleAssignment("h", "primary", "group redis_primary").describe_with_host() == "h is in group redis_primary"
        assert tp.RoleAssignment("h", "primary", "default").describe_with_host() == "h is primary by default"


# --- Redis roles and Sentinel -------------------------------------------------


class TestRedisRoles:
    def test_first_host_is_primary_by_default(self):
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3"]})
        topology = Topology(groups, hostvars)
        assert topology.redis_primary() == "r1"
        assert topology.redis_replicas() == ["r2", "r3"]

    def test_explicit_variable(self):
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3"]}, {"r3": {"redis_role": "primary"}})
        topology = Topology(groups, hostvars)
        assert topology.redis_primary() == "r3"
        assert topology.redis_replicas() == ["r1", "r2"]
        assert topology.redis_role("r1") == "replica"

    def test_child_group(self):
        groups, hostvars = inventory({"redis": ["r1", "r2"], "redis_primary": ["r2"]})
        assert Topology(groups, hostvars).redis_primary() == "r2"

    def test_first_unmarked_host_when_first_is_explicit_replica(self):
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3"]}, {"r1": {"redis_role": "replica"}})
        topology = Topology(groups, hostvars)
        assert topology.redis_primary() == "r2"
        assert topology.redis_replicas() == ["r1", "r3"]

    def test_sentinels_default_to_redis_hosts(self):
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3"]}, {"r2": {"redis_sentinel": False}})
        topology = Topology(groups, hostvars)
        assert topology.redis_sentinels() == ["r1", "r3"]
        assert topology.redis_sentinel_quorum() == 2

    @pytest.mark.parametrize("value", [False, "false", "no", 0])
    def test_redis_sentinel_false_spellings(self, value):
        groups, hostvars = inventory({"redis": ["r1", "r2"]}, {"r2": {"redis_sentinel": value}})
        assert Topology(groups, hostvars).redis_sentinels() == ["r1"]

    def test_sentinel_group(self):
        groups, hostvars = inventory({"redis": ["r1", "r2"], "redis_sentinels": ["r1", "m1", "a1"]})
        topology = Topology(groups, hostvars)
        assert topology.redis_sentinels() == ["r1", "m1", "a1"]
        assert topology.redis_sentinel_quorum() == 2

    def test_empty_sentinel_group_means_no_sentinels(self):
        groups, hostvars = inventory({"redis": ["r1", "r2"], "redis_sentinels": []})
        assert Topology(groups, hostvars).redis_sentinels() == []

    def test_explicit_quorum(self):
        quorum = {"redis_sentinel_quorum": 3}
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3", "r4", "r5"]}, {h: quorum for h in ["r1", "r2", "r3", "r4", "r5"]})
        assert Topology(groups, hostvars).redis_sentinel_quorum() == 3

    def test_quorum_as_string_from_extra_vars(self):
        groups, hostvars = inventory({"redis": ["r1"]}, {"r1": {"redis_sentinel_quorum": "1"}})
        assert Topology(groups, hostvars).redis_sentinel_quorum() == 1

    def test_differing_quorum_raises(self):
        groups, hostvars = inventory({"redis": ["r1", "r2", "r3"]}, {"r1": {"redis_sentinel_quorum": 3}})
        with pytest.raises(TopologyError, match="differs between Sentinel hosts"):
            Topology(groups, hostvars).redis_sentinel_quorum()

    def test_summary(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"], "redis": ["r1", "r2", "r3"], "app": ["a1"]})
        summary = Topology(groups, hostvars).summary()
        assert summary["postgres_primary"] == "pg1"
        assert summary["postgres_replicas"] == ["pg2"]
        assert summary["redis_primary"] == "r1"
        assert summary["redis_sentinels"] == ["r1", "r2", "r3"]
        assert summary["redis_sentinel_quorum"] == 2
        assert summary["app"] == ["a1"] and summary["backup"] == []

    def test_summary_without_databases(self):
        assert "postgres_primary" not in Topology({"app": ["a1"]}, {}).summary()


# --- preflight problems -------------------------------------------------------


GOOD = {
    "loadbalancers": ["lb1"],
    "app": ["app1", "app2"],
    "postgres": ["pg1", "pg2"],
    "postgres_primary": ["pg1"],
    "redis": ["r1", "r2", "r3"],
    "monitoring": ["mon1"],
    "backup": ["mon1"],
}


class TestProblems:
    def test_good_inventory(self):
        assert problems_of(GOOD, {"app1": {"kaizen_admin_cidrs": ["10.0.0.0/8"], "kaizen_client_cidrs": ["0.0.0.0/0", "::/0"]}}) == []

    def test_empty_inventory(self):
        assert topology_problems({}, {}, {"all": ["pki_ca_passphrase"]}) == []
        assert topology_problems(None, None, None) == []

    def test_single_instance(self):
        groups = {name: ["solo"] for name in tp.SITE_GROUPS}
        assert problems_of(groups, {"solo": {"pki_ca_passphrase": "s3cret"}}, {"all": ["pki_ca_passphrase"]}) == []

    def test_two_postgres_primaries(self):
        problems = problems_of({"postgres": ["pg1", "pg2", "pg3"]},
                               {"pg1": {"postgres_role": "primary"}, "pg2": {"postgres_role": "primary"}, "pg3": {"postgres_role": "primary"}})
        assert problems == [
            "pg2: postgres_role is 'primary' but pg1 is also primary (pg1 has postgres_role 'primary'; exactly one PostgreSQL "
            "primary allowed: set postgres_role: replica on the others)",
            "pg3: postgres_role is 'primary' but pg1 is also primary (pg1 has postgres_role 'primary'; exactly one PostgreSQL "
            "primary allowed: set postgres_role: replica on the others)",
        ]

    def test_primary_by_group_and_variable(self):
        problems = problems_of({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"]}, {"pg2": {"postgres_role": "primary"}})
        assert len(problems) == 1
        assert problems[0].startswith("pg2: postgres_role is 'primary' but pg1 is also primary (pg1 is in group postgres_primary;")

    def test_replicas_without_primary(self):
        problems = problems_of({"postgres": ["pg1", "pg2"]}, {"pg1": {"postgres_role": "replica"}})
        assert len(problems) == 1
        assert problems[0].startswith("postgres: no PostgreSQL primary; the replicas pg1 (postgres_role is 'replica'), "
                                      "pg2 (is replica by default)")
        assert "postgres_role: primary" in problems[0]

    def test_invalid_postgres_role(self):
        problems = problems_of({"postgres": ["pg1", "pg2"]}, {"pg1": {"postgres_role": "primary"}, "pg2": {"postgres_role": "standby"}})
        assert problems == ["pg2: postgres_role is 'standby'; it must be 'primary' or 'replica'"]

    def test_both_postgres_child_groups(self):
        problems = problems_of({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1", "pg2"], "postgres_replicas": ["pg2"]})
        assert problems == ["pg2: is in both groups postgres_primary and postgres_replicas; a PostgreSQL host is either primary or replica"]

    def test_two_redis_primaries(self):
        problems = problems_of({"redis": ["r1", "r2", "r3"]}, {"r1": {"redis_role": "primary"}, "r3": {"redis_role": "primary"}})
        assert problems[0].startswith("r3: redis_role is 'primary' but r1 is also primary")
        assert "exactly one Redis primary allowed" in problems[0]

    def test_no_redis_primary(self):
        replica = {"redis_role": "replica"}
        problems = problems_of({"redis": ["r1", "r2", "r3"]}, {"r1": replica, "r2": replica, "r3": replica})
        assert problems == [
            "redis: no Redis primary; the replicas r1 (redis_role is 'replica'), r2 (redis_role is 'replica'), r3 (redis_role is "
            "'replica') have nothing to replicate from. Set redis_role: primary on exactly one host of group redis (or put it in "
            "group redis_primary)"
        ]

    def test_quorum_larger_than_sentinels(self):
        quorum = {"redis_sentinel_quorum": 4}
        problems = problems_of({"redis": ["r1", "r2", "r3"]}, {"r1": quorum, "r2": quorum, "r3": quorum})
        assert problems == ["r1, r2, r3: redis_sentinel_quorum is 4 but only 3 sentinels run (r1, r2, r3); a quorum larger than "
                            "the number of sentinels can never be reached, so no failover would ever happen"]

    @pytest.mark.parametrize("value", [0, -1, "two", 1.5, True, [2]])
    def test_quorum_not_a_positive_integer(self, value):
        problems = problems_of({"redis": ["r1", "r2", "r3"], "redis_sentinels": ["r1", "r2", "r3"]}, {"r2": {"redis_sentinel_quorum": value}})
        assert problems == ["r2: redis_sentinel_quorum is %r; it must be an integer of at least 1" % (value,)]

    def test_quorum_differs(self):
        problems = problems_of({"redis": ["r1", "r2", "r3"]}, {"r1": {"redis_sentinel_quorum": 1}})
        assert problems == ["redis: redis_sentinel_quorum differs between Sentinel hosts (r1: 1, r2: 2, r3: 2); every Sentinel "
                            "must use the same quorum: set it once in group_vars"]

    def test_quorum_cannot_survive_loss_of_primary_host(self):
        # sentinels r1 (the primary) and r2: losing r1 leaves one sentinel, the default quorum is 2
        problems = problems_of({"redis": ["r1", "r2"]})
        assert len(problems) == 1
        message = problems[0]
        assert message.startswith("r1: Redis Sentinel cannot fail over when the Redis primary's host r1 is lost")
        assert "the Sentinel quorum is 2 (default majority)" in message
        assert "only 1 of the 2 sentinels (r2)" in message
        assert "majority of all sentinels (2) must authorise the failover" in message
        assert "redis_sentinel_quorum" in message

    def test_explicit_low_quorum_still_needs_a_majority(self):
        # quorum 1 is reachable, but 1 surviving sentinel of 2 is not a majority, so no failover is authorised
        quorum = {"redis_sentinel_quorum": 1}
        problems = problems_of({"redis": ["r1", "r2"]}, {"r1": quorum, "r2": quorum})
        assert len(problems) == 1
        assert "redis_sentinel_quorum is 1" in problems[0] and "at least 2 must run away from r1" in problems[0]

    def test_quorum_survives_with_three_sentinels(self):
        assert problems_of({"redis": ["r1", "r2", "r3"]}) == []

    def test_quorum_three_of_three_cannot_survive(self):
        quorum = {"redis_sentinel_quorum": 3}
        problems = problems_of({"redis": ["r1", "r2", "r3"]}, {"r1": quorum, "r2": quorum, "r3": quorum})
        assert len(problems) == 1 and "redis_sentinel_quorum is 3" in problems[0]

    def test_sentinels_on_other_hosts_save_a_single_redis(self):
        groups = {"redis": ["r1"], "redis_sentinels": ["r1", "app1", "mon1"], "app": ["app1"], "monitoring": ["mon1"]}
        assert problems_of(groups) == []

    def test_sentinel_on_same_address_as_primary_counts_as_same_host(self):
        groups = {"redis": ["r1", "r2"], "redis_sentinels": ["r1", "r1-alias", "mon1"]}
        hostvars = {"r1-alias": {"kaizen_address": "192.0.2.10"}}  # r1 is 192.0.2.10 too
        problems = problems_of(groups, hostvars)
        assert len(problems) == 1 and "only 1 of the 3 sentinels (mon1)" in problems[0]

    def test_no_sentinels(self):
        problems = problems_of({"redis": ["r1"]}, {"r1": {"redis_sentinel": False}})
        assert len(problems) == 1 and problems[0].startswith("redis: no host runs Redis Sentinel")

    def test_host_without_address(self):
        problems = problems_of({"app": ["a1"], "backup": ["b1"], "other": ["o1"]},
                               {"a1": {"ansible_host": "kaizen-lab-a1"}, "b1": {"kaizen_address": "192.0.2.1"}}, addresses=False)
        assert len(problems) == 1
        assert problems[0].startswith("a1: no address; set kaizen_address (or ansible_host)")

    def test_invalid_kaizen_address(self):
        problems = problems_of({"app": ["a1"]}, {"a1": {"kaizen_address": "a1.example.internal"}})
        assert problems == ["a1: kaizen_address is 'a1.example.internal', which is not an IP address; set it to the IPv4 or IPv6 "
                            "address other hosts use to reach a1"]

    def test_cidr_variables(self):
        hostvars = {"a1": {"kaizen_admin_cidrs": ["10.0.0.0/8", "10.0.0.0/33", "192.0.2.7"], "kaizen_client_cidrs": "0.0.0.0/0",
                           "office_cidr": "203.0.113.0/24", "vpn_cidr": "nope", "lab_cidr": ["10.0.0.0/8"], "cidr_notes": "x",
                           "kaizen_extra_cidrs": [{"net": "10.0.0.0/8"}]}}
        problems = problems_of({"app": ["a1"]}, hostvars)
        assert problems == [
            "a1: kaizen_admin_cidrs contains '10.0.0.0/33', which is not a CIDR or an IP address",
            "a1: kaizen_client_cidrs is '0.0.0.0/0'; it must be a list of CIDR strings such as ['192.0.2.0/24']",
            "a1: kaizen_extra_cidrs contains {'net': '10.0.0.0/8'}, which is not a CIDR or an IP address",
            "a1: lab_cidr is ['10.0.0.0/8']; it must be a CIDR string such as '192.0.2.0/24'",
            "a1: vpn_cidr is 'nope', which is not a CIDR or an IP address",
        ]

    def test_cidrs_checked_on_hosts_outside_site_groups(self):
        problems = problems_of({"other": ["o1"]}, {"o1": {"kaizen_admin_cidrs": ["bad"]}})
        assert problems == ["o1: kaizen_admin_cidrs contains 'bad', which is not a CIDR or an IP address"]

    @pytest.mark.parametrize("value, reason", [
        (None, "is empty"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("CHANGE_ME", "still holds the CHANGE_ME... placeholder"),
        ("CHANGE_ME_pki_passphrase", "still holds the CHANGE_ME... placeholder"),
    ])
    def test_missing_secret(self, value, reason):
        problems = problems_of({"app": ["a1"]}, {"a1": {"pki_ca_passphrase": value}}, {"all": ["pki_ca_passphrase"]})
        assert len(problems) == 1
        assert problems[0].startswith("a1: required secret pki_ca_passphrase %s (required for hosts of group all" % reason)

    def test_undefined_secret(self):
        problems = problems_of({"app": ["a1"]}, {}, {"all": ["pki_ca_passphrase"]})
        assert problems == ["a1: required secret pki_ca_passphrase is not defined (required for hosts of group all; set it in the "
                            "inventory's vault)"]

    def test_secret_value_never_shown(self):
        problems = problems_of({"postgres": ["pg1"]}, {"pg1": {"pg_password": "CHANGE_ME-hunter2"}}, {"postgres": ["pg_password"]})
        assert len(problems) == 1 and "hunter2" not in problems[0]

    def test_secrets_per_group(self):
        hostvars = {"pg1": {"pki_ca_passphrase": "x"}, "a1": {"pki_ca_passphrase": "x"}}
        secrets = {"all": ["pki_ca_passphrase"], "postgres": ["postgres_password", "postgres_replication_password"], "absent": ["x"]}
        problems = problems_of({"postgres": ["pg1"], "app": ["a1"]}, hostvars, secrets)
        assert problems == [
            "pg1: required secret postgres_password is not defined (required for hosts of group postgres; set it in the inventory's vault)",
            "pg1: required secret postgres_replication_password is not defined (required for hosts of group postgres; set it in the "
            "inventory's vault)",
        ]

    def test_one_problem_per_secret_and_reason_naming_every_host(self):
        hostvars = {"pg1": {"s": "CHANGE_ME"}, "pg2": {"s": "CHANGE_ME"}, "a1": {"s": ""}}
        problems = problems_of({"backup": ["pg1", "pg2", "pg3"], "app": ["a1", "a2"]}, hostvars, {"all": ["s"], "backup": ["s"]})
        assert problems == [
            "pg1, pg2: required secret s still holds the CHANGE_ME... placeholder (required for hosts of group all, backup; set a "
            "real value in the vault)",
            "pg3, a2: required secret s is not defined (required for hosts of group all, backup; set it in the inventory's vault)",
            "a1: required secret s is empty (required for hosts of group all; set a real value in the vault)",
        ]

    def test_secret_names_as_string(self):
        assert len(problems_of({"app": ["a1"]}, {}, {"app": "app_secret_key"})) == 1

    def test_secrets_table_must_be_mapping(self):
        assert problems_of({"app": ["a1"]}, {}, ["pki_ca_passphrase"])[0].startswith("kaizen_preflight_required_secrets must be a mapping")

    def test_secret_that_is_not_a_string_is_present(self):
        assert problems_of({"app": ["a1"]}, {"a1": {"n": 1234, "d": {"k": "v"}}}, {"all": ["n", "d"]}) == []

    def test_several_problems_at_once(self):
        groups = dict(GOOD, postgres_primary=["pg1", "pg2"])
        hostvars = {
            "app2": {"ansible_host": "kaizen-lab-app2"},
            "r1": {"redis_sentinel_quorum": 5}, "r2": {"redis_sentinel_quorum": 5}, "r3": {"redis_sentinel_quorum": 5},
            "lb1": {"kaizen_client_cidrs": ["0.0.0.0/0", "everyone"]},
            "mon1": {"pki_ca_passphrase": "CHANGE_ME"},
        }
        g, hv = inventory(groups, hostvars)
        hv["app2"] = {"ansible_host": "kaizen-lab-app2"}  # no address at all
        problems = topology_problems(hv, g, {"monitoring": ["pki_ca_passphrase"]})
        assert len(problems) == 5, problems
        text = "\n".join(problems)
        assert "pg2: is in group postgres_primary but pg1 is also primary" in text
        assert "r1, r2, r3: redis_sentinel_quorum is 5 but only 3 sentinels run" in text
        assert "app2: no address" in text
        assert "lb1: kaizen_client_cidrs contains 'everyone'" in text
        assert "mon1: required secret pki_ca_passphrase still holds the CHANGE_ME... placeholder" in text


class _Unresolvable(Mapping):
    """A host's variables where some names cannot be templated (as in Ansible, when they refer to undefined variables)."""

    def __init__(self, values: dict, broken: set, host: str = "h") -> None:
        self._values = values
        self._broken = broken
        self._host = host

    def __getitem__(self, name):
        if name in self._broken:
            raise tp.UnresolvedVariableError(self._host, name, "'vault_thing' is undefined")
        return self._values[name]

    def __iter__(self):
        return iter(list(self._values) + sorted(self._broken))

    def __len__(self):
        return len(self._values) + len(self._broken)

    def __contains__(self, name):
        return name in self._values or name in self._broken


class TestUnresolvableVariables:
    def test_reported_not_raised(self):
        hostvars = {"h": _Unresolvable({"ansible_host": "192.0.2.1"}, {"office_cidr", "postgres_role", "db_password"})}
        problems = topology_problems(hostvars, {"all": ["h"], "postgres": ["h"]}, {"postgres": ["db_password"]})
        assert problems == [
            "h: postgres_role cannot be resolved ('vault_thing' is undefined)",
            "h: office_cidr cannot be resolved ('vault_thing' is undefined)",
            "h: required secret db_password cannot be resolved (required for hosts of group postgres; check the variables it refers to: is the vault loaded?)",
        ]

    def test_unresolvable_address(self):
        hostvars = {"h": _Unresolvable({}, {"kaizen_address"})}
        assert topology_problems(hostvars, {"all": ["h"], "app": ["h"]}) == ["h: kaizen_address cannot be resolved ('vault_thing' is undefined)"]

    def test_other_exceptions_are_reported_too(self):
        class Exploding(_Unresolvable):
            def __getitem__(self, name):
                if name in self._broken:
                    raise RuntimeError("template error while templating string\nmore detail")
                return self._values[name]

        hostvars = {"h": Exploding({"ansible_host": "192.0.2.1"}, {"redis_role"})}
        assert topology_problems(hostvars, {"all": ["h"], "redis": ["h"]}) == [
            "h: redis_role cannot be resolved (template error while templating string)"
        ]


def test_netaddr_missing_gives_clear_error(monkeypatch):
    monkeypatch.setattr(tp, "HAS_NETADDR", False)
    monkeypatch.setattr(tp, "NETADDR_IMPORT_ERROR", "Traceback ...\nModuleNotFoundError: No module named 'netaddr'")
    with pytest.raises(TopologyError, match=r"'netaddr' is required on the Ansible controller.*\(ModuleNotFoundError: No module named 'netaddr'\)$"):
        merge_cidrs(["10.0.0.0/8"])
    # addresses do not need netaddr
    assert Topology({}, {"h": {"ansible_host": "192.0.2.1"}}).address("h") == "192.0.2.1"


def test_single_redis_host_needs_no_failover_majority():
    # one Redis host (no replica to promote): the Sentinel on it only serves discovery
    assert problems_of({"redis": ["r1"]}) == []
    assert problems_of({"redis": ["r1"], "redis_sentinels": ["r1", "a1"]}) == []


def test_bad_cidr_shared_by_hosts_is_one_problem():
    bad = {"kaizen_client_cidrs": ["0.0.0.0/0", "everyone"]}
    problems = problems_of({"app": ["a1", "a2"], "backup": ["b1"]}, {"a1": bad, "a2": bad, "b1": {"kaizen_client_cidrs": ["nobody"]}})
    assert problems == [
        "a1, a2: kaizen_client_cidrs contains 'everyone', which is not a CIDR or an IP address",
        "b1: kaizen_client_cidrs contains 'nobody', which is not a CIDR or an IP address",
    ]


def test_imports_without_netaddr():
    """ansible-test's import sanity test imports module_utils without netaddr: the import must not fail.

    Runs in a separate interpreter, so this process keeps its module objects.
    """
    import subprocess
    import sys

    script = "\n".join([
        "import sys",
        "sys.modules['netaddr'] = None",  # makes 'import netaddr' raise ImportError
        "sys.path[:0] = %r" % [p for p in sys.path if p],
        "from ansible_collections.kaizen.hybrid.plugins.module_utils import topology as tp",
        "from ansible_collections.kaizen.hybrid.plugins.module_utils import topology_checks",
        "assert tp.HAS_NETADDR is False",
        "assert tp.Topology({}, {'h': {'ansible_host': '192.0.2.1'}}).address('h') == '192.0.2.1'",
        "try:",
        "    tp.merge_cidrs('10.0.0.0/8')",
        "except tp.TopologyError as exc:",
        "    print(exc)",
    ])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "pip install netaddr" in result.stdout


def test_a_failing_check_does_not_hide_the_others():
    # redis_sentinel of r1 cannot be resolved; the Redis check reports it and the secret check still runs
    hostvars = {"r1": _Unresolvable({"ansible_host": "192.0.2.1"}, {"redis_sentinel"}, "r1"), "a1": {"ansible_host": "192.0.2.2"}}
    problems = topology_problems(hostvars, {"all": ["r1", "a1"], "redis": ["r1"], "app": ["a1"]}, {"app": ["app_secret_key"]})
    assert problems == [
        "r1: redis_sentinel cannot be resolved ('vault_thing' is undefined)",
        "a1: required secret app_secret_key is not defined (required for hosts of group app; set it in the inventory's vault)",
    ]


# --- PostgreSQL high availability: Patroni and etcd --------------------------------------------


class TestHighAvailability:
    PROD = {"loadbalancers": ["lb1"], "app": ["a1", "a2"], "postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"],
            "redis": ["r1"], "monitoring": ["m1"]}

    def test_etcd_defaults_to_the_postgres_hosts_and_then_the_first_other_site_hosts(self):
        groups, hostvars = inventory(self.PROD)
        topology = Topology(groups, hostvars)
        assert topology.etcd_members() == ["pg1", "pg2", "lb1"]
        assert topology.postgres_ha_mode() == "patroni"
        assert topology.summary()["etcd"] == ["pg1", "pg2", "lb1"]

    def test_an_etcd_group_is_taken_as_it_is(self):
        groups, hostvars = inventory(dict(self.PROD, etcd=["e1", "e2", "e3", "e4", "e5"]))
        assert Topology(groups, hostvars).etcd_members() == ["e1", "e2", "e3", "e4", "e5"]
        assert ha_problems(Topology(groups, hostvars)) == []

    def test_a_site_too_small_for_a_quorum_is_manual_by_default(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"], "app": ["pg1"]})
        topology = Topology(groups, hostvars)
        assert topology.postgres_ha_mode() == "manual" and "etcd" not in topology.summary()
        assert ha_problems(topology) == []

    def test_patroni_asked_for_without_a_quorum_is_refused_naming_the_members(self):
        groups, hostvars = inventory({"postgres": ["pg1", "pg2"], "postgres_primary": ["pg1"]},
                                     {host: {"postgresql_ha_mode": "patroni"} for host in ("pg1", "pg2")})
        problems = ha_problems(Topology(groups, hostvars))
        assert len(problems) == 1 and problems[0].startswith("etcd: 2 member(s) (pg1, pg2, from the PostgreSQL hosts")
        assert "two halves cannot elect a leader" in problems[0] and "postgresql_ha_mode: manual" in problems[0]
        groups, hostvars = inventory(dict(self.PROD, etcd=["e1", "e2", "e3", "e4"]))
        assert "4 member(s)" in ha_problems(Topology(groups, hostvars))[0]

    def test_one_member_serves_a_site_without_replicas(self):
        groups, hostvars = inventory({"postgres": ["s1"], "app": ["s1"]}, {"s1": {"postgresql_ha_mode": "patroni"}})
        topology = Topology(groups, hostvars)
        assert topology.etcd_members() == ["s1"] and topology.postgres_ha_mode() == "patroni"
        assert ha_problems(topology) == []

    def test_bad_or_differing_modes_are_refused(self):
        groups, hostvars = inventory(self.PROD, {"pg1": {"postgresql_ha_mode": "raft"}})
        assert ha_problems(Topology(groups, hostvars)) == ["pg1: postgresql_ha_mode is 'raft'; it must be one of auto, patroni, manual"]
        groups, hostvars = inventory(self.PROD, {"pg1": {"postgresql_ha_mode": "manual"}})
        assert "differs between PostgreSQL hosts (pg1: manual, pg2: auto)" in ha_problems(Topology(groups, hostvars))[0]
