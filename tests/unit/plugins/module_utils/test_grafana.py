# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/grafana.py and grafana_lint.py: Grafana's settings and dashboards, checked in preflight.

Also the tests' query helpers, tests/unit/monitoring/grafana_queries.py.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.filter.grafana import FilterModule
from ansible_collections.kaizen.hybrid.plugins.module_utils.grafana import settings_problems
from ansible_collections.kaizen.hybrid.plugins.module_utils.grafana_lint import (
    DATASOURCE_UID,
    dashboard_file_problems,
    dashboard_problems,
    read_dashboards,
    variable_names,
)
from ansible_collections.kaizen.hybrid.tests.unit.monitoring.grafana_queries import promql_for_check, queries, variable_query_promql

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "grafana"
ROLE_DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
DS = {"type": "prometheus", "uid": "kaizen-prometheus"}


# ------------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------------

def settings(**changes):
    values = {name[len("grafana_"):]: value for name, value in ROLE_DEFAULTS.items()}
    values.update(http_address="192.0.2.40", prometheus_url="http://192.0.2.40:9090", admin_password="a-real-password")
    values.update(changes)
    return values


def test_the_role_defaults_pass_with_a_password():
    assert settings_problems(settings()) == []


def test_the_provisioned_uid_is_the_roles():
    assert ROLE_VARS["__grafana_datasource_uid"] == DATASOURCE_UID


def test_no_password_is_needed_without_grafana():
    assert settings_problems(settings(install_method="none", admin_password="")) == []


def test_a_deb_that_exists_passes(tmp_path):
    deb = tmp_path / "grafana_11.2.0_amd64.deb"
    deb.write_bytes(b"!<arch>\n")
    assert settings_problems(settings(install_method="deb", deb_path=str(deb))) == []


@pytest.mark.parametrize("changes, expected", [
    ({"install_method": "snap"}, "grafana_install_method must be one of repository, deb, none"),
    ({"install_method": "deb", "deb_path": ""}, "grafana_deb_path must be the absolute path of a .deb"),
    ({"install_method": "deb", "deb_path": "files/grafana.deb"}, "grafana_deb_path must be the absolute path of a .deb"),
    ({"install_method": "deb", "deb_path": "/nonexistent/grafana_11.2.0_amd64.deb"}, "does not exist on the controller"),
    ({"apt_repository": "apt.grafana.com stable main"}, "grafana_apt_repository must be the repository's URL"),
    ({"apt_repository": "deb [signed-by=/x] https://apt.grafana.com stable main"}, "grafana_apt_repository must be the repository's URL"),
    ({"apt_key_url": "http://apt.grafana.com/gpg.key"}, "grafana_apt_key_url must be an https:// URL"),
    ({"version": "latest"}, "grafana_version must be empty"),
    ({"http_port": 0}, "grafana_http_port must be a port number"),
    ({"http_port": 70000}, "grafana_http_port must be a port number"),
    ({"http_port": "3000"}, "grafana_http_port must be a port number"),
    ({"http_port": 9090}, "is the port of Prometheus"),
    ({"http_address": "not an address"}, "neither an IP address nor a host name"),
    ({"admin_user": "the admin"}, "grafana_admin_user must be a login name"),
    ({"admin_password": ""}, "grafana_admin_password is empty"),
    ({"admin_password": "   "}, "grafana_admin_password is empty"),
    ({"admin_password": 1234}, "grafana_admin_password is not a string"),
    ({"admin_password": "CHANGE_ME_grafana"}, "grafana_admin_password is a CHANGE_ME... placeholder"),
    ({"admin_password": " padded "}, "white space"),
    ({"admin_password": "admin"}, "Grafana's well-known default"),
    ({"install_method": "deb", "deb_path": "/x/g.deb", "admin_password": ""}, "grafana_admin_password is empty"),
    ({"prometheus_url": "prometheus:9090"}, "grafana_prometheus_url must be an http:// or https:// URL"),
    ({"prometheus_url": "http://prometheus:port/"}, "has a port that is not a number"),
    ({"prometheus_scrape_interval": "15"}, "grafana_prometheus_scrape_interval must be a Prometheus duration"),
    ({"dashboards_dir": "dashboards"}, "grafana_dashboards_dir must be an absolute path"),
    ({"dashboards_dir": "/etc"}, "grafana_dashboards_dir must be an absolute path"),
    ({"dashboards_folder": " "}, "grafana_dashboards_folder must be a folder name"),
    ({"dashboards_extra": "/srv/one.json"}, "grafana_dashboards_extra must be a list of paths"),
    ({"ini_extra": ["smtp"]}, "grafana_ini_extra must be a mapping"),
    ({"ini_extra": {"smtp": "on"}}, "section 'smtp' must be a mapping"),
    ({"ini_extra": {"smtp": {"hosts": ["a", "b"]}}}, "smtp.hosts must be a single value"),
    ({"ini_extra": {"security": {"admin_password": "x"}}}, "grafana_ini_extra sets security.admin_password"),
])
def test_each_wrong_setting_is_named(changes, expected):
    problems = settings_problems(settings(**changes))
    problems = [p for p in problems if "does not exist" not in p or "does not exist" in expected]
    assert len(problems) == 1 and expected in problems[0], problems


def test_no_message_holds_the_password():
    problems = settings_problems(settings(admin_password=" hunter2 ", http_port=0))
    assert problems and not any("hunter2" in problem for problem in problems)


# ------------------------------------------------------------------------------------------------
# Dashboards
# ------------------------------------------------------------------------------------------------

def panel(**fields):
    base = {"id": 1, "type": "timeseries", "title": "Requests", "datasource": dict(DS),
            "targets": [{"refId": "A", "datasource": dict(DS), "expr": 'sum(rate(kaizen_http_requests_total{host=~"$host"}[$__rate_interval]))'}]}
    base.update(fields)
    return base


def dashboard(**fields):
    base = {
        "uid": "kaizen-test", "title": "Kaizen / Test", "schemaVersion": 39,
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "name": "Annotations & Alerts"}]},
        "templating": {"list": [{"name": "host", "type": "query", "datasource": dict(DS), "query": "label_values(up, host)"}]},
        "panels": [panel()],
    }
    base.update(fields)
    return base


def problems_of(*dashboards, names=None):
    names = names or ["d%d.json" % i for i in range(len(dashboards))]
    return dashboard_problems([(name, d if isinstance(d, str) else json.dumps(d)) for name, d in zip(names, dashboards)])


def one_problem(*dashboards):
    problems = problems_of(*dashboards)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_good_dashboard_passes():
    assert problems_of(dashboard()) == []


def test_the_shipped_dashboards_pass():
    paths = sorted(str(p) for p in (ROLE / "files" / "dashboards").glob("*.json"))
    assert len(paths) == 6
    assert dashboard_file_problems(paths) == []


def test_invalid_json_names_the_file_line_and_column():
    text = '{\n  "uid": "kaizen-x",\n  "title": "X"\n  "panels": []\n}\n'
    problem = one_problem(text)
    assert problem == "d0.json: invalid JSON at line 4, column 3: Expecting ',' delimiter"


def test_an_empty_file_is_invalid_json():
    assert one_problem("").startswith("d0.json: invalid JSON at line 1, column 1")


def test_a_json_list_is_not_a_dashboard():
    assert "not a dashboard (a JSON object is expected, the file holds a list)" in one_problem("[]")


def test_an_api_export_is_refused():
    assert "an export of Grafana's HTTP API" in one_problem({"dashboard": dashboard(), "meta": {}})


@pytest.mark.parametrize("uid, expected", [
    (None, "no uid"),
    ("", "no uid"),
    ("kaizen test", "is not 1 to 40 letters"),
    ("k" * 41, "is not 1 to 40 letters"),
    (7, "is not 1 to 40 letters"),
])
def test_a_dashboard_needs_a_valid_uid(uid, expected):
    d = dashboard(uid=uid)
    if uid is None:
        del d["uid"]
    assert expected in one_problem(d)


@pytest.mark.parametrize("title", [None, "", "  ", 3])
def test_a_dashboard_needs_a_title(title):
    assert one_problem(dashboard(title=title)) == "d0.json: no title"


def test_duplicate_uids_name_both_files():
    problem = one_problem(dashboard(), dashboard(title="Kaizen / Other"))
    assert problem == "uid kaizen-test is used by more than one dashboard: d0.json, d1.json"


def test_duplicate_titles_are_refused():
    problem = one_problem(dashboard(), dashboard(uid="kaizen-other", title="kaizen / test"))
    assert "is used by more than one dashboard: d0.json, d1.json" in problem and "one name in a folder" in problem


@pytest.mark.parametrize("ref, expected", [
    ({"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}, "does not resolve to the provisioned datasource"),
    ({"type": "loki", "uid": "kaizen-prometheus"}, "does not resolve to the provisioned datasource"),
    ({"type": "prometheus"}, "has no uid"),
    ("Thanos", "(a datasource name) is not the provisioned datasource"),
    ({"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, "exported for sharing externally"),
    ({"type": "prometheus", "uid": "$nope"}, "uses the variable $nope, which the dashboard does not define"),
    (42, "neither a {type, uid} object nor a name"),
])
def test_a_panel_datasource_that_does_not_resolve_is_named(ref, expected):
    problem = one_problem(dashboard(panels=[panel(datasource=ref, targets=[{"refId": "A", "expr": "up"}])]))
    assert problem.startswith('d0.json: panel "Requests" (id 1): datasource ') and expected in problem, problem


def test_a_query_datasource_that_does_not_resolve_is_named():
    targets = [{"refId": "A", "datasource": DS, "expr": "up"}, {"refId": "B", "datasource": {"type": "prometheus", "uid": "other"}, "expr": "up"}]
    problem = one_problem(dashboard(panels=[panel(targets=targets)]))
    assert problem.startswith('d0.json: panel "Requests" (id 1), query B: datasource {"type": "prometheus", "uid": "other"}')


@pytest.mark.parametrize("ref", [
    DS,
    {"uid": "kaizen-prometheus"},
    "Prometheus",
    "kaizen-prometheus",
])
def test_references_to_the_provisioned_datasource_resolve(ref):
    assert problems_of(dashboard(panels=[panel(datasource=ref, targets=[{"refId": "A", "expr": "up"}])])) == []


def datasource_variable(**fields):
    variable = {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {"text": "Prometheus", "value": "kaizen-prometheus"}}
    variable.update(fields)
    return variable


@pytest.mark.parametrize("ref", ["${datasource}", "$datasource", "[[datasource]]", {"type": "prometheus", "uid": "${datasource}"}])
def test_a_datasource_variable_that_selects_the_provisioned_datasource_resolves(ref):
    d = dashboard(panels=[panel(datasource=ref, targets=[{"refId": "A", "datasource": ref, "expr": "up"}])])
    d["templating"]["list"].append(datasource_variable())
    assert problems_of(d) == []


def test_a_datasource_variable_without_a_current_value_resolves():
    d = dashboard(panels=[panel(datasource="${datasource}", targets=[{"refId": "A", "expr": "up"}])])
    d["templating"]["list"].append(datasource_variable(current={}))
    assert problems_of(d) == []


@pytest.mark.parametrize("variable, expected", [
    (datasource_variable(query="loki"), "is not a datasource variable of type prometheus"),
    (datasource_variable(type="custom"), "is not a datasource variable of type prometheus"),
    (datasource_variable(current={"value": "thanos-uid"}), 'selects "thanos-uid", not the provisioned datasource'),
])
def test_a_datasource_variable_that_does_not_select_it_is_named(variable, expected):
    d = dashboard(panels=[panel(datasource="${datasource}", targets=[{"refId": "A", "expr": "up"}])])
    d["templating"]["list"].append(variable)
    assert expected in one_problem(d)


def test_grafanas_own_datasources_need_no_expression():
    grafana_panel = panel(datasource={"type": "datasource", "uid": "grafana"}, targets=[{"refId": "A", "queryType": "randomWalk"}])
    dashboard_panel = panel(id=2, datasource={"type": "datasource", "uid": "-- Dashboard --"}, targets=[{"refId": "A", "panelId": 1}])
    assert problems_of(dashboard(panels=[panel(), grafana_panel, dashboard_panel])) == []


def test_a_mixed_panel_needs_a_datasource_on_every_query():
    mixed = {"type": "datasource", "uid": "-- Mixed --"}
    good = panel(datasource=mixed, targets=[{"refId": "A", "datasource": DS, "expr": "up"}])
    assert problems_of(dashboard(panels=[good])) == []
    bad = panel(datasource=mixed, targets=[{"refId": "A", "datasource": DS, "expr": "up"}, {"refId": "B", "expr": "up"}])
    assert one_problem(dashboard(panels=[bad])).endswith("query B: no datasource in a panel of mixed datasources; "
                                                         'use {"type": "prometheus", "uid": "kaizen-prometheus"}')


def test_a_panel_without_any_datasource_is_named():
    problem = one_problem(dashboard(panels=[panel(datasource=None, targets=[{"refId": "A", "expr": "up"}])]))
    assert "query A: no datasource (Grafana would use whatever datasource is the default)" in problem


@pytest.mark.parametrize("target", [{"refId": "A", "datasource": DS}, {"refId": "A", "datasource": DS, "expr": "  "},
                                    {"refId": "A", "datasource": DS, "expr": None}])
def test_a_query_without_an_expression_is_named(target):
    assert one_problem(dashboard(panels=[panel(targets=[target])])) == 'd0.json: panel "Requests" (id 1), query A: no expression (expr)'


def test_a_query_panel_without_queries_is_named_and_a_text_panel_is_not():
    assert one_problem(dashboard(panels=[panel(targets=[])])).endswith("no query (targets is empty)")
    text = {"id": 2, "type": "text", "title": "Read me", "options": {"content": "hello"}}
    assert problems_of(dashboard(panels=[panel(), text])) == []


def test_panels_inside_collapsed_rows_are_checked():
    row = {"id": 9, "type": "row", "title": "More", "collapsed": True, "panels": [panel(id=10, title="Hidden", targets=[{"refId": "A"}])]}
    assert one_problem(dashboard(panels=[panel(), row])) == 'd0.json: panel "Hidden" (id 10), query A: no expression (expr)'


def test_legacy_rows_are_checked():
    d = dashboard(panels=[])
    d["rows"] = [{"panels": [panel(title="Old", targets=[{"refId": "A", "datasource": {"uid": "gone"}, "expr": "up"}])]}]
    assert "panel \"Old\" (id 1), query A: datasource" in one_problem(d)


def test_an_undefined_variable_in_an_expression_is_named():
    target = {"refId": "A", "expr": 'up{host=~"$host", site=~"${site:regex}"}'}
    assert one_problem(dashboard(panels=[panel(targets=[target])])).endswith("query A: uses $site, which the dashboard does not define")


def test_grafanas_variables_and_group_references_are_not_undefined():
    expr = ('label_replace(rate(x[$__rate_interval]), "h", "$1", "instance", "(.*):.*") '
            '* $__range_s / $__interval_ms + ($__range_ms > bool 0)')
    assert problems_of(dashboard(panels=[panel(targets=[{"refId": "A", "expr": expr}])])) == []


def test_query_variables_are_checked():
    d = dashboard()
    d["templating"]["list"] = [
        {"name": "host", "type": "query", "query": "label_values(up, host)"},
        {"name": "site", "type": "query", "datasource": {"type": "prometheus", "uid": "elsewhere"}, "query": "label_values(up, site)"},
        {"name": "job", "type": "query", "datasource": DS, "query": {"query": ""}},
        {"name": "inst", "type": "query", "datasource": DS, "query": 'label_values(up{region=~"$region"}, instance)'},
        {"name": "inst", "type": "custom", "query": "a,b"},
    ]
    problems = problems_of(d)
    assert problems == [
        "d0.json: variable $host: no datasource (Grafana would use whatever datasource is the default); "
        'use {"type": "prometheus", "uid": "kaizen-prometheus"}',
        'd0.json: variable $site: datasource {"type": "prometheus", "uid": "elsewhere"} does not resolve to the provisioned '
        'datasource {"type": "prometheus", "uid": "kaizen-prometheus"}',
        "d0.json: variable $job: no query",
        "d0.json: variable $inst: uses $region, which the dashboard does not define",
        "d0.json: variable $inst: defined more than once",
    ], problems


def test_annotations_are_checked():
    d = dashboard()
    d["annotations"]["list"] += [
        {"name": "Deploys", "datasource": DS, "expr": "changes(kaizen_app_info[5m]) > 0"},
        {"name": "Restarts", "datasource": DS},
        {"name": "Elsewhere", "datasource": {"type": "loki", "uid": "loki"}, "expr": "{job=\"x\"}"},
    ]
    problems = problems_of(d)
    assert problems == [
        'd0.json: annotation "Restarts": no expression (expr)',
        'd0.json: annotation "Elsewhere": datasource {"type": "loki", "uid": "loki"} does not resolve to the provisioned '
        'datasource {"type": "prometheus", "uid": "kaizen-prometheus"}',
    ], problems


def test_every_problem_of_a_dashboard_is_listed_at_once():
    d = dashboard(uid="")
    d["panels"] = [panel(targets=[{"refId": "A"}]), panel(id=2, title="Other", datasource={"uid": "x"}, targets=[{"refId": "A", "expr": "up"}])]
    problems = problems_of(d)
    assert len(problems) == 3, problems


# ------------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------------

def write(path: pathlib.Path, data) -> str:
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return str(path)


def test_files_are_read_and_checked_together(tmp_path):
    one = write(tmp_path / "one.json", dashboard())
    two = write(tmp_path / "two.json", dashboard(title="Kaizen / Two"))
    broken = write(tmp_path / "broken.json", '{"uid": "x",\n "title": }')
    problems = dashboard_file_problems([one, two, broken])
    assert problems == [
        "%s: invalid JSON at line 2, column 11: Expecting value" % broken,
        "uid kaizen-test is used by more than one dashboard: %s, %s" % (one, two),
    ], problems


def test_unreadable_files_are_named(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    good = write(tmp_path / "good.json", dashboard())
    clash = write(other / "good.json", dashboard(uid="kaizen-clash", title="Kaizen / Clash"))
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"title": "caf\xe9"}')
    loaded, problems = read_dashboards([good, clash, "relative/x.json", str(tmp_path / "missing.json"), str(tmp_path / "notes.txt"),
                                        str(latin1), None])
    assert [name for name, _dashboard in loaded] == [good]
    assert problems == [
        "%s and %s have the same file name: one would overwrite the other in the dashboards directory" % (good, clash),
        "relative/x.json: dashboard paths must be absolute paths on the controller (build them from inventory_dir or playbook_dir)",
        "%s: cannot be read (No such file or directory)" % (tmp_path / "missing.json"),
        "%s: a dashboard file's name must end in .json (Grafana reads only those)" % (tmp_path / "notes.txt"),
        "%s: not UTF-8 text (byte 14)" % latin1,
        "dashboard None: not a path",
    ], problems


def test_the_filter_takes_a_list_or_a_single_path(tmp_path):
    grafana_dashboard_problems = FilterModule().filters()["grafana_dashboard_problems"]
    broken = write(tmp_path / "broken.json", "{")
    good = write(tmp_path / "good.json", dashboard())
    assert grafana_dashboard_problems([good]) == []
    assert grafana_dashboard_problems(broken) == ["%s: invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes" % broken]
    assert "does not resolve" in grafana_dashboard_problems([good], "another-uid")[0]


def test_the_settings_filter():
    grafana_settings_problems = FilterModule().filters()["grafana_settings_problems"]
    assert grafana_settings_problems(settings()) == []
    assert grafana_settings_problems(settings(http_port=0)) == ["grafana_http_port must be a port number (1-65535), not 0"]


# ------------------------------------------------------------------------------------------------
# Expressions, for promtool
# ------------------------------------------------------------------------------------------------

def test_variable_names():
    assert variable_names('a{h=~"$host",s=~"${site:regex}",r=~"[[region]]"}[$__rate_interval] $host ${x.y}') == [
        "host", "site", "region", "__rate_interval", "x"]


@pytest.mark.parametrize("query, expected", [
    ("label_values(host)", None),
    ('label_values(up{job="kaizen"}, host)', 'up{job="kaizen"}'),
    ('label_values(up{job="kaizen",site=~"$site"}, host)', 'up{job="kaizen",site=~"$site"}'),
    ("query_result(topk(5, up))", "topk(5, up)"),
    ("metrics(kaizen_.*)", None),
    ("label_names()", None),
    ('up{job="x"}', 'up{job="x"}'),
])
def test_variable_query_promql(query, expected):
    assert variable_query_promql(query) == expected


def test_promql_for_check_replaces_every_variable():
    d = dashboard()
    d["templating"]["list"] += [{"name": "step", "type": "interval", "query": "1m,5m"}, {"name": "q", "type": "constant", "query": "0.99"}]
    expr = ('histogram_quantile($q, rate(x{host=~"$host",site=~"${site:pipe}",r=~"[[region]]"}[$__rate_interval])) '
            '+ avg_over_time(y[$step]) * $__range_s / $__interval_ms + label_replace(z, "a", "$1", "b", "(.*)")')
    assert promql_for_check(expr, d) == (
        'histogram_quantile(0.99, rate(x{host=~".*",site=~".*",r=~".*"}[5m])) '
        '+ avg_over_time(y[5m]) * 300 / 300000 + label_replace(z, "a", "$1", "b", "(.*)")')


def test_queries_lists_panels_variables_and_annotations_of_the_provisioned_datasource():
    d = dashboard()
    d["annotations"]["list"].append({"name": "Deploys", "datasource": DS, "expr": "changes(kaizen_app_info[5m]) > 0"})
    d["templating"]["list"].append({"name": "site", "type": "query", "datasource": DS, "query": {"query": "label_values(site)"}})
    d["panels"].append(panel(id=2, title="Random", datasource={"uid": "grafana"}, targets=[{"refId": "A", "expr": "not promql"}]))
    row = {"id": 3, "type": "row", "collapsed": True, "panels": [panel(id=4, title="Inner", targets=[{"refId": "Z", "expr": "up"}])]}
    d["panels"].append(row)
    found = [(q["where"], q["expr"]) for q in queries(copy.deepcopy(d))]
    assert found == [
        ("variable $host", "up"),
        ('annotation "Deploys"', "changes(kaizen_app_info[5m]) > 0"),
        ('panel "Requests" (id 1), query A', 'sum(rate(kaizen_http_requests_total{host=~"$host"}[$__rate_interval]))'),
        ('panel "Inner" (id 4), query Z', "up"),
    ], found
