# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager (Debian 12's prometheus-alertmanager 0.25): its configuration and daemon arguments, built from
the alertmanager role's variables, and what is wrong with those variables.

:func:`settings_problems` runs in preflight, on the controller, before any host changes: one message per
problem, each naming the variable. :func:`config` builds the configuration the role installs (checked once
more by ``amtool check-config`` on the host), :func:`secret_files` the files that carry its secrets, and
:func:`daemon_args` the ``ARGS`` of ``/etc/default/prometheus-alertmanager``.

Settings are the role's variables without the ``alertmanager_`` prefix, plus what the role derives from the
inventory: ``cluster_address`` (the host's own address), ``cluster_peers`` (the addresses of the other
monitoring hosts), ``config_file`` and ``secrets_dir``.

What 0.25 offers for secrets (checked with its amtool): ``smtp_auth_password_file`` (global) and the
``http_config`` credential files (``authorization.credentials_file``, ``basic_auth.password_file``,
``bearer_token_file``); there is no ``url_file`` for webhooks, so a webhook URL - which often carries a
token - is written into the configuration file itself, which the role keeps readable by root and the
prometheus group only.

No Ansible imports (Prometheus durations come from module_utils/monitoring.py): unit-tested directly.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from urllib.parse import urlsplit

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.monitoring import DURATION_UNITS_MS, parse_duration
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import is_int

# The receiver that does nothing: the watchdog's by default, and every alert's while no receiver exists.
DISCARD = "discard"
WATCHDOG_ALERT = "Watchdog"
HOST_DOWN_ALERT = "HostDown"
HOST_LABEL = "host"

# Prometheus durations (model.ParseDuration, used for every duration of the configuration file): units
# y w d h m s ms, each at most once, largest first; "0" alone is zero.
# Go durations (time.ParseDuration, used by the --data.retention flag): no d, w or y.
_GO_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_GO_UNITS_S = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Receiver names become file names (the secrets of their webhooks).
_RECEIVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# The daemon's arguments go through a shell-style variable (ARGS) that systemd splits at whitespace.
_UNSAFE_IN_ARGS = re.compile(r"[\s\"'\\$`;]")
_SMARTHOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9]{1,5})$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

RECEIVER_KEYS = ("name", "email", "webhook")
EMAIL_KEYS = ("to", "send_resolved")
WEBHOOK_KEYS = ("url", "send_resolved", "bearer_token", "ca_file")

# Duration settings of the configuration file; the second item: whether Alertmanager refuses zero.
_DURATIONS = (("resolve_timeout", False), ("group_wait", False), ("group_interval", True), ("repeat_interval", True),
              ("watchdog_repeat_interval", True))
_ROUTE_RECEIVERS = ("default_receiver", "critical_receiver", "warning_receiver", "watchdog_receiver")


def format_duration(milliseconds: int) -> str:
    """Milliseconds as a Prometheus duration (``90000`` -> ``1m30s``)."""
    if milliseconds <= 0:
        return "0s"
    text = ""
    for unit, size in DURATION_UNITS_MS:
        count, milliseconds = divmod(milliseconds, size)
        if count:
            text += "%d%s" % (count, unit)
    return text


def parse_go_duration(value: t.Any) -> float:
    """A Go duration (``120h``, ``1h30m``, ``90.5m``) in seconds; ValueError when it does not parse."""
    if not isinstance(value, str) or not value:
        raise ValueError("not a duration: %r" % (value,))
    if value == "0":
        return 0.0
    position, seconds = 0, 0.0
    for match in _GO_PART.finditer(value):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _GO_UNITS_S[match.group(2)]
        position = match.end()
    if position != len(value):
        raise ValueError("not a duration: %r" % (value,))
    return seconds


def _is_port(value: t.Any) -> bool:
    return is_int(value) and 1 <= value <= 65535


def _address_problem(value: t.Any) -> str | None:
    """Why ``value`` is not an IP address or host name fit for a listener (None when it is)."""
    if not isinstance(value, str) or not value:
        return "is empty"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.match(value):
            return "is not an IP address or a host name: %r" % (value,)
        return None
    if address.is_unspecified:
        return "is %s, every interface of the host" % value
    return None


def _http_url_problem(value: t.Any) -> str | None:
    """Why ``value`` is not an http(s) URL Alertmanager accepts (None when it is). The value is never echoed."""
    if not isinstance(value, str) or not value.strip():
        return "has no url"
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value) or _BAD_PERCENT.search(value):
        return "url is not a valid URL (spaces, control characters or a bad %-escape; the value is not shown)"
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError for a port that is not a number or out of range
    except ValueError:
        return "url is not a valid URL (the value is not shown)"
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return "url must be an http:// or https:// URL with a host (the value is not shown)"
    return None


def _receivers(settings: t.Mapping[str, t.Any]) -> list[t.Any]:
    receivers = settings.get("receivers")
    return list(receivers) if isinstance(receivers, (list, tuple)) else []


def _destinations(receiver: t.Mapping[str, t.Any], kind: str) -> list[t.Any]:
    """The email or webhook destinations of a receiver: a list, or one mapping (anything else: none)."""
    value = receiver.get(kind)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] if isinstance(value, t.Mapping) else []


def receiver_names(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The names of the receivers of ``alertmanager_receivers``, in order."""
    return [str(item["name"]) for item in _receivers(settings) if isinstance(item, t.Mapping) and item.get("name")]


def route_receivers(settings: t.Mapping[str, t.Any]) -> dict[str, str]:
    """The receiver of each route: ``default``, ``critical``, ``warning`` and ``watchdog``.

    An empty default is the first receiver of ``alertmanager_receivers`` (``discard`` when there is none); an
    empty critical or warning receiver is the default; an empty watchdog receiver is ``discard``.
    """
    names = receiver_names(settings)
    default = settings.get("default_receiver") or (names[0] if names else DISCARD)
    return {
        "default": str(default),
        "critical": str(settings.get("critical_receiver") or default),
        "warning": str(settings.get("warning_receiver") or default),
        "watchdog": str(settings.get("watchdog_receiver") or DISCARD),
    }


def _receiver_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    problems: list[str] = []
    receivers = settings.get("receivers")
    if not isinstance(receivers, (list, tuple)):
        return ["alertmanager_receivers must be a list of receivers ({name, email, webhook}), not %r" % (receivers,)]
    seen: set[str] = set()
    sends_email: list[str] = []
    for index, receiver in enumerate(receivers):
        where = "alertmanager_receivers[%d]" % index
        if not isinstance(receiver, t.Mapping):
            problems.append("%s must be a mapping with name, email and/or webhook, not %r" % (where, receiver))
            continue
        name = receiver.get("name")
        if not isinstance(name, str) or not name:
            problems.append("%s has no name" % where)
        else:
            where = "%s (%s)" % (where, name)
            if not _RECEIVER_NAME.match(name):
                problems.append("%s: the name may hold only letters, digits, '.', '_' and '-' (starting with a letter or digit)"
                                % where)
            if name == DISCARD:
                problems.append("%s: the name %r is reserved for the receiver that does nothing (the role defines it)"
                                % (where, DISCARD))
            elif name in seen:
                problems.append("%s: another receiver is already named %r (names must be unique)" % (where, name))
            seen.add(name)
        unknown = sorted(str(key) for key in receiver if key not in RECEIVER_KEYS)
        if unknown:
            problems.append("%s: unknown key(s) %s (a receiver has %s)" % (where, ", ".join(unknown), ", ".join(RECEIVER_KEYS)))
        wrong_kind = False
        for kind in ("email", "webhook"):
            value = receiver.get(kind)
            if value is not None and not isinstance(value, (list, tuple, t.Mapping)):
                # Not echoed: a webhook URL given in place of the list may carry a token.
                problems.append("%s: %s must be a list of destinations, not a %s" % (where, kind, type(value).__name__))
                wrong_kind = True
        if not wrong_kind and not _destinations(receiver, "email") and not _destinations(receiver, "webhook"):
            problems.append("%s has no email or webhook destination (to drop alerts, name the receiver %r instead)"
                            % (where, DISCARD))
        for number, email in enumerate(_destinations(receiver, "email"), start=1):
            here = "%s: email %d" % (where, number)
            if not isinstance(email, t.Mapping):
                problems.append("%s must be a mapping with to and send_resolved, not %r" % (here, email))
                continue
            sends_email.append(str(name))
            unknown = sorted(str(key) for key in email if key not in EMAIL_KEYS)
            if unknown:
                problems.append("%s: unknown key(s) %s (an email destination has %s)" % (here, ", ".join(unknown), ", ".join(EMAIL_KEYS)))
            to = email.get("to")
            if not isinstance(to, str) or "@" not in to:
                problems.append("%s has no to (the address(es) to send to)" % here)
            if "send_resolved" in email and not isinstance(email["send_resolved"], bool):
                problems.append("%s: send_resolved must be true or false, not %r" % (here, email["send_resolved"]))
        for number, webhook in enumerate(_destinations(receiver, "webhook"), start=1):
            here = "%s: webhook %d" % (where, number)
            if not isinstance(webhook, t.Mapping):
                problems.append("%s must be a mapping with url, send_resolved, bearer_token and ca_file, not a %s"
                                % (here, type(webhook).__name__))
                continue
            unknown = sorted(str(key) for key in webhook if key not in WEBHOOK_KEYS)
            if unknown:
                problems.append("%s: unknown key(s) %s (a webhook has %s)" % (here, ", ".join(unknown), ", ".join(WEBHOOK_KEYS)))
            url_problem = _http_url_problem(webhook.get("url"))
            if url_problem:
                problems.append("%s %s" % (here, url_problem))
            if "send_resolved" in webhook and not isinstance(webhook["send_resolved"], bool):
                problems.append("%s: send_resolved must be true or false, not %r" % (here, webhook["send_resolved"]))
            if "bearer_token" in webhook:
                token = webhook["bearer_token"]
                if not isinstance(token, str) or not token.strip() or "\n" in token.strip():
                    problems.append("%s: bearer_token is empty or not one line (is its vault variable defined?)" % here)
            if "ca_file" in webhook:
                ca_file = webhook["ca_file"]
                if not isinstance(ca_file, str) or not ca_file.startswith("/"):
                    problems.append("%s: ca_file must be an absolute path on the monitoring host, not %r" % (here, ca_file))
    if sends_email:
        who = "receiver(s) %s send email" % ", ".join(sorted(set(sends_email)))
        if not settings.get("smtp_smarthost"):
            problems.append("alertmanager_smtp_smarthost is empty but %s: set it (host:port of the mail relay)" % who)
        if not settings.get("smtp_from"):
            problems.append("alertmanager_smtp_from is empty but %s: set it (the sender address)" % who)
    return problems


def _smtp_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    problems: list[str] = []
    smarthost = settings.get("smtp_smarthost")
    if smarthost:
        match = _SMARTHOST.match(str(smarthost))
        if not isinstance(smarthost, str) or not match or not 1 <= int(match.group(1)) <= 65535:
            problems.append("alertmanager_smtp_smarthost must be host:port (e.g. smtp.example.com:587), not %r" % (smarthost,))
    sender = settings.get("smtp_from")
    if sender and (not isinstance(sender, str) or "@" not in sender):
        problems.append("alertmanager_smtp_from must be an email address, not %r" % (sender,))
    username, password = settings.get("smtp_auth_username"), settings.get("smtp_auth_password")
    if username and not password:
        problems.append("alertmanager_smtp_auth_username is set but alertmanager_smtp_auth_password is empty "
                        "(is its vault variable defined?)")
    if password and not username:
        problems.append("alertmanager_smtp_auth_password is set but alertmanager_smtp_auth_username is empty")
    if password and (not isinstance(password, str) or "\n" in password.strip()):
        problems.append("alertmanager_smtp_auth_password must be one line of text")
    if not isinstance(settings.get("smtp_require_tls"), bool):
        problems.append("alertmanager_smtp_require_tls must be true or false, not %r" % (settings.get("smtp_require_tls"),))
    return problems


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """Problems of the alertmanager role's variables; an empty list when Alertmanager can be configured from them."""
    problems: list[str] = []

    for name in ("port", "cluster_port"):
        if not _is_port(settings.get(name)):
            problems.append("alertmanager_%s must be a port number (1-65535), not %r" % (name, settings.get(name)))
    if _is_port(settings.get("port")) and settings.get("port") == settings.get("cluster_port"):
        problems.append("alertmanager_port and alertmanager_cluster_port must differ (both are %s)" % settings.get("port"))

    problem = _address_problem(settings.get("listen_address"))
    if problem:
        problems.append("alertmanager_listen_address %s (the web listener needs the host's own address)" % problem)
    elif _UNSAFE_IN_ARGS.search(settings["listen_address"]):
        problems.append("alertmanager_listen_address must not contain spaces, quotes or shell characters")
    peers = settings.get("cluster_peers") or []
    if not isinstance(peers, (list, tuple)):
        problems.append("the cluster peers must be a list of addresses, not %r" % (peers,))
        peers = []
    if peers:
        problem = _address_problem(settings.get("cluster_address"))
        if problem:
            problems.append("the cluster listener's address (this host's address: kaizen_address or ansible_host) %s; "
                            "the cluster never listens on every interface" % problem)
        for peer in peers:
            problem = _address_problem(peer)
            if problem:
                problems.append("cluster peer (another monitoring host's address) %s" % problem)

    storage = settings.get("storage_path")
    if not isinstance(storage, str) or not storage.startswith("/") or _UNSAFE_IN_ARGS.search(storage):
        problems.append("alertmanager_storage_path must be an absolute path without spaces or quotes, not %r" % (storage,))
    retention = settings.get("data_retention")
    try:
        if parse_go_duration(retention) <= 0:
            raise ValueError(retention)
    except ValueError:
        problems.append("alertmanager_data_retention must be a positive duration the --data.retention flag accepts "
                        "(Go syntax: 120h, 90m, 1h30m - no d or w), not %r" % (retention,))
    external_url = settings.get("external_url")
    if external_url:
        url_problem = _http_url_problem(external_url) if isinstance(external_url, str) else "is not a string"
        if url_problem or _UNSAFE_IN_ARGS.search(str(external_url)):
            problems.append("alertmanager_external_url must be empty or an http(s) URL without spaces or quotes, not %r"
                            % (external_url,))

    for name, refuses_zero in _DURATIONS:
        value = settings.get(name)
        try:
            milliseconds = parse_duration(value)
        except ValueError:
            problems.append("alertmanager_%s must be a duration such as 30s, 5m, 1h30m or 2d (units y w d h m s ms, "
                            "largest first, each once), not %r" % (name, value))
            continue
        if refuses_zero and milliseconds == 0:
            problems.append("alertmanager_%s must be longer than zero" % name)

    group_by = settings.get("group_by")
    if not isinstance(group_by, (list, tuple)):
        problems.append("alertmanager_group_by must be a list of label names, not %r" % (group_by,))
    elif list(group_by) != ["..."]:
        wrong = [label for label in group_by if not isinstance(label, str) or not _LABEL_NAME.match(label)]
        if wrong:
            problems.append("alertmanager_group_by: %s not label name(s) (letters, digits and _, not starting with a digit; "
                            "or ['...'] alone to group by every label)" % ", ".join(repr(label) for label in wrong))
        if len(set(map(str, group_by))) != len(group_by):
            problems.append("alertmanager_group_by names a label twice")

    problems.extend(_receiver_problems(settings))
    problems.extend(_smtp_problems(settings))

    known = set(receiver_names(settings)) | {DISCARD}
    for name in _ROUTE_RECEIVERS:
        value = settings.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or value not in known:
            problems.append("alertmanager_%s: there is no receiver named %r (receivers: %s)"
                            % (name, value, ", ".join(sorted(known))))
    return problems


def _watchdog_group_interval(repeat_ms: int) -> str:
    # Repeats are only sent at a group_interval tick, and only once repeat_interval has fully passed since
    # the last notification: with a tick at half the repeat interval at most, the ping comes on time.
    return format_duration(max(1000, min(60000, repeat_ms // 2)))


def secret_file_path(settings: t.Mapping[str, t.Any], name: str) -> str:
    return "%s/%s" % (str(settings.get("secrets_dir") or "").rstrip("/"), name)


def secret_files(settings: t.Mapping[str, t.Any]) -> list[dict[str, str]]:
    """The files the configuration reads its secrets from: ``[{path, content}]`` (written 0640 root:prometheus)."""
    files: list[dict[str, str]] = []
    if settings.get("smtp_auth_username") and settings.get("smtp_auth_password"):
        files.append({"path": secret_file_path(settings, "smtp_password"), "content": str(settings["smtp_auth_password"]).strip()})
    for receiver in _receivers(settings):
        if not isinstance(receiver, t.Mapping):
            continue
        for number, webhook in enumerate(_destinations(receiver, "webhook"), start=1):
            if isinstance(webhook, t.Mapping) and webhook.get("bearer_token"):
                files.append({"path": secret_file_path(settings, "webhook-%s-%d.token" % (receiver.get("name"), number)),
                              "content": str(webhook["bearer_token"]).strip()})
    return files


def _receiver_config(settings: t.Mapping[str, t.Any], receiver: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {"name": str(receiver["name"])}
    emails = [{"to": str(email["to"]), "send_resolved": bool(email.get("send_resolved", False))}
              for email in _destinations(receiver, "email")]
    if emails:
        result["email_configs"] = emails
    webhooks = []
    for number, webhook in enumerate(_destinations(receiver, "webhook"), start=1):
        item: dict[str, t.Any] = {"url": str(webhook["url"]), "send_resolved": bool(webhook.get("send_resolved", True))}
        http_config: dict[str, t.Any] = {}
        if webhook.get("bearer_token"):
            http_config["authorization"] = {
                "type": "Bearer",
                "credentials_file": secret_file_path(settings, "webhook-%s-%d.token" % (receiver["name"], number)),
            }
        if webhook.get("ca_file"):
            http_config["tls_config"] = {"ca_file": str(webhook["ca_file"])}
        if http_config:
            item["http_config"] = http_config
        webhooks.append(item)
    if webhooks:
        result["webhook_configs"] = webhooks
    return result


def config(settings: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The Alertmanager configuration (``alertmanager.yml``) as a mapping. ValueError, listing every problem, when the
    settings have problems (see :func:`settings_problems`)."""
    problems = settings_problems(settings)
    if problems:
        raise ValueError("the settings have %d problem(s): %s" % (len(problems), "; ".join(problems)))
    receivers = route_receivers(settings)

    global_config: dict[str, t.Any] = {"resolve_timeout": str(settings["resolve_timeout"])}
    if settings.get("smtp_smarthost"):
        global_config["smtp_smarthost"] = str(settings["smtp_smarthost"])
        if settings.get("smtp_from"):
            global_config["smtp_from"] = str(settings["smtp_from"])
        global_config["smtp_require_tls"] = bool(settings["smtp_require_tls"])
        if settings.get("smtp_auth_username"):
            global_config["smtp_auth_username"] = str(settings["smtp_auth_username"])
            global_config["smtp_auth_password_file"] = secret_file_path(settings, "smtp_password")

    watchdog_repeat = parse_duration(settings["watchdog_repeat_interval"])
    route = {
        "receiver": receivers["default"],
        "group_by": [str(label) for label in settings["group_by"]],
        "group_wait": str(settings["group_wait"]),
        "group_interval": str(settings["group_interval"]),
        "repeat_interval": str(settings["repeat_interval"]),
        "routes": [
            # The dead man's switch: always firing, sent on every short repeat so that its silence is noticed.
            {
                "receiver": receivers["watchdog"],
                "matchers": ['alertname="%s"' % WATCHDOG_ALERT],
                "group_wait": "0s",
                "group_interval": _watchdog_group_interval(watchdog_repeat),
                "repeat_interval": str(settings["watchdog_repeat_interval"]),
            },
            {"receiver": receivers["critical"], "matchers": ['severity="critical"']},
            {"receiver": receivers["warning"], "matchers": ['severity="warning"']},
        ],
    }
    inhibit_rules = [
        # A host that is down: its other alerts are consequences. The watchdog is never silenced.
        {
            "source_matchers": ['alertname="%s"' % HOST_DOWN_ALERT, '%s=~".+"' % HOST_LABEL],
            "target_matchers": ['alertname!="%s"' % HOST_DOWN_ALERT, 'alertname!="%s"' % WATCHDOG_ALERT],
            "equal": [HOST_LABEL],
        },
        # The critical alert says it already: its warning twin on the same host is silenced.
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", HOST_LABEL],
        },
    ]
    return {
        "global": global_config,
        "route": route,
        "inhibit_rules": inhibit_rules,
        "receivers": [{"name": DISCARD}] + [_receiver_config(settings, receiver) for receiver in _receivers(settings)],
    }


def daemon_args(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The daemon's arguments (``ARGS`` of ``/etc/default/prometheus-alertmanager``). With no other monitoring host
    the cluster listener is off; with others, it listens on this host's address and every other host is a peer."""
    problems = settings_problems(settings)
    if problems:
        raise ValueError("the settings have %d problem(s): %s" % (len(problems), "; ".join(problems)))
    args = [
        "--config.file=%s" % settings["config_file"],
        "--storage.path=%s" % settings["storage_path"],
        "--data.retention=%s" % settings["data_retention"],
        "--web.listen-address=%s" % host_port(str(settings["listen_address"]), settings["port"]),
    ]
    if settings.get("external_url"):
        args.append("--web.external-url=%s" % settings["external_url"])
    peers = list(settings.get("cluster_peers") or [])
    if not peers:
        args.append("--cluster.listen-address=")
    else:
        args.append("--cluster.listen-address=%s" % host_port(str(settings["cluster_address"]), settings["cluster_port"]))
        args.extend("--cluster.peer=%s" % host_port(str(peer), settings["cluster_port"]) for peer in peers)
    bad = [arg for arg in args if _UNSAFE_IN_ARGS.search(arg)]
    if bad:
        raise ValueError("argument(s) with spaces, quotes or shell characters: %s" % ", ".join(bad))
    return args
