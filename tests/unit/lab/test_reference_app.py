# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reference app (lab/app/kaizen_ref.py) run as the process it is, without its dependencies.

DATABASE_URL and the Sentinels point at closed loopback ports, so every answer below is the one an
operator sees when PostgreSQL and Redis are down (or when psycopg2/redis are not installed, as in
the repository's virtualenv): the service starts anyway, says why it is unhealthy, and stops
cleanly. Every request and every wait is bounded in time.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils.kaizen_health import parse

APP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, os.pardir,
                                    "lab", "app", "kaizen_ref.py"))
SECRET = "unit-test-secret-key-0123456789abcdef"
REQUEST_TIMEOUT = 8.0
START_TIMEOUT = 10.0


def unused_port() -> int:
    """A loopback port nothing listens on (the kernel's pick, released again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(port: int, **overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KAIZEN_SECRET_KEY": SECRET,
        "DATABASE_URL": "postgresql://kaizen_app:secret@127.0.0.1:%d/kaizen?connect_timeout=2" % unused_port(),
        "KAIZEN_REDIS_SENTINELS": "127.0.0.1:%d,127.0.0.1:%d" % (unused_port(), unused_port()),
        "KAIZEN_REDIS_MASTER_NAME": "kaizen",
        "KAIZEN_REDIS_TLS": "false",
        "KAIZEN_REDIS_KEY_PREFIX": "kaizen:",
        "KAIZEN_HOST": "127.0.0.1",
        "KAIZEN_PORT": str(port),
        "KAIZEN_INSTANCE": "unit-1",
        "KAIZEN_APP_VERSION": "9.8.7",
        "KAIZEN_LOG_FORMAT": "json",
        "KAIZEN_SOMETHING_ELSE": "ignored",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            connection: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, data
    finally:
        if connection is None:
            conn.close()


def get_json(port: int, path: str) -> tuple[int, dict]:
    status, headers, data = request(port, "GET", path)
    assert headers["content-type"] == "application/json", (path, headers)
    return status, json.loads(data)


class RunningApp:
    """``kaizen_ref.py serve`` in a subprocess, its stdout (the log) in a file."""

    def __init__(self, tmp_path, **overrides: str | None):
        self.port = unused_port()
        self.log_path = tmp_path / ("app-%d.log" % self.port)
        self._log = open(self.log_path, "wb")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen([sys.executable, APP, "serve"], env=app_env(self.port, **overrides),  # pylint: disable=consider-using-with
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail("the app exited with %s at start:\n%s" % (self.proc.returncode, self.log_path.read_text()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("the app did not listen within %ss:\n%s" % (START_TIMEOUT, self.log_path.read_text()))
                time.sleep(0.05)

    def log_events(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(name="app", scope="module")
def fixture_app(tmp_path_factory):
    running = RunningApp(tmp_path_factory.mktemp("reference-app"))
    yield running
    running.stop()


@pytest.fixture(name="start_app")
def fixture_start_app(tmp_path):
    started: list[RunningApp] = []

    def start(**overrides: str | None) -> RunningApp:
        started.append(RunningApp(tmp_path, **overrides))
        return started[-1]

    yield start
    for running in started:
        running.stop()


# --- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"KAIZEN_SECRET_KEY": None}, "KAIZEN_SECRET_KEY is required"),
    ({"KAIZEN_SECRET_KEY": ""}, "KAIZEN_SECRET_KEY is required"),
    ({"KAIZEN_SECRET_KEY": "   "}, "KAIZEN_SECRET_KEY is required"),
    ({"DATABASE_URL": None}, "DATABASE_URL is required"),
    ({"KAIZEN_PORT": "eighty"}, "KAIZEN_PORT must be an integer, not 'eighty'"),
    ({"KAIZEN_METRICS_ENABLED": "perhaps"}, "KAIZEN_METRICS_ENABLED must be true or false"),
    ({"KAIZEN_LOG_FORMAT": "xml"}, "KAIZEN_LOG_FORMAT must be json or text"),
], ids=["secret-missing", "secret-empty", "secret-blank", "database-url-missing", "port", "metrics-flag", "log-format"])
def test_refuses_to_start_with_a_missing_or_wrong_setting(overrides, message):
    result = subprocess.run([sys.executable, APP, "serve"], env=app_env(unused_port(), **overrides),
                            capture_output=True, text=True, timeout=15, check=False)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""


def test_unknown_arguments_are_refused():
    result = subprocess.run([sys.executable, APP, "serve", "--now"], env=app_env(unused_port()),
                            capture_output=True, text=True, timeout=15, check=False)
    assert result.returncode == 2 and "usage: kaizen_ref.py [serve|migrate]" in result.stderr


def test_migrate_needs_a_database_url_and_fails_clearly_without_a_database():
    env = app_env(unused_port(), DATABASE_URL=None)
    result = subprocess.run([sys.executable, APP, "migrate"], env=env, capture_output=True, text=True, timeout=15, check=False)
    assert result.returncode == 2 and "DATABASE_URL is required" in result.stderr
    env = app_env(unused_port())
    result = subprocess.run([sys.executable, APP, "migrate"], env=env, capture_output=True, text=True, timeout=30, check=False)
    # Connection refused, or (in a virtualenv without psycopg2) the missing module: either way one clear line.
    assert result.returncode == 1, result
    assert result.stdout == "" and result.stderr.startswith("kaizen_ref migrate: ") and len(result.stderr.strip().splitlines()) == 1


# --- the service with its dependencies down -------------------------------------------------------

def test_version_and_index_over_one_keep_alive_connection(app):
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=REQUEST_TIMEOUT)
    try:
        status, headers, data = request(app.port, "GET", "/version", connection=conn)
        assert status == 200 and json.loads(data) == {"version": "9.8.7", "instance": "unit-1"}
        assert headers["content-length"] == str(len(data)) and "connection" not in headers
        status, headers, data = request(app.port, "GET", "/", connection=conn)
        assert status == 200 and json.loads(data) == {"service": "kaizen-reference", "version": "9.8.7", "instance": "unit-1"}
        assert headers["x-kaizen-version"] == "9.8.7" and headers["x-kaizen-instance"] == "unit-1"
        status, headers, data = request(app.port, "HEAD", "/version", connection=conn)
        assert status == 200 and data == b"" and int(headers["content-length"]) > 0
    finally:
        conn.close()


def test_health_reports_the_database_down_quickly(app):
    start = time.monotonic()
    status, body = get_json(app.port, "/health")
    assert time.monotonic() - start < 6.0
    assert status == 503
    assert body["status"] == "unhealthy" and body["version"] == "9.8.7" and body["instance"] == "unit-1"
    assert isinstance(body["timestamp"], float) and isinstance(body["uptime_seconds"], float) and body["uptime_seconds"] >= 0
    assert set(body["checks"]) == {"application", "database", "redis", "system"}
    for name, check in body["checks"].items():
        assert set(check) == {"service", "status", "details", "timestamp"} and check["service"] == name
    database = body["checks"]["database"]
    assert database["status"] == "unhealthy" and database["details"]["error"]
    assert body["checks"]["redis"]["status"] == "unhealthy" and body["checks"]["redis"]["details"]["error"]
    assert body["checks"]["application"]["status"] == "healthy"
    system = body["checks"]["system"]
    assert system["status"] in ("healthy", "degraded")
    assert 0 <= system["details"]["memory_percent"] <= 100 and 0 <= system["details"]["disk_percent"] <= 100
    assert len(system["details"]["load_average"]) == 3
    # What the collection's http_health module makes of it.
    result = parse(json.dumps(body), "health")
    assert result["healthy"] is False and result["failing"] == ["database", "redis"] and result["version"] == "9.8.7"


def test_ready_is_false_while_the_dependencies_are_down(app):
    start = time.monotonic()
    status, body = get_json(app.port, "/ready")
    assert time.monotonic() - start < 6.0
    assert status == 503
    assert body["ready"] is False and body["checks"] == {"database": False, "redis": False}
    assert isinstance(body["timestamp"], float)
    assert parse(body, "ready")["failing"] == ["database", "redis"]


def test_a_note_needs_the_database(app):
    status, body = request(app.port, "POST", "/api/notes", json.dumps({"text": "hello"}).encode(),
                           {"Content-Type": "application/json"})[::2]
    assert status == 503 and json.loads(body)["error"].startswith("database: ")
    status, _headers, body = request(app.port, "GET", "/api/notes/41")
    assert status == 503 and "Traceback" not in body.decode()


@pytest.mark.parametrize("body, status", [
    (b"text=hello", 400),
    (b'["hello"]', 400),
    (b'{"note": "hello"}', 400),
    (b'{"text": ""}', 400),
    (b'{"text": 7}', 400),
    (b"\xff\xfe", 400),
    (json.dumps({"text": "x" * (65 * 1024)}).encode(), 413),
], ids=["form", "list", "no-text", "empty-text", "number", "not-utf8", "too-large"])
def test_bad_notes_are_refused_before_any_dependency(app, body, status):
    answer, headers, data = request(app.port, "POST", "/api/notes", body, {"Content-Type": "application/json"})
    assert answer == status, data
    assert headers["content-type"] == "application/json" and json.loads(data)["error"]
    if status == 413:
        assert headers.get("connection") == "close"


def test_unknown_paths_and_methods_answer_json(app):
    status, headers, data = request(app.port, "GET", "/no/such/page")
    assert status == 404 and headers["content-type"] == "application/json" and json.loads(data)["error"]
    status, headers, data = request(app.port, "GET", "/api/notes/not-a-number")
    assert status == 404 and json.loads(data)["error"]
    status, headers, data = request(app.port, "DELETE", "/version")
    assert status == 405 and headers["allow"] == "GET, HEAD" and json.loads(data)["error"]
    status, headers, data = request(app.port, "BREW", "/")
    assert status == 501 and headers["content-type"] == "application/json" and json.loads(data)["error"]


def metric_value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        metric, _brace, label_text = series.partition("{")
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
        if metric == name and found == labels:
            return float(value)
    raise AssertionError("no %s%r in the metrics" % (name, labels))


def settled_metrics(port: int) -> tuple[int, dict[str, str], bytes]:
    """/metrics once no other request is in flight: a request is counted after its answer is
    sent, so the client can read the answer before the server thread has counted it."""
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while True:
        answer = request(port, "GET", "/metrics")
        if metric_value(answer[2].decode(), "kaizen_http_requests_in_flight") == 1 or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def test_metrics_count_the_requests_by_route(app):
    request(app.port, "GET", "/version")
    before = settled_metrics(app.port)[2].decode()
    for _attempt in range(3):
        request(app.port, "GET", "/version")
    request(app.port, "GET", "/api/notes/987654321")
    request(app.port, "GET", "/nowhere/123456789")
    status, headers, data = settled_metrics(app.port)
    assert status == 200 and headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = data.decode()
    assert "# TYPE kaizen_http_requests_total counter" in text
    assert "# TYPE kaizen_http_request_duration_seconds histogram" in text
    assert "# TYPE kaizen_http_requests_in_flight gauge" in text
    assert (metric_value(text, "kaizen_http_requests_total", method="GET", path="/version", status="200")
            - metric_value(before, "kaizen_http_requests_total", method="GET", path="/version", status="200")) == 3
    # Routes, not raw paths: ids never become label values.
    assert metric_value(text, "kaizen_http_requests_total", method="GET", path="/api/notes/{id}", status="503") >= 1
    assert metric_value(text, "kaizen_http_requests_total", method="GET", path="other", status="404") >= 1
    assert "987654321" not in text and "123456789" not in text
    count = metric_value(text, "kaizen_http_request_duration_seconds_count", method="GET", path="/version")
    assert count >= 4
    assert metric_value(text, "kaizen_http_request_duration_seconds_bucket", method="GET", path="/version", le="+Inf") == count
    buckets = [float(value) for value in re.findall(
        r'^kaizen_http_request_duration_seconds_bucket\{method="GET",path="/version",le="[^"]+"\} (\S+)$', text, re.M)]
    assert len(buckets) >= 2 and buckets == sorted(buckets) and buckets[-1] == count
    assert metric_value(text, "kaizen_http_request_duration_seconds_sum", method="GET", path="/version") > 0
    assert metric_value(text, "kaizen_http_requests_in_flight") >= 1
    assert metric_value(text, "kaizen_app_info", version="9.8.7", instance="unit-1") == 1
    assert abs(metric_value(text, "kaizen_app_start_time_seconds") - time.time()) < 600


def test_the_log_is_one_json_object_per_line(app):
    request(app.port, "GET", "/version?from=log-test")
    deadline = time.monotonic() + 5
    while True:
        events = app.log_events()
        hits = [event for event in events if event.get("event") == "request" and event.get("path") == "/version"]
        if hits or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert hits, events
    assert {"method": "GET", "status": 200, "instance": "unit-1"}.items() <= hits[-1].items()
    assert isinstance(hits[-1]["duration_ms"], float) and hits[-1]["level"] == "INFO"
    startup = [event for event in events if event.get("event") == "startup"]
    assert len(startup) == 1 and startup[0]["version"] == "9.8.7" and startup[0]["port"] == app.port
    assert SECRET not in app.log_path.read_text() and "secret@" not in app.log_path.read_text()


# --- other configurations -----------------------------------------------------------------------

def test_the_broken_release_reports_the_application_unhealthy(start_app):
    broken = start_app(KAIZEN_APP_FAULT="health")
    status, body = get_json(broken.port, "/health")
    assert status == 503 and body["status"] == "unhealthy"
    assert body["checks"]["application"]["status"] == "unhealthy"
    assert "KAIZEN_APP_FAULT" in body["checks"]["application"]["details"]["error"]
    status, body = get_json(broken.port, "/ready")
    assert status == 503 and body["ready"] is False and body["checks"]["application"] is False
    status, body = get_json(broken.port, "/version")
    assert status == 200 and body["version"] == "9.8.7"


def test_metrics_can_be_disabled(start_app):
    quiet = start_app(KAIZEN_METRICS_ENABLED="false", KAIZEN_LOG_FORMAT="text")
    status, headers, data = request(quiet.port, "GET", "/metrics")
    assert status == 404 and headers["content-type"] == "application/json" and "disabled" in json.loads(data)["error"]
    lines = quiet.log_path.read_text().splitlines()
    assert any(" INFO kaizen-reference 9.8.7 listening on 127.0.0.1:%d" % quiet.port in line for line in lines), lines


# --- stopping -----------------------------------------------------------------------------------

def test_sigterm_with_an_idle_keep_alive_connection_exits_zero_promptly(start_app):
    running = start_app()
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=REQUEST_TIMEOUT)
    try:
        assert request(running.port, "GET", "/version", connection=conn)[0] == 200
        start = time.monotonic()
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(timeout=10) == 0
        # Far below the 75 s an idle keep-alive connection may live; loose enough for a busy 2-core machine.
        assert time.monotonic() - start < 6.0
    finally:
        conn.close()
    events = [event.get("event") for event in running.log_events()]
    # The request's own log line may come after shutdown_started: the handler logs once it has answered.
    assert events[-1] == "shutdown" and "shutdown_started" in events, events


def test_sigterm_lets_the_request_in_progress_finish(start_app):
    running = start_app()
    body = json.dumps({"text": "written during shutdown"}).encode()
    with socket.create_connection(("127.0.0.1", running.port), timeout=REQUEST_TIMEOUT) as sock:
        # Headers and half the body: the server is now inside this request, reading the rest.
        sock.sendall(b"POST /api/notes HTTP/1.1\r\nHost: unit\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        deadline = time.monotonic() + 5
        while metric_value(request(running.port, "GET", "/metrics")[2].decode(), "kaizen_http_requests_in_flight") < 2:
            assert time.monotonic() < deadline, "the POST never became a request in progress"
            time.sleep(0.05)
        running.proc.send_signal(signal.SIGTERM)
        # No new connections while it drains...
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
            except (ConnectionRefusedError, ConnectionResetError):
                # Refused, or reset when the connection raced the listening socket's close: not accepted either way.
                break
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        assert running.proc.poll() is None, "exited before the request in progress was answered"
        # ...but the request in progress gets its whole answer.
        sock.sendall(body[10:])
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        head, _sep, rest = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, rest
            rest += chunk
    assert head.startswith(b"HTTP/1.1 503 ") and re.search(rb"(?im)^connection: close", head), head
    assert json.loads(rest)["error"].startswith("database: ")
    assert running.proc.wait(timeout=10) == 0
    shutdown = [event for event in running.log_events() if event.get("event") == "shutdown"]
    assert len(shutdown) == 1 and shutdown[0]["in_flight"] == 0


def test_the_model_stand_in_holds_a_worker_for_its_latency(start_app):
    # Two workers, 200 ms each: four concurrent calls take two rounds, not one and not four.
    running = start_app(KAIZEN_WORKERS="2", KAIZEN_MODEL_LATENCY_MS="200")
    results: list[tuple[int, dict]] = []

    def call() -> None:
        results.append(get_json(running.port, "/api/model"))

    threads = [threading.Thread(target=call) for _call in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT)
    elapsed = time.monotonic() - start
    assert [status for status, _body in results] == [200] * 4
    assert results[0][1]["model"] == "simulated" and results[0][1]["latency_ms"] == 200
    assert 0.35 < elapsed < 0.75, elapsed
