# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app scenario's checks, run on the lab machine against this scenario's containers only.

``verify``: the load balancer over HTTPS - TLS 1.0 and 1.1 refused by the server, 1.2 and 1.3
accepted with a certificate the internal CA validates for the LB's address; HTTP redirected;
HSTS and the security headers; requests reach every app instance; a write then a read through
the app; each instance answers /health directly; the 101st request of a minute from one
(non-exempt) client is answered 429; ``kaizen-hybrid verify`` passes.

``rollout``: throughput through the load balancer and direct to one instance (same tool, same
run); the rolling update v1 -> v2 under a steady load (zero failed requests, every instance on
v2); the broken v3 (stops at the first host, which serves v2 again; zero failed requests; the
run fails naming the host); a malformed image refused before any host changes; the update from
a private registry with credentials (a wrong password refused before any host leaves rotation,
then every host pulls v2 with the right one, under load). Figures go to .results/app.json.

Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import warnings

# The helpers the scenarios share (molecule/shared/scenario_lib.py); these scripts are not a package.
_SHARED = importlib.util.spec_from_file_location(
    "scenario_lib", os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "shared", "scenario_lib.py"))
scenario_lib = importlib.util.module_from_spec(_SHARED)
_SHARED.loader.exec_module(scenario_lib)

RATE_PROBE = r"""
import http.client, json, ssl, sys, threading
host, total, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
context = ssl.create_default_context(cafile="/etc/kaizen/pki/ca.crt")
statuses, lock, counter = [], threading.Lock(), iter(range(total))
def work():
    conn = http.client.HTTPSConnection(host, 443, context=context, timeout=10)
    while True:
        with lock:
            if next(counter, None) is None:
                return
        conn.request("GET", "/version")
        response = conn.getresponse()
        response.read()
        with lock:
            statuses.append(response.status)
threads = [threading.Thread(target=work) for _ in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(60)
print(json.dumps(statuses))
"""


def log(message: str) -> None:
    print("[scenario_app %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Client:
    """One keep-alive connection to an HTTP(S) endpoint, reopened after an error.

    As browsers and HTTP libraries do (RFC 9112, 9.3.1), a GET sent on a reused keep-alive
    connection that the server closed before answering (an idle connection closed by a
    reloading nginx, say) is sent once more on a new connection; :attr:`retries` counts that.
    Every other error is the caller's failure.
    """

    RACE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None, timeout: float = 10) -> None:
        self.host, self.port, self.context, self.timeout = host, port, context, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.used = False
        self.retries = 0

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, dict]:
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


class Load(threading.Thread):
    """A steady load through the load balancer: ``workers`` clients, each at most ``rate`` requests a second,
    until stopped or ``max_seconds``/``max_requests`` is reached. Every answer is recorded."""

    def __init__(self, scenario: "Scenario", path: str, workers: int = 4, rate: float = 25.0, max_seconds: float = 600,
                 max_requests: int = 100000) -> None:
        super().__init__(daemon=True)
        self.scenario, self.path, self.workers, self.rate = scenario, path, workers, rate
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures: list[str] = []
        self.versions: dict[str, int] = {}
        self.instances: dict[str, int] = {}
        self.retries = 0

    def worker(self) -> None:
        client = self.scenario.lb_client()
        started = time.monotonic()
        while not self.stop_event.is_set() and time.monotonic() - started < self.max_seconds:
            with self.lock:
                if self.ok + len(self.failures) >= self.max_requests:
                    return
            before = time.monotonic()
            try:
                status, _headers, document = client.request("GET", self.path)
                failure = None if status == 200 else "HTTP %d %s" % (status, json.dumps(document)[:200])
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts
                failure, document = "%s: %s" % (type(exc).__name__, exc), {}
            with self.lock:
                if failure:
                    self.failures.append("%.2f %s" % (time.time(), failure))
                else:
                    self.ok += 1
                    version, instance = str(document.get("version")), str(document.get("instance"))
                    self.versions[version] = self.versions.get(version, 0) + 1
                    self.instances[instance] = self.instances.get(instance, 0) + 1
            time.sleep(max(0.0, 1.0 / self.rate - (time.monotonic() - before)))
        client.close()
        with self.lock:
            self.retries += client.retries

    def run(self) -> None:
        threads = [threading.Thread(target=self.worker, daemon=True) for _worker in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.max_seconds + 30)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(60)


class Scenario:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, object] = {}
        self.checks: list[str] = []
        self.failures: list[str] = []
        self.context = ssl.create_default_context(cafile=args.ca)

    # helpers ------------------------------------------------------------------

    def check(self, ok: bool, what: str) -> None:
        (self.checks if ok else self.failures).append(what)
        log(("ok: " if ok else "FAILED: ") + what)

    def lb_client(self) -> Client:
        return Client(self.args.lb, 443, self.context)

    def direct(self, address: str, path: str) -> tuple[int, dict]:
        client = Client(address, self.args.port, None)
        try:
            status, _headers, document = client.request("GET", path)
        finally:
            client.close()
        return status, document

    def cli(self, *argv: str, timeout: int = 900):
        return scenario_lib.run_cli(self.args.project, self.args.inventory, self.args.logs, argv, timeout, log)

    def versions_direct(self) -> dict[str, str]:
        versions = {}
        for address in self.args.app:
            try:
                status, document = self.direct(address, "/version")
                versions[address] = document.get("version") if status == 200 else "HTTP %d" % status
            except Exception as exc:  # noqa: BLE001
                versions[address] = "%s: %s" % (type(exc).__name__, exc)
        return versions

    # verify ---------------------------------------------------------------------

    def tls_versions(self) -> None:
        # Offering TLS 1.0 and 1.1 is the point of the test.
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*TLSv1.*")
        outcome = {}
        for name, version in (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
                              ("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)):
            context = ssl.create_default_context(cafile=self.args.ca)
            # Let this client offer the old versions, so that a refusal is the server's.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = context.maximum_version = version
            try:
                with ssl.create_connection((self.args.lb, 443), timeout=10) as sock:
                    with context.wrap_socket(sock, server_hostname=self.args.lb) as tls:
                        outcome[name] = {"accepted": True, "protocol": tls.version(), "cipher": tls.cipher()[0]}
            except ssl.SSLError as exc:
                outcome[name] = {"accepted": False, "reason": exc.reason or str(exc)}
        self.results["tls"] = outcome
        for name in ("TLSv1", "TLSv1.1"):
            reason = str(outcome[name].get("reason", ""))
            self.check(not outcome[name]["accepted"] and "PROTOCOL_VERSION" in reason.upper(),
                       "%s refused by the server (alert protocol version; got %s)" % (name, outcome[name]))
        for name in ("TLSv1.2", "TLSv1.3"):
            self.check(outcome[name]["accepted"] and outcome[name].get("protocol") == name,
                       "%s accepted with a certificate the internal CA validates for %s (%s)" % (name, self.args.lb, outcome[name]))

    def headers_and_redirect(self) -> None:
        status, headers, document = self.lb_client().request("GET", "/health")
        self.check(status == 200 and document.get("status") == "healthy", "/health through the LB is healthy (HTTP %d)" % status)
        hsts = headers.get("strict-transport-security", "")
        self.check(re.match(r"max-age=\d{7,}", hsts) is not None, "HSTS with a long max-age (%r)" % hsts)
        expected = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer",
                    "content-security-policy": "default-src 'none'; frame-ancestors 'none'"}
        missing = {name: headers.get(name) for name, value in expected.items() if headers.get(name) != value}
        self.check(not missing, "security headers present (wrong or missing: %s)" % (missing or "none"))
        self.check("nginx/" not in headers.get("server", ""), "nginx hides its version (Server: %r)" % headers.get("server"))
        status, headers, _document = self.lb_client().request("GET", "/no-such-page")
        self.check(status == 404 and "strict-transport-security" in headers, "an error answer carries HSTS too (HTTP %d)" % status)
        plain = http.client.HTTPConnection(self.args.lb, 80, timeout=10)
        plain.request("GET", "/health?x=1", headers={"Host": self.args.lb})
        response = plain.getresponse()
        response.read()
        plain.close()
        location = response.getheader("Location", "")
        self.check(response.status == 301 and location == "https://%s/health?x=1" % self.args.lb,
                   "HTTP is redirected to HTTPS (%d %s)" % (response.status, location))

    def every_instance(self) -> None:
        seen = self.instances_through_lb()
        self.results["instances_seen_through_lb"] = seen
        expected = {"%s-1" % host for host in self.args.app_hosts}
        self.check(set(seen) == expected, "requests reach every app instance (%s; expected %s)" % (seen, sorted(expected)))
        for address, host in zip(self.args.app, self.args.app_hosts):
            status, document = self.direct(address, "/health")
            self.check(status == 200 and document.get("status") == "healthy" and document.get("instance") == host + "-1",
                       "%s answers /health healthy directly (HTTP %d, %s)" % (host, status, document.get("status")))

    def write_read(self) -> None:
        client = self.lb_client()
        text = "molecule %f" % time.time()
        status, _headers, document = client.request("POST", "/api/notes", {"text": text})
        self.check(status == 201 and document.get("database") == text and document.get("cache") == text,
                   "a write through the LB stores the note in PostgreSQL and Redis (HTTP %d, %s)" % (status, document))
        if status == 201:
            status, _headers, read = client.request("GET", "/api/notes/%s" % document.get("id"))
            self.check(status == 200 and read.get("text") == text, "the note reads back through the LB (HTTP %d, %s)" % (status, read))
            self.results["note_id"] = document.get("id")
        client.close()

    def rate_limit(self) -> None:
        # 101 requests as fast as one client can send them, from an app host (not exempt).
        result = subprocess.run(["docker", "exec", "-i", self.args.probe_host, "python3", "-", self.args.lb, "101", "20"],
                                input=RATE_PROBE, capture_output=True, text=True, timeout=120, check=False)
        try:
            statuses = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            statuses = []
        counts = {str(code): statuses.count(code) for code in sorted(set(statuses))}
        self.results["rate_limit_101_requests"] = counts
        self.check(counts == {"200": 100, "429": 1},
                   "101 requests in a minute from one client: 100 answered, the 101st 429 (%s%s)" % (counts, result.stderr[-300:]))

    def verify_cli(self) -> None:
        rc, events, elapsed = self.cli("verify")
        self.results["verify_seconds"] = round(elapsed, 1)
        self.check(rc == 0, "kaizen-hybrid verify passes on every tier (exit %d in %.1f s) %s" % (rc, elapsed, scenario_lib.failure_text(events)))

    # rollout --------------------------------------------------------------------

    def wrk(self, url: str, seconds: int) -> float | None:
        result = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", "%ds" % seconds, "--timeout", "5s", url],
                                capture_output=True, text=True, timeout=seconds + 60, check=False)
        match = re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        summary = [line.strip() for line in result.stdout.splitlines()
                   if "Requests/sec" in line or "Non-2xx" in line or "Socket errors" in line]
        log("wrk %s: %s" % (url, " | ".join(summary)))
        if errors:
            self.check(False, "wrk against %s got %s non-2xx answers" % (url, errors.group(1)))
        return float(match.group(1)) if match else None

    def throughput(self) -> None:
        # Same tool, same run: one instance direct, then both through the load balancer (HTTPS), on
        # /api/model (a worker held for a simulated model call, the shape of the Kaizen service's work:
        # what one instance serves is bound by its workers, not by this machine's two cores), then on
        # a cache read (CPU-bound here: the app, Redis over TLS, nginx and wrk share the two cores).
        note = self.results.get("note_id")
        for name, path in (("", "/api/model"), ("_cache_read", "/api/notes/%s" % note if note else "/version")):
            direct = self.wrk("http://%s:%d%s" % (self.args.app[0], self.args.port, path), self.args.bench_seconds)
            through_lb = self.wrk("https://%s%s" % (self.args.lb, path), self.args.bench_seconds)
            self.results["bench_path%s" % name] = path
            self.results["direct_requests_per_second%s" % name] = direct
            self.results["lb_requests_per_second%s" % name] = through_lb
            self.results["lb_to_direct_ratio%s" % name] = round(through_lb / direct, 2) if direct and through_lb else None
            self.check(direct is not None and through_lb is not None, "throughput on %s measured (direct %s, LB %s req/s)" % (
                path, direct, through_lb))

    def update_under_load(self, image: str, name: str, *extra: str) -> tuple[int, str, "Load"]:
        """``kaizen-hybrid update --image IMAGE [EXTRA...]`` while a steady load runs through the load balancer;
        the figures go to the results under ``<name>``."""
        load = Load(self, "/version")
        load.start()
        time.sleep(3)
        rc, events, elapsed = self.cli("update", "--image", image, *extra)
        time.sleep(3)
        load.stop()
        self.results["%s_seconds" % name] = round(elapsed, 1)
        self.results["requests_during_%s" % name] = load.ok + len(load.failures)
        self.results["failed_requests_during_%s" % name] = len(load.failures)
        self.results["keepalive_retries_during_%s" % name] = load.retries
        self.check(load.ok > 100 and not load.failures, "zero failed requests through the LB during the %s (%d answered, failures: %s)" % (
            name.replace("_", " "), load.ok, load.failures[:5]))
        return rc, scenario_lib.failure_text(events), load

    def instances_through_lb(self) -> dict[str, int]:
        client = self.lb_client()
        seen: dict[str, int] = {}
        for _request in range(4 * len(self.args.app)):
            status, _headers, document = client.request("GET", "/version")
            if status == 200:
                seen[document.get("instance")] = seen.get(document.get("instance"), 0) + 1
        client.close()
        return seen

    def rolling_update(self) -> None:
        rc, text, load = self.update_under_load(self.args.v2, "rollout")
        self.results["rolling_update_seconds_per_host"] = round(self.results["rollout_seconds"] / len(self.args.app), 1)
        self.results["versions_during_rollout"] = load.versions
        self.check(rc == 0, "kaizen-hybrid update --image %s succeeds (exit %d) %s" % (self.args.v2, rc, text))
        versions = self.versions_direct()
        self.check(set(versions.values()) == {self.args.v2.rsplit(":", 1)[1]}, "every instance reports v2 afterwards (%s)" % versions)

    def broken_update(self) -> None:
        rc, text, _load = self.update_under_load(self.args.v3, "broken_rollout")
        first = self.args.app_hosts[0]
        self.check(rc != 0 and "Rolling update stopped at %s" % first in text,
                   "the broken image fails the rollout naming %s (exit %d: %s)" % (first, rc, text[:400]))
        versions = self.versions_direct()
        v2 = self.args.v2.rsplit(":", 1)[1]
        self.check(set(versions.values()) == {v2}, "the first host serves v2 again and the others were not touched (%s)" % versions)
        seen = self.instances_through_lb()
        self.check(set(seen) == {"%s-1" % host for host in self.args.app_hosts}, "every instance is back in rotation (%s)" % seen)

    def bad_image(self) -> None:
        before = self.versions_direct()
        rc, events, _elapsed = self.cli("update", "--image", "Kaizen-Lab/Kaizen Ref:2")
        text = scenario_lib.failure_text(events)
        changed = [event for event in events if event.get("kind") == "task_changed"]
        self.check(rc != 0 and "not a valid image reference" in text and not changed and self.versions_direct() == before,
                   "a malformed image is refused before any host changes (exit %d: %s)" % (rc, text[:300]))

    def images_running(self) -> dict[str, str]:
        """The image each app host's first instance was created from, as its engine reports it."""
        images = {}
        for host in self.args.app_hosts:
            result = subprocess.run(["docker", "exec", host, "docker", "inspect", "--format", "{{.Config.Image}}", "kaizen-1"],
                                    capture_output=True, text=True, timeout=60, check=False)
            images[host] = result.stdout.strip() or result.stderr.strip()
        return images

    def registry_update(self) -> None:
        """The update from a private registry (side_effect.yml runs it on the load balancer host, with v2 pushed):
        a wrong password is refused before any host leaves rotation; the right one pulls v2 on every app host."""
        with open(self.args.registry_vars) as handle:
            settings = json.load(handle)
        image = settings.pop("molecule_registry_image")
        before = self.images_running()
        wrong = dict(settings, app_registry_password="not-" + settings["app_registry_password"])
        rc, events, _elapsed = self.cli("update", "--image", image, "-e", json.dumps(wrong))
        text = scenario_lib.failure_text(events)
        changed = [event for event in events if event.get("kind") == "task_changed"]
        self.check(rc != 0 and "Logging in to the registry %s as %s failed" % (settings["app_registry"], settings["app_registry_username"]) in text
                   and not changed and self.images_running() == before and wrong["app_registry_password"] not in json.dumps(events),
                   "a wrong registry password stops the update before any host changes, without showing it (exit %d: %s)" % (rc, text[:300]))
        seen = self.instances_through_lb()
        self.check(set(seen) == {"%s-1" % host for host in self.args.app_hosts}, "every instance is still in rotation (%s)" % seen)
        rc, text, _load = self.update_under_load(image, "registry_rollout", "-e", json.dumps(settings))
        self.check(rc == 0, "kaizen-hybrid update --image %s with the registry login succeeds (exit %d) %s" % (image, rc, text))
        images = self.images_running()
        self.check(set(images.values()) == {image}, "every app host pulled and runs the registry's image (%s)" % images)

    # runs -----------------------------------------------------------------------

    def times(self) -> None:
        self.results.update(scenario_lib.converge_times(self.args.state))

    def write(self, started: float) -> int:
        self.results["scenario_%s_seconds" % self.args.mode] = round(time.monotonic() - started, 1)
        self.results["%s_checks_passed" % self.args.mode] = len(self.checks)
        self.results["%s_checks_failed" % self.args.mode] = self.failures
        previous: dict[str, object] = {}
        if os.path.exists(self.args.results):
            with open(self.args.results) as handle:
                try:
                    previous = json.load(handle)
                except ValueError:
                    previous = {}
        previous.update(self.results)
        if self.args.mode == "rollout":
            previous["goals"] = {
                "zero_failed_requests": previous.get("failed_requests_during_rollout") == 0
                and previous.get("failed_requests_during_broken_rollout") == 0,
                "lb_throughput_ge_1_5x_direct": (previous.get("lb_to_direct_ratio") or 0) >= 1.5,
            }
        scenario_lib.save_results(self.args.results, previous, log)
        return 1 if self.failures else 0

    def run(self) -> int:
        started = time.monotonic()
        if self.args.mode == "verify":
            tests = (self.tls_versions, self.headers_and_redirect, self.every_instance, self.write_read, self.verify_cli, self.rate_limit)
        else:
            self.times()
            tests = (self.write_read, self.throughput, self.rolling_update, self.broken_update, self.bad_image, self.registry_update)
        for test in tests:
            try:
                test()
            except Exception as exc:  # noqa: BLE001 - record and go on: the other figures still count
                self.check(False, "%s raised %s: %s" % (test.__name__, type(exc).__name__, exc))
        return self.write(started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["verify", "rollout"])
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--state", required=True, help="molecule's ephemeral directory")
    parser.add_argument("--logs", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--ca", required=True, help="the internal CA certificate")
    parser.add_argument("--lb", required=True, help="the load balancer's address")
    parser.add_argument("--app", action="append", required=True, help="an app host's address (repeat)")
    parser.add_argument("--app-host", dest="app_hosts", action="append", required=True, help="its inventory name (same order)")
    parser.add_argument("--probe-host", required=True, help="container the rate-limit probe runs in (not exempt)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--v2", default="kaizen-lab/kaizen-ref:2.0.0")
    parser.add_argument("--v3", default="kaizen-lab/kaizen-ref:3.0.0-broken")
    parser.add_argument("--bench-seconds", type=int, default=6)
    parser.add_argument("--registry-vars", help="JSON: the registry settings and the image pushed there (rollout)")
    return Scenario(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
