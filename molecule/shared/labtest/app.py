# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app tier's tests, from the lab machine through the load balancer (and to each instance directly).

Checks: TLS 1.0 and 1.1 refused by the server, 1.2 and 1.3 accepted with a certificate the internal CA
validates for the LB's address; HTTP redirected; HSTS and the security headers; every app instance
reached; a write then a read through the app; the 101st request of a minute from one (non-exempt)
client answered 429.

Under load (GET and POST): the rolling update v1 -> v2, the broken v3 (stops at the first host, which
serves v2 again), the update from a private registry with credentials (a wrong password refused before
any host leaves rotation), each with zero failed requests; a malformed image refused before any host
changes. Throughput: through the load balancer to every instance against one instance directly, on an
I/O-bound endpoint (goal: at least 1.5 times), and what the load balancer costs (through it to one
instance against that instance directly, on a cheap endpoint: a figure, no goal).
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import subprocess
import time
import typing as t
import warnings

from labtest.load import Client, Load, failure_kinds
from labtest.runs import failure_text

LB_SPREAD_RATIO = 1.5

RATE_PROBE = r"""
import http.client, json, ssl, sys, threading
host, port, total, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
context = ssl.create_default_context(cafile="/etc/kaizen/pki/ca.crt")
statuses, lock, counter = [], threading.Lock(), iter(range(total))
def work():
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
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


class AppTests:
    """``settings``: lb (address), public_name, https_port and http_port (the load balancer's), hosts (app hosts),
    addresses, port (app_port_base), instances (per host), v2, v3, registry_file (optional), bench_seconds."""

    def __init__(self, settings: t.Mapping[str, t.Any], ca: str, report: t.Any, runner: t.Any, lab: t.Any) -> None:
        self.lb: str = settings["lb"]
        self.hosts: list[str] = list(settings["hosts"])
        self.addresses: dict[str, str] = dict(settings["addresses"])
        self.port: int = int(settings.get("port", 8080))
        self.instances: dict[str, int] = {host: int(count) for host, count in settings["instances"].items()}
        self.v2: str = settings.get("v2", "kaizen-lab/kaizen-ref:2.0.0")
        self.v3: str = settings.get("v3", "kaizen-lab/kaizen-ref:3.0.0-broken")
        self.registry_file: str | None = settings.get("registry_file")
        self.bench_seconds: int = int(settings.get("bench_seconds", 6))
        # The name clients reach the site by (loadbalancer_server_names); the tests connect to the address.
        self.public_name: str = settings.get("public_name") or self.lb
        self.https_port: int = int(settings.get("https_port", 443))
        self.http_port: int = int(settings.get("http_port", 80))
        self.ca = ca
        self.context = ssl.create_default_context(cafile=ca)
        self.report, self.runner, self.lab = report, runner, lab

    # helpers ------------------------------------------------------------------

    def lb_client(self) -> Client:
        return Client(self.lb, self.https_port, self.context)

    def endpoints(self) -> list[tuple[str, str, int]]:
        """Every instance: (host, address, port), in the order the app role numbers them."""
        return [(host, self.addresses[host], self.port + index) for host in self.hosts for index in range(self.instances[host])]

    def expected_instances(self) -> set[str]:
        return {"%s-%d" % (host, index + 1) for host in self.hosts for index in range(self.instances[host])}

    def direct(self, address: str, port: int, path: str) -> tuple[int, dict]:
        client = Client(address, port, None)
        try:
            status, _headers, document = client.request("GET", path)
        finally:
            client.close()
        return status, document

    def versions_direct(self) -> dict[str, str]:
        versions = {}
        for host, address, port in self.endpoints():
            try:
                status, document = self.direct(address, port, "/version")
                versions["%s:%d" % (host, port)] = document.get("version") if status == 200 else "HTTP %d" % status
            except Exception as exc:  # noqa: BLE001
                versions["%s:%d" % (host, port)] = "%s: %s" % (type(exc).__name__, exc)
        return versions

    def instances_through_lb(self) -> dict[str, int]:
        client = self.lb_client()
        seen: dict[str, int] = {}
        for _request in range(4 * len(self.endpoints())):
            status, _headers, document = client.request("GET", "/version")
            if status == 200:
                seen[document.get("instance")] = seen.get(document.get("instance"), 0) + 1
        client.close()
        return seen

    def images_running(self) -> dict[str, str]:
        """The image each app host's first instance was created from, as its engine reports it."""
        images = {}
        for host in self.hosts:
            result = self.lab.exec(host, "docker", "inspect", "--format", "{{.Config.Image}}", "kaizen-1")
            images[host] = result.stdout.strip() or result.stderr.strip()
        return images

    # checks through the load balancer ----------------------------------------------------

    def tls_versions(self) -> None:
        # Offering TLS 1.0 and 1.1 is the point of the test.
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*TLSv1.*")
        outcome = {}
        for name, version in (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
                              ("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)):
            context = ssl.create_default_context(cafile=self.ca)
            # Let this client offer the old versions, so that a refusal is the server's.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = context.maximum_version = version
            try:
                with ssl.create_connection((self.lb, self.https_port), timeout=10) as sock:
                    with context.wrap_socket(sock, server_hostname=self.public_name) as tls:
                        outcome[name] = {"accepted": True, "protocol": tls.version(), "cipher": tls.cipher()[0]}
            except ssl.SSLError as exc:
                outcome[name] = {"accepted": False, "reason": exc.reason or str(exc)}
        self.report.figure("tls", outcome)
        for name in ("TLSv1", "TLSv1.1"):
            reason = str(outcome[name].get("reason", ""))
            self.report.check(not outcome[name]["accepted"] and "PROTOCOL_VERSION" in reason.upper(),
                              "%s refused by the server (alert protocol version; got %s)" % (name, outcome[name]))
        for name in ("TLSv1.2", "TLSv1.3"):
            self.report.check(outcome[name]["accepted"] and outcome[name].get("protocol") == name,
                              "%s accepted with a certificate the internal CA validates for the public name %s (%s)" % (
                                  name, self.public_name, outcome[name]))
        # The same client refuses a name the certificate does not carry: the check above means something.
        try:
            with ssl.create_connection((self.lb, self.https_port), timeout=10) as sock:
                with ssl.create_default_context(cafile=self.ca).wrap_socket(sock, server_hostname="not-served.invalid"):
                    refused = "accepted"
        except ssl.SSLCertVerificationError as exc:
            refused = exc.verify_message
        self.report.check(refused != "accepted" and "mismatch" in str(refused).lower(),
                          "a name the certificate does not carry fails verification (%s)" % refused)

    def headers_and_redirect(self) -> None:
        status, headers, document = self.lb_client().request("GET", "/health")
        self.report.check(status == 200 and document.get("status") == "healthy", "/health through the LB is healthy (HTTP %d)" % status)
        hsts = headers.get("strict-transport-security", "")
        self.report.check(re.match(r"max-age=\d{7,}", hsts) is not None, "HSTS with a long max-age (%r)" % hsts)
        expected = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer",
                    "content-security-policy": "default-src 'none'; frame-ancestors 'none'"}
        missing = {name: headers.get(name) for name, value in expected.items() if headers.get(name) != value}
        self.report.check(not missing, "security headers present (wrong or missing: %s)" % (missing or "none"))
        self.report.check("nginx/" not in headers.get("server", ""), "nginx hides its version (Server: %r)" % headers.get("server"))
        status, headers, _document = self.lb_client().request("GET", "/no-such-page")
        self.report.check(status == 404 and "strict-transport-security" in headers, "an error answer carries HSTS too (HTTP %d)" % status)
        plain = http.client.HTTPConnection(self.lb, self.http_port, timeout=10)
        plain.request("GET", "/health?x=1", headers={"Host": self.lb})
        response = plain.getresponse()
        response.read()
        plain.close()
        location = response.getheader("Location", "")
        expected = "https://%s%s/health?x=1" % (self.lb, "" if self.https_port == 443 else ":%d" % self.https_port)
        self.report.check(response.status == 301 and location == expected,
                          "HTTP is redirected to HTTPS (%d %s)" % (response.status, location))

    def every_instance(self) -> None:
        seen = self.report.figure("instances_seen_through_lb", self.instances_through_lb())
        self.report.check(set(seen) == self.expected_instances(), "requests reach every app instance (%s; expected %s)" % (
            seen, sorted(self.expected_instances())))
        for host, address, port in self.endpoints():
            status, document = self.direct(address, port, "/health")
            self.report.check(status == 200 and document.get("status") == "healthy",
                              "%s:%d answers /health healthy directly (HTTP %d, %s)" % (host, port, status, document.get("status")))

    def write_read(self) -> None:
        client = self.lb_client()
        text = "molecule %f" % time.time()
        status, _headers, document = client.request("POST", "/api/notes", {"text": text})
        self.report.check(status == 201 and document.get("database") == text and document.get("cache") == text,
                          "a write through the LB stores the note in PostgreSQL and Redis (HTTP %d, %s)" % (status, document))
        if status == 201:
            status, _headers, read = client.request("GET", "/api/notes/%s" % document.get("id"))
            self.report.check(status == 200 and read.get("text") == text, "the note reads back through the LB (HTTP %d, %s)" % (status, read))
            self.report.figure("note_id", document.get("id"))
        client.close()

    def rate_limit(self, probe_host: str) -> None:
        """101 requests as fast as one client can send them, from ``probe_host`` (not exempt from the limit)."""
        result = self.lab.exec(probe_host, "python3", "-", self.lb, str(self.https_port), "101", "20", stdin=RATE_PROBE, timeout=120)
        try:
            statuses = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            statuses = []
        counts = self.report.figure("rate_limit_101_requests", {str(code): statuses.count(code) for code in sorted(set(statuses))})
        self.report.check(counts == {"200": 100, "429": 1},
                          "101 requests in a minute from one client: 100 answered, the 101st 429 (%s%s)" % (counts, result.stderr[-300:]))

    # throughput ------------------------------------------------------------------

    def wrk(self, url: str) -> float | None:
        seconds = self.bench_seconds
        result = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", "%ds" % seconds, "--timeout", "5s", url],
                                capture_output=True, text=True, timeout=seconds + 60, check=False)
        match = re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
        summary = [line.strip() for line in result.stdout.splitlines() if "Requests/sec" in line or "Non-2xx" in line or "Socket errors" in line]
        self.report.say("wrk %s: %s" % (url, " | ".join(summary)))
        if errors:
            self.report.check(False, "wrk against %s got %s non-2xx answers" % (url, errors.group(1)))
        return float(match.group(1)) if match else None

    def throughput(self) -> None:
        """One instance direct, then every instance through the load balancer (HTTPS), same tool, same run.

        On /api/model (a worker held for a simulated model call, the shape of the Kaizen service's work:
        what one instance serves is bound by its workers, not by this machine's two cores) the load
        balancer must spread the load; a cache read (CPU-bound here: the app, Redis over TLS, nginx and wrk
        share two cores) is a figure only.
        """
        host, address, port = self.endpoints()[0]
        note = self.report.figures.get("note_id")
        for suffix, path in (("", "/api/model"), ("_cache_read", "/api/notes/%s" % note if note else "/version")):
            direct = self.wrk("http://%s:%d%s" % (address, port, path))
            through_lb = self.wrk("https://%s%s" % (self.lb, path))
            self.report.figure("bench_path%s" % suffix, path)
            self.report.figure("direct_requests_per_second%s" % suffix, direct)
            self.report.figure("lb_requests_per_second%s" % suffix, through_lb)
            ratio = round(through_lb / direct, 2) if direct and through_lb else None
            if suffix:
                self.report.figure("lb_to_direct_ratio%s" % suffix, ratio)
            else:
                self.report.goal("lb_to_direct_ratio", ratio, LB_SPREAD_RATIO,
                                 "%d instances through the LB against one (%s) directly on %s" % (len(self.endpoints()), host, path), at_least=True)

    def lb_cost(self) -> None:
        """Through the load balancer to one instance (every other app host out of rotation) against that instance
        directly, on a cheap endpoint: what the load balancer (TLS, proxying) costs on this machine."""
        first, others = self.hosts[0], self.hosts[1:]
        host, address, port = self.endpoints()[0]
        for other in others:
            run = self.runner.playbook("molecule/shared/rotation.yml", "-e", json.dumps({"molecule_rotation_host": other, "molecule_rotation": "out"}))
            if not self.report.check(run.returncode == 0, "%s taken out of rotation for the cost figure (rc %d)" % (other, run.returncode)):
                return
        try:
            seen = self.instances_through_lb()
            self.report.check(set(seen) <= {"%s-%d" % (first, index + 1) for index in range(self.instances[first])},
                              "only %s answers through the LB while the others are out (%s)" % (first, seen))
            direct = self.wrk("http://%s:%d/version" % (address, port))
            through_lb = self.wrk("https://%s/version" % self.lb)
        finally:
            for other in others:
                run = self.runner.playbook("molecule/shared/rotation.yml", "-e", json.dumps({"molecule_rotation_host": other, "molecule_rotation": "in"}))
                self.report.check(run.returncode == 0, "%s back in rotation (rc %d)" % (other, run.returncode))
        self.report.figure("lb_cost_path", "/version")
        self.report.figure("lb_cost_direct_requests_per_second", direct)
        self.report.figure("lb_cost_lb_requests_per_second", through_lb)
        self.report.figure("lb_cost_ratio", round(through_lb / direct, 2) if direct and through_lb else None)
        self.report.check(direct is not None and through_lb is not None, "the load balancer's cost measured (direct %s, through it %s req/s)" % (
            direct, through_lb))

    # rollouts ------------------------------------------------------------------

    def under_load(self, report: t.Any, name: str, *argv: str, workers: int = 4, rate: float = 25.0,
                   inventory: str | None = None) -> tuple[t.Any, Load, float]:
        """``kaizen-hybrid ARGV`` (against ``inventory``, else the scenario's) under a steady load of GET and POST
        requests through the load balancer, started 3 s before and stopped 3 s after it. Figures under ``<name>`` in
        ``report``: the command's seconds, the requests and POSTs sent, the failures by kind, the keep-alive retries.
        Returns the run, the load and when the command ended."""
        load = Load(self.lb_client, "/version", workers=workers, rate=rate, max_seconds=900)
        load.start()
        time.sleep(3)
        run = self.runner.cli(*argv, inventory=inventory)
        finished = time.monotonic()
        time.sleep(3)
        load.stop()
        summary = load.summary()
        report.figure("%s_seconds" % name, round(run.elapsed, 1))
        report.figure("requests_during_%s" % name, summary["requests"])
        report.figure("posts_during_%s" % name, summary["by_method"].get("POST", {}).get("sent", 0))
        report.figure("failures_during_%s" % name, failure_kinds(load.failures))
        report.figure("keepalive_retries_during_%s" % name, summary["keepalive_retries"])
        return run, load, finished

    def update_under_load(self, image: str, name: str, *extra: str) -> tuple[int, str, Load]:
        """``kaizen-hybrid update --image IMAGE [EXTRA...]`` under load (:meth:`under_load`); zero failed requests is a goal."""
        run, load, _finished = self.under_load(self.report, name, "update", "--image", image, *extra)
        summary = load.summary()
        self.report.check(summary["answered"] > 100 and summary["by_method"].get("POST", {}).get("ok", 0) > 10,
                          "the load ran during the %s (%s)" % (name.replace("_", " "), summary["by_method"]))
        self.report.goal("failed_requests_during_%s" % name, len(load.failures), 0,
                         "failed requests through the LB during the %s (%s)" % (name.replace("_", " "), load.failures[:5]))
        return run.returncode, failure_text(run.events), load

    def rolling_update(self) -> None:
        rc, text, load = self.update_under_load(self.v2, "rollout")
        self.report.figure("rolling_update_seconds_per_host", round(self.report.figures["rollout_seconds"] / len(self.hosts), 1))
        self.report.figure("versions_during_rollout", load.versions)
        self.report.check(rc == 0, "kaizen-hybrid update --image %s succeeds (exit %d) %s" % (self.v2, rc, text))
        versions = self.versions_direct()
        self.report.check(set(versions.values()) == {self.v2.rsplit(":", 1)[1]}, "every instance reports v2 afterwards (%s)" % versions)

    def broken_update(self) -> None:
        rc, text, _load = self.update_under_load(self.v3, "broken_rollout")
        first = self.hosts[0]
        self.report.check(rc != 0 and "Rolling update stopped at %s" % first in text,
                          "the broken image fails the rollout naming %s (exit %d: %s)" % (first, rc, text[:400]))
        versions = self.versions_direct()
        self.report.check(set(versions.values()) == {self.v2.rsplit(":", 1)[1]},
                          "the first host serves v2 again and the others were not touched (%s)" % versions)
        seen = self.instances_through_lb()
        self.report.check(set(seen) == self.expected_instances(), "every instance is back in rotation (%s)" % seen)

    def refused_single_instance(self) -> None:
        """With one instance on the only app host, a rolling update would stop the service: it is refused, saying why,
        before anything changes."""
        before = self.versions_direct()
        run = self.runner.cli("update", "--image", self.v2, "-e", json.dumps({"app_instances": 1}))
        text = failure_text(run.events)
        changed = [event for event in run.events if event.get("kind") == "task_changed"]
        self.report.check(run.returncode != 0 and "cannot leave rotation: it is the only app host" in text and "kaizen_rolling_allow_downtime" in text
                          and not changed and self.versions_direct() == before,
                          "a rolling update that would stop the service is refused before any change (exit %d: %s)" % (run.returncode, text[:300]))

    def bad_image(self) -> None:
        before = self.versions_direct()
        run = self.runner.cli("update", "--image", "Kaizen-Lab/Kaizen Ref:2")
        text = failure_text(run.events)
        changed = [event for event in run.events if event.get("kind") == "task_changed"]
        self.report.check(run.returncode != 0 and "not a valid image reference" in text and not changed and self.versions_direct() == before,
                          "a malformed image is refused before any host changes (exit %d: %s)" % (run.returncode, text[:300]))

    def registry_update(self) -> None:
        """The update from a private registry (the scenario runs one, with v2 pushed): a wrong password is refused
        before any host leaves rotation; the right one pulls v2 on every app host, under load."""
        if not self.report.check(bool(self.registry_file), "a private registry runs for the registry update"):
            return
        with open(self.registry_file) as handle:
            settings = json.load(handle)
        image = settings.pop("molecule_registry_image")
        before = self.images_running()
        wrong = dict(settings, app_registry_password="not-" + settings["app_registry_password"])
        run = self.runner.cli("update", "--image", image, "-e", json.dumps(wrong))
        text = failure_text(run.events)
        changed = [event for event in run.events if event.get("kind") == "task_changed"]
        refusal = "Logging in to the registry %s as %s failed" % (settings["app_registry"], settings["app_registry_username"])
        self.report.check(run.returncode != 0 and refusal in text
                          and not changed and self.images_running() == before and wrong["app_registry_password"] not in json.dumps(run.events),
                          "a wrong registry password stops the update before any host changes, without showing it (exit %d: %s)" % (
                              run.returncode, text[:300]))
        seen = self.instances_through_lb()
        self.report.check(set(seen) == self.expected_instances(), "every instance is still in rotation (%s)" % seen)
        rc, text, _load = self.update_under_load(image, "registry_rollout", "-e", json.dumps(settings))
        self.report.check(rc == 0, "kaizen-hybrid update --image %s with the registry login succeeds (exit %d) %s" % (image, rc, text))
        images = self.images_running()
        self.report.check(set(images.values()) == {image}, "every app host pulled and runs the registry's image (%s)" % images)
