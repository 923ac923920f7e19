# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dashboards the grafana role ships, and its provisioning files.

Grafana cannot run here, so the dashboards are checked for what Grafana would
otherwise show only when someone opens them: valid JSON, stable and unique
uids, every datasource reference resolving to the provisioned datasource,
only the metrics of the exporters' contract, and every expression parsing as
PromQL - Grafana's variables are replaced, the expressions are written as
recording rules and ``promtool check rules`` (Debian's, on PATH: the Makefile
puts .venv/bin there) parses them. The provisioning templates are rendered
with plain Jinja2 and the role's defaults, and read back as YAML.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nativetypes
import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import grafana_lint
from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology
from ansible_collections.kaizen.hybrid.tests.unit.monitoring import grafana_queries

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "grafana"
DASHBOARD_DIR = ROLE / "files" / "dashboards"
DASHBOARDS = sorted(DASHBOARD_DIR.glob("*.json"))
PROVISIONED = {"type": "prometheus", "uid": "kaizen-prometheus"}
GRAFANA_OWN = {"-- Grafana --", "grafana"}
FAKE_ADDRESS = "192.0.2.40"

# The metrics the exporters, the app and Prometheus provide (the monitoring tier's shared contract).
CONTRACT = {
    "up", "ALERTS",
    "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes", "node_load1", "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
    "pg_up", "pg_settings_max_connections", "pg_stat_activity_count", "kaizen_pg_replication_is_replica",
    "kaizen_pg_replication_streaming_replicas", "kaizen_pg_replication_lag_bytes", "kaizen_pg_replication_lag_seconds",
    "kaizen_pg_archiver_archived_count", "kaizen_pg_archiver_failed_count",
    "redis_up", "redis_instance_info", "redis_connected_slaves", "redis_master_link_up", "redis_memory_used_bytes",
    "redis_memory_max_bytes", "redis_connected_clients", "redis_commands_processed_total",
    "nginx_up", "nginx_connections_active", "nginx_http_requests_total", "kaizen_nginx_responses_total",
    "kaizen_http_requests_total", "kaizen_http_request_duration_seconds_bucket", "kaizen_http_requests_in_flight", "kaizen_app_info",
    "engine_daemon_container_states_containers",
}

# What each dashboard is for: the metrics it must show.
SUBJECTS = {
    "overview": {"up", "ALERTS", "pg_up", "redis_up", "nginx_up", "kaizen_http_requests_total", "kaizen_nginx_responses_total"},
    "app": {"kaizen_http_requests_total", "kaizen_http_request_duration_seconds_bucket", "kaizen_http_requests_in_flight",
            "kaizen_app_info"},
    "postgresql": {"pg_up", "pg_stat_activity_count", "pg_settings_max_connections", "kaizen_pg_replication_lag_bytes",
                   "kaizen_pg_replication_lag_seconds", "kaizen_pg_replication_streaming_replicas", "kaizen_pg_archiver_archived_count",
                   "kaizen_pg_archiver_failed_count"},
    "redis": {"redis_up", "redis_instance_info", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_slaves",
              "redis_connected_clients"},
    "nginx": {"nginx_connections_active", "nginx_http_requests_total", "kaizen_nginx_responses_total"},
    "hosts": {"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes", "node_filesystem_avail_bytes",
              "node_filesystem_size_bytes", "node_load1", "node_network_receive_bytes_total", "node_network_transmit_bytes_total"},
}

_PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
                    "inf", "nan", "atan2"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _expressions() -> list[dict[str, str]]:
    """Every PromQL expression of every shipped dashboard, as written and with Grafana's variables replaced."""
    found = []
    for path in DASHBOARDS:
        dashboard = _load(path)
        for query in grafana_queries.queries(dashboard):
            found.append({"file": path.name, "uid": dashboard["uid"], "where": query["where"], "expr": query["expr"],
                          "promql": grafana_queries.promql_for_check(query["expr"], dashboard)})
    return found


def _metric_names(expr: str) -> set[str]:
    """The metric names of a PromQL expression (strings, matchers, ranges and label lists left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\S+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end():].lstrip().startswith("(") or match.group(0) in _PROMQL_KEYWORDS:
            continue  # a function or an aggregation, or a keyword
        names.add(match.group(0))
    return names


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not on PATH: the dashboards' PromQL cannot be checked. Install it with "
                    "`bash lab/prometheus-tools.sh .venv/bin` and run pytest with .venv/bin on PATH (the Makefile does).")
    return path


def check_with_promtool(promtool: str, expressions: list[dict[str, str]], tmp_path: Path) -> list[str]:
    """Write ``expressions`` as recording rules, one group per dashboard, run ``promtool check rules`` and return one
    line per expression it refuses, naming the dashboard file and the panel; [] when every one parses."""
    groups: dict[str, list[dict[str, str]]] = {}
    origin: dict[str, dict[str, str]] = {}
    for number, item in enumerate(expressions):
        record = "kaizen_dashboard:%s:q%d" % (re.sub(r"[^A-Za-z0-9_]", "_", item["uid"]), number)
        origin[record] = item
        groups.setdefault(item["file"], []).append({"record": record, "expr": item["promql"]})
    rules = tmp_path / "dashboards.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": name, "rules": items} for name, items in groups.items()]}, sort_keys=False))
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode == 0:
        return []
    output = result.stdout + result.stderr
    failures = []
    for line in output.splitlines():
        match = re.search(r'"(kaizen_dashboard:[^"]+)": (.*)$', line)
        if match and match.group(1) in origin:
            item = origin[match.group(1)]
            failures.append("%s, %s: %s\n    expr: %s" % (item["file"], item["where"], match.group(2), item["expr"]))
    return failures or ["promtool check rules failed (rc %d):\n%s" % (result.returncode, output)]


# ------------------------------------------------------------------------------------------------
# The dashboards
# ------------------------------------------------------------------------------------------------

def test_the_six_dashboards_are_shipped():
    assert {path.stem for path in DASHBOARDS} == set(SUBJECTS)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_each_is_valid_json_with_a_stable_uid_and_a_title(path: Path):
    try:
        dashboard = _load(path)
    except json.JSONDecodeError as exc:
        pytest.fail("%s: invalid JSON at line %d, column %d: %s" % (path.name, exc.lineno, exc.colno, exc.msg))
    assert isinstance(dashboard.get("uid"), str) and re.match(r"^kaizen-[a-z0-9-]+$", dashboard["uid"]), dashboard.get("uid")
    assert isinstance(dashboard.get("title"), str) and dashboard["title"].startswith("Kaizen / ")
    assert dashboard.get("id") is None, "a provisioned dashboard carries no database id"
    assert "kaizen" in dashboard.get("tags", []), "the dashboards link to each other by the tag kaizen"


def test_uids_and_titles_are_unique():
    dashboards = [_load(path) for path in DASHBOARDS]
    uids = [d["uid"] for d in dashboards]
    titles = [d["title"] for d in dashboards]
    assert len(set(uids)) == len(uids), uids
    assert len(set(titles)) == len(titles), titles


def _datasource_refs(node, trail="$"):
    """Every value of a "datasource" key anywhere in the dashboard, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield trail, value
            yield from _datasource_refs(value, "%s.%s" % (trail, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _datasource_refs(value, "%s[%d]" % (trail, index))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_datasource_reference_is_the_provisioned_datasource(path: Path):
    dashboard = _load(path)
    wrong = [(trail, ref) for trail, ref in _datasource_refs(dashboard)
             if ref != PROVISIONED and not (isinstance(ref, dict) and ref.get("uid") in GRAFANA_OWN and ".annotations." in trail)]
    assert not wrong, wrong
    # And the role's own check, which preflight runs, finds nothing either.
    assert grafana_lint.dashboard_problems([(path.name, path.read_text(encoding="utf-8"))]) == []


def test_the_preflight_check_passes_the_shipped_dashboards_together():
    assert grafana_lint.dashboard_file_problems([str(path) for path in DASHBOARDS]) == []


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_query_has_an_expression(path: Path):
    dashboard = _load(path)
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel.get("targets"), "%s: panel %r has no query" % (path.name, panel.get("title"))
        for target in panel["targets"]:
            assert isinstance(target.get("expr"), str) and target["expr"].strip(), (path.name, panel.get("title"), target)
            assert target.get("refId"), (path.name, panel.get("title"))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_have_unique_ids_and_do_not_overlap(path: Path):
    panels = _load(path)["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids)
    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24, (panel["title"], pos)
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, "%s: panels %r and %r overlap" % (path.name, taken[(x, y)], panel["title"])
                taken[(x, y)] = panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_use_the_contract_metrics_and_cover_their_subject(path: Path):
    dashboard = _load(path)
    used: set[str] = set()
    for query in grafana_queries.queries(dashboard):
        names = _metric_names(grafana_queries.promql_for_check(query["expr"], dashboard))
        unknown = names - CONTRACT
        assert not unknown, "%s, %s: %s not in the metrics contract (expr: %s)" % (path.name, query["where"], sorted(unknown), query["expr"])
        used |= names
    missing = SUBJECTS[path.stem] - used
    assert not missing, "%s does not show %s" % (path.name, sorted(missing))


def test_the_metric_name_extraction():
    assert _metric_names('sum by (host) (rate(node_cpu_seconds_total{mode="idle",host=~"a|b"}[5m]))') == {"node_cpu_seconds_total"}
    assert _metric_names('a{x="y"} / on (instance) group_left count by (instance) (b) and ignoring (z) c offset 5m') == {"a", "b", "c"}
    assert _metric_names('histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) or vector(0)') == {"x_bucket"}


def test_every_expression_parses_as_promql(promtool: str, tmp_path: Path):
    expressions = _expressions()
    assert len(expressions) > 50, "the dashboards' queries were not found"
    for item in expressions:
        assert "$" not in item["promql"] and "[[" not in item["promql"], item
    failures = check_with_promtool(promtool, expressions, tmp_path)
    assert not failures, "promtool refuses %d dashboard expression(s):\n%s" % (len(failures), "\n".join(failures))


def test_a_broken_expression_is_reported_with_its_dashboard_and_panel(promtool: str, tmp_path: Path):
    good = {"file": "good.json", "uid": "kaizen-good", "where": 'panel "Fine" (id 1), query A', "expr": "up", "promql": "up"}
    bad = {"file": "bad.json", "uid": "kaizen-bad", "where": 'panel "Broken" (id 7), query B', "expr": "sum(rate(up[$__rate_interval])",
           "promql": "sum(rate(up[5m])"}
    failures = check_with_promtool(promtool, [good, bad], tmp_path)
    assert len(failures) == 1, failures
    assert failures[0].startswith('bad.json, panel "Broken" (id 7), query B: could not parse expression'), failures


# ------------------------------------------------------------------------------------------------
# The provisioning files, rendered as the role renders them
# ------------------------------------------------------------------------------------------------

def _merge(base, extra, recursive=False):
    merged = dict(base)
    for key, value in (extra or {}).items():
        merged[key] = _merge(merged[key], value, True) if recursive and isinstance(merged.get(key), dict) and isinstance(value, dict) else value
    return merged


class _RoleVariables:
    """The role's defaults and vars/main.yml, templated on demand (as Ansible does) with plain Jinja2."""

    def __init__(self, overrides: dict | None = None) -> None:
        self.sources = {}
        for name in ("defaults", "vars"):
            self.sources.update(yaml.safe_load((ROLE / name / "main.yml").read_text(encoding="utf-8")) or {})
        self.sources.update(overrides or {})
        self.facts = {"inventory_hostname": "mon1", "hostvars": {"mon1": {}}, "ansible_managed": "Ansible managed"}
        self.env = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)
        for env in (self.env,):
            env.filters["kaizen.hybrid.host_address"] = lambda host, hostvars: FAKE_ADDRESS
            env.filters["kaizen.hybrid.host_port"] = host_port
            env.filters["kaizen.hybrid.published_port"] = lambda host, name, hostvars: Topology({}, hostvars).port(host, name)
            env.filters["ansible.builtin.combine"] = _merge
        self.cache: dict = {}

    def context(self, source: str) -> dict:
        names = jinja2.meta.find_undeclared_variables(self.env.parse(source))
        return {name: self.get(name) for name in names if name in self.sources or name in self.facts}

    def get(self, name: str):
        if name in self.facts:
            return self.facts[name]
        if name not in self.cache:
            self.cache[name] = self._value(self.sources[name])
        return self.cache[name]

    def _value(self, value):
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return self.env.from_string(value).render(self.context(value))
        if isinstance(value, dict):
            return {key: self._value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(item) for item in value]
        return value

    def render(self, template: str) -> str:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                 loader=jinja2.FileSystemLoader(str(ROLE / "templates")))
        source = (ROLE / "templates" / template).read_text(encoding="utf-8")
        return env.from_string(source).render(self.context(source))


def test_the_datasource_file_provisions_prometheus_with_the_uid_the_dashboards_use():
    rendered = yaml.safe_load(_RoleVariables().render("datasource.yml.j2"))
    assert rendered["apiVersion"] == 1
    (datasource,) = rendered["datasources"]
    assert datasource["uid"] == PROVISIONED["uid"] == grafana_lint.DATASOURCE_UID
    assert datasource["type"] == PROVISIONED["type"]
    assert datasource["url"] == "http://%s:9090" % FAKE_ADDRESS
    assert datasource["isDefault"] is True and datasource["editable"] is False
    assert datasource["jsonData"]["timeInterval"] == "15s"


def test_the_datasource_url_follows_the_variable():
    variables = _RoleVariables({"grafana_prometheus_url": "https://prometheus.example.com:9443"})
    (datasource,) = yaml.safe_load(variables.render("datasource.yml.j2"))["datasources"]
    assert datasource["url"] == "https://prometheus.example.com:9443"


def test_the_dashboard_provider_points_at_the_dashboards_directory():
    rendered = yaml.safe_load(_RoleVariables().render("dashboards.yml.j2"))
    assert rendered["apiVersion"] == 1
    (provider,) = rendered["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/kaizen"
    assert provider["folder"] == "Kaizen"
    assert provider["allowUiUpdates"] is False


def test_folder_names_with_quotes_stay_yaml():
    variables = _RoleVariables({"grafana_dashboards_folder": 'Kaizen "prod": main', "grafana_dashboards_dir": "/srv/dash boards"})
    (provider,) = yaml.safe_load(variables.render("dashboards.yml.j2"))["providers"]
    assert provider["folder"] == 'Kaizen "prod": main'
    assert provider["options"]["path"] == "/srv/dash boards"


def test_grafana_ini_keeps_the_password_out_and_the_doors_shut():
    variables = _RoleVariables({"grafana_admin_password": "s3cret-from-the-vault",
                                "grafana_ini_extra": {"smtp": {"enabled": True, "host": "mail.example.com:25"}}})
    rendered = variables.render("grafana.ini.j2")
    assert "s3cret-from-the-vault" not in rendered
    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.read_string(rendered)
    assert ini["security"]["admin_password"] == "$__file{/etc/grafana/admin_password}"
    assert ini["security"]["admin_user"] == "admin"
    assert ini["server"]["http_addr"] == FAKE_ADDRESS and ini["server"]["http_port"] == "3000"
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert ini["users"]["allow_sign_up"] == "false"
    assert ini["analytics"]["reporting_enabled"] == "false" and ini["analytics"]["check_for_updates"] == "false"
    assert ini["paths"]["provisioning"] == "/etc/grafana/provisioning"
    assert ini["smtp"]["enabled"] == "true" and ini["smtp"]["host"] == "mail.example.com:25"


def test_the_datasource_url_follows_the_prometheus_port_of_the_inventory():
    variables = _RoleVariables()
    variables.facts["hostvars"]["mon1"]["prometheus_port"] = 19090
    (datasource,) = yaml.safe_load(variables.render("datasource.yml.j2"))["datasources"]
    assert datasource["url"] == "http://%s:19090" % FAKE_ADDRESS
