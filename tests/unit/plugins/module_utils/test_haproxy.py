# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.kaizen.hybrid.plugins.module_utils import haproxy

GOOD = {"ha_mode": "patroni", "rw_port": 5000, "ro_port": 5001, "check_interval_ms": 1000, "check_fall": 2, "check_rise": 1,
        "members": [{"name": "pg1"}], "taken": {5432: "PostgreSQL"}, "host": "app1"}

# What HAProxy 2.6 answers to `show stat` (columns cut after check_desc's neighbours; the parser reads by name).
HEADER = (
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"
    "weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
    "rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,check_desc"
)
STAT = "# " + HEADER + "\n" + """\
postgresql_rw,FRONTEND,,,0,1,1000,3,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,,
postgresql_rw,pg1,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,52,0,,1,2,1,,3,,2,0,,1,L7OK,200,3,,Layer7 check passed
postgresql_rw,pg2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,50,50,,1,2,2,,0,,2,0,,0,L7STS,503,2,,Layer7 wrong status
postgresql_rw,BACKEND,0,0,0,1,100,3,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,52,0,,1,2,0,,3,,1,0,,1,,,,,
postgresql_ro,FRONTEND,,,0,0,1000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,3,0,,,,0,0,0,0,,,,,
postgresql_ro,pg1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,52,52,,1,3,1,,0,,2,0,,0,L7STS,503,3,,Layer7 wrong status
postgresql_ro,pg2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1,1,0,0,0,50,0,,1,3,2,,0,,2,0,,0,L7OK,200,2,,Layer7 check passed
postgresql_ro,BACKEND,0,0,0,0,100,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,52,0,,1,3,0,,0,,1,0,,0,,,,,
"""


def test_good_settings_have_no_problem():
    assert haproxy.settings_problems(GOOD) == []


def test_manual_mode_is_refused_saying_why():
    problems = haproxy.settings_problems(dict(GOOD, ha_mode="manual"))
    assert len(problems) == 1 and "postgresql_ha_mode: patroni" in problems[0] and "it is manual" in problems[0]


def test_every_bad_setting_is_one_sentence():
    problems = haproxy.settings_problems(dict(GOOD, rw_port="x", ro_port=70000, check_interval_ms=10, check_fall=True, members=[]))
    assert len(problems) == 5, problems
    assert any("haproxy_rw_port is 'x'" in p for p in problems)
    assert any("haproxy_ro_port is 70000" in p for p in problems)
    assert any("haproxy_check_interval_ms" in p for p in problems)
    assert any("haproxy_check_fall" in p for p in problems)
    assert any("group postgres has no hosts" in p for p in problems)


def test_ports_must_differ_and_be_free_on_the_host():
    assert any("both 5000" in p for p in haproxy.settings_problems(dict(GOOD, ro_port=5000)))
    problems = haproxy.settings_problems(dict(GOOD, rw_port=5432))
    assert problems == ["haproxy_rw_port 5432 is already used on app1 by PostgreSQL"]
    assert haproxy.settings_problems(dict(GOOD, ro_port=8008, taken={"8008": "Patroni's REST API"})) == [
        "haproxy_ro_port 8008 is already used on app1 by Patroni's REST API"]


def test_show_stat_parsed_without_the_summary_rows():
    proxies = haproxy.parse_stat(STAT)
    assert set(proxies) == {"postgresql_rw", "postgresql_ro"}
    assert proxies["postgresql_rw"] == {
        "pg1": {"status": "UP", "check_status": "L7OK", "check_desc": "Layer7 check passed"},
        "pg2": {"status": "DOWN", "check_status": "L7STS", "check_desc": "Layer7 wrong status"},
    }
    assert haproxy.parse_stat("") == {} and haproxy.parse_stat("\n") == {}


def test_routing_names_the_leader_and_the_replicas():
    assert haproxy.routing(haproxy.parse_stat(STAT)) == {"rw": ["pg1"], "ro": ["pg2"], "problems": []}


def test_routing_problems():
    nothing = haproxy.routing({"postgresql_rw": {"pg1": {"status": "DOWN", "check_desc": "Layer4 timeout"}},
                               "postgresql_ro": {"pg1": {"status": "DOWN"}}})
    assert nothing["rw"] == [] and len(nothing["problems"]) == 2
    assert nothing["problems"][0].endswith("writes have nowhere to go (pg1: Layer4 timeout)")
    assert nothing["problems"][1].endswith("reads on the read-only port fail (pg1: DOWN)")
    # A single-host tier has no replica to read from: not a problem then.
    assert haproxy.routing({"postgresql_rw": {"pg1": {"status": "UP"}}, "postgresql_ro": {"pg1": {"status": "DOWN"}}},
                           replicas_expected=False)["problems"] == []
    two = haproxy.routing({"postgresql_rw": {"pg1": {"status": "UP"}, "pg2": {"status": "UP"}}, "postgresql_ro": {}}, replicas_expected=False)
    assert two["problems"] == ["more than one server passes the /primary check of postgresql_rw (pg1, pg2)"]
    assert haproxy.routing({})["problems"] == ["HAProxy has no listener postgresql_rw", "HAProxy has no listener postgresql_ro"]
