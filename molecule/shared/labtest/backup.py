# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup tier's day-2 tests, driven as an operator drives them: ``kaizen-hybrid backup``, ``drill`` and ``verify``,
and the units the timers start.

What a user would notice: the converge left a full backup and running timers; a backup taken now appears in
the repository and in Prometheus; the repository holds no plaintext (a marker written into the app database,
found by grep in the server's own files, is not found in any file of the repository); a restore drill under
write load through the load balancer restores the newest backup and finds every row count equal, with no
failed request (a goal); the Redis snapshot and the logical dump are kept encrypted (and the dump holds the
app's rows); after a switchover and a failover, WAL from the new primary reaches the repository and a backup
is taken from it.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
import typing as t

from labtest.postgresql import PATRONI_UNIT, POSTGRESQL_UNIT
from labtest.runs import failure_text


# Opens an encrypted copy (a Redis snapshot, a logical dump) on the backup host, to standard output.
OPEN = "openssl enc -d -aes-256-cbc -pbkdf2 -pass file:/etc/kaizen/backup/passphrase"

# Run on the object store's host (molecule/shared/s3.yml) with the server's own boto3: every object under the
# repository's prefix read whole; prints how many there are, those holding the marker, and the first bytes of the
# stanza's backup.info. Arguments: endpoint, CA file, bucket, prefix, key, marker, stanza.
S3_SCAN = """
import json, sys
import boto3
endpoint, ca, bucket, prefix, key, marker, stanza = sys.argv[1:8]
client = boto3.client("s3", endpoint_url=endpoint, verify=ca, aws_access_key_id=key, aws_secret_access_key="unused",
                      region_name="us-east-1")
found, count, head = [], 0, ""
for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.strip("/") + "/"):
    for item in page.get("Contents", []):
        count += 1
        body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        if marker.encode() in body:
            found.append(item["Key"])
        if item["Key"].endswith("/backup/%s/backup.info" % stanza):
            head = body[:8].decode("latin-1")
print(json.dumps({"objects": count, "with_marker": found, "backup_info_head": head}))
"""


class BackupTests:
    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, runner: t.Any, lab: t.Any, pg: t.Any, monitoring: t.Any,
                 app: t.Any) -> None:
        self.host: str = settings["host"]
        self.drill_dir: str = settings["drill_dir"]
        self.copy_dirs: dict[str, str] = {"redis": settings["redis_dir"], "dump": settings["dump_dir"]}
        self.marker: str | None = None
        self.stanza: str = settings["stanza"]
        self.repo_path: str = settings["repo_path"]
        self.data_dir: str = settings["data_dir"]
        self.repos: list[int] = [int(repo) for repo in settings.get("repos") or [1]]
        self.s3: t.Mapping[str, str] = settings.get("s3") or {}
        self.report, self.runner, self.lab, self.pg, self.monitoring, self.app = report, runner, lab, pg, monitoring, app

    # helpers ------------------------------------------------------------------

    def info(self) -> dict[str, t.Any]:
        """The stanza in ``pgbackrest info`` on the backup host ({} when it does not answer)."""
        result = self.lab.exec(self.host, "runuser", "-u", "postgres", "--", "pgbackrest", "--stanza=" + self.stanza,
                               "--output=json", "info", timeout=60)
        try:
            return next((entry for entry in json.loads(result.stdout) if entry.get("name") == self.stanza), {})
        except ValueError:
            return {}

    @staticmethod
    def labels(info: t.Mapping[str, t.Any]) -> list[str]:
        return [backup["label"] for backup in info.get("backup") or []]

    def backup(self, kind: str, name: str) -> list[str]:
        """``kaizen-hybrid backup --type KIND``: it passes and adds one backup of that type; its seconds are figure
        ``<name>_seconds``. Returns the labels after it."""
        before = self.labels(self.info())
        run = self.runner.cli("backup", "--type", kind)
        self.report.figure("%s_seconds" % name, round(run.elapsed, 1))
        after_info = self.info()
        after = self.labels(after_info)
        added = [backup for backup in after_info.get("backup") or [] if backup["label"] not in before]
        into = sorted(int((backup.get("database") or {}).get("repo-key", 1)) for backup in added)
        self.report.check(run.returncode == 0 and [backup["type"] for backup in added] == [kind] * len(self.repos) and into == self.repos,
                          "kaizen-hybrid backup --type %s takes one %s backup into each repository %s (exit %d in %.1f s; added %s into %s) %s" % (
                              kind, kind, self.repos, run.returncode, run.elapsed, [backup["label"] for backup in added], into,
                              failure_text(run.events)))
        return after

    def verify(self, when: str) -> None:
        run = self.runner.cli("verify", "--tags", "backup")
        self.report.check(run.returncode == 0, "kaizen-hybrid verify --tags backup %s: WAL from the primary reaches the repository and "
                          "the stanza is sound (exit %d in %.1f s) %s" % (when, run.returncode, run.elapsed, failure_text(run.events)))

    def timeline(self, host: str) -> int | None:
        out = self.pg.psql(host, "SELECT timeline_id FROM pg_control_checkpoint()")
        return int(out) if out and out.isdigit() else None

    # tests ----------------------------------------------------------------------

    def backup_now(self) -> None:
        """The converge's full backup and timers; a full backup now (CLI), in the repository and in Prometheus; --check
        and a bad type change nothing; no plaintext in the repository."""
        report = self.report
        info = self.info()
        fulls = sorted(int((backup.get("database") or {}).get("repo-key", 1)) for backup in info.get("backup") or [] if backup["type"] == "full")
        report.check((info.get("status") or {}).get("code") == 0 and fulls == self.repos,
                     "the converge created stanza %s and took a full backup into each repository %s (%s, %s in %s)" % (
                         self.stanza, self.repos, (info.get("status") or {}).get("message"), self.labels(info), fulls))
        timers = self.lab.exec(self.host, "systemctl", "is-active", "kaizen-backup-full.timer", "kaizen-backup-diff.timer")
        report.check(timers.stdout.split() == ["active", "active"], "the full and differential backup timers run (%s)" % timers.stdout.split())

        # A marker in the app database, as plain text in the primary's own files (the grep below can find it).
        primary = self.pg.primary()
        marker = self.marker = "kaizen-backup-marker-%s" % secrets.token_hex(8)
        self.pg.psql(primary, "SET ROLE %s; CREATE TABLE IF NOT EXISTS backup_marker (id serial PRIMARY KEY, note text); "
                              "INSERT INTO backup_marker (note) SELECT '%s' FROM generate_series(1, 100)" % (self.pg.owner, marker),
                     db=self.pg.dbname)
        self.pg.psql(primary, "CHECKPOINT")
        in_server = self.lab.exec(primary, "grep", "-r", "-l", "-a", "-F", marker, self.data_dir, timeout=120)
        report.check(in_server.returncode == 0, "the marker is plain text in %s's data directory (%d files): grep finds it there" % (
            primary, len(in_server.stdout.split())))

        labels = self.backup("full", "backup_full")
        run = self.runner.cli("backup", "--type", "incr", "--check")
        report.check(run.returncode == 0 and self.labels(self.info()) == labels,
                     "kaizen-hybrid backup --check takes no backup (exit %d) %s" % (run.returncode, failure_text(run.events)))
        run = self.runner.cli("backup", "--type", "weekly")
        report.check(run.returncode != 0 and self.labels(self.info()) == labels,
                     "kaizen-hybrid backup --type weekly is refused and takes no backup (exit %d)" % run.returncode)
        # A repository the passphrase does not open (a vault changed after the stanza was made): refused before any
        # backup starts, with pgBackRest's reason (it cannot read the repository's encrypted info file).
        conf = "/etc/pgbackrest.conf"
        self.lab.exec(self.host, "cp", "-p", conf, conf + ".kaizen-test")
        self.lab.exec(self.host, "sed", "-i", "s/^repo1-cipher-pass=.*/repo1-cipher-pass=not-the-passphrase-of-this-repository/", conf)
        try:
            run = self.runner.cli("backup", "--type", "full")
        finally:
            self.lab.exec(self.host, "mv", conf + ".kaizen-test", conf)
        said = failure_text(run.events)
        report.check(run.returncode != 0 and "No backup was started" in said and "unable to load info file" in said
                     and self.labels(self.info()) == labels,
                     "kaizen-hybrid backup into a repository the passphrase does not open is refused before it starts (exit %d) %s" % (
                         run.returncode, said))

        # WAL and backups, everything the repository holds: encrypted (compression alone would hide the marker too,
        # so the repository's own info file must be OpenSSL's encrypted format, not pgBackRest's plain INI).
        head = self.lab.exec(self.host, "head", "-c", "8", "%s/backup/%s/backup.info" % (self.repo_path, self.stanza))
        report.check(self.info().get("cipher") == "aes-256-cbc" and head.stdout == "Salted__",
                     "the repository is encrypted: cipher %s, backup.info starts %r" % (self.info().get("cipher"), head.stdout))
        in_repository = self.lab.exec(self.host, "grep", "-r", "-l", "-a", "-F", marker, self.repo_path, timeout=300)
        files = self.lab.exec(self.host, "find", self.repo_path, "-type", "f")
        report.check(in_repository.returncode == 1 and len(files.stdout.split()) > 10,
                     "no file of the repository holds the marker in plain text (grep exit %d over %d files)" % (
                         in_repository.returncode, len(files.stdout.split())))

        if self.s3.get("host"):
            self.s3_holds_no_plaintext(marker)

        newest = max(backup["timestamp"]["stop"] for backup in self.info().get("backup") or [{"timestamp": {"stop": 0}}])

        def published() -> bool:
            values = self.monitoring.query('kaizen_backup_last_success_timestamp_seconds{host="%s"}' % self.host)
            return any(float(value["value"][1]) >= newest for value in values)
        report.check(self.lab.wait_for("Prometheus to scrape the newest backup's time", published, 90, interval=5),
                     "Prometheus has the newest backup's time from %s (%d)" % (self.host, newest))
        self.verify("after the backup")

    def s3_holds_no_plaintext(self, marker: str) -> None:
        """Repository 2 in the object store: no object holds the marker, its backup.info is encrypted, and a bucket that
        does not exist is refused by the converge before pgbackrest.conf changes."""
        s3, report = self.s3, self.report
        scan = self.lab.exec(s3["host"], "env", "PYTHONPATH=/opt/kaizen-lab-s3", "python3", "-c", S3_SCAN, s3["endpoint"],
                             "/etc/kaizen/pki/ca.crt", s3["bucket"], s3["path"], s3["key"], marker, self.stanza, timeout=300)
        try:
            found = json.loads(scan.stdout)
        except ValueError:
            found = {"objects": 0, "with_marker": ["unreadable: %s" % (scan.stderr or scan.stdout)[-300:]], "backup_info_head": ""}
        self.report.figure("s3_objects", found["objects"])
        report.check(found["objects"] > 10 and not found["with_marker"] and found["backup_info_head"] == "Salted__",
                     "no object of the S3 bucket %s holds the marker in plain text, and its backup.info is encrypted (%d objects; with "
                     "the marker: %s; backup.info starts %r)" % (s3["bucket"], found["objects"], found["with_marker"][:3],
                                                                 found["backup_info_head"]))
        conf = "/etc/pgbackrest.conf"
        before = self.lab.exec(self.host, "sha256sum", conf).stdout
        run = self.runner.cli("deploy", "--tags", "backup", "--limit", self.host, "-e", json.dumps({"backup_s3_bucket": "kaizen-no-such-bucket"}))
        said = failure_text(run.events)
        report.check(run.returncode != 0 and "kaizen-no-such-bucket" in said and "NoSuchBucket" in said and "Nothing was changed" in said
                     and self.lab.exec(self.host, "sha256sum", conf).stdout == before,
                     "a converge naming an S3 bucket that does not exist is refused before pgbackrest.conf changes (exit %d) %s" % (
                         run.returncode, said))

    def after_switchover(self) -> None:
        """After the switchovers and failovers of the PostgreSQL tests: WAL of the current primary's timeline reaches the
        repository (pgBackRest check through verify, and the archive's newest segment), and a differential backup is
        taken from it."""
        primary = self.pg.primary()
        timeline = self.timeline(primary) if primary else None
        self.verify("after the switchovers and failovers")
        archive = (self.info().get("archive") or [{}])[-1]
        newest = archive.get("max") or ""
        self.report.check(timeline is not None and timeline > 1 and newest[:8] == "%08X" % timeline,
                          "the archive reaches the current primary %s's timeline %s (newest segment %s)" % (primary, timeline, newest))
        self.backup("diff", "backup_diff_after_switchover")

    def drill(self) -> None:
        """``kaizen-hybrid drill --repo N`` (the object store's repository when the site has one) under a steady load of
        reads and writes through the load balancer: it passes, every row count of the restored app database equals the
        primary's at the restore point, the scratch instance is gone, and no request failed (a goal). Figures: the drill's
        seconds, its restore and recovery seconds, tables and rows."""
        report = self.report
        primary = self.pg.primary()
        # From the object store when the site has one (the restore and dr tests restore from repository 1).
        repo = max(self.repos)
        run, load, _finished = self.app.under_load(report, "drill", "drill", "--repo", str(repo), workers=2, rate=10)
        summary = load.summary()
        result = self.lab.exec(self.host, "cat", "/var/lib/kaizen-backup/drill.json")
        try:
            drill = json.loads(result.stdout)
        except ValueError:
            drill = {}
        report.figure("drill_restore_seconds", drill.get("restore_seconds"))
        report.figure("drill_tables", drill.get("tables"))
        report.figure("drill_rows", drill.get("rows"))
        report.goal("failed_requests_during_drill", len(load.failures), 0,
                    "failed requests through the LB during the restore drill (%s)" % load.failures[:5])
        report.check(summary["by_method"].get("POST", {}).get("ok", 0) > 10, "the load wrote during the drill (%s)" % summary["by_method"])
        report.check(run.returncode == 0 and drill.get("differences") == [] and int(drill.get("tables") or 0) >= 2
                     and int(drill.get("repo") or 0) == repo,
                     "kaizen-hybrid drill --repo %d restores the newest backup of repository %d and every row count equals the primary's "
                     "(exit %d; %s) %s" % (repo, repo, run.returncode, drill, failure_text(run.events)))
        report.check(self.lab.exec(self.host, "test", "-e", self.drill_dir).returncode == 1,
                     "the drill removed its scratch instance (%s)" % self.drill_dir)
        report.check(self.pg.primary() == primary and self.pg.all_streaming(primary, 30),
                     "production is untouched: %s stays the primary and the replicas stream (%s)" % (primary, self.pg.streaming(primary)))

    def copy_kept(self, name: str, magic: str) -> str | None:
        """The unit kaizen-backup-NAME (its timer starts it) keeps one new copy in its directory, encrypted (no MAGIC
        header in the file, and the passphrase opens it into one); Prometheus gets its time. Returns the new file."""
        report, directory = self.report, self.copy_dirs[name]
        listing = "ls -1t %s/*.enc 2>/dev/null" % directory
        before = self.lab.exec(self.host, "sh", "-c", listing).stdout.split()
        started = time.time()
        report.check(self.lab.service(self.host, "start", "kaizen-backup-%s.service" % name),
                     "kaizen-backup-%s runs on %s (%s)" % (name, self.host, self.lab.exec(
                         self.host, "journalctl", "-u", "kaizen-backup-%s.service" % name, "-n", "1", "-o", "cat").stdout.strip()))
        new = [path for path in self.lab.exec(self.host, "sh", "-c", listing).stdout.split() if path not in before]
        if not report.check(len(new) == 1, "one new encrypted %s copy (%s; %d kept before)" % (name, new, len(before))):
            return None
        head = self.lab.exec(self.host, "head", "-c", "8", new[0]).stdout
        opened = self.lab.exec(self.host, "sh", "-c", "%s -in %s | head -c %d" % (OPEN, new[0], len(magic))).stdout
        report.check(head == "Salted__" and opened == magic,
                     "the %s copy is encrypted (starts %r) and the passphrase opens it into %r (%r)" % (name, head, magic, opened))

        def published() -> bool:
            values = self.monitoring.query('kaizen_backup_last_success_timestamp_seconds{host="%s", stanza="%s"}' % (self.host, name))
            return any(float(value["value"][1]) >= int(started) for value in values)
        report.check(self.lab.wait_for("Prometheus to scrape the %s copy's time" % name, published, 90, interval=5),
                     "Prometheus has the newest %s copy's time from %s" % (name, self.host))
        return new[0]

    def redis_snapshot(self) -> None:
        """A Redis snapshot, as the timer takes it: kept, encrypted, an RDB file inside, its time in Prometheus."""
        self.copy_kept("redis", "REDIS")

    def logical_dump(self) -> None:
        """The logical dump, as the timer takes it: kept, encrypted, a pg_dump archive inside that holds the marker rows
        the backup test wrote into the app database."""
        path = self.copy_kept("dump", "PGDMP")
        if path is None:
            return
        rows = self.lab.exec(self.host, "sh", "-c", "%s -in %s | pg_restore --data-only --table=backup_marker --file=- | grep -c %s" % (
            OPEN, path, self.marker or "kaizen-backup-marker-"))
        self.report.check(rows.stdout.strip().isdigit() and int(rows.stdout.strip()) >= 100,
                          "the dump holds the app database's rows: %s marker rows in table backup_marker" % rows.stdout.strip())

    def app_writes(self) -> bool:
        """A note written through the load balancer is stored (HTTP 201): the app reaches the primary."""
        client = self.app.lb_client()
        try:
            status, _headers, _document = client.request("POST", "/api/notes", {"text": "after the restore %f" % time.time()})
        except (OSError, http.client.HTTPException):
            return False
        finally:
            client.close()
        return status == 201

    def refused(self, why: str, fragment: str, primary: str, rows: set[int], *argv: str) -> None:
        """``kaizen-hybrid restore ARGV`` is refused with ``fragment`` in its message, and nothing was stopped: the same
        primary runs with the same rows."""
        run = self.runner.cli("restore", *argv)
        said = failure_text(run.events)
        self.report.check(run.returncode != 0 and fragment in said and "Nothing was stopped" in said and self.pg.primary() == primary
                          and self.pg.rows_on(primary, "restore_probe") == rows,
                          "kaizen-hybrid restore %s is refused before anything stops (exit %d) %s" % (why, run.returncode, said))

    def restore_to_time(self) -> None:
        """Rows 1-100 written, a full backup, rows 101-200, time T noted, rows 201-300; each bad request is refused
        before anything stops; ``kaizen-hybrid restore --to-time T --yes`` leaves exactly rows 1-200, the replicas
        streaming from the restored primary, the app writing through the load balancer and WAL reaching the
        repository again. Figure: the restore's seconds."""
        report, pg = self.report, self.pg
        primary = pg.primary()
        if not report.check(primary is not None, "one PostgreSQL primary before the restore (%s)" % primary):
            return
        pg.create_table(primary, "restore_probe")
        insert = "INSERT INTO restore_probe (id) SELECT generate_series(%d, %d)"
        pg.psql(primary, insert % (1, 100), db=pg.dbname)
        self.backup("full", "backup_full_before_restore")
        pg.psql(primary, insert % (101, 200), db=pg.dbname)
        time.sleep(1.5)
        target = pg.psql(primary, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
        time.sleep(1.5)
        pg.psql(primary, insert % (201, 300), db=pg.dbname)
        rows = pg.rows_on(primary, "restore_probe")
        report.check(rows == set(range(1, 301)) and bool(target), "300 rows written around the restore time %s" % target)

        self.refused("without --yes while the primary runs", "discards every commit after that point", primary, rows,
                     "--to-time", str(target))
        self.refused("to a time in the future", "is in the future", primary, rows, "--to-time", "2999-01-01 00:00:00+00", "--yes")
        self.refused("to a time before the oldest backup", "before the oldest backup finished", primary, rows,
                     "--to-time", "2000-01-01 00:00:00+00", "--yes")
        self.refused("to a time without its UTC offset", "UTC offset", primary, rows, "--to-time", str(target)[:-3], "--yes")
        self.refused("with two targets", "were given", primary, rows, "--to-time", str(target), "--latest", "--yes")

        run = self.runner.cli("restore", "--to-time", str(target), "--yes")
        report.figure("restore_seconds", round(run.elapsed, 1))
        restored = pg.primary()
        kept = pg.rows_on(restored, "restore_probe") if restored else set()
        report.check(run.returncode == 0 and kept == set(range(1, 201)),
                     "kaizen-hybrid restore --to-time %s --yes leaves exactly the 200 rows written before it on %s (exit %d in %.1f s; "
                     "%d rows, ids %s-%s) %s" % (target, restored, run.returncode, run.elapsed, len(kept), min(kept, default=None),
                                                 max(kept, default=None), failure_text(run.events)))
        report.check(restored is not None and pg.all_streaming(restored, 90),
                     "every replica streams from the restored primary %s (%s)" % (restored, pg.streaming(restored) if restored else []))
        report.check(self.lab.wait_for("the app to write through the load balancer", self.app_writes, 90, interval=3),
                     "the app writes through the load balancer after the restore")
        self.verify("after the restore")

    def disaster_recovery(self) -> None:
        """A steady writer commits into a table; then every PostgreSQL host loses its data at once (whatever runs the
        server is killed, the data directory removed); ``kaizen-hybrid dr`` rebuilds the tier from the repository and
        passes (it ends when /health answers healthy through the load balancers and the site verifies), every replica
        streams, the app writes. Figures: the recovery's seconds and the RPO - acknowledged commits lost, and the seconds
        of writes they span, with asynchronous archiving (the last WAL segment had not reached the repository)."""
        report, pg = self.report, self.pg
        primary = pg.primary()
        if not report.check(primary is not None, "one PostgreSQL primary before the disaster (%s)" % primary):
            return
        # The table is older than the loss (its creation archived), as a site's tables are; then 20 s of writes.
        pg.create_table(primary, "dr_probe")
        pg.psql(primary, "SELECT pg_switch_wal()")
        self.lab.exec(self.host, "runuser", "-u", "postgres", "--", "pgbackrest", "--stanza=" + self.stanza, "check", timeout=120)
        writer = pg.start_writer("dr_probe", "dr")
        time.sleep(20)
        # Everything but the postmaster.pid a server killed with its host leaves behind (pgBackRest will not restore
        # over one; the restore removes it once pg_ctl says no server runs). The units are stopped too, so that systemd
        # does not restart them, and postgresql@'s stop removes a stale file: it is put back, as a power cut leaves it.
        units = "%s %s" % (PATRONI_UNIT, POSTGRESQL_UNIT)
        pid, kept = self.data_dir + "/postmaster.pid", "/run/kaizen-dr-postmaster.pid"
        lose = ("cp -p %s %s; systemctl kill --signal=KILL %s; systemctl stop %s; pkill -KILL -u postgres -x postgres; "
                "find %s -mindepth 1 -maxdepth 1 -not -name postmaster.pid -exec rm -rf {} +; test -e %s || mv %s %s"
                % (pid, kept, units, units, self.data_dir, pid, kept, pid))
        moment = writer.clock()
        for host in pg.hosts:
            self.lab.exec(host, "sh", "-c", lose, timeout=60)
        time.sleep(2)
        writer.stop()
        acknowledged = len(writer.acked)
        report.check(not any(self.lab.exec(host, "test", "-e", self.data_dir + "/PG_VERSION").returncode == 0 for host in pg.hosts)
                     and all(self.lab.exec(host, "test", "-e", self.data_dir + "/postmaster.pid").returncode == 0 for host in pg.hosts)
                     and pg.primary() is None,
                     "every PostgreSQL host lost its data, a stale postmaster.pid left behind (%s)" % ", ".join(pg.hosts))

        run = self.runner.cli("dr")
        report.figure("dr_seconds", round(run.elapsed, 1))
        restored = pg.primary()
        lost = pg.lost(writer, restored, "dr_probe")
        report.figure("dr_acknowledged_commits", acknowledged)
        report.figure("dr_lost_commits", len(lost))
        report.figure("dr_lost_seconds", round(writer.lost_window(pg.rows_on(restored, "dr_probe") if restored else [], moment), 1))
        report.check(run.returncode == 0 and restored is not None,
                     "kaizen-hybrid dr rebuilds the tier from the repository; %s is the primary (exit %d in %.1f s; %d of %d acknowledged "
                     "commits lost) %s" % (restored, run.returncode, run.elapsed, len(lost), acknowledged, failure_text(run.events)))
        report.check(restored is not None and pg.all_streaming(restored, 90),
                     "every replica streams from the rebuilt primary %s (%s)" % (restored, pg.streaming(restored) if restored else []))
        report.check(self.lab.wait_for("the app to write through the load balancer", self.app_writes, 90, interval=3),
                     "the app writes through the load balancer after the disaster recovery")
