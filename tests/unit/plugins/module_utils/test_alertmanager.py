# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/alertmanager.py: Alertmanager's configuration, secret files and daemon
arguments built from the alertmanager role's variables, and the problems preflight refuses."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import alertmanager
from ansible_collections.kaizen.hybrid.plugins.module_utils.alertmanager import (
    config,
    daemon_args,
    format_duration,
    parse_duration,
    parse_go_duration,
    route_receivers,
    secret_files,
    settings_problems,
)

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "alertmanager"
ROLE_DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
SECRETS = "/etc/prometheus/alertmanager-secrets"
# What the role derives from the inventory and its vars, not from its defaults.
DERIVED = {"listen_address": "10.20.0.51", "cluster_address": "10.20.0.51", "cluster_peers": [],
           "config_file": "/etc/prometheus/alertmanager.yml", "secrets_dir": SECRETS}

WEBHOOK_TOKEN_URL = "https://hooks.example.com/services/T0000/B0000/s3cr3t-t0k3n"


def settings(**changes):
    values = {name[len("alertmanager_"):]: copy.deepcopy(value) for name, value in ROLE_DEFAULTS.items()}
    values.update(DERIVED)
    values.update(changes)
    return values


def webhook_settings(**changes):
    return settings(receivers=[{"name": "lab", "webhook": [{"url": "http://10.20.0.99:8080/alerts"}]}], **changes)


def full_settings(**changes):
    """Email and webhook receivers with every kind of secret."""
    values = dict(
        receivers=[
            {"name": "ops", "email": [{"to": "ops@example.com", "send_resolved": True}],
             "webhook": [{"url": WEBHOOK_TOKEN_URL}]},
            {"name": "pager", "webhook": [{"url": "https://pager.example.com/api/alerts", "bearer_token": "pager-t0ken",
                                           "ca_file": "/etc/kaizen/pki/ca.crt", "send_resolved": False}]},
            {"name": "deadman", "webhook": [{"url": "https://deadman.example.com/ping/abc"}]},
        ],
        critical_receiver="pager",
        warning_receiver="ops",
        watchdog_receiver="deadman",
        smtp_smarthost="smtp.example.com:587",
        smtp_from="alertmanager@example.com",
        smtp_auth_username="alertmanager@example.com",
        smtp_auth_password="smtp-pa55word",
    )
    values.update(changes)
    return settings(**values)


# --- the role's variables ---------------------------------------------------------------------------------------

def test_the_role_settings_map_every_public_variable():
    mapped = ROLE_VARS["__alertmanager_settings"]
    public = {name[len("alertmanager_"):] for name in ROLE_DEFAULTS}
    assert set(mapped) == public | set(DERIVED)
    for key in public:
        assert mapped[key] == "{{ alertmanager_%s }}" % key


def test_the_role_defaults_pass():
    assert settings_problems(settings()) == []


def test_the_web_listener_defaults_to_the_host_address():
    assert ROLE_DEFAULTS["alertmanager_listen_address"] == "{{ inventory_hostname | kaizen.hybrid.host_address(hostvars) }}"
    assert ROLE_DEFAULTS["alertmanager_port"] == 9093 and ROLE_DEFAULTS["alertmanager_cluster_port"] == 9094


# --- durations ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, milliseconds", [
    ("0", 0), ("0s", 0), ("30s", 30000), ("5m", 300000), ("1h30m", 5400000), ("2d", 172800000),
    ("1w2d", 777600000), ("1y", 31536000000), ("10ms", 10), ("1h0m5s", 3605000),
])
def test_prometheus_durations_parse(text, milliseconds):
    assert parse_duration(text) == milliseconds


@pytest.mark.parametrize("text", ["", "30", "1.5h", "30m1h", "1d1d", "5M", "1 h", "-5m", "5min", "h", None, 30])
def test_what_prometheus_would_not_parse_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("milliseconds, text", [(0, "0s"), (1000, "1s"), (90000, "1m30s"), (172800000, "2d"), (1500, "1s500ms")])
def test_durations_format(milliseconds, text):
    assert format_duration(milliseconds) == text
    assert parse_duration(text) == milliseconds


@pytest.mark.parametrize("text, seconds", [("120h", 432000), ("90m", 5400), ("1h30m", 5400), ("1.5h", 5400), ("0", 0),
                                           ("500ms", 0.5)])
def test_go_durations_parse(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5d", "1w", "", "h", "1h 30m", "-1h", "120", None])
def test_what_go_would_not_parse_is_refused(text):
    with pytest.raises(ValueError):
        parse_go_duration(text)


# --- the configuration ---------------------------------------------------------------------------------------------

def test_without_receivers_every_alert_goes_to_discard():
    built = config(settings())
    assert [receiver["name"] for receiver in built["receivers"]] == ["discard"]
    assert built["receivers"][0] == {"name": "discard"}
    route = built["route"]
    assert route["receiver"] == "discard"
    assert {sub["receiver"] for sub in route["routes"]} == {"discard"}
    assert "smtp_smarthost" not in built["global"]


def test_the_route_groups_and_times_as_configured():
    route = config(settings(group_by=["alertname", "host", "service"], group_wait="5s", group_interval="10s",
                            repeat_interval="1h"))["route"]
    assert route["group_by"] == ["alertname", "host", "service"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("5s", "10s", "1h")


def test_routes_by_severity_and_the_watchdog_first():
    routes = config(full_settings())["route"]["routes"]
    assert [(sub["matchers"], sub["receiver"]) for sub in routes] == [
        (['alertname="Watchdog"'], "deadman"),
        (['severity="critical"'], "pager"),
        (['severity="warning"'], "ops"),
    ]
    assert all("continue" not in sub for sub in routes)


@pytest.mark.parametrize("repeat, group_interval", [("5m", "1m"), ("1m", "30s"), ("30s", "15s"), ("1s", "1s"), ("1h", "1m")])
def test_the_watchdog_repeats_on_time(repeat, group_interval):
    watchdog = config(settings(watchdog_repeat_interval=repeat))["route"]["routes"][0]
    assert watchdog["repeat_interval"] == repeat
    assert watchdog["group_wait"] == "0s"
    assert watchdog["group_interval"] == group_interval


def test_empty_route_receivers_fall_back():
    values = settings(receivers=[{"name": "first", "webhook": [{"url": "http://a.example.com/"}]},
                                 {"name": "second", "webhook": [{"url": "http://b.example.com/"}]}])
    assert route_receivers(values) == {"default": "first", "critical": "first", "warning": "first", "watchdog": "discard"}
    values.update(default_receiver="second", critical_receiver="first", watchdog_receiver="")
    assert route_receivers(values) == {"default": "second", "critical": "first", "warning": "second", "watchdog": "discard"}


def test_the_inhibit_rules():
    rules = config(settings())["inhibit_rules"]
    assert rules == [
        {"source_matchers": ['alertname="HostDown"', 'host=~".+"'],
         "target_matchers": ['alertname!="HostDown"', 'alertname!="Watchdog"'],
         "equal": ["host"]},
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'], "equal": ["alertname", "host"]},
    ]


def test_a_webhook_receiver():
    built = config(webhook_settings(group_wait="1s", group_interval="5s"))
    assert built["receivers"][1] == {"name": "lab", "webhook_configs": [{"url": "http://10.20.0.99:8080/alerts", "send_resolved": True}]}
    assert built["route"]["receiver"] == "lab"
    assert secret_files(webhook_settings()) == []


def test_email_and_webhooks_with_their_secrets_in_files():
    values = full_settings()
    built = config(values)
    assert built["global"] == {
        "resolve_timeout": "5m",
        "smtp_smarthost": "smtp.example.com:587",
        "smtp_from": "alertmanager@example.com",
        "smtp_require_tls": True,
        "smtp_auth_username": "alertmanager@example.com",
        "smtp_auth_password_file": SECRETS + "/smtp_password",
    }
    receivers = {receiver["name"]: receiver for receiver in built["receivers"]}
    assert receivers["ops"] == {
        "name": "ops",
        "email_configs": [{"to": "ops@example.com", "send_resolved": True}],
        "webhook_configs": [{"url": WEBHOOK_TOKEN_URL, "send_resolved": True}],
    }
    assert receivers["pager"]["webhook_configs"] == [{
        "url": "https://pager.example.com/api/alerts",
        "send_resolved": False,
        "http_config": {"authorization": {"type": "Bearer", "credentials_file": SECRETS + "/webhook-pager-1.token"},
                        "tls_config": {"ca_file": "/etc/kaizen/pki/ca.crt"}},
    }]
    assert secret_files(values) == [
        {"path": SECRETS + "/smtp_password", "content": "smtp-pa55word"},
        {"path": SECRETS + "/webhook-pager-1.token", "content": "pager-t0ken"},
    ]
    # Only the webhook URL itself (0.25 has no url_file) is in the configuration; no password, no token.
    text = yaml.safe_dump(built)
    assert "smtp-pa55word" not in text and "pager-t0ken" not in text


def test_email_defaults_to_no_resolved_notification():
    values = full_settings(receivers=[{"name": "ops", "email": [{"to": "ops@example.com"}]}], critical_receiver="",
                           warning_receiver="", watchdog_receiver="")
    assert config(values)["receivers"][1]["email_configs"] == [{"to": "ops@example.com", "send_resolved": False}]


def test_no_smtp_login_without_a_username():
    values = full_settings(smtp_auth_username="", smtp_auth_password="")
    assert "smtp_auth_username" not in config(values)["global"]
    assert "smtp_auth_password_file" not in config(values)["global"]
    assert [item["path"] for item in secret_files(values)] == [SECRETS + "/webhook-pager-1.token"]


def test_settings_with_problems_build_nothing():
    with pytest.raises(ValueError, match="alertmanager_group_wait"):
        config(settings(group_wait="1.5h"))
    with pytest.raises(ValueError, match="alertmanager_port"):
        daemon_args(settings(port=0))


# --- the daemon's arguments ---------------------------------------------------------------------------------------------

def test_one_monitoring_host_has_no_cluster_listener():
    assert daemon_args(settings()) == [
        "--config.file=/etc/prometheus/alertmanager.yml",
        "--storage.path=/var/lib/prometheus/alertmanager",
        "--data.retention=120h",
        "--web.listen-address=10.20.0.51:9093",
        "--cluster.listen-address=",
    ]


def test_several_monitoring_hosts_are_a_cluster_on_their_addresses():
    args = daemon_args(settings(cluster_peers=["10.20.0.52", "10.20.0.53"], external_url="https://alerts.example.com/",
                                storage_path="/srv/alertmanager", data_retention="240h"))
    assert args == [
        "--config.file=/etc/prometheus/alertmanager.yml",
        "--storage.path=/srv/alertmanager",
        "--data.retention=240h",
        "--web.listen-address=10.20.0.51:9093",
        "--web.external-url=https://alerts.example.com/",
        "--cluster.listen-address=10.20.0.51:9094",
        "--cluster.peer=10.20.0.52:9094",
        "--cluster.peer=10.20.0.53:9094",
    ]
    assert not any("0.0.0.0" in arg for arg in args)


def test_ipv6_addresses_are_bracketed():
    args = daemon_args(settings(listen_address="fd00::51", cluster_address="fd00::51", cluster_peers=["fd00::52"]))
    assert "--web.listen-address=[fd00::51]:9093" in args
    assert "--cluster.listen-address=[fd00::51]:9094" in args
    assert "--cluster.peer=[fd00::52]:9094" in args


# --- the problems preflight refuses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, expected", [
    # receivers
    ({"receivers": [{"name": "lab", "webhook": [{"send_resolved": True}]}]},
     "alertmanager_receivers[0] (lab): webhook 1 has no url"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": ""}]}]}, "alertmanager_receivers[0] (lab): webhook 1 has no url"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "ftp://files.example.com/x"}]}]},
     "webhook 1 url must be an http:// or https:// URL"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com/%zz"}]}]}, "webhook 1 url is not a valid URL"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com:99999/"}]}]}, "webhook 1 url is not a valid URL"),
    ({"receivers": [{"name": "lab", "webhook": ["http://x.example.com/"]}]}, "webhook 1 must be a mapping"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com/", "urls": "x"}]}]},
     "webhook 1: unknown key(s) urls"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com/", "send_resolved": "yes"}]}]},
     "webhook 1: send_resolved must be true or false"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com/", "bearer_token": ""}]}]},
     "webhook 1: bearer_token is empty"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "https://x.example.com/", "ca_file": "ca.crt"}]}]},
     "webhook 1: ca_file must be an absolute path"),
    ({"receivers": [{"name": "lab"}]}, "alertmanager_receivers[0] (lab) has no email or webhook destination"),
    ({"receivers": [{"webhook": [{"url": "http://x.example.com/"}]}]}, "alertmanager_receivers[0] has no name"),
    ({"receivers": [{"name": "on call", "webhook": [{"url": "http://x.example.com/"}]}]}, "the name may hold only"),
    ({"receivers": [{"name": "discard", "webhook": [{"url": "http://x.example.com/"}]}]}, "the name 'discard' is reserved"),
    ({"receivers": [{"name": "lab", "webhook": [{"url": "http://x.example.com/"}], "slack": []}]},
     "alertmanager_receivers[0] (lab): unknown key(s) slack"),
    ({"receivers": [{"name": "lab", "webhook": "http://x.example.com/"}]}, "webhook must be a list of destinations, not a str"),
    ({"receivers": {"name": "lab"}}, "alertmanager_receivers must be a list"),
    ({"receivers": ["lab"]}, "alertmanager_receivers[0] must be a mapping"),
    # email
    ({"receivers": [{"name": "ops", "email": [{"send_resolved": True}]}], "smtp_smarthost": "smtp.example.com:25",
      "smtp_from": "am@example.com"}, "alertmanager_receivers[0] (ops): email 1 has no to"),
    ({"receivers": [{"name": "ops", "email": [{"to": "ops@example.com"}]}], "smtp_from": "am@example.com"},
     "alertmanager_smtp_smarthost is empty but receiver(s) ops send email"),
    ({"receivers": [{"name": "ops", "email": [{"to": "ops@example.com"}]}], "smtp_smarthost": "smtp.example.com:25"},
     "alertmanager_smtp_from is empty but receiver(s) ops send email"),
    ({"smtp_smarthost": "smtp.example.com"}, "alertmanager_smtp_smarthost must be host:port"),
    ({"smtp_from": "alertmanager"}, "alertmanager_smtp_from must be an email address"),
    ({"smtp_auth_username": "am"}, "alertmanager_smtp_auth_username is set but alertmanager_smtp_auth_password is empty"),
    ({"smtp_auth_password": "pw"}, "alertmanager_smtp_auth_password is set but alertmanager_smtp_auth_username is empty"),
    ({"smtp_require_tls": "yes"}, "alertmanager_smtp_require_tls must be true or false"),
    # routes
    ({"default_receiver": "ops"}, "alertmanager_default_receiver: there is no receiver named 'ops'"),
    ({"critical_receiver": "pager"}, "alertmanager_critical_receiver: there is no receiver named 'pager'"),
    ({"warning_receiver": "ops"}, "alertmanager_warning_receiver: there is no receiver named 'ops'"),
    ({"watchdog_receiver": "deadman"}, "alertmanager_watchdog_receiver: there is no receiver named 'deadman'"),
    # durations
    ({"group_wait": "1.5h"}, "alertmanager_group_wait must be a duration"),
    ({"group_interval": "5 minutes"}, "alertmanager_group_interval must be a duration"),
    ({"group_interval": "0s"}, "alertmanager_group_interval must be longer than zero"),
    ({"repeat_interval": "30m4h"}, "alertmanager_repeat_interval must be a duration"),
    ({"repeat_interval": "0"}, "alertmanager_repeat_interval must be longer than zero"),
    ({"resolve_timeout": ""}, "alertmanager_resolve_timeout must be a duration"),
    ({"watchdog_repeat_interval": "5M"}, "alertmanager_watchdog_repeat_interval must be a duration"),
    ({"data_retention": "5d"}, "alertmanager_data_retention must be a positive duration"),
    ({"data_retention": "0"}, "alertmanager_data_retention must be a positive duration"),
    # listeners, paths, labels
    ({"port": 0}, "alertmanager_port must be a port number"),
    ({"port": 70000}, "alertmanager_port must be a port number"),
    ({"port": "9093"}, "alertmanager_port must be a port number"),
    ({"cluster_port": 65536}, "alertmanager_cluster_port must be a port number"),
    ({"cluster_port": 9093}, "alertmanager_port and alertmanager_cluster_port must differ"),
    ({"listen_address": "0.0.0.0"}, "alertmanager_listen_address is 0.0.0.0, every interface"),
    ({"listen_address": ""}, "alertmanager_listen_address is empty"),
    ({"listen_address": "10.0.0.1 --x"}, "alertmanager_listen_address is not an IP address or a host name"),
    ({"cluster_peers": ["10.20.0.52"], "cluster_address": "::"}, "the cluster never listens on every interface"),
    ({"cluster_peers": ["not an address"]}, "cluster peer (another monitoring host's address) is not an IP address"),
    ({"storage_path": "var/lib/am"}, "alertmanager_storage_path must be an absolute path"),
    ({"storage_path": "/var/lib/my am"}, "alertmanager_storage_path must be an absolute path"),
    ({"external_url": "alerts.example.com"}, "alertmanager_external_url must be empty or an http(s) URL"),
    ({"group_by": ["alertname", "host-name"]}, "alertmanager_group_by: 'host-name' not label name(s)"),
    ({"group_by": "alertname"}, "alertmanager_group_by must be a list"),
    ({"group_by": ["host", "host"]}, "alertmanager_group_by names a label twice"),
])
def test_each_problem_is_named(changes, expected):
    problems = settings_problems(settings(**changes))
    assert len(problems) == 1 and expected in problems[0], problems


def test_duplicate_receiver_names():
    problems = settings_problems(settings(receivers=[
        {"name": "ops", "webhook": [{"url": "http://a.example.com/"}]},
        {"name": "ops", "email": [{"to": "ops@example.com"}]},
    ], smtp_smarthost="smtp.example.com:25", smtp_from="am@example.com"))
    assert problems == ["alertmanager_receivers[1] (ops): another receiver is already named 'ops' (names must be unique)"]


def test_every_problem_is_reported_at_once():
    problems = settings_problems(settings(
        receivers=[{"name": "lab", "webhook": [{}]}, {"name": "ops", "email": [{"to": "ops@example.com"}]}],
        critical_receiver="pager", group_wait="soon", port=0,
    ))
    # no url; no smarthost and no sender for ops' email; no receiver pager; group_wait; port
    assert len(problems) == 6, problems


def test_secrets_are_never_in_a_message():
    values = full_settings(
        receivers=[
            {"name": "a", "webhook": [{"url": WEBHOOK_TOKEN_URL + "/%zz"}]},
            {"name": "b", "webhook": [{"url": "ftp://user:s3cr3t-t0k3n@x.example.com/"}]},
            {"name": "c", "webhook": "https://hooks.example.com/s3cr3t-t0k3n"},
            {"name": "d", "webhook": ["https://hooks.example.com/s3cr3t-t0k3n"]},
            {"name": "e", "webhook": [{"url": "http://x.example.com/", "bearer_token": "s3cr3t-t0k3n\nsecond line"}]},
        ],
        critical_receiver="", warning_receiver="", watchdog_receiver="",
        smtp_auth_username="", smtp_auth_password="s3cr3t-t0k3n",
    )
    problems = settings_problems(values)
    assert len(problems) == 6, problems
    assert not any("s3cr3t" in problem for problem in problems), problems


def test_good_settings_pass():
    assert settings_problems(webhook_settings(group_wait="1s", group_interval="5s", repeat_interval="1m")) == []
    assert settings_problems(full_settings()) == []
    assert settings_problems(full_settings(cluster_peers=["10.20.0.52", "mon3.example.com"], group_by=["..."],
                                           listen_address="mon1.example.com", external_url="http://10.20.0.51:9093/")) == []
    assert settings_problems(settings(receivers=[{"name": "one", "webhook": {"url": "http://a.example.com/"}}])) == []


def test_the_module_names_its_constants():
    assert (alertmanager.DISCARD, alertmanager.WATCHDOG_ALERT, alertmanager.HOST_DOWN_ALERT, alertmanager.HOST_LABEL) == (
        "discard", "Watchdog", "HostDown", "host")
