# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall test's measuring code, fed known outputs: which ports a host listens on for others, and which
probe outcomes differ from the matrix (including no probe at all and a matrix that allows nothing)."""

from __future__ import annotations

from labtest.firewall import ANYONE, allowed_sources, differences, listening

SS = """\
LISTEN 0      4096   172.30.230.12:8080      0.0.0.0:*
LISTEN 0      244          0.0.0.0:5432      0.0.0.0:*
LISTEN 0      128        127.0.0.1:8081      0.0.0.0:*
LISTEN 0      4096               *:9100            *:*
LISTEN 0      244             [::]:5432         [::]:*
LISTEN 0      128            [::1]:6010         [::]:*
LISTEN 0      128   [fe80::1%eth0]:7000         [::]:*
garbage
"""


def test_listening_keeps_what_other_hosts_can_reach():
    assert listening(SS) == {8080, 5432, 9100, 7000}
    assert listening("") == set()


MATRIX = {"lb": {"443": ANYONE, "6379": ["app1"]}, "app1": {"8080": ["lb"]}}
SOURCES = ["lb", "app1", "stranger"]


def test_the_matrix_names_who_may_reach_a_port():
    assert allowed_sources(MATRIX, "lb", 443, SOURCES) == set(SOURCES)
    assert allowed_sources(MATRIX, "lb", 6379, SOURCES) == {"app1"}
    assert allowed_sources(MATRIX, "lb", 22, SOURCES) == set()
    assert allowed_sources(MATRIX, "nowhere", 22, SOURCES) == set()


def test_outcomes_that_match_the_matrix_differ_in_nothing():
    outcomes = {("app1", "lb", 443): "open", ("stranger", "lb", 443): "reset", ("app1", "lb", 6379): "open",
                ("stranger", "lb", 6379): "dropped", ("lb", "app1", 8080): "open", ("stranger", "app1", 8080): "dropped",
                ("app1", "lb", 22): "dropped"}
    assert differences(MATRIX, outcomes, SOURCES) == []
    assert differences(MATRIX, {}, SOURCES) == []


def test_a_port_open_too_wide_and_one_closed_too_tight_are_both_named():
    outcomes = {("stranger", "lb", 6379): "open", ("lb", "app1", 8080): "dropped", ("app1", "lb", 22): "reset"}
    assert differences(MATRIX, outcomes, SOURCES) == [
        "app1 -> lb:22 reset (should be dropped)",
        "lb -> app1:8080 dropped (should get through)",
        "stranger -> lb:6379 open (should be dropped)",
    ]


def test_a_matrix_that_allows_nothing_wants_everything_dropped():
    assert differences({}, {("lb", "app1", 8080): "open"}, SOURCES) == ["lb -> app1:8080 open (should be dropped)"]
