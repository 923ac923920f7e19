# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring scenario's checks, run on the lab machine against this scenario's containers only.

Through Prometheus's HTTP API: as many targets as the inventory implies (counted by verify.yml
without the collection's filters), every one up; ``pg_up`` 1 for every PostgreSQL host and
``redis_up`` 1 for every Redis host; every metric the shipped alert rules use exists (except those
of tiers this topology does not have). Then Redis is stopped on one host: the RedisDown alert must
reach a webhook receiver this script runs on the lab machine (Alertmanager -> webhook), and after
Redis is started again its resolution must arrive too. Figures go to .results/monitoring.json.

Every wait is bounded in time.
"""

from __future__ import annotations

import argparse
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# The helpers the scenarios share (molecule/shared/scenario_lib.py); these scripts are not a package.
_SHARED = importlib.util.spec_from_file_location(
    "scenario_lib", os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "shared", "scenario_lib.py"))
scenario_lib = importlib.util.module_from_spec(_SHARED)
_SHARED.loader.exec_module(scenario_lib)

# Metrics of tiers this topology does not run (no backup role yet).
ABSENT_BY_DESIGN = {"kaizen_backup_last_success_timestamp_seconds"}
METRIC_PREFIXES = ("node_", "pg_", "kaizen_", "redis_", "nginx_", "engine_", "prometheus_", "alertmanager_")


def log(message: str) -> None:
    print("[scenario_monitoring %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Webhook(http.server.ThreadingHTTPServer):
    """Alertmanager's webhook receiver: keeps every notification with the time it arrived."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        self.received: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        super().__init__(address, _WebhookHandler)

    def find(self, alertname: str, status: str, host: str, since: float) -> float | None:
        with self.lock:
            for when, document in self.received:
                if when < since:
                    continue
                for alert in document.get("alerts") or []:
                    labels = alert.get("labels") or {}
                    if labels.get("alertname") == alertname and labels.get("host") == host and alert.get("status") == status:
                        return when
        return None


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length)
        try:
            document = json.loads(body)
        except ValueError:
            document = {"unparsed": body[:200].decode("utf-8", "replace")}
        server = self.server
        assert isinstance(server, Webhook)
        with server.lock:
            server.received.append((time.monotonic(), document))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        return


class Scenario:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, object] = {"command": "molecule test -s monitoring"}
        self.checks: list[str] = []
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        (self.checks if ok else self.failures).append(what)
        log(("PASS " if ok else "FAIL ") + what)

    def api(self, path: str, **params: str) -> dict:
        url = self.args.prometheus.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a lab address from the inventory
            return json.load(response)

    def query(self, expr: str) -> list[dict]:
        return self.api("/api/v1/query", query=expr)["data"]["result"]

    # checks ---------------------------------------------------------------------

    def targets(self) -> None:
        deadline = time.monotonic() + 90
        while True:
            active = self.api("/api/v1/targets", state="active")["data"]["activeTargets"]
            up = [target for target in active if target.get("health") == "up"]
            if len(active) == self.args.expected_targets and len(up) == len(active) or time.monotonic() > deadline:
                break
            time.sleep(3)
        self.results["targets_expected"] = self.args.expected_targets
        self.results["targets_active"] = len(active)
        self.results["targets_up"] = len(up)
        self.results["targets_by_job"] = {job: sum(1 for target in active if target["labels"].get("job") == job)
                                          for job in sorted({target["labels"].get("job") for target in active})}
        down = ["%s %s: %s" % (t["labels"].get("job"), t["labels"].get("instance"), t.get("lastError"))
                for t in active if t.get("health") != "up"]
        self.check(len(active) == self.args.expected_targets, "Prometheus scrapes %d targets, the inventory implies %d (%s)" % (
            len(active), self.args.expected_targets, self.results["targets_by_job"]))
        self.check(not down and len(up) == len(active), "every target is up (down: %s)" % down)
        missing_host = [t["labels"].get("instance") for t in active if not t["labels"].get("host")]
        self.check(not missing_host, "every target carries the host label (missing: %s)" % missing_host)

    def service_up(self) -> None:
        for metric, hosts in (("pg_up", self.args.postgres_host), ("redis_up", self.args.redis_host)):
            values = {series["metric"].get("host"): series["value"][1] for series in self.query(metric)}
            self.results[metric] = values
            self.check(values == {host: "1" for host in hosts}, "%s is 1 for every host of its tier (%s)" % (metric, values))

    def rule_metrics(self) -> None:
        groups = self.api("/api/v1/rules")["data"]["groups"]
        alerts = sorted({rule["name"] for group in groups for rule in group["rules"] if rule.get("type") == "alerting"})
        self.results["alert_rules"] = len(alerts)
        self.check("Watchdog" in alerts and "RedisDown" in alerts, "the shipped alert rules are loaded (%d alerts)" % len(alerts))
        used = set()
        for group in groups:
            for rule in group["rules"]:
                # Label values ("nginx_log") are not metrics.
                query = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule.get("query", ""))
                used.update(name for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", query) if name.startswith(METRIC_PREFIXES))
        present = set(self.api("/api/v1/label/__name__/values")["data"])
        missing = sorted(name for name in used - present - ABSENT_BY_DESIGN - set(self.args.absent_ok or [])
                         if not (name.endswith(("_bucket", "_sum", "_count")) and re.sub(r"_(bucket|sum|count)$", "", name) + "_bucket" in present))
        self.results["rule_metrics_used"] = len(used)
        self.check(not missing, "every metric the alert rules use exists in Prometheus (%d used; missing: %s)" % (len(used), missing))
        watchdog = [a for a in self.api("/api/v1/alerts")["data"]["alerts"] if a["labels"].get("alertname") == "Watchdog"]
        self.check(any(a.get("state") == "firing" for a in watchdog), "the Watchdog alert is firing")

    def redis_alert(self) -> None:
        host = self.args.redis_host[0]
        webhook = Webhook((self.args.webhook_address, self.args.webhook_port))
        thread = threading.Thread(target=webhook.serve_forever, daemon=True)
        thread.start()
        try:
            stopped = time.monotonic()
            subprocess.run(["docker", "exec", host, "systemctl", "stop", self.args.redis_service], check=True, timeout=60)
            log("stopped %s on %s" % (self.args.redis_service, host))
            fired = self._wait(webhook, "RedisDown", "firing", host, stopped, 240)
            self.results["alert_fire_seconds"] = round(fired - stopped, 1) if fired else None
            self.check(fired is not None, "RedisDown for %s reached the webhook receiver %s s after Redis stopped" % (
                host, self.results["alert_fire_seconds"]))
        finally:
            subprocess.run(["docker", "exec", host, "systemctl", "start", self.args.redis_service], check=False, timeout=60)
            started = time.monotonic()
            log("started %s on %s again" % (self.args.redis_service, host))
        try:
            resolved = self._wait(webhook, "RedisDown", "resolved", host, started, 240)
            self.results["alert_resolve_seconds"] = round(resolved - started, 1) if resolved else None
            self.check(resolved is not None, "its resolution reached the webhook receiver %s s after Redis started" % (
                self.results["alert_resolve_seconds"]))
            self.results["webhook_notifications"] = len(webhook.received)
        finally:
            webhook.shutdown()
            webhook.server_close()

    @staticmethod
    def _wait(webhook: Webhook, alertname: str, status: str, host: str, since: float, seconds: float) -> float | None:
        deadline = since + seconds
        while time.monotonic() < deadline:
            found = webhook.find(alertname, status, host, since)
            if found is not None:
                return found
            time.sleep(0.5)
        return None

    # runs -----------------------------------------------------------------------

    def traffic(self) -> None:
        """A few requests to the load balancer's HTTP port (redirected): mtail counts responses from its start on."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None
        opener = urllib.request.build_opener(NoRedirect)
        for _request in range(5):
            try:
                opener.open("http://%s/" % self.args.lb, timeout=10)
            except urllib.error.HTTPError as exc:
                if exc.code != 301:
                    raise
        deadline = time.monotonic() + 45
        while not self.query('kaizen_nginx_responses_total{status_class="3xx"}') and time.monotonic() < deadline:
            time.sleep(2)
        self.check(bool(self.query('kaizen_nginx_responses_total{status_class="3xx"}')),
                   "the redirects sent to the load balancer are counted (mtail on its access log, scraped by Prometheus)")

    def run(self) -> int:
        started = time.monotonic()
        self.results.update(scenario_lib.converge_times(self.args.state))
        self.traffic()
        for test in (self.targets, self.service_up, self.rule_metrics, self.redis_alert):
            try:
                test()
            except Exception as exc:  # noqa: BLE001 - record and go on: the other figures still count
                self.check(False, "%s raised %s: %s" % (test.__name__, type(exc).__name__, exc))
        self.results["scenario_verify_seconds"] = round(time.monotonic() - started, 1)
        self.results["checks_passed"] = len(self.checks)
        self.results["checks_failed"] = self.failures
        scenario_lib.save_results(self.args.results, self.results, log)
        return 1 if self.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus's URL")
    parser.add_argument("--expected-targets", type=int, required=True)
    parser.add_argument("--postgres-host", action="append", required=True, help="a PostgreSQL host (repeat)")
    parser.add_argument("--redis-host", action="append", required=True, help="a Redis host (repeat); the first is stopped")
    parser.add_argument("--redis-service", default="redis-server")
    parser.add_argument("--lb", required=True, help="a load balancer's address")
    parser.add_argument("--absent-ok", action="append", help="a metric this topology cannot have (repeat)")
    parser.add_argument("--webhook-address", required=True, help="the lab machine's address on the hosts' network")
    parser.add_argument("--webhook-port", type=int, required=True)
    parser.add_argument("--state", required=True, help="molecule's ephemeral directory")
    parser.add_argument("--results", required=True)
    return Scenario(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
