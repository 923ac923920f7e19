# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL tier's day-2 tests, driven as an operator drives them: ``kaizen-hybrid failover``,
``switchover`` and ``verify``, and the tier's playbook.

A writer on the lab machine (libpq multi-host URL, ``target_session_attrs=read-write``, synchronous
replication) inserts one row per transaction and records every acknowledged commit. Goals, each a
failing check with its figure written first: at least 50 acknowledged commits before each kill or
switchover, none lost; writes again within 15 s of the primary's kill (with the failover command run at
once); a write pause of at most 5 s during a switchover, measured to the end of the window (a pause
that never ends fails); a converge after all that changes nothing.
"""

from __future__ import annotations

import json
import typing as t

from labtest.runs import HOST_FAILED, failure_text, task_hosts
from labtest.writers import PgInserts, Writer, interrupted

MIN_ACKS = 50
FAILOVER_RTO_SECONDS = 15
SWITCHOVER_PAUSE_SECONDS = 5
SETTLE_SECONDS = 3
# The lab's PostgreSQL 15 cluster "main": its own unit, and Patroni's once the cluster is handed over.
POSTGRESQL_UNIT = "postgresql@15-main"
PATRONI_UNIT = "patroni@15-main"
# Run with python3 on a lab host: does the server at ADDRESS:PORT let USER into DATABASE from this host as far as
# pg_hba.conf goes? A TLS startup as libpq sends it; prints "admitted" when the server asks for a password (a rule
# matched), "refused" when it answers "no pg_hba.conf entry", else what it said.
HBA_PROBE = r"""
import socket, ssl, struct, sys
address, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sock = socket.create_connection((address, port), timeout=10)
sock.sendall(struct.pack("!ii", 8, 80877103))
if sock.recv(1) != b"S":
    sys.exit("no TLS")
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
tls = context.wrap_socket(sock)
body = struct.pack("!i", 196608) + b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
tls.sendall(struct.pack("!i", len(body) + 4) + body)
kind = tls.recv(1)
answer = tls.recv(4096).decode("utf-8", "replace")
print("admitted" if kind == b"R" else "refused" if "pg_hba.conf" in answer else "answered %r %r" % (kind, answer[:200]))
"""

# As an operator changes a setting: the role's configure and service steps (README, tags), not the install.
SETTINGS_TAGS = ("--tags", "postgresql_configure,postgresql_patroni,postgresql_service")


class PostgresTests:
    """``hosts``: the PostgreSQL hosts, the inventory's primary first."""

    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, runner: t.Any, lab: t.Any) -> None:
        self.hosts: list[str] = list(settings["hosts"])
        self.url: str = settings["url"]
        self.dbname: str = settings.get("dbname", "kaizen")
        self.owner: str = settings.get("owner", "kaizen_owner")
        with open(settings["password_file"]) as handle:
            self.password = handle.read().strip()
        self.addresses: dict[str, str] = dict(settings.get("addresses") or {})
        self.port = int(settings.get("port", 5432))
        self.report, self.runner, self.lab = report, runner, lab

    # helpers ------------------------------------------------------------------

    def psql(self, host: str, sql: str, db: str = "postgres", timeout: int = 30) -> str | None:
        return self.lab.psql(host, sql, db=db, timeout=timeout)

    def hba_answer(self, client: str, member: str, user: str = "kaizen_app") -> str:
        """What ``member``'s server, by the rules it has loaded, answers a connection of ``user`` from the host
        ``client``: ``admitted`` (it asks for the password), ``refused`` (no pg_hba.conf entry), else what happened."""
        result = self.lab.exec(client, "python3", "-", self.addresses[member], str(self.port), user, self.dbname, stdin=HBA_PROBE, timeout=30)
        return (result.stdout.strip() or result.stderr.strip() or "no answer").splitlines()[-1][-200:]

    def in_recovery(self) -> dict[str, str | None]:
        """Each host's answer to pg_is_in_recovery() (None: no answer)."""
        return {host: self.psql(host, "SELECT pg_is_in_recovery()") for host in self.hosts}

    def primary(self) -> str | None:
        primaries = [host for host, answer in self.in_recovery().items() if answer == "f"]
        return primaries[0] if len(primaries) == 1 else None

    @staticmethod
    def slot(host: str) -> str:
        return host.replace("-", "_").lower()

    def create_table(self, primary: str, table: str) -> None:
        # As the owner, so that the role's default privileges give the application role its rights.
        sql = "SET ROLE %s; DROP TABLE IF EXISTS %s; CREATE TABLE %s (id bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())" % (
            self.owner, table, table)
        if self.psql(primary, sql, db=self.dbname) is None:
            raise RuntimeError("could not create %s on %s" % (table, primary))

    def rows_on(self, host: str, table: str) -> set[int]:
        out = self.psql(host, "SELECT id FROM %s" % table, db=self.dbname, timeout=60)
        return {int(line) for line in (out or "").split()}

    def streaming(self, primary: str) -> list[str]:
        out = self.psql(primary, "SELECT application_name || ':' || sync_state FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")
        return (out or "").split()

    def all_streaming(self, primary: str, seconds: float = 90) -> bool:
        return self.lab.wait_for("every replica streaming from %s" % primary, lambda: len(self.streaming(primary)) == len(self.hosts) - 1, seconds)

    def replay_lags(self, primary: str) -> list[str]:
        out = self.psql(primary, "SELECT application_name || ':' || coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint "
                                 "FROM pg_stat_replication ORDER BY 1")
        return (out or "").split()

    def start_writer(self, table: str, name: str, url: str | None = None) -> Writer:
        """A writer into ``table`` through ``url`` (default: the multi-host URL), once it has ``MIN_ACKS`` commits
        acknowledged (a goal under ``<name>_acknowledged_before``)."""
        writer = Writer(PgInserts(url or self.url, table, self.password))
        writer.start()
        acked = writer.wait_for_acks(MIN_ACKS, 30)
        self.report.goal("%s_acknowledged_before" % name, len(writer.acked), MIN_ACKS,
                         "commits the writer had acknowledged before the %s" % name, at_least=True)
        if not acked:
            self.report.figure("%s_writer_errors_before" % name, [text for _at, text in writer.errors[:5]])
        return writer

    def lost(self, writer: Writer, host: str | None, table: str) -> list[int]:
        present = self.rows_on(host, table) if host else set()
        return sorted(set(writer.acked) - present)

    # tests ----------------------------------------------------------------------

    def refusals(self) -> None:
        """Unsafe requests are refused with their cause, and nothing changes (run first, on the primary the role made)."""
        primary = self.primary()
        if not self.report.check(primary is not None, "refusal tests: one primary runs (%s)" % primary):
            return
        replica = next(host for host in self.hosts if host != primary)

        def started() -> dict[str, str | None]:
            return {host: self.psql(host, "SELECT pg_postmaster_start_time()") for host in self.hosts}

        before = started()
        run = self.runner.cli("failover")
        text = failure_text(run.events)
        self.report.figure("refused_failover_exit", run.returncode)
        self.report.check(run.returncode == HOST_FAILED and "%s is reachable and accepts writes" % primary in text and "Nothing was changed" in text,
                          "a failover while %s runs is refused naming it (exit %d: %s)" % (primary, run.returncode, text[:200]))
        self.report.check(self.primary() == primary and started() == before,
                          "after the refused failover %s is still the primary, no server restarted" % primary)

        # Replay paused on the replica while the primary writes: it is behind by some WAL.
        self.psql(replica, "SELECT pg_wal_replay_pause()")
        try:
            self.create_table(primary, "refusal_test")
            self.psql(primary, "INSERT INTO refusal_test SELECT g FROM generate_series(1, 2000) AS g", db=self.dbname)
            self.lab.wait_for("replay lag on %s" % replica, lambda: any(
                item.startswith(self.slot(replica) + ":") and int(item.rsplit(":", 1)[1] or 0) > 0 for item in self.replay_lags(primary)), 30)
            run = self.runner.cli("switchover", "--to", replica, "--max-lag-bytes", "0")
            text = failure_text(run.events)
            self.report.check(run.returncode == HOST_FAILED and "Switchover to %s refused: %s lags the primary" % (replica, self.slot(replica)) in text
                              and "Nothing was changed" in text,
                              "a switchover to the lagging %s is refused naming the lag (exit %d: %s)" % (replica, run.returncode, text[:200]))
            self.report.check(self.primary() == primary and started() == before, "after the refused switchover nothing changed")
        finally:
            self.psql(replica, "SELECT pg_wal_replay_resume()")

    def failover(self) -> None:
        """The primary's host is killed under write load; ``kaizen-hybrid failover`` runs at once."""
        old = self.primary()
        if not self.report.check(old == self.hosts[0], "the inventory's primary %s is the primary before the failover (found %s)" % (self.hosts[0], old)):
            return
        self.create_table(old, "failover_test")
        writer = self.start_writer("failover_test", "failover")
        runs = []

        def kill_and_fail_over() -> float:
            at = self.lab.kill(old)
            runs.append(self.runner.cli("failover"))
            return at

        killed_at, recovered = interrupted(writer, kill_and_fail_over, 60, SETTLE_SECONDS)
        if runs:
            self.report.figure("failover_playbook_seconds", round(runs[0].elapsed, 1))
            self.report.check(runs[0].returncode == 0, "kaizen-hybrid failover promoted a replica (exit %d: %s)" % (
                runs[0].returncode, failure_text(runs[0].events)))
        self.report.goal("failover_rto_seconds", round(recovered - killed_at, 2) if recovered else None, FAILOVER_RTO_SECONDS,
                         "seconds from the kill to the first acknowledged write on the new primary")
        errors = [at for at, _text in writer.errors if at > killed_at]
        self.report.figure("failover_first_error_after_kill_seconds", round(errors[0] - killed_at, 2) if errors else None)
        new = self.primary()
        self.report.check(new is not None and new != old, "a new primary runs: %s" % new)
        lost = self.lost(writer, new, "failover_test")
        self.report.figure("acknowledged_commits", len(writer.acked))
        self.report.figure("failover_in_doubt_commits", len(writer.in_doubt))
        self.report.figure("failover_writer_errors", len(writer.errors))
        self.report.goal("lost_commits", len(lost), 0, "acknowledged commits missing on the new primary %s (%s)" % (new, lost[:10]))
        if new is None:
            return
        self.report.check(len(self.streaming(new)) >= 1, "the other replica streams from %s: %s" % (new, self.streaming(new)))

        # The old primary comes back: the start guard fences it (standby, read-only).
        self.lab.start(old)
        self.lab.wait_for("%s's server" % old, lambda: self.psql(old, "SELECT 1") == "1", 60)
        fenced = self.psql(old, "SELECT pg_is_in_recovery()") == "t"
        self.report.figure("old_primary_fenced_on_return", fenced)
        self.report.check(fenced, "the old primary %s came back as a standby (fenced), not as a second primary" % old)
        run = self.runner.cli("failover")
        self.report.figure("rejoin_seconds", round(run.elapsed, 1))
        rejoined = self.lab.wait_for("%s streaming" % old, lambda: any(item.startswith(self.slot(old) + ":") for item in self.streaming(new)), 60)
        self.report.check(run.returncode == 0 and rejoined, "a second failover run rejoined %s as a replica (exit %d)" % (old, run.returncode))
        # An old primary whose WAL the new one has can simply follow it; one that wrote WAL the new
        # primary never got is rewound; a clone is the last resort.
        cloned = bool(task_hosts(run.events, "Copy the primary's data"))
        rewound = old in task_hosts(run.events, "Rewind from the primary", ("task_changed", "task_ok"))
        method = self.report.figure("rejoin_method", "clone" if cloned else ("pg_rewind" if rewound else "followed the new timeline"))
        self.report.check(not cloned, "%s rejoined without a clone (%s)" % (old, method))
        self.report.check(set(writer.acked) <= self.rows_on(old, "failover_test"), "the rejoined %s has every acknowledged row" % old)
        self.report.figure("failover_new_primary", new)

    def switchover(self) -> None:
        """Back to the inventory's primary with ``kaizen-hybrid switchover --to`` under the same writer."""
        old = self.primary()
        target = self.hosts[0]
        if not self.report.check(old is not None and old != target, "switchover: a primary other than %s runs (found %s)" % (target, old)):
            return
        self.lab.wait_for("%s streaming" % target, lambda: any(item.startswith(self.slot(target) + ":") for item in self.streaming(old)), 60)
        self.create_table(old, "switchover_test")
        writer = self.start_writer("switchover_test", "switchover")
        try:
            started = writer.clock()
            run = self.runner.cli("switchover", "--to", target)
            ended = writer.clock()
            self.report.figure("switchover_playbook_seconds", round(run.elapsed, 1))
            self.report.check(run.returncode == 0, "kaizen-hybrid switchover %s -> %s (exit %d: %s)" % (
                old, target, run.returncode, failure_text(run.events)))
            writer.wait_for_recovery(ended, SETTLE_SECONDS, 30)
            window_end = writer.clock()
        finally:
            writer.stop()
        # Measured up to the end of the window: a pause that has not ended by then counts in full.
        self.report.goal("switchover_write_pause_seconds", round(writer.timeline.longest_pause(started, window_end), 2),
                         SWITCHOVER_PAUSE_SECONDS, "longest time without an acknowledged commit during the switchover")
        new = self.primary()
        self.report.check(new == target, "%s is the primary after the switchover (found %s)" % (target, new))
        lost = self.lost(writer, new, "switchover_test")
        self.report.figure("switchover_acknowledged_commits", len(writer.acked))
        self.report.goal("switchover_lost_commits", len(lost), 0, "acknowledged commits of the switchover missing on %s (%s)" % (new, lost[:10]))
        self.report.check(self.all_streaming(target), "after the switchover %s streams to %s" % (target, self.streaming(target)))
        self.report.check(old in task_hosts(run.events, "Rewind from the primary", ("task_changed", "task_ok")),
                          "the old primary %s rejoined through pg_rewind" % old)
        self.report.check(not task_hosts(run.events, "Copy the primary's data"), "no host was cloned during the switchover")

    def bad_input(self) -> None:
        """The tier's playbook refuses bad input with a clear message; the configuration and server stay as they were."""
        primary = self.primary()
        if not self.report.check(primary is not None, "bad-input tests: one primary runs (%s)" % primary):
            return
        conf = "/etc/postgresql/15/main/postgresql.conf"

        def fingerprint() -> tuple[str, str]:
            return self.lab.sha256(primary, conf), self.psql(primary, "SELECT pg_postmaster_start_time()") or ""

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
            run = self.runner.playbook("playbooks/postgresql.yml", *extra)
            unchanged = before == fingerprint()
            outcome[name] = {"refused": run.returncode != 0, "message_found": expected in run.text, "unchanged": unchanged,
                             "seconds": round(run.elapsed, 1)}
            self.report.check(run.returncode != 0 and expected in run.text and unchanged,
                              "bad input (%s): refused with %r, configuration and server untouched" % (name, expected))
        self.report.figure("bad_input", outcome)

    def start_times(self) -> dict[str, float]:
        """Each host's postmaster start time (epoch seconds; 0 when the server does not answer)."""
        return {host: float(self.psql(host, "SELECT extract(epoch FROM pg_postmaster_start_time())") or 0) for host in self.hosts}

    def shown(self, name: str) -> set[str]:
        """The values of a setting across the hosts."""
        return {self.psql(host, "SHOW %s" % name) or "" for host in self.hosts}

    def patroni_runs(self, host: str) -> bool:
        """Whether Patroni runs PostgreSQL on ``host`` (after ``pg_patroni_convert``)."""
        return self.lab.service(host, "is-active", PATRONI_UNIT)

    def restarts(self, before: dict[str, float], after: dict[str, float], primary: str, primary_first: bool, why: str) -> None:
        """Every host restarted between the two readings, one at a time: the replicas before the primary, or after it."""
        replicas = [host for host in self.hosts if host != primary]
        self.report.check(all(after[host] > before[host] for host in self.hosts), "every host restarted for %s" % why)
        order = "+".join("%s %.1fs" % (host, after[host] - min(after.values())) for host in self.hosts)
        if primary_first:
            self.report.check(all(after[primary] < after[host] for host in replicas), "the primary restarted first for %s (%s)" % (why, order))
        else:
            self.report.check(all(after[primary] > after[host] for host in replicas), "the replicas restarted before the primary for %s (%s)" % (
                why, order))

    def settings_change(self) -> None:
        """A postmaster setting restarts every host, replicas first; a reloadable one restarts none."""
        self.settings_restart()
        self.settings_reload()

    def settings_restart(self) -> None:
        """A postmaster setting (max_connections) restarts every host, replicas first."""
        primary = self.primary()
        if not self.report.check(primary is not None, "settings tests: one primary runs (%s)" % primary):
            return
        before = self.start_times()
        run = self.runner.playbook("playbooks/postgresql.yml", *SETTINGS_TAGS, "-e", json.dumps(
            {"postgresql_settings": {"max_connections": 120, "log_min_duration_statement": "250ms"}}))
        after = self.start_times()
        self.report.figure("settings_restart_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0 and self.shown("max_connections") == {"120"} and self.shown("log_min_duration_statement") == {"250ms"},
                          "a postmaster setting (max_connections) is applied on every host (rc %d)" % run.returncode)
        self.restarts(before, after, primary, False, "max_connections")
        self.report.check(self.all_streaming(primary, 60), "the replicas stream again after the rolling restart")

    def settings_reload(self) -> None:
        """A reloadable setting (log_min_duration_statement) is applied on every host, and no host restarts for it."""
        before = self.start_times()
        # max_connections as the hosts run it now (settings_restart may have raised it), so that only the reloadable setting changes.
        running = {"max_connections": int(value) for value in self.shown("max_connections") if value.isdigit()}
        run = self.runner.playbook("playbooks/postgresql.yml", *SETTINGS_TAGS, "-e", json.dumps(
            {"postgresql_settings": dict(running, log_min_duration_statement="500ms")}))
        self.report.figure("settings_reload_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0 and self.shown("log_min_duration_statement") == {"500ms"},
                          "a reloadable setting (log_min_duration_statement) is applied on every host (rc %d)" % run.returncode)
        self.report.check(self.start_times() == before, "no host restarted for it")

    def verify(self) -> None:
        """``kaizen-hybrid verify``: passes on the healthy cluster, names a stopped replica, passes again."""
        primary = self.primary()
        replica = next((host for host in self.hosts if host != primary), None)
        if not self.report.check(primary is not None and replica is not None, "verify tests: a primary (%s) and a replica" % primary):
            return
        self.all_streaming(primary, 60)
        run = self.runner.cli("verify", "--tags", "postgresql")
        self.report.figure("verify_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0, "kaizen-hybrid verify passes on the healthy cluster (exit %d: %s)" % (
            run.returncode, failure_text(run.events)))
        self.lab.service(replica, "stop", "postgresql")
        try:
            run = self.runner.cli("verify", "--tags", "postgresql")
            text = failure_text(run.events)
            self.report.check(run.returncode == HOST_FAILED and "%s: PostgreSQL is not running" % replica in text,
                              "verify fails naming the stopped replica %s (exit %d: %s)" % (replica, run.returncode, text[:300]))
        finally:
            self.lab.service(replica, "start", "postgresql")
        self.all_streaming(primary, 60)
        run = self.runner.cli("verify", "--tags", "postgresql")
        self.report.check(run.returncode == 0, "verify passes again once %s runs (exit %d)" % (replica, run.returncode))
