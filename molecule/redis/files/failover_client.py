# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover measurement of molecule scenario redis.

A client that finds the Redis master through Sentinel (redis-py, as an app
would, with the settings of the kaizen.hybrid.redis_app_connection filter)
writes continuously; after a warm-up the master's container is killed
(`docker kill`); the client keeps writing until writes have succeeded again
for a while. Everything is bounded in time and in number of writes, and only
the scenario's own lab hosts are contacted.

Reads the connection settings as JSON from the environment variable
KAIZEN_REDIS_CONNECTION (so no secret appears on a command line); prints one
JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel


def client_settings(connection: dict) -> dict:
    # No retries inside the library (its default backs off for seconds): the
    # loop below retries every 50 ms, so the measurement shows when the
    # cluster accepts writes again, not the library's back-off schedule.
    settings = {
        "username": connection["username"],
        "password": connection["password"],
        "socket_timeout": 0.5,
        "socket_connect_timeout": 0.5,
        "retry": Retry(NoBackoff(), 0),
    }
    if connection["tls"]:
        settings.update(ssl=True, ssl_ca_certs=connection["ca_file"])
    return settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--container-of", action="append", default=[], metavar="ADDRESS=CONTAINER",
                        help="which container has which address (the master's is killed)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of writes before the kill")
    parser.add_argument("--after", type=float, default=3.0, help="seconds of writes after the first one that succeeds again")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="hard limit on the whole run")
    parser.add_argument("--max-writes", type=int, default=20000, help="hard limit on the number of writes")
    parser.add_argument("--interval", type=float, default=0.02, help="pause between writes")
    args = parser.parse_args()

    connection = json.loads(os.environ["KAIZEN_REDIS_CONNECTION"])
    containers = dict(item.split("=", 1) for item in args.container_of)
    settings = client_settings(connection)
    sentinel_settings = dict(settings, username=connection["sentinel_username"], password=connection["sentinel_password"])
    sentinel = Sentinel([(s["host"], s["port"]) for s in connection["sentinels"]], sentinel_kwargs=sentinel_settings, **settings)
    name = connection["master_name"]
    master = sentinel.master_for(name, **settings)

    old_master = sentinel.discover_master(name)
    victim = containers.get(old_master[0])
    if victim is None:
        print(json.dumps({"error": "no container given for the master %s" % (old_master,)}))
        return 2

    prefix = "%sfailover:%s:" % (connection["key_prefix"], uuid.uuid4().hex[:8])
    started = time.monotonic()
    deadline = started + args.max_seconds
    acknowledged: list[str] = []
    failed = 0
    killed_at = None
    kill_wall = None
    recovered_at = None
    last_ok_before_kill = None
    errors: dict[str, int] = {}
    writes = 0
    while time.monotonic() < deadline and writes < args.max_writes:
        writes += 1
        key = "%s%d" % (prefix, writes)
        try:
            master.set(key, writes)
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, redis.ResponseError) as exc:
            failed += 1
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            time.sleep(0.05)
        else:
            now = time.monotonic()
            acknowledged.append(key)
            if killed_at is None:
                last_ok_before_kill = now
            elif recovered_at is None:
                recovered_at = now
        now = time.monotonic()
        if killed_at is None and now - started >= args.warmup:
            subprocess.run(["docker", "kill", victim], check=True, capture_output=True, timeout=30)
            killed_at = time.monotonic()
            kill_wall = time.time()
        if recovered_at is not None and now - recovered_at >= args.after:
            break
        time.sleep(args.interval)

    new_master = sentinel.discover_master(name) if recovered_at is not None else None
    lost = None
    if recovered_at is not None:
        # Which acknowledged writes the new master has (asynchronous replication may lose the last ones).
        found = 0
        for start in range(0, len(acknowledged), 500):
            found += master.exists(*acknowledged[start:start + 500])
        lost = len(acknowledged) - found
        for start in range(0, len(acknowledged), 500):
            master.unlink(*acknowledged[start:start + 500])

    result = {
        "failover_seconds": round(recovered_at - killed_at, 3) if recovered_at is not None else None,
        "outage_seconds": round(recovered_at - last_ok_before_kill, 3) if recovered_at and last_ok_before_kill else None,
        "writes_acknowledged": len(acknowledged),
        "writes_failed": failed,
        "writes_lost": lost,
        "write_errors": errors,
        "writes_attempted": writes,
        "client_seconds": round(time.monotonic() - started, 3),
        "killed_container": victim,
        "killed_at": kill_wall,
        "old_master": "%s:%s" % old_master,
        "new_master": "%s:%s" % new_master if new_master else None,
    }
    print(json.dumps(result))
    return 0 if recovered_at is not None else 1


if __name__ == "__main__":
    sys.exit(main())
