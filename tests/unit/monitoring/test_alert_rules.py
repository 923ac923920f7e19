# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kaizen alert rules (roles/prometheus/templates/rules) and their promtool unit tests (tests/promtool).

Every template is rendered as the prometheus role renders it (Jinja2 with
trim_blocks, strict about undefined variables), with the thresholds of
vars/alerts.yml as __prometheus_alerts and the inventory's expected replica
counts, into a temporary directory under the name the role gives it
(kaizen-<tier>.yml). There promtool checks the rules and runs the unit
tests of tests/promtool/<tier>.test.yml (rendered with 2 PostgreSQL and 2
Redis replicas) and tests/promtool/single-host/*.test.yml (rendered with 0
and 0: no replica alerts).

promtool comes from Debian's prometheus package: `bash lab/prometheus-tools.sh
.venv/bin` puts it there and the Makefile puts .venv/bin on PATH. Without it
these tests fail; they never skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "prometheus"
ALERT_VARS = ROLE / "vars" / "alerts.yml"
RULE_TEMPLATES = ROLE / "templates" / "rules"
PROMTOOL_TESTS = ROOT / "tests" / "promtool"
SINGLE_HOST_TESTS = PROMTOOL_TESTS / "single-host"

# Template (and test file) name -> the tier label of its alerts.
TIERS = {
    "node": "node",
    "postgresql": "postgres",
    "redis": "redis",
    "nginx": "nginx",
    "app": "app",
    "certificates": "certificates",
    "backup": "backup",
    "meta": "meta",
    "patroni": "patroni",
}
SEVERITIES = {"critical", "warning", "none"}
# vector(1): about the alerting pipeline as a whole; sums over a cluster's members: about the cluster. No host to name.
WITHOUT_HOST = {"Watchdog", "EtcdQuorumLost", "PatroniNoLeader"}
# The dead man's switch is never silent: its tests see it firing at different times instead.
ALWAYS_FIRING = {"Watchdog"}
# Replicas per PostgreSQL primary and of the Redis master, as the role computes them.
# etcd members: 3 when Patroni runs the PostgreSQL tier, 0 on a single host (manual mode: no Patroni or etcd alert).
# The backup host (BackupMetricAbsent names it; '' would mean none and no such alert).
REPLICATED = {"postgres": 2, "redis": 2, "etcd": 3, "backup": "mon1"}
SINGLE_HOST = {"postgres": 0, "redis": 0, "etcd": 0, "backup": "one"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
AGGREGATION = re.compile(
    r"\b(sum|avg|min|max|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\b\s*(by|without)?\s*(\(([^()]*)\))?\s*(\()?"
)
LABEL_DROPPING_FUNCTIONS = re.compile(r"\b(absent|absent_over_time|scalar)\s*\(")


def alert_defaults() -> dict:
    with ALERT_VARS.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["__prometheus_alert_defaults"]


def rule_file_name(tier: str) -> str:
    return f"kaizen-{tier}.yml"  # as the role installs it (tasks/config.yml)


def render(tier: str, replicas: dict, alerts: dict | None = None, trim_blocks: bool = True) -> str:
    """One rule template rendered as Ansible's template module does (trim_blocks on, lstrip_blocks off)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(RULE_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=trim_blocks,
        keep_trailing_newline=True,
    )
    variables = {
        "ansible_managed": "Ansible managed: rendered by tests/unit/monitoring/test_alert_rules.py",
        "__prometheus_alerts": alert_defaults() if alerts is None else alerts,
        "__prometheus_postgres_replicas_expected": replicas["postgres"],
        "__prometheus_redis_replicas_expected": replicas["redis"],
        "__prometheus_etcd_members_expected": replicas["etcd"],
        "__prometheus_backup_host": replicas["backup"],
    }
    return env.get_template(f"{tier}.rules.yml.j2").render(**variables)


def render_all(directory: Path, replicas: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for tier in TIERS:
        (directory / rule_file_name(tier)).write_text(render(tier, replicas), encoding="utf-8")
    return directory


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not on PATH: run `bash lab/prometheus-tools.sh .venv/bin` and put .venv/bin on PATH "
            "(the Makefile does; by hand: PATH=$PWD/.venv/bin:$PATH pytest ...)",
            pytrace=False,
        )
    return path


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def tier_test_files() -> list[Path]:
    return sorted(PROMTOOL_TESTS.glob("*.test.yml"))


def single_host_test_files() -> list[Path]:
    return sorted(SINGLE_HOST_TESTS.glob("*.test.yml"))


def alerts_of(rendered: str) -> list[dict]:
    return [rule for group in yaml.safe_load(rendered)["groups"] for rule in group["rules"] if "alert" in rule]


def all_alerts(replicas: dict) -> list[tuple[str, dict]]:
    return [(tier, rule) for tier in TIERS for rule in alerts_of(render(tier, replicas))]


def alert_rule_tests(paths: list[Path]) -> list[dict]:
    return [case for path in paths for test in load_yaml(path)["tests"] for case in test.get("alert_rule_test", [])]


def normalized(value):
    """The YAML data with every string's whitespace collapsed."""
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    if isinstance(value, str):
        return " ".join(value.split())
    return value


@pytest.fixture(name="replicated_rules", scope="module")
def fixture_replicated_rules(tmp_path_factory) -> Path:
    return render_all(tmp_path_factory.mktemp("rules-replicated"), REPLICATED)


@pytest.fixture(name="single_host_rules", scope="module")
def fixture_single_host_rules(tmp_path_factory) -> Path:
    return render_all(tmp_path_factory.mktemp("rules-single-host"), SINGLE_HOST)


# --- the files -------------------------------------------------------------------------------------

def test_one_template_and_one_promtool_test_per_tier():
    templates = {path.name[: -len(".rules.yml.j2")] for path in RULE_TEMPLATES.glob("*.rules.yml.j2")}
    tests = {path.name[: -len(".test.yml")] for path in tier_test_files()}
    assert templates == set(TIERS), f"templates: {sorted(templates)}"
    assert tests == set(TIERS), f"tests/promtool: {sorted(tests)}"
    assert single_host_test_files(), "no promtool test for the single-host render (tests/promtool/single-host)"


@pytest.mark.parametrize("path", tier_test_files() + single_host_test_files(), ids=lambda p: str(p.relative_to(PROMTOOL_TESTS)))
def test_promtool_tests_name_rendered_rule_files(path: Path):
    rule_files = load_yaml(path)["rule_files"]
    rendered = {rule_file_name(tier) for tier in TIERS}
    assert rule_files and set(rule_files) <= rendered, f"{path.name}: rule_files {rule_files} are not among {sorted(rendered)}"
    if path.parent == PROMTOOL_TESTS:
        assert rule_file_name(path.name[: -len(".test.yml")]) in rule_files, f"{path.name} does not load its tier's rules"


# --- the thresholds ----------------------------------------------------------------------------------

def test_every_default_is_commented_and_well_typed():
    lines = ALERT_VARS.read_text(encoding="utf-8").splitlines()
    defaults = alert_defaults()
    assert defaults, "__prometheus_alert_defaults is empty"
    for number, line in enumerate(lines):
        match = re.match(r"^  ([a-z0-9_]+):", line)
        if match:
            assert lines[number - 1].lstrip().startswith("#") or "#" in line, f"{match.group(1)} has no comment saying what it is"
    for key, value in defaults.items():
        if key.endswith("_for") or key in ("rate_window", "backup_metric_lookback", "patroni_failover_lookback"):
            assert isinstance(value, str) and DURATION.match(value), f"{key}: {value!r} is not a Prometheus duration"
        else:
            assert isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0, f"{key}: {value!r} is not a positive number"


def test_templates_read_only_the_merged_mapping():
    for template in RULE_TEMPLATES.glob("*.rules.yml.j2"):
        assert "__prometheus_alert_defaults" not in template.read_text(encoding="utf-8"), (
            f"{template.name} reads __prometheus_alert_defaults: use __prometheus_alerts, the defaults merged with the user's overrides"
        )


def test_every_threshold_reaches_the_rules():
    """Each key of the defaults, given a recognizable value, shows in some rendered rule file: none is dead, all are overridable."""
    markers = {key: f"MARK{index}X" for index, key in enumerate(alert_defaults())}
    rendered = "\n".join(render(tier, REPLICATED, alerts=markers) for tier in TIERS)
    unused = sorted(key for key, marker in markers.items() if marker not in rendered)
    assert not unused, f"keys of __prometheus_alert_defaults no rule uses: {unused}"


def test_a_missing_threshold_fails_the_render():
    alerts = alert_defaults()
    del alerts["redis_down_for"]
    with pytest.raises(jinja2.UndefinedError):
        render("redis", REPLICATED, alerts=alerts)


# --- the rendered rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("tier", TIERS)
def test_templates_render_prometheus_templating_literally_and_alike_without_trim_blocks(tier: str):
    rendered = render(tier, REPLICATED)
    data = yaml.safe_load(rendered)
    assert isinstance(data, dict) and data.get("groups"), f"{tier}: no rule groups"
    assert "{{ $labels.host }}" in rendered, f"{tier}: Prometheus' templating did not survive Jinja2"
    assert "{%" not in rendered and "{#" not in rendered, f"{tier}: Jinja2 syntax left in the rendered file"
    assert normalized(data) == normalized(yaml.safe_load(render(tier, REPLICATED, trim_blocks=False))), (
        f"{tier}: the template renders differently without trim_blocks"
    )


def test_promtool_checks_the_rules(replicated_rules: Path, single_host_rules: Path):
    for directory in (replicated_rules, single_host_rules):
        files = [rule_file_name(tier) for tier in TIERS]
        result = run_promtool("check", "rules", *files, cwd=directory)
        assert result.returncode == 0, f"promtool check rules ({directory.name}):\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("path", tier_test_files(), ids=lambda p: p.name)
def test_promtool_unit_tests(path: Path, replicated_rules: Path):
    shutil.copy(path, replicated_rules / path.name)
    result = run_promtool("test", "rules", path.name, cwd=replicated_rules)
    assert result.returncode == 0, f"promtool test rules {path.name}:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("path", single_host_test_files(), ids=lambda p: p.name)
def test_promtool_unit_tests_single_host(path: Path, single_host_rules: Path):
    shutil.copy(path, single_host_rules / path.name)
    result = run_promtool("test", "rules", path.name, cwd=single_host_rules)
    assert result.returncode == 0, f"promtool test rules single-host/{path.name}:\n{result.stdout}\n{result.stderr}"


def test_single_host_tests_fail_against_the_replicated_render(replicated_rules: Path):
    """The single-host tests really depend on the replica counts: with 2 and 2 replicas expected they fail."""
    for path in single_host_test_files():
        shutil.copy(path, replicated_rules / f"single-host-{path.name}")
        result = run_promtool("test", "rules", f"single-host-{path.name}", cwd=replicated_rules)
        assert result.returncode != 0, f"single-host/{path.name} passes with replicas expected: it tests nothing"
        assert "PostgresReplicaMissing" in result.stdout + result.stderr


def test_no_replica_alerts_when_the_inventory_has_no_replicas():
    replicated = {rule["alert"]: rule for _group, rule in all_alerts(REPLICATED)}
    single = {rule["alert"]: rule for _group, rule in all_alerts(SINGLE_HOST)}
    assert "PostgresReplicaMissing" in replicated
    assert "PostgresReplicaMissing" not in single
    assert "redis_connected_slaves" in replicated["RedisReplicationBroken"]["expr"]
    assert "redis_connected_slaves" not in single["RedisReplicationBroken"]["expr"]
    patroni = {"EtcdMemberDown", "EtcdQuorumLost", "EtcdNoLeader", "PatroniNoLeader", "PatroniFailoverHappened", "PatroniPaused"}
    assert set(replicated) - set(single) == {"PostgresReplicaMissing"} | patroni  # a single host runs no Patroni


def test_alert_names_are_unique():
    names = [rule["alert"] for _group, rule in all_alerts(REPLICATED)]
    assert len(names) == len(set(names)), f"duplicate alert names: {sorted(n for n in set(names) if names.count(n) > 1)}"


@pytest.mark.parametrize("tier", TIERS)
def test_alert_labels_and_annotations(tier: str):
    problems = []
    for rule in alerts_of(render(tier, REPLICATED)):
        name = rule["alert"]
        labels = rule.get("labels", {})
        annotations = rule.get("annotations", {})
        if labels.get("severity") not in SEVERITIES:
            problems.append(f"{name}: severity {labels.get('severity')!r} is not one of {sorted(SEVERITIES)}")
        if labels.get("tier") != TIERS[tier]:
            problems.append(f"{name}: tier {labels.get('tier')!r}, expected {TIERS[tier]!r}")
        for key in ("summary", "description"):
            if not str(annotations.get(key, "")).strip():
                problems.append(f"{name}: no {key} annotation")
            elif name not in WITHOUT_HOST and "$labels.host" not in annotations[key]:
                problems.append(f"{name}: the {key} does not name the host")
        if name not in WITHOUT_HOST and not DURATION.match(str(rule.get("for", ""))):
            problems.append(f"{name}: no for: duration")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("tier", TIERS)
def test_aggregations_keep_the_host_label(tier: str):
    problems = []
    for rule in alerts_of(render(tier, REPLICATED)):
        name, expr = rule["alert"], rule["expr"]
        if name in WITHOUT_HOST:
            continue
        for match in AGGREGATION.finditer(expr):
            operator, modifier, labels = match.group(1), match.group(2), match.group(4)
            names = {label.strip() for label in (labels or "").split(",")}
            if not modifier:
                problems.append(f"{name}: `{operator}` without by (...) drops the host label (write `{operator} by (..., host, ...) (...)`)")
            elif (modifier == "by") != ("host" in names):
                problems.append(f"{name}: `{match.group(0).strip()}` drops the host label")
        # absent() keeps the labels its selector matches with "=": a host="..." there is kept.
        if LABEL_DROPPING_FUNCTIONS.search(re.sub(r'absent\([a-z_]+\{[^}]*\bhost="[^"]+"[^}]*\}\)', "", expr)):
            problems.append(f"{name}: absent()/scalar() drop the host label")
    assert not problems, "\n".join(problems)


# --- the promtool tests' coverage --------------------------------------------------------------------

def test_every_alert_fires_in_a_test_and_stays_silent_in_another():
    cases = alert_rule_tests(tier_test_files())
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    silent = {case["alertname"] for case in cases if "exp_alerts" in case and case["exp_alerts"] == []}
    names = {rule["alert"] for _group, rule in all_alerts(REPLICATED)}
    assert not names - firing, f"alerts no promtool test sees firing: {sorted(names - firing)}"
    assert not names - ALWAYS_FIRING - silent, (
        f"alerts no promtool test expects silent (exp_alerts: []): {sorted(names - ALWAYS_FIRING - silent)}"
    )
    assert not (firing | silent) - names, f"promtool tests of alerts that do not exist: {sorted((firing | silent) - names)}"
    for name in ALWAYS_FIRING:
        assert name in names and name not in silent, f"{name} must always fire"
        times = {case["eval_time"] for case in cases if case["alertname"] == name and case.get("exp_alerts")}
        assert len(times) >= 2, f"{name}: test it firing at two times at least, the first evaluation included"


def test_expected_alerts_carry_host_severity_and_tier():
    rules = {rule["alert"]: rule for _group, rule in all_alerts(REPLICATED)}
    for case in alert_rule_tests(tier_test_files() + single_host_test_files()):
        name = case["alertname"]
        for alert in case.get("exp_alerts") or []:
            labels = alert.get("exp_labels", {})
            if name not in WITHOUT_HOST:
                assert labels.get("host"), f"{name} at {case['eval_time']}: expected without a host label"
            assert labels.get("severity") == rules[name]["labels"]["severity"], f"{name} at {case['eval_time']}: severity"
            assert labels.get("tier") == rules[name]["labels"]["tier"], f"{name} at {case['eval_time']}: tier"
