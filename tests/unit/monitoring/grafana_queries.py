# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every PromQL expression of a Grafana dashboard, for the tests.

:func:`queries` and :func:`promql_for_check` give the tests every PromQL expression of a dashboard,
with Grafana's variables replaced, so that ``promtool`` can parse them. They read a dashboard the way
the linter in ``plugins/module_utils/grafana_lint.py`` does (which datasource a query goes to, which
variables a dashboard defines); nothing in the collection uses them.
"""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import Mapping

from ansible_collections.kaizen.hybrid.plugins.module_utils.grafana_lint import (
    DATASOURCE_NAME,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    _VARIABLE,
    _Checker,
    _panel_label,
    _panels,
    _query_text,
    _variables,
)

# What a variable stands for when an expression is checked with promtool (durations where Grafana
# puts durations, a match-everything regex where a template variable's values go).
_CHECK_DURATION = "5m"
_CHECK_VALUES = {
    "__interval": _CHECK_DURATION,
    "__rate_interval": _CHECK_DURATION,
    "__range": _CHECK_DURATION,
    "__interval_ms": "300000",
    "__rate_interval_ms": "300000",
    "__range_ms": "300000",
    "__range_s": "300",
    "__from": "1700000000000",
    "__to": "1700000300000",
}
_CHECK_REGEX = ".*"


# Grafana's Prometheus variable queries: label_values(label), label_values(selector, label),
# label_names(), metrics(regex), query_result(expr); anything else is a series selector.
_LABEL_VALUES = re.compile(r"^\s*label_values\s*\((.*)\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\s*\((.*)\)\s*$", re.S)
_NO_PROMQL = re.compile(r"^\s*(?:metrics|label_names)\s*\(.*\)\s*$", re.S)


def variable_query_promql(query: str) -> t.Optional[str]:
    """The PromQL inside a Prometheus variable query, or None when it has none."""
    match = _QUERY_RESULT.match(query)
    if match:
        return match.group(1).strip()
    match = _LABEL_VALUES.match(query)
    if match:
        inner = match.group(1)
        comma = inner.rfind(",")
        return inner[:comma].strip() if comma >= 0 else None
    if _NO_PROMQL.match(query):
        return None
    return query.strip() or None


def queries(dashboard: t.Mapping[str, t.Any], datasource_uid: str = DATASOURCE_UID, datasource_type: str = DATASOURCE_TYPE,
            datasource_name: t.Optional[str] = DATASOURCE_NAME) -> list[dict[str, str]]:
    """Every PromQL expression of ``dashboard`` sent to the provisioned datasource: panel queries, the PromQL of query
    variables (label_values(selector, label), query_result(expr)) and annotation expressions. Each item:
    ``where`` (the panel, variable or annotation and its query) and ``expr`` (as written, variables included)."""
    checker = _Checker("", dict(dashboard), datasource_uid, datasource_type, datasource_name)
    found: list[dict[str, str]] = []
    for variable in _variables(dashboard):
        if variable.get("type") == "query" and checker.classify(variable.get("datasource"))[0] == "ours":
            query = _query_text(variable)
            promql = variable_query_promql(query) if isinstance(query, str) else None
            if promql:
                found.append({"where": "variable $%s" % variable.get("name"), "expr": promql})
    annotations = dashboard.get("annotations")
    for index, item in enumerate((annotations.get("list") if isinstance(annotations, Mapping) else None) or []):
        if isinstance(item, dict) and not item.get("builtIn") and isinstance(item.get("expr"), str):
            if checker.classify(item.get("datasource"))[0] == "ours":
                found.append({"where": "annotation %s" % json.dumps(item.get("name") or "#%d" % index), "expr": item["expr"]})
    for index, panel in enumerate(_panels(dashboard)):
        if panel.get("type") == "row" or not isinstance(panel.get("targets"), list):
            continue
        panel_kind = checker.classify(panel.get("datasource"))[0]
        for number, target in enumerate(panel["targets"]):
            if not isinstance(target, dict) or not isinstance(target.get("expr"), str) or not target["expr"].strip():
                continue
            kind = checker.classify(target.get("datasource"))[0]
            if (kind if kind != "none" else panel_kind) == "ours":
                found.append({"where": "%s, query %s" % (_panel_label(panel, index), target.get("refId") or "#%d" % number),
                              "expr": target["expr"]})
    return found


def promql_for_check(expr: str, dashboard: t.Optional[t.Mapping[str, t.Any]] = None) -> str:
    """``expr`` with Grafana's variables replaced so that a PromQL parser can read it: durations for $__interval,
    $__rate_interval, $__range and interval variables, numbers for their _ms/_s forms, a constant's value, and
    ``.*`` (a regex that matches everything) for every other variable."""
    variables = {str(var.get("name")): var for var in _variables(dashboard or {}) if var.get("name")}

    def value(match: t.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        if name.isdigit():
            return match.group(0)
        if name in _CHECK_VALUES:
            return _CHECK_VALUES[name]
        if name.startswith("__auto_interval") or name == "interval":
            return _CHECK_DURATION
        variable = variables.get(name, {})
        if variable.get("type") == "interval":
            return _CHECK_DURATION
        if variable.get("type") == "constant" and isinstance(_query_text(variable), str):
            return _query_text(variable)
        return _CHECK_REGEX

    return _VARIABLE.sub(value, expr)
