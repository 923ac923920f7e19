# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing the Kaizen /health and /ready documents."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils.kaizen_health import HealthDocumentError, kind_of, parse, summary


def health(status="healthy", **components):
    checks = {name: {"service": name, "status": "healthy", "details": {}, "timestamp": 1.0}
              for name in ("application", "database", "redis", "ai_models", "system")}
    checks.update(components)
    return {"status": status, "timestamp": 1.0, "uptime_seconds": 12.5, "checks": checks, "version": "1.4.2"}


def test_kind_from_the_path():
    assert kind_of("https://10.0.0.1:8080/ready") == "ready"
    assert kind_of("https://10.0.0.1:8080/ready/?x=1") == "ready"
    assert kind_of("https://lb.example.com/health") == "health"
    assert kind_of("http://127.0.0.1/") == "health"


def test_a_healthy_document():
    result = parse(json.dumps(health()).encode(), "health")
    assert result["healthy"] is True and result["status"] == "healthy" and result["failing"] == []
    assert result["version"] == "1.4.2" and result["uptime_seconds"] == 12.5
    assert set(result["checks"]) == {"application", "database", "redis", "ai_models", "system"}
    assert summary(result) == "healthy"


def test_an_unhealthy_document_names_its_components():
    doc = health("unhealthy", redis={"status": "unhealthy", "details": {"error": "connection refused"}},
                 ai_models="TimeoutError('model provider')", system={"status": "degraded", "details": {"cpu_percent": 95}})
    result = parse(doc, "health")
    assert result["healthy"] is False and result["failing"] == ["ai_models", "redis"]
    assert result["checks"]["ai_models"] == {"healthy": False, "status": "error", "details": {"error": "TimeoutError('model provider')"}}
    assert result["checks"]["system"]["healthy"] is True and result["checks"]["system"]["details"] == {"cpu_percent": 95}
    assert summary(result) == "unhealthy (ai_models error, redis unhealthy)"


def test_readiness():
    ready = parse('{"ready": true, "timestamp": 1, "checks": {"database": true, "redis": true}}', "ready")
    assert ready["healthy"] and ready["status"] == "ready"
    not_ready = parse({"ready": False, "checks": {"database": True, "redis": False}}, "ready")
    assert not not_ready["healthy"] and not_ready["failing"] == ["redis"] and summary(not_ready) == "not ready (redis not ready)"
    contradictory = parse({"ready": True, "checks": {"database": False}}, "ready")
    assert not contradictory["healthy"] and contradictory["status"] == "not ready"


@pytest.mark.parametrize("body, kind, message", [
    (b"<html>502 Bad Gateway</html>", "health", "the answer is not JSON: '<html>502 Bad Gateway</html>'"),
    ("[1, 2]", "health", "the answer is JSON but not an object"),
    ('{"ready": true}', "health", "a health answer has no 'status' field (keys: ready)"),
    ('{"status": "healthy"}', "ready", "a readiness answer has no 'ready' field (keys: status)"),
])
def test_what_is_not_a_kaizen_document(body, kind, message):
    with pytest.raises(HealthDocumentError, match=re.escape(message)):
        parse(body, kind)
