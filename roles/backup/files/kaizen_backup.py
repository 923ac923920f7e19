# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Managed by kaizen.hybrid.backup: /usr/local/lib/kaizen-hybrid/kaizen_backup.py on the backup host.
"""Run a pgBackRest backup and publish what the repository holds for Prometheus.

    python3 kaizen_backup.py --stanza S run --type full|diff|incr   a backup now (the timers' unit runs this), then the metrics
    python3 kaizen_backup.py --stanza S metrics                     the metrics only

The metrics go to node_exporter's textfile directory (written to a temporary file, then renamed):
the last successful backup of the stanza (0 when it has none, so that the age alert fires), and per type
its time, duration and size in the repository, and the failed runs counted since the host was set up
(kept in a state file). pgBackRest runs as the repository's owner; this script runs as root.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TYPES = ("full", "diff", "incr")


def _labels(**labels):
    return "{%s}" % ",".join('%s="%s"' % (name, str(value).replace("\\", "\\\\").replace('"', '\\"'))
                             for name, value in sorted(labels.items()))


def latest_by_type(info, stanza):
    """The newest backup of each type in ``pgbackrest info --output=json`` for ``stanza``: {type: backup}."""
    latest = {}
    for entry in info or []:
        if entry.get("name") != stanza:
            continue
        for backup in entry.get("backup") or []:
            kind = backup.get("type")
            stop = (backup.get("timestamp") or {}).get("stop") or 0
            if kind in TYPES and stop >= ((latest.get(kind) or {}).get("timestamp") or {}).get("stop", -1):
                latest[kind] = backup
    return latest


def stanza_status(info, stanza):
    """pgBackRest's status code of ``stanza`` (0 ok, 1 missing stanza path, 2 no valid backups, ...), or -1 when
    the stanza is not in ``info``."""
    for entry in info or []:
        if entry.get("name") == stanza:
            return int((entry.get("status") or {}).get("code", -1))
    return -1


def render_metrics(stanza, info, failures):
    """The textfile of ``stanza`` from pgBackRest's ``info`` and the failed runs per type (``failures``)."""
    latest = latest_by_type(info, stanza)
    stops = [backup["timestamp"]["stop"] for backup in latest.values()]
    lines = [
        "# HELP kaizen_backup_last_success_timestamp_seconds When the newest backup in the repository finished (Unix time, 0: none).",
        "# TYPE kaizen_backup_last_success_timestamp_seconds gauge",
        "kaizen_backup_last_success_timestamp_seconds%s %d" % (_labels(stanza=stanza), max(stops) if stops else 0),
        "# HELP kaizen_backup_stanza_status pgBackRest's status code of the stanza (0 ok; -1 not found).",
        "# TYPE kaizen_backup_stanza_status gauge",
        "kaizen_backup_stanza_status%s %d" % (_labels(stanza=stanza), stanza_status(info, stanza)),
        "# HELP kaizen_backup_type_last_success_timestamp_seconds When the newest backup of the type finished (Unix time).",
        "# TYPE kaizen_backup_type_last_success_timestamp_seconds gauge",
    ]
    for kind in TYPES:
        if kind in latest:
            lines.append("kaizen_backup_type_last_success_timestamp_seconds%s %d"
                         % (_labels(stanza=stanza, type=kind), latest[kind]["timestamp"]["stop"]))
    lines += ["# HELP kaizen_backup_duration_seconds How long the newest backup of the type took.",
              "# TYPE kaizen_backup_duration_seconds gauge"]
    for kind in TYPES:
        if kind in latest:
            stamp = latest[kind]["timestamp"]
            lines.append("kaizen_backup_duration_seconds%s %d" % (_labels(stanza=stanza, type=kind), stamp["stop"] - stamp["start"]))
    lines += ["# HELP kaizen_backup_repository_size_bytes What the newest backup of the type adds to the repository "
              "(compressed, encrypted).",
              "# TYPE kaizen_backup_repository_size_bytes gauge"]
    for kind in TYPES:
        if kind in latest:
            repository = (latest[kind].get("info") or {}).get("repository") or {}
            lines.append("kaizen_backup_repository_size_bytes%s %d"
                         % (_labels(stanza=stanza, type=kind), repository.get("delta", repository.get("size", 0))))
    lines += ["# HELP kaizen_backup_failures_total Backup runs that failed, by type.",
              "# TYPE kaizen_backup_failures_total counter"]
    for kind in TYPES:
        lines.append("kaizen_backup_failures_total%s %d" % (_labels(stanza=stanza, type=kind), int(failures.get(kind, 0))))
    return "\n".join(lines) + "\n"


def write_atomically(path, text, mode=0o644):
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".kaizen-backup.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_state(path):
    try:
        with open(path) as stream:
            state = json.load(stream)
    except FileNotFoundError:
        return {"failures": {}}
    state.setdefault("failures", {})
    return state


def pgbackrest(args, user, capture=False):
    """``pgbackrest`` with ``args`` as ``user`` (the repository's owner); its output passed through (to the
    journal, under the timers), or captured."""
    argv = ["pgbackrest"] + list(args)
    if os.geteuid() == 0 and user != "root":
        argv = ["runuser", "-u", user, "--"] + argv
    return subprocess.run(argv, check=False, stdout=subprocess.PIPE if capture else None, universal_newlines=True)


def publish(options, state):
    result = pgbackrest(["--stanza=%s" % options.stanza, "--output=json", "info"], options.user, capture=True)
    info = json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []
    write_atomically(os.path.join(options.textfile_dir, "kaizen_backup.prom"),
                     render_metrics(options.stanza, info, state["failures"]))
    return result.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(prog="kaizen-backup", description=__doc__.splitlines()[0])
    parser.add_argument("--stanza", required=True)
    parser.add_argument("--user", default="postgres", help="the repository's owner, who runs pgBackRest")
    parser.add_argument("--textfile-dir", default="/var/lib/prometheus/node-exporter")
    parser.add_argument("--state-file", default="/var/lib/kaizen-backup/state.json")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="a backup now, then the metrics")
    run.add_argument("--type", choices=TYPES, default="diff")
    commands.add_parser("metrics", help="the metrics only")
    options = parser.parse_args(argv)

    state = read_state(options.state_file)
    rc = 0
    if options.command == "run":
        started = time.monotonic()
        rc = pgbackrest(["--stanza=%s" % options.stanza, "--type=%s" % options.type, "backup"], options.user).returncode
        print("kaizen-backup: %s backup of stanza %s %s after %.1f s" % (
            options.type, options.stanza, "succeeded" if rc == 0 else "FAILED (rc %d)" % rc, time.monotonic() - started))
        if rc != 0:
            state["failures"][options.type] = int(state["failures"].get(options.type, 0)) + 1
            os.makedirs(os.path.dirname(options.state_file), exist_ok=True)
            write_atomically(options.state_file, json.dumps(state, sort_keys=True) + "\n", mode=0o600)
    info_rc = publish(options, state)
    return rc or info_rc


if __name__ == "__main__":
    sys.exit(main())
