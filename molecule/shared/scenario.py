# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The day-2 tests of a molecule scenario, one after the other on its one deployment.

    python molecule/shared/scenario.py --site SITE.json

SITE.json is written by the scenario's side_effect.yml from its inventory (addresses, groups, the
libpq URL and Redis connection the collection's filters derive, the files the secrets are in) and
names the tests the scenario runs, in order. ``--tests a,b`` (or ``KAIZEN_SITE_TESTS=a,b``) runs only
those, in the same order; a name the scenario does not have is an error (exit 2), so a misspelt
selection never passes by running nothing.

Figures go to RESULTS/<prefix><tier>.json (app, postgresql, redis, monitoring, packages, backup, firewall) and a summary with every
goal to RESULTS/<prefix-or-site>.json, written whole each run. Exit 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
import typing as t

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labtest.app import AppTests  # noqa: E402 - after the path to the harness
from labtest.backup import BackupTests  # noqa: E402
from labtest.firewall import FirewallTests  # noqa: E402
from labtest.hosts import Lab  # noqa: E402
from labtest.monitoring import MonitoringTests  # noqa: E402
from labtest.packages import PackageTests  # noqa: E402
from labtest.patroni import PatroniTests  # noqa: E402
from labtest.postgresql import PostgresTests  # noqa: E402
from labtest.redis import RedisTests  # noqa: E402
from labtest.report import Report, log, save  # noqa: E402
from labtest.runs import Runner, converge_times, failure_text, task_hosts, wait_until  # noqa: E402

# What a connection the firewall drops ends in (molecule/shared/labtest/postgresql.py's probe).
DROPPED = "TimeoutError: timed out"

# make test runs other lanes (check and api, the single scenario) in the background of this scenario (at a lower
# priority). Their end marks (paths separated by os.pathsep) are named here: the machine_quiet step waits for them, so
# that the tests after it (the load balancer's spread and cost, which compare capacities) have the machine to themselves.
QUIET_AFTER = "KAIZEN_SITE_QUIET_AFTER"
QUIET_SECONDS = 1800

TIERS = ("app", "postgresql", "redis", "monitoring", "packages", "backup", "firewall")


class Scenario:
    def __init__(self, site: t.Mapping[str, t.Any]) -> None:
        self.site = site
        self.reports = {tier: Report(tier) for tier in TIERS + ("site",)}
        self.runner = Runner(site["project"], site["inventory"], site["logs"], log)
        self.lab = Lab(site.get("containers"), log)
        self._tiers: dict[str, t.Any] = {}

    def tier(self, name: str) -> t.Any:
        """The tier's tests, made on first use (a scenario without a tier's settings never makes them)."""
        if name not in self._tiers:
            settings, report = self.site[name], self.reports.get(name)
            self._tiers[name] = {
                "app": lambda: AppTests(settings, self.site["ca"], report, self.runner, self.lab),
                "postgresql": lambda: PostgresTests(settings, report, self.runner, self.lab),
                "redis": lambda: RedisTests(settings, report, self.runner, self.lab),
                "monitoring": lambda: MonitoringTests(settings, report, self.lab),
                "packages": lambda: PackageTests(settings, report, self.runner),
                "firewall": lambda: FirewallTests(settings, report, self.runner, self.lab),
                "backup": lambda: BackupTests(settings, report, self.runner, self.lab, self.tier("postgresql"), self.tier("monitoring"),
                                              self.tier("app")),
                # The PostgreSQL tier under Patroni: its figures go with the tier's.
                "patroni": lambda: PatroniTests(settings, self.site["ca"], self.tier("postgresql"), self.reports["postgresql"], self.runner, self.lab),
            }[name]()
        return self._tiers[name]

    # tests that span tiers ---------------------------------------------------------------

    def verify_cli(self, when: str) -> None:
        run = self.runner.cli("verify")
        self.reports["site"].figure("verify_%s_seconds" % when, round(run.elapsed, 1))
        self.reports["site"].check(run.returncode == 0, "kaizen-hybrid verify passes on every tier %s the tests (exit %d in %.1f s) %s" % (
            when, run.returncode, run.elapsed, failure_text(run.events)))

    def machine_quiet(self) -> None:
        """Wait for the other lanes of ``make test`` to end ($KAIZEN_SITE_QUIET_AFTER names their end marks; unset: no
        wait). Figure: the seconds waited; a lane that never ends fails the check (the timed tests would share the cores)."""
        marks = [path for path in os.environ.get(QUIET_AFTER, "").split(os.pathsep) if path]
        log("waiting for the other lanes to end (%s)" % (", ".join(marks) or "none named"))
        waited = wait_until(lambda: all(os.path.exists(mark) for mark in marks), QUIET_SECONDS, interval=2)
        self.reports["site"].figure("quiet_wait_seconds", waited)
        self.reports["site"].check(waited is not None, "the other lanes ended before the timed tests (waited %s s for %s)" % (waited, marks))

    def app_verify(self) -> None:
        app = self.tier("app")
        for test in (app.tls_versions, app.headers_and_redirect, app.every_instance, app.write_read):
            test()
        app.rate_limit(self.site["app"]["probe_host"])

    def monitoring(self) -> None:
        monitoring = self.tier("monitoring")
        for test in (monitoring.traffic, monitoring.targets, monitoring.service_up, monitoring.rule_metrics):
            test()
        # Not the master, unless it is alone: stopping it would start a failover.
        hosts = self.site["monitoring"]["redis_hosts"]
        master = self.tier("redis").master() if len(hosts) > 1 else None
        host = next((host for host in hosts if host != master), hosts[0])
        monitoring.redis_alert(host)

    def port_change(self) -> None:
        """PostgreSQL moved to another port on the running site by a converge of PostgreSQL and its clients
        (``kaizen-hybrid deploy --tags postgresql,app,exporters,backup``), under load through the load balancer, together with
        a postmaster setting in Patroni's shared settings and a resize (the memory the tuning is derived from doubled:
        shared_buffers follows), then moved back the same way. Each converge passes, every member restarts once in the
        safe order and listens on the port asked for, the replicas stream; verify passes on the moved port (back home,
        the scenario's last test runs it).
        Figures: each converge's seconds, its requests and its failed requests by kind."""
        pg, app, report = self.tier("postgresql"), self.tier("app"), self.reports["postgresql"]
        primary = pg.primary()
        if not report.check(primary is not None, "port change: one primary runs (%s)" % primary):
            return
        home, connections = int(self.site["postgresql"]["port"]), next(iter(pg.shown("max_connections")))
        buffers = next(iter(pg.shown("shared_buffers")))
        # A vertical resize too: the tuning follows the memory the hosts are given (512 MiB in the scenario, 1 GiB here).
        moved = ("-e", json.dumps({"postgresql_port": home + 10, "postgresql_settings": {"max_connections": int(connections) + 20},
                                   "postgresql_tuning_memory_mb": 1024}))
        # Moving back lowers max_connections: the primary first. Moving there raises it: replicas first under Patroni
        # (they follow the leader's advertised port); without Patroni the port sends the primary first (their
        # primary_conninfo names its new port as soon as it is reloaded).
        patroni = pg.patroni_runs(primary)
        for name, port, extra, primary_first in (("port_change", home + 10, moved, not patroni), ("port_change_back", home, (), True)):
            before = pg.start_times()
            # A light load (20 requests a second): each second without service still shows as failed requests.
            run, load, finished = app.under_load(report, name, "deploy", "--tags", "postgresql,app,exporters,backup", *extra, workers=2, rate=10)
            summary = load.summary()
            report.figure("failed_requests_during_%s" % name, summary["failed"])
            report.check(run.returncode == 0, "kaizen-hybrid deploy moves PostgreSQL to port %d on the running site (exit %d) %s" % (
                port, run.returncode, failure_text(run.events)))
            report.check(summary["answered"] > 100 and load.timeline.first_success_after(finished) is not None,
                         "the app served during and after the move to %d (%s)" % (port, summary["by_method"]))
            listening = {host: pg.psql(host, "SHOW port") for host in pg.hosts}
            report.check(set(listening.values()) == {str(port)}, "every PostgreSQL host listens on %d (%s)" % (port, listening))
            tuned = pg.shown("shared_buffers")
            report.check(tuned == ({"256MB"} if extra else {buffers}), "shared_buffers follows the memory given (%s; %s before the resize)" % (
                tuned, buffers))
            pg.restarts(before, pg.start_times(), primary, primary_first, "the move to %d" % port)
            report.check(pg.primary() == primary and pg.all_streaming(primary, 60), "%s stays the primary and the replicas stream from it on %d (%s)" % (
                primary, port, pg.streaming(primary)))
            if port != home:  # back home, the scenario's last test (verify_after) runs verify
                verify = self.runner.cli("verify", *extra)
                report.check(verify.returncode == 0, "kaizen-hybrid verify passes with PostgreSQL on %d (exit %d) %s" % (
                    port, verify.returncode, failure_text(verify.events)))
        report.check(pg.shown("max_connections") == {connections}, "max_connections is back to %s (%s)" % (connections, pg.shown("max_connections")))

    def inventory_without(self, host: str, group: str) -> str:
        """A copy of the scenario's inventory with ``host`` taken out of ``group`` (and still in the inventory), as an
        operator edits theirs before ``kaizen-hybrid scale --remove``."""
        copy = os.path.join(self.site["state"], "inventory-without-%s" % host)
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.site["inventory"], copy)
        path = os.path.join(copy, "ansible_inventory.yml")
        with open(path) as handle:
            inventory = yaml.safe_load(handle)
        del inventory[group]["hosts"][host]
        with open(path, "w") as handle:
            yaml.safe_dump(inventory, handle)
        return copy

    def app_scale(self) -> None:
        """An app host leaves the running site and joins it again, under load through the load balancer, the inventory
        changed first as an operator changes theirs: ``kaizen-hybrid scale --remove HOST --check`` (changes nothing),
        ``--remove HOST`` with HOST out of group app, then ``--add HOST`` with it back. Each way: the run passes; the
        load balancers, pg_hba.conf of every PostgreSQL host and Prometheus's targets follow; no request fails (a goal).
        Figures: each run's seconds and requests, and the seconds from ``--add`` until the host answered through the
        load balancer."""
        app, pg, monitoring, report = self.tier("app"), self.tier("postgresql"), self.tier("monitoring"), self.reports["app"]
        host = app.hosts[-1]
        if not report.check(len(app.hosts) > 1, "scale: the site has an app host to take out and put back (%s)" % app.hosts):
            return
        instances = {"%s-%d" % (host, index + 1) for index in range(app.instances[host])}

        without = self.inventory_without(host, "app")
        preview = self.runner.cli("scale", "--remove", host, "--check", inventory=without)
        would = sorted({"%s: %s" % (event.get("host"), event.get("task"))
                        for event in preview.events if event.get("kind") == "task_changed"})
        report.check(preview.returncode == 0 and any("pg_hba" in item for item in would) and any("upstream" in item for item in would),
                     "kaizen-hybrid scale --remove %s --check passes and names what would change (exit %d: %s) %s" % (
                         host, preview.returncode, would, failure_text(preview.events)))
        seen = app.instances_through_lb()
        report.check(set(seen) == app.expected_instances() and pg.hba_answer(host, pg.hosts[0]) == "admitted",
                     "after --check, %s still serves and PostgreSQL still admits it (%s)" % (host, seen))
        for name, argv, inventory, serving in (
                ("scale_in", ("scale", "--remove", host), without, False),
                ("scale_out", ("scale", "--add", host), None, True)):
            run, load, finished = app.under_load(report, name, *argv, workers=2, rate=10, inventory=inventory)
            summary = load.summary()
            report.check(run.returncode == 0, "kaizen-hybrid %s passes under load (exit %d) %s" % (" ".join(argv), run.returncode, failure_text(run.events)))
            report.check(summary["answered"] > 100, "the load ran during %s (%s)" % (name.replace("_", " "), summary["by_method"]))
            report.goal("failed_requests_during_%s" % name, len(load.failures), 0,
                        "failed requests through the LB during %s (%s)" % (" ".join(argv), load.failures[:5]))
            seen = app.instances_through_lb()
            report.check((set(seen) & instances == instances) == serving and set(seen) - instances == app.expected_instances() - instances,
                         "after %s the load balancer sends requests to %s's instances %s (%s)" % (
                             " ".join(argv), host, "again" if serving else "no more", seen))
            containers = self.lab.exec(host, "docker", "ps", "-q", "--filter", "label=kaizen.app").stdout.split()
            report.check(len(containers) == (len(instances) if serving else 0),
                         "%s runs %d Kaizen containers after %s (%d)" % (host, len(instances) if serving else 0, " ".join(argv), len(containers)))
            # As the servers have loaded their rules: a TLS startup from the host itself. A host that left is dropped
            # by every PostgreSQL host's firewall before pg_hba.conf is asked; that each server's rules changed shows
            # in the run (the pg_hba.conf task changed on every PostgreSQL host).
            answers = {member: pg.hba_answer(host, member) for member in (pg.hosts if serving else pg.hosts[:1])}
            report.check(set(answers.values()) == {"admitted"} if serving else set(answers.values()) <= {"refused", DROPPED},
                         "PostgreSQL %s the app's connections from %s (%s)" % (
                             "admits" if serving else "refuses", host, answers))
            report.check(task_hosts(run.events, "Install pg_hba.conf") == set(pg.hosts),
                         "pg_hba.conf changed on every PostgreSQL host during %s (%s)" % (
                             " ".join(argv), sorted(task_hosts(run.events, "Install pg_hba.conf"))))
            scraped = self.lab.wait_for("Prometheus to follow", lambda: (host in monitoring.scraped_hosts()) == serving, 30)
            report.check(scraped, "Prometheus %s %s after %s" % ("scrapes" if serving else "no longer scrapes", host, " ".join(argv)))
            if serving:
                started = finished - run.elapsed
                first = min((load.first_answer[instance] for instance in instances if instance in load.first_answer), default=None)
                report.figure("seconds_until_the_added_host_serves", None if first is None else round(first - started, 1))
                report.check(first is not None, "%s answered requests through the load balancer during %s" % (host, " ".join(argv)))

    def catalogue(self) -> dict[str, t.Callable[[], None]]:
        """Every test a scenario may name, by name."""
        def of(tier: str, method: str) -> t.Callable[[], None]:
            def run() -> None:
                getattr(self.tier(tier), method)()
            return run
        return {
            "verify_before": lambda: self.verify_cli("before"),
            "firewall_matrix": of("firewall", "matrix"),
            "firewall_rollback": of("firewall", "rollback"),
            "firewall_drift": of("firewall", "drift"),
            "ssh_hardening": of("firewall", "ssh"),
            "app_verify": self.app_verify,
            "monitoring": self.monitoring,
            "app_scale": self.app_scale,
            "app_rollout": of("app", "rolling_update"),
            "app_broken_rollout": of("app", "broken_update"),
            "app_bad_image": of("app", "bad_image"),
            "app_rollout_refused": of("app", "refused_single_instance"),
            "app_registry_rollout": of("app", "registry_update"),
            "backup": of("backup", "backup_now"),
            "backup_drill": of("backup", "drill"),
            "backup_redis": of("backup", "redis_snapshot"),
            "backup_dump": of("backup", "logical_dump"),
            "pg_refusals": of("postgresql", "refusals"),
            "pg_failover": of("postgresql", "failover"),
            "pg_switchover": of("postgresql", "switchover"),
            "pg_bad_input": of("postgresql", "bad_input"),
            "pg_settings": of("postgresql", "settings_change"),
            "pg_verify": of("postgresql", "verify"),
            "pg_patroni_convert": of("patroni", "convert"),
            "pg_patroni_monitoring": of("patroni", "monitoring"),
            "pg_auto_failover": of("patroni", "auto_failover"),
            "pg_haproxy": of("patroni", "haproxy"),
            "pg_postgres_kill": of("patroni", "kill_postgres"),
            "pg_partition": of("patroni", "partition"),
            "etcd_membership": of("patroni", "etcd_membership"),
            "etcd_one_down": of("patroni", "etcd_one_down"),
            "etcd_quorum_lost": of("patroni", "etcd_quorum_lost"),
            "pg_patroni_switchover": of("patroni", "switchover"),
            "pg_patroni_reconverge": of("patroni", "reconverge"),
            "pg_patroni_settings": of("postgresql", "settings_reload"),
            "pg_patroni_verify": of("patroni", "verify"),
            "backup_after_switchover": of("backup", "after_switchover"),
            "backup_restore": of("backup", "restore_to_time"),
            "backup_dr": of("backup", "disaster_recovery"),
            "pg_port_change": self.port_change,
            "redis_failover": of("redis", "failover"),
            "redis_bad_input": of("redis", "bad_input"),
            "redis_verify": of("redis", "verify"),
            "apt_stalled_mirror": of("packages", "stalled_mirror"),
            "machine_quiet": self.machine_quiet,
            "app_throughput": of("app", "throughput"),
            "app_lb_cost": of("app", "lb_cost"),
            "verify_after": lambda: self.verify_cli("after"),
        }

    # the run ------------------------------------------------------------------------

    def run(self, selected: list[str]) -> int:
        started = time.monotonic()
        catalogue = self.catalogue()
        times = converge_times(self.site["state"])
        summary = self.reports["site"]
        stamp = {"command": "molecule test -s %s" % self.site["scenario"], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        summary.figure("scenario", self.site["scenario"])
        summary.figures.update(times, **stamp)
        durations: dict[str, float] = {}
        for name in selected:
            log("=== %s" % name)
            began = time.monotonic()
            try:
                catalogue[name]()
            except Exception as exc:  # noqa: BLE001 - record and go on: the other figures still count
                summary.check(False, "%s raised %s: %s" % (name, type(exc).__name__, exc))
                log(traceback.format_exc())
            durations[name] = round(time.monotonic() - began, 1)
        summary.figure("test_seconds", durations)
        summary.figure("tests_run", selected)
        summary.figure("scenario_seconds", round(time.monotonic() - started, 1))
        prefix = self.site.get("results_prefix", "")
        failed = []
        for tier in TIERS:
            report = self.reports[tier]
            if report.figures or report.passed or report.failed:
                # The tier's own figures win: postgresql's and redis's reconverge_seconds is their tier's converge after a failover.
                for key, value in dict(times, **stamp).items():
                    report.figures.setdefault(key, value)
                save(os.path.join(self.site["results"], "%s%s.json" % (prefix, tier)), report.document())
            summary.goals.update({"%s.%s" % (tier, name): goal for name, goal in report.goals.items()})
            failed += ["%s: %s" % (tier, text) for text in report.failed]
        document = summary.document()
        document["checks_passed"] += sum(len(self.reports[tier].passed) for tier in TIERS)
        document["checks_failed"] = ["site: %s" % text for text in summary.failed] + failed
        save(os.path.join(self.site["results"], "%s.json" % (prefix.rstrip("-") or "site")), document)
        for text in document["checks_failed"]:
            log("FAILED %s" % text)
        log("%d checks passed, %d failed; goals: %s" % (document["checks_passed"], len(document["checks_failed"]), ", ".join(
            "%s %s" % (name, "met" if goal["met"] else "MISSED") for name, goal in sorted(summary.goals.items()))))
        return 1 if document["checks_failed"] else 0


def selection(available: list[str], wanted: str | None) -> list[str]:
    """The tests to run, in the scenario's order; ValueError naming any unknown name."""
    if not wanted:
        return list(available)
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        raise ValueError("unknown test(s) %s; this scenario has: %s" % (", ".join(unknown) or "(none named)", ", ".join(available)))
    return [name for name in available if name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="the scenario's description (JSON, written by its side_effect.yml)")
    parser.add_argument("--tests", default=os.environ.get("KAIZEN_SITE_TESTS"), help="comma-separated subset (default: all; or $KAIZEN_SITE_TESTS)")
    args = parser.parse_args(argv)
    with open(args.site) as handle:
        site = json.load(handle)
    scenario = Scenario(site)
    unknown = [name for name in site["tests"] if name not in scenario.catalogue()]
    try:
        if unknown:
            raise ValueError("the scenario names tests that do not exist: %s" % ", ".join(unknown))
        selected = selection(site["tests"], args.tests)
    except ValueError as exc:
        print("scenario.py: %s" % exc, file=sys.stderr)
        return 2
    return scenario.run(selected)


if __name__ == "__main__":
    sys.exit(main())
