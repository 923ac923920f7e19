# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover, switchover and bad-input tests of the molecule scenario ``postgresql``.

Run by side_effect.yml on the lab machine, against the scenario's three containers only:

The day-2 operations run as a user runs them: through the CLI (``kaizen-hybrid failover``,
``switchover``, ``verify`` with ``--json``), which runs pg_failover.yml, pg_switchover.yml and
verify.yml.

1. Failover: a writer (libpq multi-host URL, target_session_attrs=read-write, synchronous
   replication on) inserts rows and records every commit the server acknowledged; the
   primary's container is killed (SIGKILL); ``kaizen-hybrid failover`` runs at once. Every
   acknowledged row must be on the new primary; the time from the kill to the writer's first
   successful commit is the RTO. The old primary is started again: its start guard must fence it
   (it comes up as a standby), and a second failover run rejoins it with pg_rewind.
2. Switchover back to the inventory's primary (``kaizen-hybrid switchover --to``) under the same
   writer: no acknowledged commit lost; the longest gap between two acknowledged commits is the
   write pause.
3. Bad input (an unknown setting name, a missing password, a replica with no primary): the
   postgresql playbook fails with a clear message and the running configuration and server
   are untouched.
4. Reconverge: the PostgreSQL tier (playbooks/postgresql.yml) once more on the established cluster.
5. Settings: a postmaster setting restarts every host, one at a time, replicas before the primary;
   a reloadable one is applied without any restart.
6. Refusals (run first, on the primary the role initialised): a failover while the primary runs,
   and a switchover to a replica whose replay is behind, are refused naming the cause, and
   nothing changes.
7. Verify: ``kaizen-hybrid verify`` passes on the healthy cluster; with PostgreSQL stopped on a
   replica it fails naming that host; once started again it passes.

Every loop is bounded in count and time. Figures go to .results/postgresql.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time

import psycopg

# The helpers the scenarios share (molecule/shared/scenario_lib.py); these scripts are not a package.
_SHARED = importlib.util.spec_from_file_location(
    "scenario_lib", os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "shared", "scenario_lib.py"))
scenario_lib = importlib.util.module_from_spec(_SHARED)
_SHARED.loader.exec_module(scenario_lib)

WRITER_MAX_SECONDS = 180
WRITER_MAX_ATTEMPTS = 20000
WRITER_INTERVAL = 0.02


def log(message: str) -> None:
    print("[scenario] %s" % message, flush=True)


class Writer(threading.Thread):
    """Inserts numbered rows, one transaction each, and records which commits were acknowledged."""

    def __init__(self, url: str, table: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.table = table
        self.stop_event = threading.Event()
        self.acked: list[tuple[int, float]] = []   # (id, monotonic time of the acknowledgement)
        self.in_doubt: list[int] = []               # commit sent, connection lost before the answer
        self.errors: list[tuple[float, str]] = []
        self.attempts = 0

    def run(self) -> None:
        started = time.monotonic()
        connection = None
        next_id = 1
        while not self.stop_event.is_set() and self.attempts < WRITER_MAX_ATTEMPTS and time.monotonic() - started < WRITER_MAX_SECONDS:
            self.attempts += 1
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(self.url, autocommit=False)
                row_id = next_id
                next_id += 1
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO %s (id) VALUES (%%s)" % self.table, (row_id,))
                try:
                    connection.commit()
                except psycopg.Error:
                    self.in_doubt.append(row_id)
                    raise
                self.acked.append((row_id, time.monotonic()))
            except psycopg.Error as exc:
                self.errors.append((time.monotonic(), str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__))
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        pass
                connection = None
                time.sleep(0.1)
                continue
            time.sleep(WRITER_INTERVAL)
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)

    def first_ack_after_outage(self, moment: float) -> float | None:
        """The first acknowledgement after the first error that follows ``moment`` (commits that were
        already on their way when the primary died do not end the outage)."""
        errors = [at for at, _text in self.errors if at > moment]
        return self.first_ack_after(errors[0] if errors else moment)

    def first_ack_after(self, moment: float) -> float | None:
        for _row, at in self.acked:
            if at > moment:
                return at
        return None

    def longest_gap(self, start: float, end: float) -> float:
        times = [at for _row, at in self.acked if start <= at <= end]
        if len(times) < 2:
            return end - start
        return max(later - earlier for earlier, later in zip(times, times[1:]))


def task_hosts(events: list[dict], task: str, kinds: tuple[str, ...] = ("task_changed",)) -> set[str]:
    """Hosts on which a task whose name contains ``task`` ended with one of ``kinds`` (CLI JSON events)."""
    return {event.get("host", "") for event in events if event.get("kind") in kinds and task in event.get("task", "")}


def task_lines(stdout: str, task: str, needle: str) -> list[str]:
    """Result lines of every run of the task named ``task`` (ansible default output) that contain ``needle``."""
    found = []
    inside = False
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            inside = task in line
            continue
        if inside and needle in line and line.split(":")[0] in ("ok", "changed", "fatal", "failed"):
            found.append(line)
    return found


class Scenario:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, object] = {}
        self.checks: list[str] = []
        self.failures: list[str] = []

    # helpers ------------------------------------------------------------------

    def check(self, ok: bool, what: str) -> None:
        (self.checks if ok else self.failures).append(what)
        log(("ok: " if ok else "FAILED: ") + what)

    def docker(self, *argv: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *argv], capture_output=True, text=True, check=check, timeout=timeout)

    def psql(self, host: str, sql: str, db: str = "postgres", timeout: int = 30) -> str | None:
        """Run SQL as postgres on a lab host over its local socket; None when the server does not answer."""
        result = self.docker("exec", host, "runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-w", "-d", db,
                             "-c", sql, check=False, timeout=timeout)
        return result.stdout.strip() if result.returncode == 0 else None

    def playbook(self, playbook: str, *extra: str, timeout: int = 900) -> tuple[subprocess.CompletedProcess, float]:
        argv = ["ansible-playbook", "-i", self.args.inventory, os.path.join(self.args.project, playbook), *extra]
        log("running " + " ".join(argv[1:]))
        started = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        elapsed = time.monotonic() - started
        log("%s: rc=%d in %.1f s" % (playbook, result.returncode, elapsed))
        with open(os.path.join(self.args.logs, "%s-%d.log" % (os.path.basename(playbook), int(time.time()))), "w") as handle:
            handle.write(result.stdout + "\n--- stderr ---\n" + result.stderr)
        return result, elapsed

    def cli(self, *argv: str, timeout: int = 900):
        return scenario_lib.run_cli(self.args.project, self.args.inventory, self.args.logs, argv, timeout, log)

    def primary(self) -> str | None:
        primaries = [host for host in self.args.hosts if self.psql(host, "SELECT pg_is_in_recovery()") == "f"]
        return primaries[0] if len(primaries) == 1 else None

    def wait_for(self, what: str, predicate, seconds: float, interval: float = 1.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        log("gave up waiting for " + what)
        return False

    def create_table(self, primary: str, table: str) -> None:
        # As the owner, so that the role's default privileges give the application role its rights.
        sql = "SET ROLE %s; DROP TABLE IF EXISTS %s; CREATE TABLE %s (id bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())" % (
            self.args.owner, table, table)
        if self.psql(primary, sql, db=self.args.dbname) is None:
            raise RuntimeError("could not create %s on %s" % (table, primary))

    def rows_on(self, host: str, table: str) -> set[int]:
        out = self.psql(host, "SELECT id FROM %s" % table, db=self.args.dbname, timeout=60)
        return {int(line) for line in (out or "").split()}

    def streaming_replicas(self, primary: str) -> list[str]:
        out = self.psql(primary, "SELECT application_name || ':' || sync_state FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")
        return (out or "").split()

    def replay_lags(self, primary: str) -> list[str]:
        out = self.psql(primary, "SELECT application_name || ':' || coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint "
                                 "FROM pg_stat_replication ORDER BY 1")
        return (out or "").split()

    # tests ----------------------------------------------------------------------

    def converge_time(self) -> None:
        self.results["converge_seconds"] = scenario_lib.converge_times(self.args.state)["converge_seconds"]

    def failover(self) -> None:
        old = self.primary()
        self.check(old == self.args.hosts[0], "the inventory's primary %s is the primary before the failover (found %s)" % (self.args.hosts[0], old))
        if old is None:
            return
        self.create_table(old, "failover_test")
        writer = Writer(self.args.url, "failover_test")
        writer.start()
        self.wait_for("the writer's first commits", lambda: len(writer.acked) >= 50, 30, 0.2)
        killed_at = time.monotonic()
        self.docker("kill", old)
        log("killed %s" % old)
        run = self.cli("failover")
        self.results["failover_playbook_seconds"] = round(run.elapsed, 1)
        self.check(run.returncode == 0, "kaizen-hybrid failover promoted a replica (exit %d: %s)" % (run.returncode, scenario_lib.failure_text(run.events)))
        self.wait_for("a commit on the new primary", lambda: writer.first_ack_after_outage(killed_at) is not None, 60, 0.2)
        time.sleep(3)   # keep writing on the new primary
        writer.stop()
        first = writer.first_ack_after_outage(killed_at)
        self.results["failover_rto_seconds"] = round(first - killed_at, 2) if first else None
        errors = [at for at, _text in writer.errors if at > killed_at]
        self.results["failover_first_error_after_kill_seconds"] = round(errors[0] - killed_at, 2) if errors else None
        new = self.primary()
        self.check(new is not None and new != old, "a new primary runs: %s" % new)
        if new is None:
            return
        acked = {row for row, _at in writer.acked}
        present = self.rows_on(new, "failover_test") if new else set()
        lost = sorted(acked - present)
        self.results["acknowledged_commits"] = len(acked)
        self.results["lost_commits"] = len(lost)
        self.results["failover_in_doubt_commits"] = len(writer.in_doubt)
        self.results["failover_writer_errors"] = len(writer.errors)
        self.check(not lost, "every acknowledged commit (%d) is on the new primary; lost: %s" % (len(acked), lost[:10]))
        self.check(len(self.streaming_replicas(new)) >= 1 if new else False,
                   "the other replica streams from %s: %s" % (new, self.streaming_replicas(new) if new else []))

        # The old primary comes back: the start guard fences it (standby, read-only).
        self.docker("start", old)
        self.wait_for("%s to boot" % old, lambda: self.docker("exec", old, "systemctl", "is-system-running", check=False).stdout.strip()
                      in ("running", "degraded"), 90)
        self.wait_for("%s's server" % old, lambda: self.psql(old, "SELECT 1") == "1", 60)
        fenced = self.psql(old, "SELECT pg_is_in_recovery()") == "t"
        self.results["old_primary_fenced_on_return"] = fenced
        self.check(fenced, "the old primary %s came back as a standby (fenced), not as a second primary" % old)
        run = self.cli("failover")
        self.results["rejoin_seconds"] = round(run.elapsed, 1)
        rejoined = self.wait_for("%s streaming" % old, lambda: any(item.startswith(self.slot(old) + ":") for item in self.streaming_replicas(new)), 60)
        self.check(run.returncode == 0 and rejoined, "a second failover run rejoined %s as a replica (exit %d)" % (old, run.returncode))
        # An old primary whose WAL the new one has can simply follow it; one that wrote WAL the new
        # primary never got is rewound; a clone is the last resort.
        cloned = bool(task_hosts(run.events, "Copy the primary's data"))
        rewound = old in task_hosts(run.events, "Rewind from the primary", ("task_changed", "task_ok"))
        self.results["rejoin_method"] = "clone" if cloned else ("pg_rewind" if rewound else "followed the new timeline")
        self.check(not cloned, "%s rejoined without a clone (%s)" % (old, self.results["rejoin_method"]))
        rows_after = self.rows_on(old, "failover_test")
        self.check(acked <= rows_after, "the rejoined %s has every acknowledged row" % old)
        self.results["failover_new_primary"] = new

    def switchover(self) -> None:
        old = self.primary()
        target = self.args.hosts[0]
        if old is None or old == target:
            self.check(False, "switchover test needs a primary other than %s (found %s)" % (target, old))
            return
        self.wait_for("%s streaming" % target, lambda: any(item.startswith(self.slot(target) + ":") for item in self.streaming_replicas(old)), 60)
        self.create_table(old, "switchover_test")
        writer = Writer(self.args.url, "switchover_test")
        writer.start()
        self.wait_for("the writer's first commits", lambda: len(writer.acked) >= 50, 30, 0.2)
        started = time.monotonic()
        run = self.cli("switchover", "--to", target)
        ended = time.monotonic()
        self.results["switchover_playbook_seconds"] = round(run.elapsed, 1)
        self.check(run.returncode == 0, "kaizen-hybrid switchover %s -> %s (exit %d: %s)" % (
            old, target, run.returncode, scenario_lib.failure_text(run.events)))
        self.wait_for("a commit on the new primary", lambda: writer.first_ack_after(ended) is not None, 30, 0.2)
        writer.stop()
        self.results["switchover_write_pause_seconds"] = round(writer.longest_gap(started, time.monotonic()), 2)
        new = self.primary()
        self.check(new == target, "%s is the primary after the switchover (found %s)" % (target, new))
        acked = {row for row, _at in writer.acked}
        lost = sorted(acked - (self.rows_on(new, "switchover_test") if new else set()))
        self.results["switchover_acknowledged_commits"] = len(acked)
        self.results["switchover_lost_commits"] = len(lost)
        self.check(not lost, "every acknowledged commit (%d) of the switchover is on %s; lost: %s" % (len(acked), new, lost[:10]))
        self.check(self.wait_for("both replicas", lambda: len(self.streaming_replicas(target)) == len(self.args.hosts) - 1, 90),
                   "after the switchover %s streams to %s" % (target, self.streaming_replicas(target)))
        self.check(old in task_hosts(run.events, "Rewind from the primary", ("task_changed", "task_ok")),
                   "the old primary %s rejoined through pg_rewind" % old)
        self.check(not task_hosts(run.events, "Copy the primary's data"), "no host was cloned during the switchover")

    def bad_input(self) -> None:
        primary = self.primary()
        if primary is None:
            self.check(False, "bad-input tests need a primary")
            return
        conf = "/etc/postgresql/15/main/postgresql.conf"

        def fingerprint() -> tuple[str, str]:
            digest = self.docker("exec", primary, "sha256sum", conf).stdout.split()[0]
            return digest, self.psql(primary, "SELECT pg_postmaster_start_time()") or ""

        cases = [
            ("unknown setting name", ["-e", json.dumps({"postgresql_settings": {"shared_bufers": "64MB"}})],
             "unknown setting 'shared_bufers' (did you mean shared_buffers?)"),
            ("missing password", ["-e", json.dumps({"postgresql_app_user_password": ""})],
             "required password(s) missing or still a CHANGE_ME placeholder: postgresql_app_user_password"),
            ("replica with no primary", ["-e", "postgres_role=replica"], "no PostgreSQL primary"),
        ]
        outcome = {}
        for name, extra, expected in cases:
            before = fingerprint()
            result, elapsed = self.playbook("playbooks/postgresql.yml", *extra)
            after = fingerprint()
            text = result.stdout + result.stderr
            ok = result.returncode != 0 and expected in " ".join(text.split()) and before == after
            outcome[name] = {"refused": result.returncode != 0, "message_found": expected in " ".join(text.split()),
                             "unchanged": before == after, "seconds": round(elapsed, 1)}
            self.check(ok, "bad input (%s): refused with %r, configuration and server untouched" % (name, expected))
        self.results["bad_input"] = outcome

    def reconverge(self) -> None:
        # The PostgreSQL tier as site.yml runs it, on the cluster the tests left.
        result, elapsed = self.playbook("playbooks/postgresql.yml")
        self.results["reconverge_seconds"] = round(elapsed, 1)
        recap = [line for line in result.stdout.splitlines() if line.startswith("kaizen-mol-pg-")]
        changed = sum(int(part.split("=")[1]) for line in recap for part in line.split() if part.startswith("changed="))
        self.results["reconverge_changed_tasks"] = changed
        self.check(result.returncode == 0, "the PostgreSQL tier converges again on the established cluster (rc %d, changed=%d)" % (
            result.returncode, changed))
        self.check(not task_lines(result.stdout, "Copy the primary's data", "changed:"), "no replica was cloned again")

    def settings_change(self) -> None:
        """A postmaster setting restarts every host, replicas first; a reloadable one restarts none."""
        primary = self.primary()
        if primary is None:
            self.check(False, "settings tests need a primary")
            return
        replicas = [host for host in self.args.hosts if host != primary]

        def started() -> dict[str, float]:
            return {host: float(self.psql(host, "SELECT extract(epoch FROM pg_postmaster_start_time())") or 0) for host in self.args.hosts}

        def shown(name: str) -> set[str]:
            return {self.psql(host, "SHOW %s" % name) or "" for host in self.args.hosts}

        before = started()
        restart = {"postgresql_settings": {"max_connections": 120, "log_min_duration_statement": "250ms"}}
        result, elapsed = self.playbook("playbooks/postgresql.yml", "-e", json.dumps(restart))
        after = started()
        self.results["settings_restart_seconds"] = round(elapsed, 1)
        self.check(result.returncode == 0 and shown("max_connections") == {"120"} and shown("log_min_duration_statement") == {"250ms"},
                   "a postmaster setting (max_connections) is applied on every host (rc %d)" % result.returncode)
        self.check(all(after[host] > before[host] for host in self.args.hosts), "every host restarted for it")
        self.check(all(after[primary] > after[host] for host in replicas),
                   "the replicas restarted before the primary (%s)" % ", ".join(
                       "%s +%.1fs" % (host, after[host] - min(after.values())) for host in self.args.hosts))
        self.check(self.wait_for("both replicas", lambda: len(self.streaming_replicas(primary)) == len(replicas), 60),
                   "the replicas stream again after the rolling restart")

        before = after
        reload_only = {"postgresql_settings": {"max_connections": 120, "log_min_duration_statement": "500ms"}}
        result, elapsed = self.playbook("playbooks/postgresql.yml", "-e", json.dumps(reload_only))
        after = started()
        self.results["settings_reload_seconds"] = round(elapsed, 1)
        self.check(result.returncode == 0 and shown("log_min_duration_statement") == {"500ms"},
                   "a reloadable setting (log_min_duration_statement) is applied on every host (rc %d)" % result.returncode)
        self.check(after == before, "no host restarted for it")

    def refusals(self) -> None:
        """Unsafe requests are refused with their cause, and nothing changes."""
        primary = self.primary()
        if primary is None:
            self.check(False, "refusal tests need a primary")
            return
        replica = next(host for host in self.args.hosts if host != primary)

        def started() -> dict[str, str | None]:
            return {host: self.psql(host, "SELECT pg_postmaster_start_time()") for host in self.args.hosts}

        before = started()
        run = self.cli("failover")
        text = scenario_lib.failure_text(run.events)
        self.results["refused_failover_exit"] = run.returncode
        self.check(run.returncode == 1 and "%s is reachable and accepts writes" % primary in text and "Nothing was changed" in text,
                   "a failover while %s runs is refused naming it (exit %d: %s)" % (primary, run.returncode, text[:200]))
        self.check(self.primary() == primary and started() == before, "after the refused failover %s is still the primary, no server restarted" % primary)

        # Replay paused on the replica while the primary writes: it is behind by some WAL.
        self.psql(replica, "SELECT pg_wal_replay_pause()")
        try:
            self.create_table(primary, "refusal_test")
            self.psql(primary, "INSERT INTO refusal_test SELECT g FROM generate_series(1, 2000) AS g", db=self.args.dbname)
            self.wait_for("replay lag on %s" % replica, lambda: any(
                item.startswith(self.slot(replica) + ":") and int(item.rsplit(":", 1)[1] or 0) > 0
                for item in self.replay_lags(primary)), 30)
            run = self.cli("switchover", "--to", replica, "--max-lag-bytes", "0")
            text = scenario_lib.failure_text(run.events)
            self.check(run.returncode == 1 and "Switchover to %s refused: %s lags the primary" % (replica, self.slot(replica)) in text
                       and "Nothing was changed" in text,
                       "a switchover to the lagging %s is refused naming the lag (exit %d: %s)" % (replica, run.returncode, text[:200]))
            self.check(self.primary() == primary and started() == before, "after the refused switchover nothing changed")
        finally:
            self.psql(replica, "SELECT pg_wal_replay_resume()")

    def verify(self) -> None:
        """kaizen-hybrid verify: passes on the healthy cluster, names a stopped replica."""
        primary = self.primary()
        replica = next((host for host in self.args.hosts if host != primary), None)
        if primary is None or replica is None:
            self.check(False, "verify tests need a primary and a replica")
            return
        self.wait_for("both replicas", lambda: len(self.streaming_replicas(primary)) == len(self.args.hosts) - 1, 60)
        run = self.cli("verify", "--tags", "postgresql")
        self.results["verify_seconds"] = round(run.elapsed, 1)
        self.check(run.returncode == 0, "kaizen-hybrid verify passes on the healthy cluster (exit %d: %s)" % (
            run.returncode, scenario_lib.failure_text(run.events)))
        self.docker("exec", replica, "systemctl", "stop", "postgresql")
        try:
            run = self.cli("verify", "--tags", "postgresql")
            text = scenario_lib.failure_text(run.events)
            self.check(run.returncode == 1 and "%s: PostgreSQL is not running" % replica in text,
                       "verify fails naming the stopped replica %s (exit %d: %s)" % (replica, run.returncode, text[:300]))
        finally:
            self.docker("exec", replica, "systemctl", "start", "postgresql")
        self.wait_for("%s streaming again" % replica, lambda: len(self.streaming_replicas(primary)) == len(self.args.hosts) - 1, 60)
        run = self.cli("verify", "--tags", "postgresql")
        self.check(run.returncode == 0, "verify passes again once %s runs (exit %d)" % (replica, run.returncode))

    def slot(self, host: str) -> str:
        return host.replace("-", "_").lower()

    def run(self) -> int:
        started = time.monotonic()
        self.converge_time()
        selected = [name.strip() for name in self.args.tests.split(",")]
        # Refusals first: a primary promoted by a failover or switchover is one a later failover run
        # converges on (it only rejoins the others), so "the primary still runs" needs the first one.
        for test in (self.refusals, self.failover, self.switchover, self.bad_input, self.reconverge, self.settings_change, self.verify):
            if test.__name__ not in selected:
                continue
            try:
                test()
            except Exception as exc:  # record and go on: the figures of the others still count
                self.check(False, "%s raised %s: %s" % (test.__name__, type(exc).__name__, exc))
        self.results["scenario_seconds"] = round(time.monotonic() - started, 1)
        self.results["goals"] = {
            "lost_commits_0": self.results.get("lost_commits") == 0 and self.results.get("switchover_lost_commits") == 0,
            "failover_rto_le_15s": (self.results.get("failover_rto_seconds") or 1e9) <= 15,
            "switchover_pause_le_5s": (self.results.get("switchover_write_pause_seconds") or 1e9) <= 5,
        }
        self.results["checks_passed"] = len(self.checks)
        self.results["checks_failed"] = self.failures
        scenario_lib.save_results(self.args.results, self.results, log)
        return 1 if self.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--project", required=True, help="the collection checkout")
    parser.add_argument("--state", required=True, help="molecule's ephemeral directory")
    parser.add_argument("--logs", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--url", required=True, help="libpq multi-host URL of the application role (read-write)")
    parser.add_argument("--dbname", default="kaizen")
    parser.add_argument("--owner", default="kaizen_owner")
    parser.add_argument("hosts", nargs="+", help="the PostgreSQL hosts, the inventory's primary first")
    parser.add_argument("--password-file", required=True, help="the application role's password")
    parser.add_argument("--tests", default=os.environ.get("KAIZEN_PG_TESTS", "refusals,failover,switchover,bad_input,reconverge,settings_change,verify"),
                        help="comma-separated subset (default: all, or $KAIZEN_PG_TESTS)")
    args = parser.parse_args()
    with open(args.password_file) as handle:
        os.environ["PGPASSWORD"] = handle.read().strip()
    os.makedirs(args.logs, exist_ok=True)
    return Scenario(args).run()


if __name__ == "__main__":
    sys.exit(main())
