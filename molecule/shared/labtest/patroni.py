# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL tier under Patroni: a manual-mode cluster handed to Patroni by a converge, then failures that
nobody answers by hand.

Goals, each a failing check with its figure written first: the conversion keeps every row and the primary; with the
primary's host killed under write load and no command run, writes succeed again within 30 s and no acknowledged commit
is lost; with PostgreSQL alone killed, within 10 s and on the same primary; a primary cut off from the network stops
accepting writes within its leader lock's time, a replica takes over, nothing its own clients saw acknowledged is lost,
and it comes back as a replica by itself; one etcd member lost changes nothing; two lost promote nobody and raise an
alert; a switchover pauses writes at most 5 s; verify names the leader and each member's lag.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import typing as t
import ssl
import urllib.parse
import urllib.request

from labtest.runs import HOST_FAILED, changed_per_host, failure_text
from labtest.writers import interrupted

AUTO_FAILOVER_SECONDS = 30
POSTGRES_RESTART_SECONDS = 10
SWITCHOVER_PAUSE_SECONDS = 5
ALERT_SECONDS = 120
SETTLE_SECONDS = 3

ISOLATED_CLIENT = r"""
set -u
out=/tmp/kaizen-isolated-acks
: > "$out"
for i in $(seq 1 "$1"); do
  id=$((1000000 + i))
  if timeout 2 runuser -u postgres -- psql -X -q -w -d "$2" -c "INSERT INTO $3 (id) VALUES ($id)" >/dev/null 2>&1; then
    echo "$id" >> "$out"
  fi
  sleep 0.2
done
"""


def settled_pair(members: t.Sequence[t.Mapping[str, t.Any]], expected: int) -> tuple[str, str] | None:
    """(leader, synchronous standby) of Patroni's ``/cluster`` members when all ``expected`` run, one leads and one is
    the synchronous standby; None otherwise."""
    if len(members) != expected or not all(member.get("state") in ("running", "streaming") for member in members):
        return None
    leaders = [member.get("name") for member in members if member.get("role") == "leader"]
    standbys = [member.get("name") for member in members if member.get("role") == "sync_standby"]
    return (leaders[0], standbys[0]) if len(leaders) == 1 and len(standbys) == 1 else None


def holds(reads: t.Sequence[t.Any], steady: int) -> bool:
    """Whether the last ``steady`` reads are one and the same settled (not None) value."""
    return len(reads) >= steady and reads[-1] is not None and all(read == reads[-1] for read in reads[-steady:])


class PatroniTests:
    """``settings``: state (the scenario's state directory, where ``ha-mode`` decides the mode), hosts (PostgreSQL, the
    inventory's primary first), addresses, api_port, etcd (members), network (the lab hosts' Docker network),
    prometheus (URL), ca. ``postgres``: the PostgreSQL tier's tests (writer, rows, primary)."""

    def __init__(self, settings: t.Mapping[str, t.Any], ca: str, postgres: t.Any, report: t.Any, runner: t.Any, lab: t.Any) -> None:
        self.settings = settings
        self.hosts: list[str] = list(settings["hosts"])
        self.addresses: dict[str, str] = dict(settings["addresses"])
        self.etcd: list[str] = list(settings["etcd"])
        self.pg, self.report, self.runner, self.lab = postgres, report, runner, lab
        self.context = ssl.create_default_context(cafile=ca)
        self.ttl = int(settings.get("ttl", 20))

    # helpers ------------------------------------------------------------------

    def cluster(self) -> dict[str, t.Any]:
        """Patroni's ``GET /cluster`` from the first member that answers ({} when none does)."""
        for host in self.hosts:
            url = "https://%s:%d/cluster" % (self.addresses[host], int(self.settings.get("api_port", 8008)))
            try:
                with urllib.request.urlopen(url, timeout=3, context=self.context) as response:  # noqa: S310 - a lab host
                    return json.load(response)
            except OSError:
                continue
        return {}

    def leader(self) -> str | None:
        return next((member["name"] for member in self.cluster().get("members", []) if member.get("role") == "leader"
                     and member.get("state") == "running"), None)

    def wait_settled(self, seconds: float = 90, steady: int = 3) -> tuple[str, str] | None:
        """The settled (leader, synchronous standby), once the same pair is read ``steady`` times in a row a second
        apart: just after a member or etcd comes back, Patroni may name a synchronous standby and drop it again
        on its next loop. None when it does not settle within ``seconds``. A pair is settled when every member runs,
        one leads and one is the synchronous standby (what Patroni restores after a failure)."""
        reads: list[tuple[str, str] | None] = []

        def steady_pair() -> bool:
            reads.append(settled_pair(self.cluster().get("members", []), len(self.hosts)))
            return holds(reads, steady)

        return reads[-1] if self.lab.wait_for("a steady Patroni leader and synchronous standby", steady_pair, seconds) else None

    def streams_from(self, host: str, primary: str) -> bool:
        return any(item.split(":")[0] == host for item in self.pg.streaming(primary))

    def wait_streaming(self, host: str, primary: str, seconds: float = 120) -> bool:
        return self.lab.wait_for("%s streaming from %s" % (host, primary), lambda: self.streams_from(host, primary), seconds)

    def row_counts(self, host: str) -> dict[str, int]:
        tables = self.pg.psql(host, "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables ORDER BY 1",
                              db=self.pg.dbname) or ""
        return {table: int(self.pg.psql(host, "SELECT count(*) FROM %s" % table, db=self.pg.dbname) or -1) for table in tables.split()}

    def ha_mode(self, mode: str) -> None:
        with open(os.path.join(self.settings["state"], "ha-mode"), "w") as handle:
            handle.write(mode + "\n")

    # tests ----------------------------------------------------------------------

    def convert(self) -> None:
        """A manual-mode cluster with data is handed to Patroni by a converge in patroni mode."""
        primary = self.pg.primary()
        if not self.report.check(primary is not None and self.leader() is None, "a manual-mode cluster runs (primary %s, no Patroni)" % primary):
            return
        before = self.row_counts(primary)
        self.ha_mode("patroni")
        run = self.runner.playbook("playbooks/site.yml", "--tags", "etcd,postgresql", timeout=1200)
        self.report.figure("conversion_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0, "the converge in patroni mode passes (rc %d): %s" % (run.returncode, run.text[-300:] if run.returncode else ""))
        leader = self.lab.wait_for("a Patroni leader", lambda: self.leader() is not None, 60) and self.leader()
        after = self.row_counts(primary)
        self.report.figure("conversion_tables", len(before))
        self.report.check(leader == primary, "the primary stays primary: Patroni's leader is %s (was %s)" % (leader, primary))
        self.report.check(bool(before) and after == before, "every table keeps its rows (%d tables; differing: %s)" % (
            len(before), {name: (before.get(name), after.get(name)) for name in set(before) | set(after) if before.get(name) != after.get(name)}))
        self.report.check(all(self.wait_streaming(host, primary, 60) for host in self.hosts if host != primary),
                          "every replica streams from %s under Patroni" % primary)

    def monitoring(self) -> None:
        """Prometheus scrapes etcd, and has Patroni's metrics of every member, once the monitoring tier converges after
        the conversion."""
        run = self.runner.playbook("playbooks/monitoring.yml", "--tags", "prometheus")
        self.report.check(run.returncode == 0, "the monitoring tier converges with the new targets (rc %d)" % run.returncode)
        expected = {"etcd": len(self.etcd), "patroni": len(self.hosts)}

        def seen() -> dict[str, int]:
            found = {}
            for name, query in (("etcd", 'up{job="etcd"} == 1'), ("patroni", "kaizen_patroni_up == 1")):
                url = "%s/api/v1/query?%s" % (self.settings["prometheus"].rstrip("/"), urllib.parse.urlencode({"query": query}))
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a lab host
                    found[name] = len(json.load(response)["data"]["result"])
            return found

        self.lab.wait_for("etcd and Patroni metrics", lambda: seen() == expected, 90, 3)
        self.report.figure("patroni_targets_up", seen())
        self.report.check(seen() == expected, "Prometheus has every etcd member and every Patroni member (%s, expected %s)" % (seen(), expected))

    def auto_failover(self) -> None:
        """The primary's host is killed under write load; nobody runs any command."""
        old = self.leader()
        if not self.report.check(old is not None, "Patroni has a leader before the kill (%s)" % old):
            return
        self.pg.create_table(old, "auto_failover_test")
        self.pg.create_table(old, "auto_failover_haproxy")
        writer = self.pg.start_writer("auto_failover_test", "auto_failover")
        # A second client at the same time, through HAProxy's read-write port on the app hosts.
        proxied = self.pg.start_writer("auto_failover_haproxy", "auto_failover_haproxy", url=self.settings["haproxy_rw_url"])
        try:
            killed_at, recovered = interrupted(writer, lambda: self.lab.kill(old), 90, SETTLE_SECONDS)
            proxied_recovered = proxied.wait_for_recovery(killed_at, SETTLE_SECONDS, 30)
        finally:
            proxied.stop()
        self.report.goal("auto_failover_rto_seconds", round(recovered - killed_at, 2) if recovered else None, AUTO_FAILOVER_SECONDS,
                         "seconds from the primary's kill to the first acknowledged write, no command run")
        self.report.goal("auto_failover_haproxy_rto_seconds", round(proxied_recovered - killed_at, 2) if proxied_recovered else None,
                         AUTO_FAILOVER_SECONDS, "the same through HAProxy's read-write port")
        # The writers are back; the cluster has one primary once Patroni's loop after the promotion is done.
        answers: list[dict[str, str | None]] = []

        def one_primary() -> bool:
            answers.append(self.pg.in_recovery())
            return list(answers[-1].values()).count("f") == 1
        self.lab.wait_for("one primary after the failover", one_primary, 20)
        new = self.pg.primary()
        two = [read for read in answers if list(read.values()).count("f") > 1]
        self.report.check(new is not None and new != old and not two,
                          "Patroni promoted %s, and never two primaries at once (the old primary was %s; pg_is_in_recovery %s, first %s, "
                          "two primaries: %s)" % (new, old, answers[-1] if answers else None, answers[0] if answers else None, two[:1]))
        lost = self.pg.lost(writer, new, "auto_failover_test")
        self.report.figure("auto_failover_acknowledged_commits", len(writer.acked))
        self.report.goal("auto_failover_lost_commits", len(lost), 0, "acknowledged commits missing on %s (%s)" % (new, lost[:10]))
        lost = self.pg.lost(proxied, new, "auto_failover_haproxy")
        self.report.goal("auto_failover_haproxy_lost_commits", len(lost), 0, "acknowledged commits through HAProxy missing on %s (%s)" % (
            new, lost[:10]))
        started = time.monotonic()
        self.lab.start(old)
        rejoined = new is not None and self.wait_streaming(old, new, 180)
        self.report.figure("auto_failover_rejoin_seconds", round(time.monotonic() - started, 1))
        self.report.check(rejoined, "the old primary %s came back as a replica of %s by itself" % (old, new))

    def kill_postgres(self) -> None:
        """PostgreSQL alone is killed on the primary (the host and Patroni live): Patroni starts it again, no failover."""
        leader = self.leader()
        if not self.report.check(leader is not None, "Patroni has a leader (%s)" % leader):
            return
        self.pg.create_table(leader, "restart_test")
        writer = self.pg.start_writer("restart_test", "postgres_kill")

        def kill_postmaster() -> float:
            pid = self.lab.exec(leader, "sh", "-c", "head -1 %s/postmaster.pid" % self.settings["data_dir"]).stdout.strip()
            at = time.monotonic()
            self.report.check(pid.isdigit() and self.lab.exec(leader, "kill", "-9", pid).returncode == 0,
                              "the postmaster (pid %s) of %s killed" % (pid, leader))
            return at

        killed_at, recovered = interrupted(writer, kill_postmaster, 60, SETTLE_SECONDS)
        self.report.goal("postgres_kill_rto_seconds", round(recovered - killed_at, 2) if recovered else None, POSTGRES_RESTART_SECONDS,
                         "seconds from PostgreSQL's kill on the primary to the first acknowledged write")
        self.report.check(self.leader() == leader and self.pg.primary() == leader, "no failover: %s is still the primary" % leader)
        self.report.goal("postgres_kill_lost_commits", len(self.pg.lost(writer, leader, "restart_test")), 0,
                         "acknowledged commits missing after the restart")

    def partition(self) -> None:
        """The primary is cut off from the network while clients on both sides write."""
        old = self.leader()
        if not self.report.check(old is not None, "Patroni has a leader (%s)" % old):
            return
        network, address = self.settings["network"], self.addresses[old]
        self.pg.create_table(old, "partition_test")
        writer = self.pg.start_writer("partition_test", "partition")
        isolated = None
        try:
            isolated = self.lab.spawn(old, ["bash", "-c", ISOLATED_CLIENT, "isolated", "150", self.pg.dbname, "partition_test"])
            time.sleep(2)
            cut_at = self.lab.disconnect(old, network)
            # Patroni demotes it: a standby, or (while it cannot tell where to replicate from) stopped.
            demoted = self.lab.wait_for("%s to stop accepting writes" % old,
                                        lambda: self.pg.psql(old, "SELECT pg_is_in_recovery()", timeout=5) != "f", self.ttl + 20, 0.5)
            demoted_at = time.monotonic()
            self.report.goal("partition_demoted_seconds", round(demoted_at - cut_at, 1) if demoted else None, self.ttl,
                             "seconds until the cut-off primary %s stopped accepting writes" % old)
            recovered = writer.wait_for_recovery(cut_at, SETTLE_SECONDS, 90)
            self.report.figure("partition_rto_seconds", round(recovered - cut_at, 2) if recovered else None)
            new = self.pg.primary()
            self.report.check(new is not None and new != old, "a replica took over: %s" % new)
        finally:
            writer.stop()
            if isolated is not None:
                try:
                    isolated.wait(60)
                except subprocess.TimeoutExpired:
                    isolated.kill()
            self.lab.connect(old, network, address)
        reconnected = time.monotonic()
        acked_inside = [int(line) for line in self.lab.exec(old, "cat", "/tmp/kaizen-isolated-acks").stdout.split() if line.isdigit()]
        new = self.pg.primary()
        present = self.pg.rows_on(new, "partition_test") if new else set()
        self.report.figure("partition_isolated_acknowledged", len(acked_inside))
        self.report.goal("partition_isolated_lost", len(set(acked_inside) - present) if new else None, 0,
                         "writes the isolated side acknowledged that are missing afterwards")
        self.report.goal("partition_lost_commits", len(self.pg.lost(writer, new, "partition_test")) if new else None, 0,
                         "writes acknowledged to the lab-side writer that are missing")
        rejoined = new is not None and self.wait_streaming(old, new, 180)
        self.report.figure("partition_rejoin_seconds", round(time.monotonic() - reconnected, 1))
        self.report.check(rejoined, "once the network is back %s rejoins as a replica of %s by itself" % (old, new))

    def etcd_members(self) -> list[str]:
        """The members etcd reports (asked on the first inventory member that answers)."""
        for host in self.etcd:
            endpoint = "https://%s:%d" % (self.addresses[host], int(self.settings.get("etcd_client_port", 2379)))
            result = self.lab.exec(host, "etcdctl", "--cacert", "/etc/kaizen/pki/ca.crt", "--cert", "/etc/kaizen/pki/host.crt",
                                   "--key", "/etc/kaizen/pki/host.key", "--endpoints", endpoint,
                                   "member", "list", "--write-out", "json")
            if result.returncode == 0:
                return sorted(member.get("name", "") for member in json.loads(result.stdout).get("members", []))
        return []

    def etcd_membership(self) -> None:
        """Two hosts added to group etcd join by converge (five members), and leave again (three)."""
        others = [host for host in self.addresses if host not in self.etcd][:2]
        extra = os.path.join(self.runner.inventory, "zz-etcd-members.yml")
        with open(extra, "w") as handle:
            json.dump({"all": {"children": {"etcd": {"hosts": {host: {} for host in self.etcd + others}}}}}, handle)
        try:
            run = self.runner.playbook("playbooks/etcd.yml")
            self.report.figure("etcd_grow_seconds", round(run.elapsed, 1))
            members = self.etcd_members()
            self.report.check(run.returncode == 0 and members == sorted(self.etcd + others),
                              "%s joined by converge: etcd has %s (rc %d)" % (", ".join(others), members, run.returncode))
        finally:
            os.remove(extra)
        run = self.runner.playbook("playbooks/etcd.yml")
        self.report.figure("etcd_shrink_seconds", round(run.elapsed, 1))
        members = self.etcd_members()
        self.report.check(run.returncode == 0 and members == sorted(self.etcd),
                          "they left by converge: etcd has %s (rc %d)" % (members, run.returncode))
        stopped = {host: self.lab.exec(host, "systemctl", "is-active", "etcd").stdout.strip() for host in others}
        self.report.check(all(state != "active" for state in stopped.values()), "etcd no longer runs on the hosts that left (%s)" % stopped)
        self.report.check(self.leader() is not None, "Patroni kept its leader throughout (%s)" % self.leader())

    def etcd_one_down(self) -> None:
        """One etcd member stops: nothing fails over, writes go on."""
        leader = self.leader()
        victim = next(host for host in self.etcd if host != leader)
        self.pg.create_table(leader, "etcd_one_test")
        writer = self.pg.start_writer("etcd_one_test", "etcd_one_down")
        try:
            started = writer.clock()
            self.lab.service(victim, "stop", "etcd")
            # Several of Patroni's rounds and half a leader lock: anything the loss would cause shows by then.
            time.sleep(self.ttl / 2 + 2)
            ended = writer.clock()
        finally:
            writer.stop()
            self.lab.service(victim, "start", "etcd")
        self.report.figure("etcd_one_down_write_pause_seconds", round(writer.timeline.longest_pause(started, ended), 2))
        self.report.check(writer.timeline.longest_pause(started, ended) < 5, "writes went on while etcd on %s was down (longest pause %.1f s)" % (
            victim, writer.timeline.longest_pause(started, ended)))
        self.report.check(self.leader() == leader and self.pg.primary() == leader, "no failover: %s is still the primary" % leader)

    def etcd_quorum_lost(self) -> None:
        """Two of three etcd members stop: no replica is promoted, the primary still serves reads, an alert fires."""
        leader = self.pg.primary()
        victims = [host for host in self.etcd if host != leader][:2]
        if len(victims) < 2:
            victims = self.etcd[:2]
        stopped = time.monotonic()
        try:
            for host in victims:
                self.lab.service(host, "stop", "etcd")
            alert = self.wait_alert("EtcdQuorumLost", ALERT_SECONDS)
            self.report.goal("etcd_quorum_alert_seconds", round(alert - stopped, 1) if alert else None, ALERT_SECONDS,
                             "seconds until the EtcdQuorumLost alert fired")
            time.sleep(max(0.0, self.ttl + 5 - (time.monotonic() - stopped)))
            primaries = [host for host in self.hosts if self.pg.psql(host, "SELECT pg_is_in_recovery()", timeout=5) == "f"]
            self.report.check(all(host == leader for host in primaries), "no replica was promoted (servers accepting writes: %s)" % primaries)
            reads = self.pg.psql(leader, "SELECT count(*) FROM etcd_one_test", db=self.pg.dbname, timeout=10)
            self.report.check(reads is not None, "%s still serves reads (%s rows)" % (leader, reads))
        finally:
            for host in victims:
                self.lab.service(host, "start", "etcd")
        back = self.wait_settled(120)
        self.report.check(back is not None, "with etcd back, Patroni leads again with a synchronous standby (leader, standby: %s)" % (back,))

    def wait_alert(self, name: str, seconds: float) -> float | None:
        """When Prometheus first reports ``name`` firing (None: not within ``seconds``)."""
        deadline = time.monotonic() + seconds
        url = self.settings["prometheus"].rstrip("/") + "/api/v1/alerts"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a lab host
                    alerts = json.load(response)["data"]["alerts"]
                if any(alert["labels"].get("alertname") == name and alert.get("state") == "firing" for alert in alerts):
                    return time.monotonic()
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(2)
        return None

    def switchover(self) -> None:
        """``kaizen-hybrid switchover --to`` a replica, through Patroni, under the writer."""
        # In synchronous mode Patroni hands the primary only to its synchronous standby.
        old, target = self.wait_settled() or (self.leader(), None)
        other = next((member["name"] for member in self.cluster().get("members", []) if member.get("role") == "replica"), None)
        if not self.report.check(old is not None and target is not None, "Patroni switchover: leader %s, synchronous standby %s" % (old, target)):
            return
        if other is not None:
            run = self.runner.cli("switchover", "--to", other)
            text = failure_text(run.events)
            self.report.check(run.returncode == HOST_FAILED and "Switchover to %s refused: Patroni hands the primary only to its synchronous standby (%s)" % (
                other, target) in text and "Nothing was changed" in text and self.leader() == old,
                "a switchover to %s, not the synchronous standby, is refused naming %s (exit %d: %s)" % (other, target, run.returncode, text[:250]))
        self.pg.create_table(old, "patroni_switchover_test")
        writer = self.pg.start_writer("patroni_switchover_test", "patroni_switchover")
        try:
            started = writer.clock()
            run = self.runner.cli("switchover", "--to", target)
            ended = writer.clock()
            writer.wait_for_recovery(ended, SETTLE_SECONDS, 30)
            window_end = writer.clock()
        finally:
            writer.stop()
        self.report.figure("patroni_switchover_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0, "kaizen-hybrid switchover %s -> %s through Patroni (exit %d: %s)" % (
            old, target, run.returncode, failure_text(run.events)))
        self.report.goal("patroni_switchover_write_pause_seconds", round(writer.timeline.longest_pause(started, window_end), 2),
                         SWITCHOVER_PAUSE_SECONDS, "longest time without an acknowledged commit during the switchover")
        self.report.check(self.leader() == target and self.pg.primary() == target, "%s leads after the switchover" % target)
        self.report.goal("patroni_switchover_lost_commits", len(self.pg.lost(writer, target, "patroni_switchover_test")), 0,
                         "acknowledged commits of the switchover missing on %s" % target)
        self.report.check(self.wait_streaming(old, target, 90), "the old primary %s streams from %s" % (old, target))

    def reconverge(self) -> None:
        """etcd and the PostgreSQL tier converge again on the cluster the conversion and the failures left: nothing
        changes (this is also the idempotence of the patroni mode), the primary is not moved back."""
        leader = self.leader()
        run = self.runner.playbook("playbooks/site.yml", "--tags", "etcd,postgresql")
        changed = changed_per_host(run.stdout)
        self.report.figure("reconverge_seconds", round(run.elapsed, 1))
        self.report.check(run.returncode == 0, "etcd and the PostgreSQL tier converge again under Patroni (rc %d)" % run.returncode)
        self.report.goal("reconverge_changed_tasks", sum(changed.values()) if run.returncode == 0 else None, 0,
                         "tasks a converge changed after the conversion, the failovers and the switchovers (%s)" % changed)
        self.report.check(self.leader() == leader, "the converge left the primary where Patroni put it (%s, now %s)" % (leader, self.leader()))

    def through(self, url: str) -> tuple[str, bool] | None:
        """(server address, in recovery) of a session through ``url``; None when no connection opens."""
        import psycopg  # the scenarios' virtualenv has it

        try:
            with psycopg.connect(url, password=self.pg.password, connect_timeout=5) as connection:
                address, recovery = connection.execute("SELECT host(inet_server_addr()), pg_is_in_recovery()").fetchone()
                return str(address), bool(recovery)
        except psycopg.Error:
            return None

    def haproxy(self) -> None:
        """HAProxy's ports on the app hosts, after the failovers: writes reach the leader, reads a replica, and
        kaizen-hybrid verify says where each port sends its clients."""
        leader = self.leader()
        by_address = {address: host for host, address in self.addresses.items()}
        writes, reads = self.through(self.settings["haproxy_rw_url"]), self.through(self.settings["haproxy_ro_url"])
        self.report.check(writes is not None and by_address.get(writes[0]) == leader and writes[1] is False,
                          "HAProxy's read-write port reaches the leader %s (%s)" % (leader, writes))
        self.report.check(reads is not None and by_address.get(reads[0]) in self.hosts and by_address.get(reads[0]) != leader and reads[1] is True,
                          "HAProxy's read-only port reaches a replica (%s)" % (reads,))
        run = self.runner.playbook("playbooks/verify.yml", "--tags", "haproxy")
        self.report.check(run.returncode == 0 and "writes (%s) to %s" % (self.settings.get("haproxy_rw_port", 5000), leader) in run.text,
                          "verify --tags haproxy passes and names the leader %s (rc %d)" % (leader, run.returncode))

    def verify(self) -> None:
        """verify passes and names the leader and each member's lag."""
        leader = self.leader()
        run = self.runner.playbook("playbooks/verify.yml", "--tags", "postgresql")
        self.report.check(run.returncode == 0 and "Patroni leader: %s" % leader in run.stdout
                          and all("%s: " % host in run.stdout for host in self.hosts) and "lag" in run.stdout,
                          "verify passes and names the leader %s and each member's lag (rc %d)" % (leader, run.returncode))
