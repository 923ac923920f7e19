# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring tier's tests, through Prometheus's HTTP API from the lab machine.

As many targets as the inventory implies (counted by the scenario without the collection's filters),
every one up; ``pg_up`` and ``redis_up`` 1 for every host of their tier; every metric the shipped alert
rules use exists (except those of tiers the site does not run); the Watchdog fires; redirects counted by
mtail. Then Redis is stopped on a host that is not the master: the RedisDown alert must reach a webhook
receiver this module runs on the lab machine within 60 s (a goal), and its resolution must follow once
Redis runs again.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request

# Metrics of tiers no scenario runs yet (no backup role).
ABSENT_BY_DESIGN = {"kaizen_backup_last_success_timestamp_seconds"}
METRIC_PREFIXES = ("node_", "pg_", "kaizen_", "redis_", "nginx_", "engine_", "prometheus_", "alertmanager_")
ALERT_SECONDS = 60
WAIT_SECONDS = 240


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

    def wait(self, alertname: str, status: str, host: str, since: float, seconds: float) -> float | None:
        deadline = since + seconds
        while time.monotonic() < deadline:
            found = self.find(alertname, status, host, since)
            if found is not None:
                return found
            time.sleep(0.5)
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
        if isinstance(server, Webhook):
            with server.lock:
                server.received.append((time.monotonic(), document))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        return


class MonitoringTests:
    """``settings``: prometheus (URL), expected_targets, postgres_hosts, redis_hosts, lb_http (address:port of the load
    balancer's HTTP listener), webhook_address, webhook_port, absent_ok (metrics this topology cannot have)."""

    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, lab: t.Any) -> None:
        self.settings = settings
        self.report, self.lab = report, lab

    def api(self, path: str, **params: str) -> dict:
        url = self.settings["prometheus"].rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a lab address from the inventory
            return json.load(response)

    def query(self, expr: str) -> list[dict]:
        return self.api("/api/v1/query", query=expr)["data"]["result"]

    def traffic(self) -> None:
        """A few requests to the load balancer's HTTP port (redirected): mtail counts responses from its start on."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None
        opener = urllib.request.build_opener(NoRedirect)
        for _request in range(5):
            try:
                opener.open("http://%s/" % self.settings["lb_http"], timeout=10)
            except urllib.error.HTTPError as exc:
                if exc.code != 301:
                    raise
        expr = 'kaizen_nginx_responses_total{status_class="3xx"}'
        deadline = time.monotonic() + 45
        while not self.query(expr) and time.monotonic() < deadline:
            time.sleep(2)
        self.report.check(bool(self.query(expr)), "the redirects sent to the load balancer are counted (mtail on its access log, scraped by Prometheus)")

    def targets(self) -> None:
        expected = int(self.settings["expected_targets"])
        deadline = time.monotonic() + 90
        while True:
            active = self.api("/api/v1/targets", state="active")["data"]["activeTargets"]
            up = [target for target in active if target.get("health") == "up"]
            if len(active) == expected and len(up) == len(active) or time.monotonic() > deadline:
                break
            time.sleep(3)
        self.report.figure("targets_expected", expected)
        self.report.figure("targets_active", len(active))
        self.report.figure("targets_up", len(up))
        by_job = self.report.figure("targets_by_job", {job: sum(1 for target in active if target["labels"].get("job") == job)
                                                       for job in sorted({target["labels"].get("job") for target in active})})
        down = ["%s %s: %s" % (item["labels"].get("job"), item["labels"].get("instance"), item.get("lastError"))
                for item in active if item.get("health") != "up"]
        self.report.check(len(active) == expected, "Prometheus scrapes %d targets, the inventory implies %d (%s)" % (len(active), expected, by_job))
        self.report.check(not down and len(up) == len(active), "every target is up (down: %s)" % down)
        missing_host = [item["labels"].get("instance") for item in active if not item["labels"].get("host")]
        self.report.check(not missing_host, "every target carries the host label (missing: %s)" % missing_host)

    def scraped_hosts(self) -> set[str]:
        """The hosts Prometheus has a target of (the ``host`` label of its active targets)."""
        return {target["labels"].get("host") for target in self.api("/api/v1/targets", state="active")["data"]["activeTargets"]}

    def service_up(self) -> None:
        for metric, hosts in (("pg_up", self.settings["postgres_hosts"]), ("redis_up", self.settings["redis_hosts"])):
            values = self.report.figure(metric, {series["metric"].get("host"): series["value"][1] for series in self.query(metric)})
            self.report.check(values == {host: "1" for host in hosts}, "%s is 1 for every host of its tier (%s)" % (metric, values))

    def rule_metrics(self) -> None:
        groups = self.api("/api/v1/rules")["data"]["groups"]
        alerts = sorted({rule["name"] for group in groups for rule in group["rules"] if rule.get("type") == "alerting"})
        self.report.figure("alert_rules", len(alerts))
        self.report.check("Watchdog" in alerts and "RedisDown" in alerts, "the shipped alert rules are loaded (%d alerts)" % len(alerts))
        used = set()
        for group in groups:
            for rule in group["rules"]:
                # Label values ("nginx_log") are not metrics.
                query = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule.get("query", ""))
                used.update(name for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", query) if name.startswith(METRIC_PREFIXES))
        present = set(self.api("/api/v1/label/__name__/values")["data"])
        missing = sorted(name for name in used - present - ABSENT_BY_DESIGN - set(self.settings.get("absent_ok") or [])
                         if not (name.endswith(("_bucket", "_sum", "_count")) and re.sub(r"_(bucket|sum|count)$", "", name) + "_bucket" in present))
        self.report.figure("rule_metrics_used", len(used))
        self.report.check(not missing, "every metric the alert rules use exists in Prometheus (%d used; missing: %s)" % (len(used), missing))
        watchdog = [alert for alert in self.api("/api/v1/alerts")["data"]["alerts"] if alert["labels"].get("alertname") == "Watchdog"]
        self.report.check(any(alert.get("state") == "firing" for alert in watchdog), "the Watchdog alert is firing")

    def redis_alert(self, host: str, unit: str = "redis-server") -> None:
        """Redis stopped on ``host``: RedisDown reaches the webhook receiver within the goal, and its resolution after the start."""
        webhook = Webhook((self.settings["webhook_address"], int(self.settings["webhook_port"])))
        thread = threading.Thread(target=webhook.serve_forever, daemon=True)
        thread.start()
        try:
            stopped = time.monotonic()
            self.report.check(self.lab.service(host, "stop", unit), "%s stopped on %s" % (unit, host))
            fired = webhook.wait("RedisDown", "firing", host, stopped, WAIT_SECONDS)
            self.report.goal("alert_fire_seconds", round(fired - stopped, 1) if fired else None, ALERT_SECONDS,
                             "seconds from stopping Redis on %s until RedisDown reached the webhook receiver" % host)
            self.lab.service(host, "start", unit)
            started = time.monotonic()
            resolved = webhook.wait("RedisDown", "resolved", host, started, WAIT_SECONDS)
            self.report.figure("alert_resolve_seconds", round(resolved - started, 1) if resolved else None)
            self.report.check(resolved is not None, "its resolution reached the webhook receiver %s s after Redis started" % (
                self.report.figures["alert_resolve_seconds"]))
            self.report.figure("webhook_notifications", len(webhook.received))
        finally:
            self.lab.service(host, "start", unit)
            webhook.shutdown()
            webhook.server_close()
