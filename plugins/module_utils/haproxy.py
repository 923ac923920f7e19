# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy in front of a Patroni-managed PostgreSQL tier, for clients that cannot follow a failover themselves.

* :func:`settings_problems` checks the haproxy role's settings, one sentence per problem.
* :func:`parse_stat` reads HAProxy's ``show stat`` (CSV) into proxies, servers and their states.
* :func:`routing` says, from that, which server each PostgreSQL listener sends its clients to.

The servers themselves are :func:`patroni.members` (address, PostgreSQL port, REST API port).
No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import csv
import io
import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int

# The two listeners of the role's configuration and the Patroni endpoint each one checks.
LISTENERS = {"postgresql_rw": "/primary", "postgresql_ro": "/replica"}


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The haproxy role's settings on one host: Patroni manages PostgreSQL (nothing else tells HAProxy where the
    primary is), ports that are ports, differ from each other and from the ports this host's other services use
    (``taken``: port -> what uses it), check timing HAProxy accepts, and at least one PostgreSQL host."""
    problems = []
    if settings.get("ha_mode") != "patroni":
        problems.append("haproxy_enabled needs the PostgreSQL tier under Patroni (postgresql_ha_mode: patroni; it is %s): "
                        "HAProxy finds the primary through Patroni's REST API, and in manual mode nothing answers there"
                        % (settings.get("ha_mode") or "unset"))
    ports = {}
    for name in ("rw_port", "ro_port"):
        port = as_int(settings.get(name))
        if port is None or not 1 <= port <= 65535:
            problems.append("haproxy_%s is %r; it must be a port number (1-65535)" % (name, settings.get(name)))
        else:
            ports[name] = port
    if len(ports) == 2 and ports["rw_port"] == ports["ro_port"]:
        problems.append("haproxy_rw_port and haproxy_ro_port are both %d; the read-write and read-only listeners need a port each"
                        % ports["rw_port"])
    for name, port in sorted(ports.items()):
        user = (settings.get("taken") or {}).get(port) or (settings.get("taken") or {}).get(str(port))
        if user:
            problems.append("haproxy_%s %d is already used on %s by %s" % (name, port, settings.get("host", "this host"), user))
    for name, low in (("check_interval_ms", 100), ("check_fall", 1), ("check_rise", 1)):
        value = as_int(settings.get(name))
        if value is None or value < low:
            problems.append("haproxy_%s is %r; it must be a whole number of at least %d" % (name, settings.get(name), low))
    if not settings.get("members"):
        problems.append("group postgres has no hosts: HAProxy would have no server to send clients to")
    return problems


def parse_stat(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """``show stat`` (CSV, first line ``# pxname,svname,...``) as ``{proxy: {server: {"status", "check_status",
    "check_desc"}}}``, without the FRONTEND and BACKEND summary rows."""
    lines = text.lstrip().splitlines()
    if not lines:
        return {}
    lines[0] = lines[0].lstrip("# ")
    proxies: dict[str, dict[str, dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        proxy, server = row.get("pxname"), row.get("svname")
        if not proxy or not server or server in ("FRONTEND", "BACKEND"):
            continue
        proxies.setdefault(proxy, {})[server] = {
            "status": row.get("status") or "",
            "check_status": row.get("check_status") or "",
            "check_desc": row.get("check_desc") or "",
        }
    return proxies


def routing(proxies: t.Mapping[str, t.Mapping[str, t.Mapping[str, str]]], replicas_expected: bool = True) -> dict[str, t.Any]:
    """Where each listener sends clients: ``rw`` the servers in service behind ``postgresql_rw`` (exactly one when
    all is well: the leader), ``ro`` those behind ``postgresql_ro``, and ``problems``, one sentence each."""
    def up(proxy: str) -> list[str]:
        return sorted(name for name, server in (proxies.get(proxy) or {}).items() if server.get("status", "").startswith("UP"))

    def why(proxy: str) -> str:
        """Each server's last check, for the operator: ``(pg1: Layer7 wrong status; pg2: Layer4 timeout)``."""
        servers = sorted((proxies.get(proxy) or {}).items())
        return " (%s)" % "; ".join("%s: %s" % (name, server.get("check_desc") or server.get("status") or "?") for name, server in servers) if servers else ""

    result: dict[str, t.Any] = {"rw": up("postgresql_rw"), "ro": up("postgresql_ro"), "problems": []}
    for proxy in LISTENERS:
        if proxy not in proxies:
            result["problems"].append("HAProxy has no listener %s" % proxy)
    if "postgresql_rw" in proxies:
        if not result["rw"]:
            result["problems"].append("no server passes the %s check of postgresql_rw: writes have nowhere to go%s"
                                      % (LISTENERS["postgresql_rw"], why("postgresql_rw")))
        elif len(result["rw"]) > 1:
            result["problems"].append("more than one server passes the %s check of postgresql_rw (%s)"
                                      % (LISTENERS["postgresql_rw"], ", ".join(result["rw"])))
    if "postgresql_ro" in proxies and replicas_expected and not result["ro"]:
        result["problems"].append("no replica passes the %s check of postgresql_ro: reads on the read-only port fail%s"
                                  % (LISTENERS["postgresql_ro"], why("postgresql_ro")))
    return result
