# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Redis tier's day-2 tests: a Sentinel failover under write load, a converge with the old master
still down (it keeps the new master and changes nothing), the old master rejoining as a replica, bad
input refused, and ``kaizen-hybrid verify``.

The client is redis-py through Sentinel with the settings of ``kaizen.hybrid.redis_app_connection``
(what the app gets), read from a file so that no password is on a command line. Goals: writes again
within 10 s of the master's kill; the converge after it changes nothing on the live hosts.
"""

from __future__ import annotations

import json
import typing as t
import uuid

from labtest.runs import HOST_FAILED, failure_text, failures, recap
from labtest.writers import RedisSets, Writer, interrupted

FAILOVER_SECONDS = 10
MIN_ACKS = 50
SETTLE_SECONDS = 3
WATCHED_FILES = ("/etc/kaizen/redis/redis.conf", "/etc/kaizen/redis/users.acl", "/etc/kaizen/redis/sentinel.conf",
                 "/etc/kaizen/redis/sentinel-users.acl", "/etc/redis/redis.conf")


def client_settings(connection: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """redis-py settings for the app user. No retries inside the library (its default backs off for
    seconds): the writer retries every 100 ms, so the figure shows when the cluster accepts writes
    again, not the library's back-off schedule."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    settings = {"username": connection["username"], "password": connection["password"], "socket_timeout": 0.5,
                "socket_connect_timeout": 0.5, "retry": Retry(NoBackoff(), 0)}
    if connection["tls"]:
        settings.update(ssl=True, ssl_ca_certs=connection["ca_file"])
    return settings


class RedisTests:
    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, runner: t.Any, lab: t.Any) -> None:
        with open(settings["connection_file"]) as handle:
            secrets = json.load(handle)
        self.connection: dict[str, t.Any] = secrets["connection"]
        self.admin_password: str = secrets["admin_password"]
        self.hosts: list[str] = list(settings["hosts"])
        self.addresses: dict[str, str] = dict(settings["addresses"])
        self.down_after_ms = int(settings.get("sentinel_down_after_ms", 5000))
        self.port = int(settings.get("port", 6379))
        self.report, self.runner, self.lab = report, runner, lab

    def sentinel(self) -> t.Any:
        from redis.sentinel import Sentinel

        settings = client_settings(self.connection)
        sentinel_settings = dict(settings, username=self.connection["sentinel_username"], password=self.connection["sentinel_password"])
        return Sentinel([(item["host"], item["port"]) for item in self.connection["sentinels"]], sentinel_kwargs=sentinel_settings, **settings)

    def master(self) -> str | None:
        """The host the Sentinels name as master now (None when they cannot be asked)."""
        try:
            address = self.sentinel().discover_master(self.connection["master_name"])[0]
        except Exception:  # noqa: BLE001 - no Sentinel answered
            return None
        return next((host for host, known in self.addresses.items() if known == address), address)

    def role(self, host: str) -> list[t.Any]:
        """ROLE of the server on ``host``, asked as admin over TLS from the lab machine."""
        import redis

        settings = client_settings(self.connection)
        settings.update(username="admin", password=self.admin_password)
        server = redis.Redis(host=self.addresses[host], port=self.port, **settings)
        try:
            return list(server.execute_command("ROLE"))
        except Exception:  # noqa: BLE001 - not answering yet
            return []
        finally:
            server.close()

    def replicates_from(self, host: str, master: str) -> bool:
        role = [item.decode() if isinstance(item, bytes) else item for item in self.role(host)]
        return len(role) >= 4 and role[0] == "slave" and role[1] == self.addresses[master] and role[3] == "connected"

    # tests ----------------------------------------------------------------------

    def failover(self) -> None:
        """The master's host is killed while a client writes through Sentinel."""
        sentinel = self.sentinel()
        settings = client_settings(self.connection)
        old = self.master()
        if not self.report.check(old in self.hosts, "the Sentinels name a master of group redis (%s)" % old):
            return
        writes = RedisSets(sentinel.master_for(self.connection["master_name"], **settings),
                           "%sfailover:%s:" % (self.connection["key_prefix"], uuid.uuid4().hex[:8]))
        writer = Writer(writes, error_pause=0.05, max_seconds=120)
        writer.start()
        writer.wait_for_acks(MIN_ACKS, 30)
        self.report.goal("failover_acknowledged_before", len(writer.acked), MIN_ACKS, "writes acknowledged before the kill", at_least=True)
        last_before = writer.timeline.successes()[-1] if writer.acked else None
        killed_at, recovered = interrupted(writer, lambda: self.lab.kill(old), 60, SETTLE_SECONDS)
        self.report.goal("failover_seconds", round(recovered - killed_at, 3) if recovered else None, FAILOVER_SECONDS,
                         "seconds from the master's kill to the first acknowledged write on a new master")
        self.report.figure("outage_seconds", round(recovered - last_before, 3) if recovered and last_before else None)
        new = self.master()
        found = 0
        keys = [writes.key(number) for number in writer.acked]
        if recovered is not None:
            # Which acknowledged writes the new master has (asynchronous replication may lose the last ones).
            for start in range(0, len(keys), 500):
                found += writes.master.exists(*keys[start:start + 500])
            for start in range(0, len(keys), 500):
                writes.master.unlink(*keys[start:start + 500])
        errors: dict[str, int] = {}
        for _at, text in writer.errors:
            errors[text.split(":")[0][:60]] = errors.get(text.split(":")[0][:60], 0) + 1
        self.report.figure("writes_acknowledged", len(writer.acked))
        self.report.figure("writes_failed", len(writer.errors))
        self.report.figure("writes_lost", len(keys) - found if recovered is not None else None)
        self.report.figure("write_errors", errors)
        self.report.figure("sentinel_down_after_ms", self.down_after_ms)
        self.report.figure("old_master", old)
        self.report.figure("new_master", new)
        self.report.check(new is not None and new != old, "a new master runs: %s (the old one was %s)" % (new, old))

        # An operator converges with the old master still down: the live hosts change nothing and keep the new master.
        run = self.runner.playbook("playbooks/redis.yml")
        hosts = recap(run.stdout)
        live = {host: item for host, item in hosts.items() if host != old}
        self.report.figure("reconverge_seconds", round(run.elapsed, 1))
        self.report.figure("reconverge_recap", hosts)
        self.report.check(hosts.get(old, {}).get("unreachable", 0) + hosts.get(old, {}).get("failed", 0) >= 1,
                          "the converge reports the killed %s unreachable or failed (%s)" % (old, hosts.get(old)))
        self.report.check(live and not any(item["failed"] for item in live.values()), "the converge fails on no live host (%s)" % live)
        self.report.goal("reconverge_after_failover_changed", sum(item["changed"] for item in live.values()) if live else None, 0,
                         "tasks the converge changed on the live hosts")
        after = self.master()
        self.report.figure("master_after_reconverge", after)
        self.report.check(after == new, "the converge kept the new master %s (Sentinels name %s)" % (new, after))

        self.lab.start(old)
        rejoined = self.lab.wait_for("%s replicating from %s" % (old, new), lambda: self.replicates_from(old, new), 90)
        self.report.figure("old_master_rejoined_as_replica", rejoined)
        self.report.check(rejoined, "the old master %s rejoined as a replica of %s (ROLE %s)" % (old, new, self.role(old)[:4]))

    def bad_input(self) -> None:
        """The tier's playbook refuses bad input with a clear message, changing nothing."""
        cases = [
            ("quorum larger than the Sentinels", {"redis_sentinel_quorum": 4}, "redis_sentinel_quorum is 4 but 3 Sentinel(s) run"),
            ("missing password", {"redis_app_password": ""}, "redis_app_password is required"),
            ("ACL rule that does not parse", {"redis_app_acl_rules": ["-@all", "+gett"]}, "'+gett': unknown command 'gett'"),
        ]

        def checksums() -> dict[str, list[str]]:
            return {host: [self.lab.sha256(host, path) for path in WATCHED_FILES] for host in self.hosts}

        before = checksums()
        outcome = {}
        for name, extra, expected in cases:
            run = self.runner.playbook("playbooks/redis.yml", "-e", json.dumps(extra))
            touched = any(item["changed"] or item["unreachable"] for item in recap(run.stdout).values())
            outcome[name] = {"refused": run.returncode != 0, "message_found": expected in run.text, "changed_or_unreachable": touched}
            self.report.check(run.returncode != 0 and expected in run.text and not touched,
                              "bad input (%s): refused with %r, nothing changed" % (name, expected))
        self.report.figure("bad_input", outcome)
        self.report.check(checksums() == before, "the configuration files are as they were")

    def verify(self) -> None:
        """``kaizen-hybrid verify --tags redis``: passes, names a stopped replica, passes again."""
        run = self.runner.cli("verify", "--tags", "redis")
        self.report.check(run.returncode == 0, "kaizen-hybrid verify passes on the Redis tier (exit %d: %s)" % (
            run.returncode, failure_text(run.events)))
        master = self.master()
        replica = next(host for host in self.hosts if host != master)
        self.lab.service(replica, "stop", "redis-server")
        try:
            run = self.runner.cli("verify", "--tags", "redis")
            text = failure_text(run.events)
            messages = " ".join(" ".join(str(item.get("message")).split()) for item in failures(run.events))
            self.report.check(run.returncode == HOST_FAILED and "%s: " % replica in messages,
                              "verify fails naming the stopped replica %s (exit %d: %s)" % (replica, run.returncode, text[:300]))
        finally:
            self.lab.service(replica, "start", "redis-server")
        passed = self.lab.wait_for("verify to pass again", lambda: self.runner.cli("verify", "--tags", "redis").returncode == 0, 60, 3)
        self.report.check(passed, "verify passes again once %s runs" % replica)
