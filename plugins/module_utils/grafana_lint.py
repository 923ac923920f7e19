# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's provisioned dashboards, checked before any host changes.

Grafana loads a provisioned dashboard it cannot use without a word on the command line: a file
that is not JSON is skipped with a line in its log, a dashboard without a uid gets a new one on
every start (and every link to it breaks), two dashboards with one uid or one title in a folder
fight, and a panel whose datasource reference names a datasource that does not exist shows
"datasource not found" to whoever opens it. :func:`dashboard_file_problems` finds all of that on
the controller, with the file and the panel at fault, so the preflight refuses the run instead.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import json
import os
import re
import typing as t
from collections.abc import Mapping

DATASOURCE_UID = "kaizen-prometheus"
"""The uid of the Prometheus datasource the role provisions; every shipped dashboard refers to it."""
DATASOURCE_TYPE = "prometheus"
DATASOURCE_NAME = "Prometheus"

# Grafana's own datasources, which need no provisioning: the built-in "Grafana" one (annotations,
# random walk), "Dashboard" (reuses another panel's query) and "Mixed" (each query names its own).
_BUILTIN_DATASOURCES = frozenset(("-- Grafana --", "grafana", "-- Dashboard --"))
_MIXED = "-- Mixed --"
# Panels that run no query.
_NO_QUERY_PANELS = frozenset(("row", "text", "dashlist", "news", "alertlist", "annolist", "welcome", "gettingstarted"))
# Grafana's variable syntax: $name, [[name:format]], ${name.field:format}.
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}")
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


# --------------------------------------------------------------------------------------------
# Dashboards
# --------------------------------------------------------------------------------------------

def read_dashboards(paths: t.Iterable[t.Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The text of each dashboard file, and the problems of the files that cannot be read."""
    loaded: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in paths:
        if not isinstance(path, str) or not path:
            problems.append("dashboard %r: not a path" % (path,))
            continue
        if not os.path.isabs(path):
            problems.append("%s: dashboard paths must be absolute paths on the controller "
                            "(build them from inventory_dir or playbook_dir)" % path)
            continue
        base = os.path.basename(path)
        if not base.endswith(".json"):
            problems.append("%s: a dashboard file's name must end in .json (Grafana reads only those)" % path)
            continue
        if base in seen and seen[base] != path:
            problems.append("%s and %s have the same file name: one would overwrite the other in the dashboards directory"
                            % (seen[base], path))
            continue
        seen[base] = path
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            problems.append("%s: cannot be read (%s)" % (path, exc.strerror or exc))
            continue
        try:
            loaded.append((path, data.decode("utf-8")))
        except UnicodeDecodeError as exc:
            problems.append("%s: not UTF-8 text (byte %d)" % (path, exc.start))
    return loaded, problems


def dashboard_file_problems(paths: t.Iterable[t.Any], datasource_uid: str = DATASOURCE_UID,
                            datasource_type: str = DATASOURCE_TYPE, datasource_name: t.Optional[str] = DATASOURCE_NAME) -> list[str]:
    """Everything wrong with the dashboard files at ``paths`` (absolute paths on the controller)."""
    loaded, problems = read_dashboards(paths)
    return problems + dashboard_problems(loaded, datasource_uid, datasource_type, datasource_name)


def parse_dashboard(name: str, text: str) -> tuple[t.Optional[dict[str, t.Any]], t.Optional[str]]:
    """The dashboard object of ``text``, or None and why not (invalid JSON with its line and column)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, "%s: invalid JSON at line %d, column %d: %s" % (name, exc.lineno, exc.colno, exc.msg)
    except RecursionError:
        return None, "%s: invalid JSON: nested too deeply" % name
    if not isinstance(data, dict):
        return None, "%s: not a dashboard (a JSON object is expected, the file holds a %s)" % (name, _json_type(data))
    if isinstance(data.get("dashboard"), dict) and "panels" not in data:
        return None, ("%s: an export of Grafana's HTTP API ({\"dashboard\": ..., \"meta\": ...}); provision the object under "
                      "\"dashboard\" instead" % name)
    return data, None


def _json_type(value: t.Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def dashboard_problems(dashboards: t.Iterable[tuple[str, str]], datasource_uid: str = DATASOURCE_UID,
                       datasource_type: str = DATASOURCE_TYPE, datasource_name: t.Optional[str] = DATASOURCE_NAME) -> list[str]:
    """Everything wrong with ``dashboards`` - pairs of a name (the file) and its JSON text - provisioned together
    into one folder, against a datasource of ``datasource_uid``."""
    problems: list[str] = []
    uids: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    for name, text in dashboards:
        dashboard, problem = parse_dashboard(name, text)
        if dashboard is None:
            problems.append(t.cast(str, problem))
            continue
        uid = dashboard.get("uid")
        if uid is None or uid == "":
            problems.append("%s: no uid (Grafana would give the dashboard a new one on every start, and links to it break)" % name)
        elif not isinstance(uid, str) or not _UID.match(uid):
            problems.append("%s: uid %r is not 1 to 40 letters, digits, '-' or '_'" % (name, uid))
        else:
            uids.setdefault(uid, []).append(name)
        title = dashboard.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append("%s: no title" % name)
        else:
            titles.setdefault(title.strip().lower(), []).append(name)
        problems.extend(_Checker(name, dashboard, datasource_uid, datasource_type, datasource_name).problems())
    for uid, names in uids.items():
        if len(names) > 1:
            problems.append("uid %s is used by more than one dashboard: %s" % (uid, ", ".join(names)))
    for title, names in titles.items():
        if len(names) > 1:
            problems.append("title %r is used by more than one dashboard: %s (Grafana refuses two dashboards of one name in a folder)"
                            % (title, ", ".join(names)))
    return problems


def variable_names(text: str) -> list[str]:
    """The names of the Grafana variables ``text`` uses ($name, ${name}, ${name:format}, [[name]])."""
    names = []
    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(2) or match.group(4)
        if name not in names:
            names.append(name)
    return names


def _builtin_variable(name: str) -> bool:
    # Grafana's own ($__interval, $__range, ...), and $1-style group references of label_replace.
    return name.startswith("__") or name in ("timeFilter", "interval") or name.isdigit()


def _variables(dashboard: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    templating = dashboard.get("templating")
    items = templating.get("list") if isinstance(templating, Mapping) else None
    return [item for item in items or [] if isinstance(item, dict)]


def _panels(dashboard: t.Mapping[str, t.Any]) -> t.Iterator[dict[str, t.Any]]:
    """Every panel, those inside (collapsed) rows and the legacy ``rows`` of old schemas included."""

    def walk(panels: t.Any) -> t.Iterator[dict[str, t.Any]]:
        for panel in panels if isinstance(panels, list) else []:
            if isinstance(panel, dict):
                yield panel
                yield from walk(panel.get("panels"))

    yield from walk(dashboard.get("panels"))
    rows = dashboard.get("rows")
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict):
            yield from walk(row.get("panels"))


def _panel_label(panel: t.Mapping[str, t.Any], index: int) -> str:
    title = panel.get("title")
    ident = panel.get("id")
    label = "panel %s" % json.dumps(title) if isinstance(title, str) and title else "panel #%d" % index
    return label + (" (id %s)" % ident if ident is not None else "")


def _query_text(variable: t.Mapping[str, t.Any]) -> t.Any:
    query = variable.get("query")
    if isinstance(query, Mapping):
        query = query.get("query")
    return query


class _Checker:
    """The problems of one dashboard: datasource references, queries and the variables they use."""

    def __init__(self, name: str, dashboard: dict[str, t.Any], uid: str, ds_type: str, ds_name: t.Optional[str]) -> None:
        self.name = name
        self.dashboard = dashboard
        self.uid = uid
        self.ds_type = ds_type
        self.ds_name = ds_name
        self.variables = {str(var.get("name")): var for var in _variables(dashboard) if var.get("name")}
        self.out: list[str] = []

    def problems(self) -> list[str]:
        self._check_variables()
        self._check_annotations()
        for index, panel in enumerate(_panels(self.dashboard)):
            self._check_panel(panel, index)
        return self.out

    def add(self, where: str, text: str) -> None:
        problem = "%s: %s: %s" % (self.name, where, text)
        if problem not in self.out:
            self.out.append(problem)

    # A datasource reference is one of: none (missing), ours (resolves to the provisioned
    # datasource), builtin (Grafana's own), mixed, or a problem (the string says why).
    def classify(self, ref: t.Any) -> tuple[str, t.Optional[str]]:
        if ref is None or ref == "" or ref == {}:
            return "none", None
        if isinstance(ref, str):
            uid, ref_type = ref, None
            if uid not in _BUILTIN_DATASOURCES and uid != _MIXED and not variable_names(uid) and uid not in (self.uid, self.ds_name):
                return "bad", ("datasource %s (a datasource name) is not the provisioned datasource %s"
                               % (json.dumps(ref), self._ours()))
        elif isinstance(ref, Mapping):
            uid, ref_type = ref.get("uid"), ref.get("type")
            if not isinstance(uid, str) or not uid:
                return "bad", "datasource %s has no uid; use %s" % (json.dumps(ref, sort_keys=True), self._ours())
        else:
            return "bad", "datasource %s is neither a {type, uid} object nor a name" % json.dumps(ref)
        if uid in _BUILTIN_DATASOURCES:
            return "builtin", None
        if uid == _MIXED:
            return "mixed", None
        names = variable_names(uid)
        if names:
            return self._classify_variable(ref, names[0])
        if uid in (self.uid, self.ds_name) and ref_type in (None, "", self.ds_type):
            return "ours", None
        return "bad", "datasource %s does not resolve to the provisioned datasource %s" % (json.dumps(ref, sort_keys=True), self._ours())

    def _ours(self) -> str:
        return '{"type": "%s", "uid": "%s"}' % (self.ds_type, self.uid)

    def _classify_variable(self, ref: t.Any, name: str) -> tuple[str, t.Optional[str]]:
        variable = self.variables.get(name)
        shown = json.dumps(ref, sort_keys=True)
        if variable is None:
            hint = (" (a dashboard exported for sharing externally? provisioning does not fill its __inputs)"
                    if name.startswith("DS_") else "")
            return "bad", "datasource %s uses the variable $%s, which the dashboard does not define%s; use %s" % (
                shown, name, hint, self._ours())
        if variable.get("type") != "datasource" or variable.get("query") != self.ds_type:
            return "bad", "datasource %s: the variable $%s is not a datasource variable of type %s" % (shown, name, self.ds_type)
        current = variable.get("current")
        value = current.get("value") if isinstance(current, Mapping) else None
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if value not in (None, "", "default", self.uid, self.ds_name) and not (isinstance(value, str) and variable_names(value)):
            return "bad", "datasource %s: the variable $%s selects %s, not the provisioned datasource %s" % (
                shown, name, json.dumps(value), self.uid)
        return "ours", None

    def _check_expression(self, where: str, expr: str) -> None:
        unknown = [name for name in variable_names(expr) if not _builtin_variable(name) and name not in self.variables]
        if unknown:
            self.add(where, "uses %s, which the dashboard does not define" % ", ".join("$" + name for name in unknown))

    def _check_variables(self) -> None:
        seen: set[str] = set()
        for variable in _variables(self.dashboard):
            name = variable.get("name")
            if not isinstance(name, str) or not name:
                self.add("a template variable", "has no name")
                continue
            if name in seen:
                self.add("variable $%s" % name, "defined more than once")
            seen.add(name)
            if variable.get("type") != "query":
                continue
            where = "variable $%s" % name
            kind, problem = self.classify(variable.get("datasource"))
            if kind == "none":
                self.add(where, "no datasource (Grafana would use whatever datasource is the default); use %s" % self._ours())
            elif problem:
                self.add(where, problem)
            if kind != "ours":
                continue
            query = _query_text(variable)
            if not isinstance(query, str) or not query.strip():
                self.add(where, "no query")
            else:
                self._check_expression(where, query)

    def _check_annotations(self) -> None:
        annotations = self.dashboard.get("annotations")
        items = annotations.get("list") if isinstance(annotations, Mapping) else None
        for index, item in enumerate(items or []):
            if not isinstance(item, dict) or item.get("builtIn"):
                continue
            where = "annotation %s" % json.dumps(item.get("name") or "#%d" % index)
            kind, problem = self.classify(item.get("datasource"))
            if kind == "none":
                self.add(where, "no datasource; use %s" % self._ours())
            elif problem:
                self.add(where, problem)
            if kind == "ours":
                expr = item.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    self.add(where, "no expression (expr)")
                else:
                    self._check_expression(where, expr)

    def _check_panel(self, panel: dict[str, t.Any], index: int) -> None:
        where = _panel_label(panel, index)
        if panel.get("type") == "row" or "libraryPanel" in panel:
            return  # a row's panels are walked on their own; a library panel's queries live in Grafana
        panel_kind, problem = self.classify(panel.get("datasource"))
        if problem:
            self.add(where, problem)
        targets = panel.get("targets")
        if targets is None or targets == []:
            if panel.get("type") not in _NO_QUERY_PANELS and panel_kind not in ("builtin",):
                self.add(where, "no query (targets is empty)")
            return
        if not isinstance(targets, list):
            self.add(where, "targets must be a list of queries")
            return
        for number, target in enumerate(targets):
            if not isinstance(target, dict):
                self.add(where, "query #%d is not an object" % number)
                continue
            ref_id = target.get("refId") or "#%d" % number
            target_where = "%s, query %s" % (where, ref_id)
            kind, problem = self.classify(target.get("datasource"))
            if problem:
                self.add(target_where, problem)
                continue
            if kind == "none":
                if panel_kind == "mixed":
                    self.add(target_where, "no datasource in a panel of mixed datasources; use %s" % self._ours())
                    continue
                kind = panel_kind
            if kind == "none":
                self.add(target_where, "no datasource (Grafana would use whatever datasource is the default); use %s" % self._ours())
                continue
            if kind in ("builtin", "bad", "mixed"):
                continue  # Grafana's own queries have no expression; a bad panel reference is reported above
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                self.add(target_where, "no expression (expr)")
            else:
                self._check_expression(target_where, expr)
