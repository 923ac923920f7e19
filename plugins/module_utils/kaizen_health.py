# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kaizen health documents, read the way an operator reads them.

The Kaizen service answers ``GET /health`` with its HealthChecker document::

    {"status": "healthy", "timestamp": ..., "uptime_seconds": ...,
     "checks": {"application": {"service": ..., "status": "healthy", "details": {...}}, "database": ..., ...}}

and ``GET /ready`` with its quick readiness check::

    {"ready": true, "timestamp": ..., "checks": {"database": true, "redis": true}}

A component of ``/health`` may also be an error string (the checker gathers with
``return_exceptions=True``). :func:`parse` turns either document into one shape:
``{'kind', 'healthy', 'status', 'checks': {name: {'healthy', 'status', 'details'}}, 'failing', 'version'}``.

Pure functions; no Ansible imports.
"""

from __future__ import annotations

import json
import typing as t

HEALTH = "health"
READY = "ready"
# Component states that keep an instance in service ("degraded" is the Kaizen checker's
# word for high resource use: worth reporting, not a reason to take the instance out).
GOOD_STATES = ("healthy", "ok", "up", "pass", "degraded")


class HealthDocumentError(ValueError):
    """The body is not a Kaizen health or readiness document (the message says why)."""


def kind_of(url: str) -> str:
    """``ready`` for a URL whose path ends in ``/ready``, else ``health``."""
    path = url.split("?", 1)[0].rstrip("/")
    return READY if path.endswith("/ready") else HEALTH


def _component(value: t.Any) -> dict[str, t.Any]:
    if isinstance(value, bool):
        return {"healthy": value, "status": "ready" if value else "not ready", "details": {}}
    if isinstance(value, t.Mapping):
        status = str(value.get("status", "unknown")).lower()
        details = value.get("details")
        return {"healthy": status in GOOD_STATES, "status": status, "details": dict(details) if isinstance(details, t.Mapping) else {}}
    if value is None:
        return {"healthy": False, "status": "missing", "details": {}}
    # An exception the checker returned instead of a status.
    return {"healthy": False, "status": "error", "details": {"error": str(value)}}


def parse(body: t.Any, kind: str) -> dict[str, t.Any]:
    """Parse a ``/health`` or ``/ready`` body (bytes, text or an already decoded mapping)."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            snippet = " ".join(body.split())[:120]
            raise HealthDocumentError("the answer is not JSON: %r" % snippet) from None
    if not isinstance(body, t.Mapping):
        raise HealthDocumentError("the answer is JSON but not an object: %r" % (body,))
    raw_checks = body.get("checks")
    checks = {str(name): _component(value) for name, value in raw_checks.items()} if isinstance(raw_checks, t.Mapping) else {}
    if kind == READY:
        if "ready" not in body:
            raise HealthDocumentError("a readiness answer has no 'ready' field (keys: %s)" % ", ".join(sorted(map(str, body))))
        healthy = body.get("ready") is True
        status = "ready" if healthy else "not ready"
    else:
        if "status" not in body:
            raise HealthDocumentError("a health answer has no 'status' field (keys: %s)" % ", ".join(sorted(map(str, body))))
        status = str(body.get("status")).lower()
        healthy = status == "healthy"
    failing = sorted(name for name, check in checks.items() if not check["healthy"])
    if kind == READY and healthy and failing:
        # /ready said ready although a listed check is false: believe the checks.
        healthy, status = False, "not ready"
    return {
        "kind": kind,
        "healthy": healthy,
        "status": status,
        "checks": checks,
        "failing": failing,
        "version": body.get("version"),
        "uptime_seconds": body.get("uptime_seconds"),
    }


def summary(result: t.Mapping[str, t.Any]) -> str:
    """One line: overall status and the failing components with their states."""
    failing = ["%s %s" % (name, result["checks"][name]["status"]) for name in result.get("failing", [])]
    return "%s%s" % (result.get("status"), " (%s)" % ", ".join(failing) if failing else "")
