# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's settings, checked before any host changes.

:func:`settings_problems` finds what is wrong with the grafana role's variables (the install method
and its source, the listen address and port, the admin password, the Prometheus datasource, the
dashboards directory and the extra grafana.ini settings), one sentence per problem, so the preflight
refuses the run instead. The provisioned dashboards are checked by ``grafana_lint.py``.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing as t
from collections.abc import Mapping
from urllib.parse import urlsplit

from ansible_collections.kaizen.hybrid.plugins.module_utils.monitoring import is_duration
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology_checks import SECRET_PLACEHOLDER_PREFIX, secret_missing
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import is_int

INSTALL_METHODS = ("repository", "deb", "none")

_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+~:-]*$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_LOGIN = re.compile(r"^[^\s:]+$")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """Problems of the grafana role's variables (keys without the ``grafana_`` prefix)."""
    problems: list[str] = []

    def var(name: str) -> t.Any:
        return settings.get(name)

    method = var("install_method")
    if method not in INSTALL_METHODS:
        problems.append("grafana_install_method must be one of %s, not %r" % (", ".join(INSTALL_METHODS), method))
    installed = method != "none"

    if method == "repository":
        line = var("apt_repository")
        if not isinstance(line, str) or not re.match(r"^https?://\S+\s+\S+(?:\s+\S+)*$", line.strip()):
            problems.append("grafana_apt_repository must be the repository's URL, suite and components "
                            "(such as 'https://apt.grafana.com stable main'), not %r" % (line,))
        key = var("apt_key_url")
        if not isinstance(key, str) or not key.startswith("https://") or not urlsplit(key).hostname:
            problems.append("grafana_apt_key_url must be an https:// URL (the repository's signing key), not %r" % (key,))
    if method == "deb":
        deb = var("deb_path")
        if not isinstance(deb, str) or not deb.endswith(".deb") or not os.path.isabs(deb):
            problems.append("grafana_deb_path must be the absolute path of a .deb on the controller "
                            "(grafana_install_method is deb), not %r" % (deb,))
        elif not os.path.isfile(deb):
            problems.append("grafana_deb_path: %s does not exist on the controller" % deb)
    version = var("version")
    if not isinstance(version, str) or (version and not _VERSION.match(version)):
        problems.append("grafana_version must be empty (the newest) or a package version such as 11.2.0, not %r" % (version,))

    address = var("http_address")
    if not isinstance(address, str) or not address:
        problems.append("grafana_http_address must be the address Grafana listens on, not %r" % (address,))
    else:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            if not _HOSTNAME.match(address):
                problems.append("grafana_http_address: %r is neither an IP address nor a host name" % (address,))
    port = var("http_port")
    if not is_int(port) or not 1 <= port <= 65535:
        problems.append("grafana_http_port must be a port number (1-65535), not %r" % (port,))

    user = var("admin_user")
    if not isinstance(user, str) or not _LOGIN.match(user):
        problems.append("grafana_admin_user must be a login name without spaces or colons, not %r" % (user,))
    password = var("admin_password")
    if installed:
        if not isinstance(password, str) or secret_missing(password):
            if isinstance(password, str) and password.strip():
                state = "a %s... placeholder" % SECRET_PLACEHOLDER_PREFIX
            else:
                state = "empty" if password in (None, "") or isinstance(password, str) else "not a string"
            problems.append("grafana_admin_password is %s: set it in the inventory's vault (Grafana is installed with "
                            "grafana_install_method %s)" % (state, method))
        elif password != password.strip():
            problems.append("grafana_admin_password starts or ends with white space, which Grafana strips from the "
                            "password file: the password would not be the one in the vault")
        elif password == "admin":
            problems.append("grafana_admin_password is 'admin', Grafana's well-known default: set a real password in the vault")

    url = var("prometheus_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("grafana_prometheus_url must be an http:// or https:// URL of Prometheus, not %r" % (url,))
    else:
        try:
            prometheus_port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            problems.append("grafana_prometheus_url: %r has a port that is not a number" % (url,))
        else:
            if parts.hostname == address and prometheus_port == port:
                problems.append("grafana_http_port %s is the port of Prometheus (grafana_prometheus_url %s) on the same address"
                                % (port, url))
    interval = var("prometheus_scrape_interval")
    if not is_duration(interval):
        problems.append("grafana_prometheus_scrape_interval must be a Prometheus duration such as 15s, not %r" % (interval,))

    directory = var("dashboards_dir")
    if not isinstance(directory, str) or not os.path.isabs(directory) or directory.rstrip("/") in ("", "/etc", "/var/lib"):
        problems.append("grafana_dashboards_dir must be an absolute path of a directory the role owns, not %r" % (directory,))
    folder = var("dashboards_folder")
    if not isinstance(folder, str) or not folder.strip():
        problems.append("grafana_dashboards_folder must be a folder name, not %r" % (folder,))
    extra = var("dashboards_extra")
    if not isinstance(extra, (list, tuple)) or not all(isinstance(item, str) for item in extra):
        problems.append("grafana_dashboards_extra must be a list of paths of JSON files on the controller, not %r" % (extra,))

    ini = var("ini_extra")
    if not isinstance(ini, Mapping):
        problems.append("grafana_ini_extra must be a mapping of grafana.ini sections to their settings, not %r" % (ini,))
    else:
        for section, values in ini.items():
            if not isinstance(values, Mapping):
                problems.append("grafana_ini_extra: section %r must be a mapping of settings, not %r" % (section, values))
                continue
            for key, value in values.items():
                if isinstance(value, (Mapping, list, tuple)) or value is None:
                    problems.append("grafana_ini_extra: %s.%s must be a single value, not %r" % (section, key, value))
            if str(section) == "security" and "admin_password" in values:
                problems.append("grafana_ini_extra sets security.admin_password: the password belongs in "
                                "grafana_admin_password (from the vault), which the role keeps out of grafana.ini")
    return problems
