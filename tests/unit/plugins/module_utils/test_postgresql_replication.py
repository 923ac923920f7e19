# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/postgresql_replication.py: LSNs, pg_controldata, timeline
histories and the decisions the role and the failover playbooks take from them."""

from __future__ import annotations

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils import postgresql_replication as pr

CONTROLDATA_PRIMARY = """\
pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7311845627419874521
Database cluster state:               in production
pg_control last modified:             Thu 26 Nov 2026 10:00:00 PM UTC
Latest checkpoint location:           0/3000060
Latest checkpoint's REDO location:    0/3000028
Latest checkpoint's REDO WAL file:    000000010000000000000003
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
Minimum recovery ending location:     0/0
Min recovery ending loc's timeline:   0
wal_log_hints setting:                on
Data page checksum version:           1
"""

CONTROLDATA_STANDBY = """\
Database system identifier:           7311845627419874521
Database cluster state:               shut down in recovery
Latest checkpoint location:           0/5000060
Latest checkpoint's REDO location:    0/5000028
Latest checkpoint's TimeLineID:       1
Minimum recovery ending location:     0/6000100
Min recovery ending loc's timeline:   2
Data page checksum version:           1
"""

HISTORY = """\
1\t0/5000148\tno recovery target specified

2\t0/7A000A0\tno recovery target specified
"""


@pytest.mark.parametrize("text, value", [
    ("0/0", 0),
    ("0/3000148", 0x3000148),
    ("16/B374D848", (0x16 << 32) | 0xB374D848),
    (" 1/0 ", 1 << 32),
    (None, None),
    ("", None),
    (42, 42),
])
def test_parse_lsn(text, value):
    assert pr.parse_lsn(text) == value


@pytest.mark.parametrize("bad", ["nonsense", "1/2/3", "G/0", "123456789/0", True])
def test_parse_lsn_rejects(bad):
    with pytest.raises(ValueError):
        pr.parse_lsn(bad)


def test_format_round_trip_and_diff():
    assert pr.format_lsn(pr.parse_lsn("16/B374D848")) == "16/B374D848"
    assert pr.format_lsn(None) is None
    assert pr.lsn_diff("1/0", "0/FFFFFFFF") == 1
    assert pr.lsn_diff("0/10", None) is None
    assert pr.max_lsn("0/10", None, "0/20", "") == 0x20
    assert pr.max_lsn(None, "") is None


def test_parse_controldata_primary():
    data = pr.parse_controldata(CONTROLDATA_PRIMARY)
    assert data["system_identifier"] == "7311845627419874521"
    assert data["cluster_state"] == "in production"
    assert data["timeline"] == 1
    assert data["lsn"] == "0/3000060"
    assert data["data_checksum_version"] == 1
    assert data["in_recovery"] is False
    assert data["shut_down_cleanly"] is False


def test_parse_controldata_standby_uses_the_min_recovery_timeline():
    data = pr.parse_controldata(CONTROLDATA_STANDBY)
    assert data["timeline"] == 2
    assert data["lsn"] == "0/6000100"
    assert data["in_recovery"] is True
    assert data["shut_down_cleanly"] is True


def test_parse_controldata_empty():
    data = pr.parse_controldata("")
    assert data["timeline"] is None and data["lsn"] is None


def test_parse_timeline_history():
    assert pr.parse_timeline_history(HISTORY) == [
        {"timeline": 1, "switchpoint": "0/5000148", "reason": "no recovery target specified"},
        {"timeline": 2, "switchpoint": "0/7A000A0", "reason": "no recovery target specified"},
    ]
    assert pr.parse_timeline_history("# comment\nbroken\nx 0/1\n") == []


@pytest.mark.parametrize("timeline, lsn, expected", [
    (3, "0/9000000", True),     # on the primary's timeline
    (4, "0/1000000", False),    # ahead of the primary's history
    (1, "0/5000148", True),     # exactly at the fork
    (1, "0/5000000", True),     # before the fork: can follow
    (1, "0/5000200", False),    # got WAL past the fork: diverged
    (2, "0/7A00000", True),
    (2, "0/7B00000", False),
    (1, None, None),
    (None, "0/1", None),
])
def test_follows_history(timeline, lsn, expected):
    history = pr.parse_timeline_history(HISTORY)
    assert pr.follows_history(timeline, lsn, 3, history) is expected


def _running(recovery, **extra):
    state = {"running": True, "in_recovery": recovery, "data_initialized": True, "standby_signal": recovery,
             "system_identifier": "42", "timeline": 1}
    state.update(extra)
    return state


def _stopped(standby, **extra):
    state = {"running": False, "in_recovery": None, "data_initialized": True, "standby_signal": standby,
             "system_identifier": "42", "timeline": 1}
    state.update(extra)
    return state


FRESH = {"running": False, "in_recovery": None, "data_initialized": False, "standby_signal": False}


def test_live_primary_new_cluster_uses_the_inventory():
    result = pr.live_primary({"pg1": FRESH, "pg2": FRESH}, "pg1")
    assert result["primary"] == "pg1" and result["initialize"] is True and not result["warnings"]


def test_live_primary_is_the_running_one_even_when_the_inventory_differs():
    result = pr.live_primary({"pg1": _running(True), "pg2": _running(False), "pg3": _running(True)}, "pg1")
    assert result["primary"] == "pg2" and result["initialize"] is False
    assert "update the inventory" in result["warnings"][0]


def test_live_primary_refuses_split_brain():
    with pytest.raises(pr.ReplicationError, match="split brain: pg1 and pg2"):
        pr.live_primary({"pg1": _running(False), "pg2": _running(False)}, "pg1")


def test_live_primary_stopped_primary_of_the_inventory():
    result = pr.live_primary({"pg1": _stopped(False), "pg2": _running(True)}, "pg1")
    assert result["primary"] == "pg1" and result["initialize"] is False


def test_live_primary_never_initialises_over_existing_data():
    with pytest.raises(pr.ReplicationError, match="pg1 has no data but pg2 do"):
        pr.live_primary({"pg1": FRESH, "pg2": _running(True)}, "pg1")


def test_live_primary_only_standbys():
    with pytest.raises(pr.ReplicationError, match="every reachable host with data"):
        pr.live_primary({"pg1": _stopped(True), "pg2": _running(True)}, "pg1")


def test_live_primary_unreachable_inventory_primary_on_a_new_cluster():
    with pytest.raises(pr.ReplicationError, match="not reachable"):
        pr.live_primary({"pg2": FRESH}, "pg1")


def test_live_primary_two_stopped_primaries():
    with pytest.raises(pr.ReplicationError, match="cannot tell which is the primary"):
        pr.live_primary({"pg1": FRESH, "pg2": _stopped(False), "pg3": _stopped(False)}, "pg1")


def test_live_primary_single_stopped_other_host():
    result = pr.live_primary({"pg2": _stopped(False), "pg3": _running(True)}, "pg1")
    assert result["primary"] == "pg2" and result["warnings"]


PRIMARY = _running(False, timeline=3, timeline_history=pr.parse_timeline_history(HISTORY))


@pytest.mark.parametrize("state, action", [
    (FRESH, "clone"),
    (_running(True, system_identifier="43"), "clone"),
    (_running(False), "rejoin"),
    (_stopped(False), "rejoin"),
    (_running(True, timeline=3, wal_position="0/9000000"), "none"),
    (_running(True, timeline=1, wal_position="0/5000000"), "none"),
    (_running(True, timeline=1, wal_position="0/5000200"), "rejoin"),
    (_stopped(True, timeline=4, wal_position="0/1"), "rejoin"),
    (_stopped(True, timeline=2, wal_position=None), "none"),
])
def test_replica_action(state, action):
    assert pr.replica_action(PRIMARY, state)["action"] == action


def test_failover_target_takes_the_most_wal_then_inventory_order():
    states = {
        "pg1": {"running": False},
        "pg2": _running(True, receive_lsn="0/5000000", replay_lsn="0/4000000"),
        "pg3": _running(True, receive_lsn="0/6000000", replay_lsn="0/6000000"),
        "pg4": _running(True, receive_lsn="0/6000000", replay_lsn="0/5000000"),
    }
    result = pr.failover_target(states, ["pg1", "pg2", "pg3", "pg4"])
    assert result["target"] == "pg3" and result["lsn"] == "0/6000000" and result["behind_bytes"] == 0
    assert [item["host"] for item in result["candidates"]] == ["pg2", "pg3", "pg4"]


def test_failover_target_requested():
    states = {"pg2": _running(True, receive_lsn="0/5000000"), "pg3": _running(True, receive_lsn="0/6000000")}
    with pytest.raises(pr.ReplicationError, match="pg2 has received less WAL than pg3"):
        pr.failover_target(states, ["pg2", "pg3"], requested="pg2")
    forced = pr.failover_target(states, ["pg2", "pg3"], requested="pg2", force=True)
    assert forced["target"] == "pg2" and forced["behind_bytes"] == 0x1000000
    with pytest.raises(pr.ReplicationError, match="not a running replica"):
        pr.failover_target(states, ["pg2", "pg3"], requested="pg9")


def test_failover_target_needs_a_replica():
    with pytest.raises(pr.ReplicationError, match="no running replica"):
        pr.failover_target({"pg1": _running(False), "pg2": {"running": False}}, ["pg1", "pg2"])


# --- the failover playbook's decision: every host's inspection (state and last promotion record)

ORDER = ["pg1", "pg2", "pg3"]


def _inspected(pg1=None, record=None, **others):
    """pg1 (the primary, lost when None), pg2 and pg3 streaming replicas (pg3 ahead) unless given."""
    hosts = {"pg1": {"state": pg1 or {}, "promotion": record or {}},
             "pg2": {"state": _running(True, receive_lsn="0/5000000", timeline=1), "promotion": {}},
             "pg3": {"state": _running(True, receive_lsn="0/6000000", timeline=1), "promotion": {}}}
    hosts.update(others)
    return hosts


def test_a_lost_primary_is_replaced_by_the_replica_with_the_most_wal():
    plan = pr.failover_plan(_inspected(), ORDER)
    assert (plan["mode"], plan["new_primary"], plan["problem"]) == ("failover", "pg3", "")
    assert plan["reachable"] == ["pg2", "pg3"] and plan["primaries"] == [] and plan["choice"]["lsn"] == "0/6000000"
    assert set(plan["states"]) == {"pg2", "pg3"}
    # A host that answered nothing at all (no inspection) is lost too; a stopped server answered.
    assert pr.failover_plan({"pg2": None, "pg3": _inspected()["pg3"]}, ORDER)["new_primary"] == "pg3"
    stopped = pr.failover_plan(_inspected(pg1={"running": False, "data_initialized": True}), ORDER)
    assert stopped["mode"] == "failover" and stopped["reachable"] == ["pg1", "pg2", "pg3"]


def test_a_primary_that_is_alive_is_refused_unless_forced_with_a_target():
    alive = _running(False, timeline=1)
    plan = pr.failover_plan(_inspected(pg1=alive), ORDER)
    assert plan["mode"] == "refuse" and plan["problem"].startswith("pg1 is reachable and accepts writes") and not plan["new_primary"]
    fenced = pr.failover_plan(_inspected(pg1=alive), ORDER, requested="pg2", force=True)
    assert (fenced["mode"], fenced["new_primary"], fenced["primaries"]) == ("fence", "pg2", ["pg1"])
    # force without a target, or naming the primary itself, fences nothing.
    assert pr.failover_plan(_inspected(pg1=alive), ORDER, force=True)["mode"] == "refuse"
    assert pr.failover_plan(_inspected(pg1=alive), ORDER, requested="pg1", force=True)["mode"] == "refuse"


def test_after_a_failover_a_second_run_converges_the_rest():
    # pg3 was promoted from timeline 1 and runs on 2: the run re-points and rejoins, promotes nothing.
    promoted = {"state": _running(False, timeline=2), "promotion": {"timeline_before": 1, "promoted_by": "pg_failover.yml"}}
    plan = pr.failover_plan(_inspected(pg1={"running": False, "data_initialized": True}, pg3=promoted), ORDER)
    assert (plan["mode"], plan["new_primary"], plan["choice"]) == ("converge", "pg3", None)
    # Promoted again since (timeline 3): the record is stale, so the primary is simply alive.
    again = dict(promoted, state=_running(False, timeline=3))
    assert pr.failover_plan(_inspected(pg3=again), ORDER)["mode"] == "refuse"


def test_split_brain_and_a_bad_target_are_refused_with_one_sentence():
    split = pr.failover_plan(_inspected(pg1=_running(False), pg2={"state": _running(False), "promotion": {}}), ORDER)
    assert split["mode"] == "refuse" and split["problem"].startswith("Split brain: pg1 and pg2 all accept writes")
    behind = pr.failover_plan(_inspected(), ORDER, requested="pg2")
    assert behind["mode"] == "refuse" and "pg2 has received less WAL than pg3" in behind["problem"]
    assert behind["problem"].endswith("Nothing was changed.")
    nobody = pr.failover_plan({"pg1": {"state": {}}, "pg2": {"state": {"running": False}}}, ORDER)
    assert nobody["mode"] == "refuse" and "no running replica to promote" in nobody["problem"]
    assert pr.failover_plan({}, ORDER)["problem"].startswith("no running replica")


def test_switchover_ready():
    primary = {"current_lsn": "0/5000100", "replicas": [
        {"application_name": "pg2", "state": "streaming", "replay_lsn": "0/5000100"},
        {"application_name": "pg3", "state": "streaming", "replay_lsn": "0/4000000"},
        {"application_name": "pg4", "state": "catchup", "replay_lsn": "0/1"},
    ]}
    assert pr.switchover_ready(primary, "pg2")["ready"] is True
    lagging = pr.switchover_ready(primary, "pg3", max_lag_bytes=1024)
    assert lagging["ready"] is False and "lags the primary" in lagging["reason"]
    assert pr.switchover_ready(primary, "pg3", max_lag_bytes=1 << 30)["ready"] is True
    assert "not streaming" in pr.switchover_ready(primary, "pg4")["reason"]
    assert "not connected" in pr.switchover_ready(primary, "pg5")["reason"]


def test_restart_order_replicas_first():
    pending = {"pg1": [{"name": "shared_buffers", "running": "16384", "configured": "256MB"}],
               "pg2": [{"name": "shared_buffers", "running": "16384", "configured": "256MB"}],
               "pg3": [{"name": "max_connections", "running": "100", "configured": "120"}],
               "pg4": []}
    result = pr.restart_order(pending, "pg1", ["pg1", "pg2", "pg3", "pg4"])
    assert result["order"] == ["pg2", "pg3", "pg1"] and result["primary_first"] is False


def test_restart_order_primary_first_when_a_standby_minimum_is_lowered():
    rows = [{"name": "max_connections", "running": "120", "configured": "100"}, {"name": "work_mem", "running": "4096", "configured": "1"}]
    result = pr.restart_order({"pg1": rows, "pg2": rows, "pg3": rows}, "pg2", ["pg1", "pg2", "pg3"])
    assert result["order"] == ["pg2", "pg1", "pg3"] and result["primary_first"] is True and result["wait_replay"] is True
    assert "max_connections lowered" in result["reason"]


def test_restart_order_nothing_pending_and_odd_values():
    assert pr.restart_order({}, "pg1", ["pg1", "pg2"])["order"] == []
    rows = [{"name": "max_wal_senders", "running": "10", "configured": None}]
    assert pr.restart_order({"pg2": rows}, "pg1", ["pg1", "pg2"]) == {
        "order": ["pg2"], "primary_first": False, "wait_replay": False, "reason": "replicas first, the primary last"}


# --- verify_cluster -----------------------------------------------------------

NAMES = {"pg1": "pg1", "pg2": "pg2", "pg3": "pg3"}


def _primary(*replicas, sync=""):
    return {"running": True, "in_recovery": False, "timeline": 2, "synchronous_standby_names": sync,
            "replicas": [dict(application_name=name, state="streaming", sync_state=state, replay_lag_bytes=lag)
                         for name, state, lag in replicas]}


def _standby(status="streaming"):
    return {"running": True, "in_recovery": True, "wal_receiver": {"status": status} if status else None}


def test_verify_healthy_cluster():
    states = {"pg1": _primary(("pg2", "quorum", 0), ("pg3", "quorum", 128)), "pg2": _standby(), "pg3": _standby()}
    result = pr.verify_cluster(states, ["pg1", "pg2", "pg3"], NAMES, max_lag_bytes=1024, synchronous_count=1)
    assert result["problems"] == [] and result["primary"] == "pg1"
    assert result["summary"][1] == "pg2: streaming from pg1, quorum, replay lag 0 bytes"


def test_verify_names_every_problem():
    states = {
        "pg1": {"running": False, "error": "connection refused"},
        "pg2": _primary(("pg3", "async", 5000)),
        "pg3": _standby(),
        "pg4": _standby(status=None),
        "pg5": {"unreachable": True, "msg": "Failed to connect"},
    }
    hosts = ["pg1", "pg2", "pg3", "pg4", "pg5", "pg6"]
    result = pr.verify_cluster(states, hosts, dict(NAMES, pg4="pg4"), max_lag_bytes=1024, synchronous_count=1)
    assert result["primary"] == "pg2"
    assert result["problems"] == [
        "pg1: PostgreSQL is not running (connection refused)",
        "pg5: did not answer (Failed to connect)",
        "pg6: did not answer (host unreachable, or its state could not be read)",
        "pg3: replays 5000 bytes behind pg2 (allowed: 1024)",
        "pg4: standby is not streaming from pg2 (WAL receiver: none)",
        "pg2: 0 synchronous standby(s), 1 required (synchronous_standby_names '')",
    ]


def test_verify_split_brain_and_no_primary():
    two = {"pg1": _primary(), "pg2": _primary()}
    assert pr.verify_cluster(two, ["pg1", "pg2"], NAMES)["problems"] == ["pg1 and pg2: more than one server accepts writes (split brain)"]
    none = {"pg1": _standby(), "pg2": _standby()}
    assert pr.verify_cluster(none, ["pg1", "pg2"], NAMES) == {
        "primary": None, "problems": ["pg1, pg2: no primary, every running server is a standby"], "summary": []}
    stray = {"pg1": _primary(), "pg2": _standby()}
    assert pr.verify_cluster(stray, ["pg1", "pg2"], NAMES)["problems"] == [
        "pg2: streams, but not from the primary pg1 (it is not among its replicas)"]


def test_parse_postmaster_pid():
    text = "4242\n/var/lib/postgresql/15/main\n1796290000\n15432\n/var/run/postgresql\n*\n  5432001    12\nready   \n"
    assert pr.parse_postmaster_pid(text) == {"pid": 4242, "port": 15432, "socket_dir": "/var/run/postgresql", "status": "ready"}
    # PostgreSQL writes the status line last: a starting server has only the first lines.
    assert pr.parse_postmaster_pid("4242\n/d\n1796290000\n5432\n")["port"] == 5432


@pytest.mark.parametrize("text", ["", "4242\n/d\n", "x\n/d\n1\n5432\n", "4242\n/d\n1\n0\n", "4242\n/d\n1\n70000\n", "-1\n/d\n1\n5432\n"])
def test_parse_postmaster_pid_refuses_what_it_cannot_read(text):
    assert pr.parse_postmaster_pid(text) == {}


def test_restart_order_for_a_port_change_follows_how_replicas_find_the_primary():
    rows = [{"name": "port", "running": "5432", "configured": "5433"}]
    pending = {"pg1": rows, "pg2": rows, "pg3": rows}
    manual = pr.restart_order(pending, "pg1", ["pg1", "pg2", "pg3"])
    assert manual["order"] == ["pg1", "pg2", "pg3"] and manual["primary_first"] is True and "port" in manual["reason"]
    # The standbys do not wait to replay the restarted primary first: a max_connections raised with the port
    # pauses their replay until they restart with it themselves (seen in the lab: 100 s, then a failed converge).
    raised = [*rows, {"name": "max_connections", "running": "100", "configured": "120"}]
    both = pr.restart_order({"pg1": raised, "pg2": raised, "pg3": raised}, "pg1", ["pg1", "pg2", "pg3"])
    assert both["order"] == ["pg1", "pg2", "pg3"] and both["wait_replay"] is False
    # Under Patroni the leader advertises its old port until it restarts: replicas first.
    assert pr.restart_order(pending, "pg1", ["pg1", "pg2", "pg3"], patroni=True)["order"] == ["pg2", "pg3", "pg1"]
    # A replica's own port change does not reorder anything.
    assert pr.restart_order({"pg2": rows}, "pg1", ["pg1", "pg2"])["order"] == ["pg2"]
