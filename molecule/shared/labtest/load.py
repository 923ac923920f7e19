# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP clients for the app tier's tests: one keep-alive connection (:class:`Client`) and a steady
load of GET and POST requests from several workers (:class:`Load`), every answer counted."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
import time
import typing as t

from labtest.timeline import Timeline


class Client:
    """One keep-alive connection to an HTTP(S) endpoint, reopened after an error.

    As browsers and HTTP libraries do (RFC 9112, 9.3.1), a GET sent on a reused keep-alive connection
    that the server closed before answering (an idle connection closed by a reloading nginx, say) is
    sent once more on a new connection; :attr:`retries` counts that. Any other method is never sent
    twice: every other error is the caller's failure.
    """

    RACE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None, timeout: float = 10) -> None:
        self.host, self.port, self.context, self.timeout = host, port, context, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.used = False
        self.retries = 0

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, dict]:
        """``(status, headers with lower-case names, the JSON document or {"raw": ...})``."""
        reused = self.conn is not None and self.used
        try:
            return self._request(method, path, body)
        except self.RACE:
            if not (reused and method == "GET"):
                raise
            self.retries += 1
            return self._request(method, path, body)

    def _request(self, method: str, path: str, body: dict | None) -> tuple[int, dict, dict]:
        if self.conn is None:
            if self.context is not None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=self.timeout)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.used = False
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except Exception:
            self.close()
            raise
        self.used = True
        if response.will_close:
            self.close()
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {"raw": raw[:200].decode("utf-8", "replace")}
        return response.status, {key.lower(): value for key, value in response.getheaders()}, document

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def failure_kinds(failures: t.Iterable[str]) -> dict[str, int]:
    """How many failures of each kind, from :attr:`Load.failures` (``"<at> <METHOD> <what>: <detail>"``): the method and
    what failed, without the time and the detail (``{"POST HTTP 503": 12, "GET ConnectionResetError": 1}``)."""
    kinds: dict[str, int] = {}
    for failure in failures:
        text = failure.split(" ", 1)[1] if " " in failure else failure
        kind = re.split(r": | \{", text, maxsplit=1)[0].strip()
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


class Load(threading.Thread):
    """A steady load: ``workers`` clients, each at most ``rate`` requests a second, until stopped or
    ``max_seconds`` / ``max_requests`` is reached. Every ``post_every``-th request of a worker is a POST of
    a note (``post_path``), the others GET ``path``; 0 sends no POST. A POST goes out on a connection of
    its own (a non-idempotent request is never retried, so it is never sent on a keep-alive connection
    the server may be closing). Every answer is counted: 2xx is a success (200 for GET, 201 for POST),
    anything else, or an error, a failure with its time and text.
    """

    def __init__(self, client: t.Callable[[], t.Any], path: str = "/version", *, workers: int = 4, rate: float = 25.0,
                 post_every: int = 4, post_path: str = "/api/notes", max_seconds: float = 600, max_requests: int = 100000,
                 clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep) -> None:
        super().__init__(daemon=True)
        self.client, self.path, self.workers, self.rate = client, path, workers, rate
        self.post_every, self.post_path = post_every, post_path
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.clock, self.sleep = clock, sleep
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.timeline = Timeline()
        self.sent: dict[str, int] = {}
        self.ok: dict[str, int] = {}
        self.failures: list[str] = []
        self.versions: dict[str, int] = {}
        self.instances: dict[str, int] = {}
        # When each instance first answered a GET (the load's clock): when a host that joined started serving.
        self.first_answer: dict[str, float] = {}
        self.retries = 0

    @property
    def answered(self) -> int:
        return sum(self.ok.values())

    @property
    def requests(self) -> int:
        return sum(self.sent.values())

    def _claim(self, method: str) -> bool:
        with self.lock:
            if self.requests >= self.max_requests:
                return False
            self.sent[method] = self.sent.get(method, 0) + 1
            return True

    def _one(self, client: t.Any, method: str, number: int) -> tuple[bool, str | None, dict]:
        """One request: ``(ok, failure text, document)``."""
        try:
            if method == "POST":
                fresh = self.client()
                try:
                    status, _headers, document = fresh.request("POST", self.post_path, {"text": "load %d" % number})
                finally:
                    fresh.close()
                expected = 201
            else:
                status, _headers, document = client.request("GET", self.path)
                expected = 200
        except Exception as exc:  # noqa: BLE001 - every kind of failure counts
            return False, "%s %s: %s" % (method, type(exc).__name__, exc), {}
        if status != expected:
            return False, "%s HTTP %d %s" % (method, status, json.dumps(document)[:200]), document
        return True, None, document

    def worker(self) -> None:
        client = self.client()
        started = self.clock()
        number = 0
        while not self.stop_event.is_set() and self.clock() - started < self.max_seconds:
            number += 1
            method = "POST" if self.post_every and number % self.post_every == 0 else "GET"
            if not self._claim(method):
                break
            before = self.clock()
            ok, failure, document = self._one(client, method, number)
            at = self.clock()
            self.timeline.record(at, ok)
            with self.lock:
                if not ok:
                    self.failures.append("%.2f %s" % (at, failure))
                else:
                    self.ok[method] = self.ok.get(method, 0) + 1
                    if method == "GET":
                        version, instance = str(document.get("version")), str(document.get("instance"))
                        self.versions[version] = self.versions.get(version, 0) + 1
                        self.instances[instance] = self.instances.get(instance, 0) + 1
                        self.first_answer[instance] = min(at, self.first_answer.get(instance, at))
            self.sleep(max(0.0, 1.0 / self.rate - (self.clock() - before)))
        client.close()
        with self.lock:
            self.retries += getattr(client, "retries", 0)

    def run(self) -> None:
        threads = [threading.Thread(target=self.worker, daemon=True) for _worker in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.max_seconds + 30)

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(60)

    def summary(self) -> dict[str, t.Any]:
        """The counts, for the results."""
        return {"requests": self.requests, "answered": self.answered, "failed": len(self.failures),
                "by_method": {method: {"sent": self.sent[method], "ok": self.ok.get(method, 0)} for method in sorted(self.sent)},
                "keepalive_retries": self.retries}
