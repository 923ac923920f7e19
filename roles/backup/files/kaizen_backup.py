# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Managed by kaizen.hybrid.backup: /usr/local/lib/kaizen-hybrid/kaizen_backup.py on the backup host.
"""Run a pgBackRest backup, or copy a Redis snapshot, and publish what is kept for Prometheus.

    python3 kaizen_backup.py --stanza S [--repo N ...] run --type full|diff|incr
                                                                   a backup now into each repository, then the metrics
    python3 kaizen_backup.py --stanza S metrics                     the metrics only
    python3 kaizen_backup.py --stanza S info                        the stanza in the repository, one JSON object
    python3 kaizen_backup.py redis --config FILE                   a Redis RDB snapshot, encrypted, then its metrics
    python3 kaizen_backup.py dump --config FILE                    a logical dump (pg_dump -Fc), encrypted, then its metrics

The metrics go to node_exporter's textfile directory (written to a temporary file, then renamed), per
repository (``repo`` label; ``--repo`` names them, 1 by default): the last successful backup of the stanza
(0 when it has none, so that the age alert fires), and per type its time, duration and size in the
repository, and the failed runs counted since the host was set up (kept in a state file). A backup runs
into each repository in turn (pgBackRest backs up one repository per run); one that fails does not stop
the next. pgBackRest runs as the repository's owner; this script runs as root.

The Redis snapshot is taken with ``redis-cli --rdb`` from the first server of the list that answers (a
replica first: the master is spared the fork when it can be), checked (an RDB file starts with REDIS),
encrypted with the repository's passphrase (``openssl enc -aes-256-cbc -pbkdf2``) and only then kept;
snapshots older than the days to keep are removed, the newest always stays. Its metrics are the same
family under stanza="redis", type="rdb", so the same age alert watches them. The logical dump (the guide's
daily pg_dump, as an option) goes the same way: custom format, from a replica when one answers, checked
(PGDMP), encrypted, kept; stanza="dump", type="pg_dump".
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
RDB_MAGIC = b"REDIS"
DUMP_MAGIC = b"PGDMP"
REDIS_STANZA = "redis"
DUMP_STANZA = "dump"


class SnapshotError(RuntimeError):
    """No Redis snapshot could be taken or kept; the message says why, server by server."""


def _labels(**labels):
    return "{%s}" % ",".join('%s="%s"' % (name, str(value).replace("\\", "\\\\").replace('"', '\\"'))
                             for name, value in sorted(labels.items()))


def repo_key(backup):
    """The repository an entry of info's ``backup`` list is in (1 when info does not say)."""
    return int((backup.get("database") or {}).get("repo-key") or 1)


def latest_by_type(info, stanza, repo=1):
    """The newest backup of each type in ``pgbackrest info --output=json`` for ``stanza`` in repository ``repo``:
    {type: backup}."""
    latest = {}
    for entry in info or []:
        if entry.get("name") != stanza:
            continue
        for backup in entry.get("backup") or []:
            if repo_key(backup) != repo:
                continue
            kind = backup.get("type")
            stop = (backup.get("timestamp") or {}).get("stop") or 0
            if kind in TYPES and stop >= ((latest.get(kind) or {}).get("timestamp") or {}).get("stop", -1):
                latest[kind] = backup
    return latest


def stanza_status(info, stanza, repo=1):
    """pgBackRest's status code of ``stanza`` in repository ``repo`` (0 ok, 1 missing stanza path, 2 no valid
    backups, ...; the stanza's own code when info lists no repositories), or -1 when the stanza is not in ``info``."""
    for entry in info or []:
        if entry.get("name") == stanza:
            for repository in entry.get("repo") or []:
                if int(repository.get("key", 0)) == repo:
                    return int((repository.get("status") or {}).get("code", -1))
            return int((entry.get("status") or {}).get("code", -1)) if not entry.get("repo") else -1
    return -1


def repo_summary(entry):
    """Each repository of the stanza ``entry`` of ``info``: {key: {code, message, backups}} (the number of its
    valid backups), what the role decides from (which repositories need the stanza, which the first backup)."""
    summary = {}
    for repository in entry.get("repo") or []:
        key = int(repository.get("key", 0))
        status = repository.get("status") or {}
        summary[str(key)] = {"code": int(status.get("code", -1)), "message": " ".join(str(status.get("message", "")).split()),
                             "backups": sum(1 for backup in entry.get("backup") or [] if repo_key(backup) == key and not backup.get("error"))}
    return summary


def render_metrics(stanza, info, failures, repos=(1,)):
    """The textfile of ``stanza`` from pgBackRest's ``info`` and the failed runs per repository and type
    (``failures``: {"1": {type: count}}), one set of series per repository of ``repos``."""
    series = {name: [] for name in ("last", "status", "type_last", "duration", "size", "failures")}
    for repo in repos:
        latest = latest_by_type(info, stanza, repo)
        stops = [backup["timestamp"]["stop"] for backup in latest.values()]
        labels = dict(stanza=stanza, repo=repo)
        series["last"].append("kaizen_backup_last_success_timestamp_seconds%s %d" % (_labels(**labels), max(stops) if stops else 0))
        series["status"].append("kaizen_backup_stanza_status%s %d" % (_labels(**labels), stanza_status(info, stanza, repo)))
        for kind in TYPES:
            typed = _labels(type=kind, **labels)
            if kind in latest:
                stamp = latest[kind]["timestamp"]
                repository = (latest[kind].get("info") or {}).get("repository") or {}
                series["type_last"].append("kaizen_backup_type_last_success_timestamp_seconds%s %d" % (typed, stamp["stop"]))
                series["duration"].append("kaizen_backup_duration_seconds%s %d" % (typed, stamp["stop"] - stamp["start"]))
                series["size"].append("kaizen_backup_repository_size_bytes%s %d" % (typed, repository.get("delta", repository.get("size", 0))))
            series["failures"].append("kaizen_backup_failures_total%s %d" % (typed, int((failures.get(str(repo)) or {}).get(kind, 0))))
    lines = []
    for key, name, kind, text in (
            ("last", "kaizen_backup_last_success_timestamp_seconds", "gauge", "When the newest backup in the repository finished (Unix time, 0: none)."),
            ("status", "kaizen_backup_stanza_status", "gauge", "pgBackRest's status code of the stanza in the repository (0 ok; -1 not found)."),
            ("type_last", "kaizen_backup_type_last_success_timestamp_seconds", "gauge", "When the newest backup of the type finished (Unix time)."),
            ("duration", "kaizen_backup_duration_seconds", "gauge", "How long the newest backup of the type took."),
            ("size", "kaizen_backup_repository_size_bytes", "gauge", "What the newest backup of the type adds to the repository (compressed, encrypted)."),
            ("failures", "kaizen_backup_failures_total", "counter", "Backup runs that failed, by repository and type.")):
        lines += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind)] + series[key]
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
    """The runner's state: failed backup runs per repository and type ({"failures": {"1": {type: count}}}; a state
    written before there were repositories counts for repository 1), and the copies' own."""
    try:
        with open(path) as stream:
            state = json.load(stream)
    except FileNotFoundError:
        return {"failures": {}}
    failures = state.setdefault("failures", {})
    if any(kind in TYPES for kind in failures):
        state["failures"] = {"1": failures}
    return state


def pgbackrest(args, user, capture=False):
    """``pgbackrest`` with ``args`` as ``user`` (the repository's owner); its output passed through (to the
    journal, under the timers), or captured as text, bytes that are not UTF-8 replaced (pgBackRest echoes what a
    wrong passphrase decrypts a file into)."""
    argv = ["pgbackrest"] + list(args)
    if os.geteuid() == 0 and user != "root":
        argv = ["runuser", "-u", user, "--"] + argv
    pipe = subprocess.PIPE if capture else None
    return subprocess.run(argv, check=False, stdout=pipe, stderr=pipe, universal_newlines=True, errors="replace")


def read_info(stanza, user):
    """pgBackRest's ``info --output=json`` of ``stanza``: (its exit code, the parsed list (empty when it failed), its
    error message (empty when it did not))."""
    result = pgbackrest(["--stanza=%s" % stanza, "--output=json", "info"], user, capture=True)
    message = "" if result.returncode == 0 else ((result.stderr or "").strip() or (result.stdout or "").strip())
    try:
        # strict=False: the decrypted garbage pgBackRest echoes holds raw control characters inside its strings.
        info = json.loads(result.stdout, strict=False) if result.returncode == 0 and (result.stdout or "").strip() else []
    except ValueError as exc:
        info, message = [], "pgBackRest's info could not be read (%s): %s" % (exc, " ".join((result.stdout or "").split())[:300])
    return result.returncode, info, message


def stanza_problem(entry):
    """Why the stanza ``entry`` of ``info`` is not ok, in pgBackRest's words: its status message, and each
    repository's when the stanza's says only "other" (a repository the passphrase does not open, for one). Empty when
    its status is ok."""
    status = entry.get("status") or {}
    if int(status.get("code", 0)) == 0:
        return ""
    reasons = [str(status.get("message", "")).strip()]
    for repo in entry.get("repo") or []:
        repo_status = repo.get("status") or {}
        if int(repo_status.get("code", 0)) != 0:
            reasons.append("repo%s: %s" % (repo.get("key", "?"), " ".join(str(repo_status.get("message", "")).split())))
    return "; ".join(reason for reason in reasons if reason)


def info_main(options):
    """One JSON object for Ansible: the stanza's entry of ``info`` (``{}`` when absent) with ``rc`` and ``error``
    (pgBackRest's error when it failed, else why the stanza is not ok; empty when it is)."""
    rc, info, message = read_info(options.stanza, options.user)
    entry = next((item for item in info if isinstance(item, dict) and item.get("name") == options.stanza), {})
    print(json.dumps(dict(entry, rc=rc, error=message or stanza_problem(entry), repos=repo_summary(entry)), sort_keys=True))
    return 0


def publish(options, state):
    rc, info, _message = read_info(options.stanza, options.user)
    write_atomically(os.path.join(options.textfile_dir, "kaizen_backup.prom"),
                     render_metrics(options.stanza, info, state["failures"], options.repo or [1]))
    return rc


def _starts_with(path, magic):
    try:
        with open(path, "rb") as stream:
            return stream.read(len(magic)) == magic
    except OSError:
        return False


def _remove(path):
    if os.path.exists(path):
        os.unlink(path)


def encrypted_copy(directory, name, attempts, magic, passphrase_file, timeout=600, run=None):
    """Run ``attempts`` (``(label, argv, env)``; ``{out}`` in argv is the file to write) in order until one writes a
    file that starts with ``magic``; encrypt it with the passphrase (``openssl enc -aes-256-cbc -pbkdf2``) into
    ``directory/name``. Returns ``(path, bytes, label)``; SnapshotError naming each attempt's failure otherwise. No
    plaintext copy is left behind either way. ``run`` stands in for subprocess.run (tests)."""
    run = run or subprocess.run
    os.makedirs(directory, mode=0o700, exist_ok=True)
    plain = os.path.join(directory, "." + name + ".plain")
    target = os.path.join(directory, name)
    errors, source = [], None
    try:
        for label, argv, env in attempts:
            try:
                result = run([plain if arg == "{out}" else arg for arg in argv], env=dict(os.environ, **env), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                errors.append("%s: nothing within %s s" % (label, timeout))
                _remove(plain)
                continue
            if result.returncode == 0 and _starts_with(plain, magic):
                source = label
                break
            said = " ".join(((result.stderr or "") + " " + (result.stdout or "")).split())[-200:]
            errors.append("%s: %s" % (label, said or "exit %d, nothing written" % result.returncode))
            _remove(plain)
        if source is None:
            raise SnapshotError("; ".join(errors) or "nothing to copy from")
        encrypted = run(["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-in", plain, "-out", target + ".part",
                         "-pass", "file:" + passphrase_file],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        if encrypted.returncode != 0:
            _remove(target + ".part")
            raise SnapshotError("openssl could not encrypt the copy: %s" % " ".join((encrypted.stderr or "").split())[-200:])
        os.chmod(target + ".part", 0o600)
        os.replace(target + ".part", target)
    finally:
        _remove(plain)
    return target, os.path.getsize(target), source


def redis_snapshot(config, stamp, run=None):
    """An RDB snapshot (``redis-cli --rdb``) from the first of ``config["sources"]`` that answers, encrypted as
    ``redis-<stamp>.rdb.enc`` in ``config["dir"]`` (:func:`encrypted_copy`)."""
    attempts = []
    for source in config.get("sources") or []:
        argv = ["redis-cli", "-h", source["host"], "-p", str(source["port"]), "--user", config["user"], "--no-auth-warning"]
        if config.get("tls"):
            argv += ["--tls", "--cacert", config["ca_file"]]
        attempts.append((source["host"], argv + ["--rdb", "{out}"], {"REDISCLI_AUTH": config["password"]}))
    if not attempts:
        raise SnapshotError("no Redis server to copy from")
    return encrypted_copy(config["dir"], "redis-%s.rdb.enc" % stamp, attempts, RDB_MAGIC, config["passphrase_file"],
                          int(config.get("timeout", 600)), run)


def logical_dump(config, stamp, run=None):
    """``pg_dump -Fc`` of ``config["url"]`` (a replica first, when the URL prefers one), encrypted as
    ``dump-<stamp>.pgdump.enc`` in ``config["dir"]`` (:func:`encrypted_copy`)."""
    argv = [config.get("pg_dump", "pg_dump"), "--format=custom", "--no-password", "--dbname", config["url"], "--file", "{out}"]
    return encrypted_copy(config["dir"], "dump-%s.pgdump.enc" % stamp, [("postgresql", argv, {"PGPASSWORD": config["password"]})],
                          DUMP_MAGIC, config["passphrase_file"], int(config.get("timeout", 3600)), run)


def _copies(directory, prefix):
    if not os.path.isdir(directory):
        return []
    return sorted((os.path.join(directory, entry) for entry in os.listdir(directory)
                   if entry.startswith(prefix + "-") and entry.endswith(".enc")), key=os.path.getmtime)


def prune(directory, prefix, keep_days, now):
    """Remove the copies ``<prefix>-*.enc`` older than ``keep_days`` (by modification time), the newest always kept;
    returns their names."""
    removed = [path for path in _copies(directory, prefix)[:-1] if now - os.path.getmtime(path) > float(keep_days) * 86400]
    for path in removed:
        os.unlink(path)
    return [os.path.basename(path) for path in removed]


def copy_metrics(directory, prefix, stanza, kind, state):
    """The textfile of the copies ``<prefix>-*.enc`` in ``directory``, under ``stanza`` and ``type``: the newest one's time
    (0: none), its size, the last run's duration and the failed runs."""
    copies = _copies(directory, prefix)
    newest = copies[-1] if copies else None
    labels, typed = _labels(stanza=stanza), _labels(stanza=stanza, type=kind)
    lines = [
        "# HELP kaizen_backup_last_success_timestamp_seconds When the newest backup in the repository finished (Unix time, 0: none).",
        "# TYPE kaizen_backup_last_success_timestamp_seconds gauge",
        "kaizen_backup_last_success_timestamp_seconds%s %d" % (labels, os.path.getmtime(newest) if newest else 0),
        "# HELP kaizen_backup_repository_size_bytes What the newest backup of the type adds to the repository "
        "(compressed, encrypted).",
        "# TYPE kaizen_backup_repository_size_bytes gauge",
        "kaizen_backup_repository_size_bytes%s %d" % (typed, os.path.getsize(newest) if newest else 0),
        "# HELP kaizen_backup_duration_seconds How long the newest backup of the type took.",
        "# TYPE kaizen_backup_duration_seconds gauge",
        "kaizen_backup_duration_seconds%s %.1f" % (typed, float(state.get("duration", 0))),
        "# HELP kaizen_backup_failures_total Backup runs that failed, by type.",
        "# TYPE kaizen_backup_failures_total counter",
        "kaizen_backup_failures_total%s %d" % (typed, int(state.get("failures", 0))),
    ]
    return "\n".join(lines) + "\n"


def save_state(path, state):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomically(path, json.dumps(state, sort_keys=True) + "\n", mode=0o600)


# subcommand -> (how the copy is made, file prefix, stanza and type of its metrics, what it is called in the journal)
COPIES = {
    "redis": (redis_snapshot, "redis", REDIS_STANZA, "rdb", "Redis snapshot"),
    "dump": (logical_dump, "dump", DUMP_STANZA, "pg_dump", "logical dump"),
}


def copy_main(options, state):
    """A Redis snapshot or a logical dump: made, encrypted, kept; older ones pruned; the metrics written."""
    make, prefix, stanza, kind, what = COPIES[options.command]
    with open(options.config) as stream:
        config = json.load(stream)
    copy_state = state.setdefault(options.command, {})
    started = time.monotonic()
    rc = 0
    try:
        path, size, source = make(config, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        removed = prune(config["dir"], prefix, config.get("keep_days", 7), time.time())
        copy_state["duration"] = round(time.monotonic() - started, 1)
        print("kaizen-backup: %s from %s kept as %s (%d bytes, encrypted) after %.1f s; %d older removed" % (
            what, source, path, size, copy_state["duration"], len(removed)))
    except (SnapshotError, OSError, KeyError) as exc:
        rc = 1
        copy_state["failures"] = int(copy_state.get("failures", 0)) + 1
        print("kaizen-backup: %s FAILED: %s" % (what, exc))
    save_state(options.state_file, state)
    write_atomically(os.path.join(options.textfile_dir, "kaizen_backup_%s.prom" % options.command),
                     copy_metrics(config["dir"], prefix, stanza, kind, copy_state))
    return rc


def main(argv=None):
    parser = argparse.ArgumentParser(prog="kaizen-backup", description=__doc__.splitlines()[0])
    parser.add_argument("--stanza", default="kaizen")
    parser.add_argument("--user", default="postgres", help="the repository's owner, who runs pgBackRest")
    parser.add_argument("--textfile-dir", default="/var/lib/prometheus/node-exporter")
    parser.add_argument("--state-file", default="/var/lib/kaizen-backup/state.json")
    parser.add_argument("--repo", type=int, action="append", help="a repository of the stanza (repeat for each; default 1)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="a backup now, then the metrics")
    run.add_argument("--type", choices=TYPES, default="diff")
    run.add_argument("--only", dest="run_repo", type=int, action="append",
                     help="back up only into this repository (repeat; default: every --repo)")
    commands.add_parser("metrics", help="the metrics only")
    commands.add_parser("info", help="what the repository holds of the stanza, as one JSON object (rc, error); changes nothing")
    redis = commands.add_parser("redis", help="a Redis snapshot, encrypted, then its metrics")
    redis.add_argument("--config", required=True, help="JSON: sources, user, password, tls, ca_file, passphrase_file, dir, keep_days")
    dump = commands.add_parser("dump", help="a logical dump of the app database, encrypted, then its metrics")
    dump.add_argument("--config", required=True, help="JSON: url, password, pg_dump, passphrase_file, dir, keep_days")
    options = parser.parse_args(argv)

    if options.command == "info":
        return info_main(options)
    state = read_state(options.state_file)
    if options.command in COPIES:
        return copy_main(options, state)
    rc = 0
    if options.command == "run":
        for repo in options.run_repo or options.repo or [1]:
            started = time.monotonic()
            result = pgbackrest(["--stanza=%s" % options.stanza, "--type=%s" % options.type, "--repo=%d" % repo, "backup"], options.user).returncode
            print("kaizen-backup: %s backup of stanza %s into repository %d %s after %.1f s" % (
                options.type, options.stanza, repo, "succeeded" if result == 0 else "FAILED (rc %d)" % result, time.monotonic() - started))
            if result != 0:
                counts = state["failures"].setdefault(str(repo), {})
                counts[options.type] = int(counts.get(options.type, 0)) + 1
                save_state(options.state_file, state)
                rc = rc or result
    info_rc = publish(options, state)
    return rc or info_rc


if __name__ == "__main__":
    sys.exit(main())
