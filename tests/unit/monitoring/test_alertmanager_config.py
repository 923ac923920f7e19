# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alertmanager role's templates, rendered for realistic settings and checked by Alertmanager's own amtool
(0.25, the version of Debian 12's prometheus-alertmanager): ``amtool check-config`` accepts each configuration, and
``amtool config routes test`` sends each kind of alert to the receiver the variables name.

amtool comes from Debian's package (``bash lab/prometheus-tools.sh .venv/bin``; the Makefile puts .venv/bin on
PATH). Without it these tests fail: they are the only check of the configuration before a host runs it.
"""

from __future__ import annotations

import copy
import pathlib
import re
import shlex
import shutil
import subprocess

import jinja2
import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.filter import alertmanager as filters

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "alertmanager"
ROLE_DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
SECRETS = ROLE_VARS["__alertmanager_secrets_dir"]


@pytest.fixture(scope="module")
def amtool() -> str:
    path = shutil.which("amtool")
    if not path:
        pytest.fail("amtool is not on PATH: install Debian's (the hosts' version, 0.25) with "
                    "`bash lab/prometheus-tools.sh .venv/bin` and put .venv/bin on PATH (the Makefile does)")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    assert "version 0.25." in version.stdout + version.stderr, (
        "amtool must be 0.25, the version Debian 12's prometheus-alertmanager has: %s" % (version.stdout + version.stderr))
    return path


def settings(**changes):
    """The role's settings as vars/main.yml maps them, on monitoring host mon1 (10.20.0.51)."""
    values = {name[len("alertmanager_"):]: copy.deepcopy(value) for name, value in ROLE_DEFAULTS.items()}
    values.update(listen_address="10.20.0.51", cluster_address="10.20.0.51", cluster_peers=[],
                  config_file=ROLE_VARS["__alertmanager_config_file"], secrets_dir=SECRETS)
    values.update(changes)
    return values


def render(template: str, values) -> str:
    """A template of the role, rendered as Ansible renders it (the role's filters under their collection names)."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters.update({"kaizen.hybrid." + name: function for name, function in filters.FilterModule().filters().items()})
    source = (ROLE / "templates" / template).read_text()
    return environment.from_string(source).render(__alertmanager_settings=values, ansible_managed="Ansible managed")


def check_config(amtool: str, path: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, check=False, timeout=60)


def routes(amtool: str, path: pathlib.Path, *labels: str) -> list[str]:
    """The receivers amtool routes an alert with these labels to."""
    result = subprocess.run([amtool, "config", "routes", "test", "--config.file=%s" % path, *labels],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return [name.strip() for name in result.stdout.strip().split(",") if name.strip()]


# The lab: one webhook receiver that must see RedisDown and its resolution quickly.
WEBHOOK_ONLY = dict(
    receivers=[{"name": "lab", "webhook": [{"url": "http://10.20.0.99:8080/alerts", "send_resolved": True}]}],
    group_wait="1s", group_interval="5s", repeat_interval="1m",
)

# Production-like: email through an authenticated relay, a webhook URL with a token, a pager with a bearer
# token and the internal CA, a dead man's switch.
EMAIL_AND_WEBHOOKS = dict(
    receivers=[
        {"name": "ops", "email": [{"to": "ops@example.com", "send_resolved": True}],
         "webhook": [{"url": "https://hooks.example.com/services/T0000/B0000/s3cr3t-t0k3n"}]},
        {"name": "pager", "webhook": [{"url": "https://pager.example.com/api/alerts", "bearer_token": "pager-t0ken",
                                       "ca_file": "/etc/kaizen/pki/ca.crt"}]},
        {"name": "deadman", "webhook": [{"url": "https://deadman.example.com/ping/abc", "send_resolved": False}]},
    ],
    default_receiver="ops",
    critical_receiver="pager",
    warning_receiver="ops",
    watchdog_receiver="deadman",
    watchdog_repeat_interval="1m",
    smtp_smarthost="smtp.example.com:587",
    smtp_from="alertmanager@example.com",
    smtp_auth_username="alertmanager@example.com",
    smtp_auth_password="smtp-pa55word",
)

# Three monitoring hosts: mon1's view (its peers are the other two).
CLUSTER = dict(EMAIL_AND_WEBHOOKS, cluster_peers=["10.20.0.52", "10.20.0.53"], external_url="https://alerts.example.com/")

SCENARIOS = {
    "defaults": {},
    "webhook_only": WEBHOOK_ONLY,
    "email_and_webhooks": EMAIL_AND_WEBHOOKS,
    "cluster": CLUSTER,
}


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request, tmp_path):
    values = settings(**copy.deepcopy(SCENARIOS[request.param]))
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("alertmanager.yml.j2", values))
    return request.param, values, path


def test_amtool_accepts_each_configuration(amtool, scenario):
    name, _values, path = scenario
    result = check_config(amtool, path)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, "%s: %s%s" % (name, result.stdout, result.stderr)
    assert " - 2 inhibit rules" in result.stdout


def test_the_harness_sees_a_refused_configuration(amtool, tmp_path):
    # The same file with the webhook's URL removed: amtool must fail, or the tests above prove nothing.
    config = yaml.safe_load(render("alertmanager.yml.j2", settings(**WEBHOOK_ONLY)))
    del config["receivers"][1]["webhook_configs"][0]["url"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(config))
    result = check_config(amtool, path)
    assert result.returncode != 0 and "missing URL in webhook config" in result.stdout + result.stderr


def test_0_25_reads_these_secrets_from_files(amtool, tmp_path):
    """What the role relies on: smtp_auth_password_file and http_config's credentials_file exist in 0.25."""
    text = render("alertmanager.yml.j2", settings(**EMAIL_AND_WEBHOOKS))
    assert "smtp_auth_password_file: %s/smtp_password" % SECRETS in text
    assert "credentials_file: %s/webhook-pager-1.token" % SECRETS in text
    assert "smtp-pa55word" not in text and "pager-t0ken" not in text
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    assert check_config(amtool, path).returncode == 0


def test_0_25_has_no_webhook_url_file(amtool, tmp_path):
    """Why webhook URLs are in the configuration file (kept 0640 root:prometheus): 0.25 refuses url_file.
    When this fails, the hosts' Alertmanager has url_file and the role should use it."""
    path = tmp_path / "url_file.yml"
    path.write_text("route: {receiver: hook}\nreceivers:\n- name: hook\n  webhook_configs:\n"
                    "  - url_file: %s/hook.url\n" % SECRETS)
    result = check_config(amtool, path)
    assert result.returncode != 0 and "field url_file not found" in result.stdout + result.stderr


@pytest.mark.parametrize("labels, receiver", [
    (["alertname=RedisDown", "severity=critical", "host=redis1"], "pager"),
    (["alertname=DiskFilling", "severity=warning", "host=pg1"], "ops"),
    (["alertname=Watchdog", "severity=none"], "deadman"),
    (["alertname=Watchdog", "severity=critical"], "deadman"),
    (["alertname=Something", "severity=info", "host=app1"], "ops"),
    (["alertname=NoSeverity"], "ops"),
])
def test_alerts_go_to_the_receivers_the_variables_name(amtool, tmp_path, labels, receiver):
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("alertmanager.yml.j2", settings(**EMAIL_AND_WEBHOOKS)))
    assert routes(amtool, path, *labels) == [receiver]


def test_the_lab_webhook_gets_every_alert_but_the_watchdog(amtool, tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("alertmanager.yml.j2", settings(**WEBHOOK_ONLY)))
    assert routes(amtool, path, "alertname=RedisDown", "severity=critical", "host=redis1") == ["lab"]
    assert routes(amtool, path, "alertname=RedisDown", "severity=warning", "host=redis1") == ["lab"]
    assert routes(amtool, path, "alertname=Watchdog", "severity=none") == ["discard"]
    config = yaml.safe_load(path.read_text())
    assert config["receivers"][1] == {"name": "lab", "webhook_configs": [{"url": "http://10.20.0.99:8080/alerts",
                                                                          "send_resolved": True}]}
    assert (config["route"]["group_wait"], config["route"]["group_interval"]) == ("1s", "5s")


def test_with_the_defaults_everything_is_discarded(amtool, tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("alertmanager.yml.j2", settings()))
    for labels in (["alertname=RedisDown", "severity=critical"], ["alertname=Watchdog"], ["alertname=X", "severity=warning"]):
        assert routes(amtool, path, *labels) == ["discard"]


def test_the_inhibit_rules_are_shaped_as_described(scenario):
    _name, _values, path = scenario
    rules = yaml.safe_load(path.read_text())["inhibit_rules"]
    host_down, critical = rules
    assert 'alertname="HostDown"' in host_down["source_matchers"]
    assert 'alertname!="HostDown"' in host_down["target_matchers"]
    assert 'alertname!="Watchdog"' in host_down["target_matchers"]
    assert host_down["equal"] == ["host"]
    assert critical == {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
                        "equal": ["alertname", "host"]}


def test_the_watchdog_repeats_often(scenario):
    _name, values, path = scenario
    watchdog = yaml.safe_load(path.read_text())["route"]["routes"][0]
    assert watchdog["matchers"] == ['alertname="Watchdog"']
    assert watchdog["repeat_interval"] == values["watchdog_repeat_interval"]
    assert watchdog["group_wait"] == "0s"


def test_the_rendered_file_is_marked_as_managed(scenario):
    _name, _values, path = scenario
    assert path.read_text().startswith("# Ansible managed\n")


def _args(values) -> list[str]:
    text = render("prometheus-alertmanager.default.j2", values)
    match = re.search(r'^ARGS="([^"]*)"$', text, re.MULTILINE)
    assert match, text
    return shlex.split(match.group(1))


def test_one_monitoring_host_has_no_cluster_listener():
    args = _args(settings(**WEBHOOK_ONLY))
    assert "--cluster.listen-address=" in args
    assert "--web.listen-address=10.20.0.51:9093" in args
    assert not any(arg.startswith("--cluster.peer") for arg in args)


def test_several_monitoring_hosts_form_a_cluster_on_their_addresses():
    args = _args(settings(**CLUSTER))
    assert "--cluster.listen-address=10.20.0.51:9094" in args
    assert [arg for arg in args if arg.startswith("--cluster.peer=")] == ["--cluster.peer=10.20.0.52:9094",
                                                                          "--cluster.peer=10.20.0.53:9094"]
    assert "--web.external-url=https://alerts.example.com/" in args
    assert not any("0.0.0.0" in arg or "=:" in arg for arg in args)
