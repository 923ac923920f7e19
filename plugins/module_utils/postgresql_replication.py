# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL replication state: LSNs, timelines, and the decisions built on them.

Pure functions over plain data (what ``kaizen.hybrid.pg_replication_info`` returns
for each host), shared by the module, the ``postgresql`` role (through filters)
and the switchover/failover playbooks:

* :func:`parse_lsn` / :func:`format_lsn`: ``'0/3000148'`` <-> integer byte positions;
* :func:`parse_controldata`: the output of ``pg_controldata`` for a stopped server;
* :func:`parse_timeline_history`: a ``0000000N.history`` file;
* :func:`live_primary`: which host is the primary *now* (it may differ from the inventory
  after a failover) or why that cannot be told;
* :func:`replica_action`: what a non-primary host needs (nothing, a rejoin with pg_rewind,
  or a fresh clone);
* :func:`failover_target`: the replica with the most WAL, for a failover.

No Ansible or database imports: runs on the managed host's Python 3 and in unit tests.
"""

from __future__ import annotations

import re
import typing as t

PRIMARY = "primary"
REPLICA = "replica"


class ReplicationError(ValueError):
    """The replication state does not allow the requested decision (the message says why)."""


# --- LSNs -------------------------------------------------------------------

_LSN_RE = re.compile(r"^\s*([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})\s*$")


def parse_lsn(value: t.Any) -> int | None:
    """``'16/B374D848'`` -> byte position (int); None for None/''; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _LSN_RE.match(str(value))
    if not match:
        raise ValueError("%r is not a PostgreSQL LSN (expected e.g. '0/3000148')" % (value,))
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(position: int | None) -> str | None:
    """Byte position -> ``'X/Y'`` (upper-case hex, as PostgreSQL prints it)."""
    if position is None:
        return None
    return "%X/%X" % (position >> 32, position & 0xFFFFFFFF)


def lsn_diff(left: t.Any, right: t.Any) -> int | None:
    """``left - right`` in bytes; None when either is unknown."""
    first, second = parse_lsn(left), parse_lsn(right)
    if first is None or second is None:
        return None
    return first - second


def max_lsn(*values: t.Any) -> int | None:
    """The largest of the known LSNs (None when none is known)."""
    known = [position for position in (parse_lsn(value) for value in values) if position is not None]
    return max(known) if known else None


# --- pg_controldata and timeline history ------------------------------------

_CONTROLDATA_KEYS = {
    "Database system identifier": "system_identifier",
    "Database cluster state": "cluster_state",
    "Latest checkpoint location": "checkpoint_lsn",
    "Latest checkpoint's REDO location": "redo_lsn",
    "Latest checkpoint's TimeLineID": "checkpoint_timeline",
    "Minimum recovery ending location": "min_recovery_end_lsn",
    "Min recovery ending loc's timeline": "min_recovery_end_timeline",
    "Data page checksum version": "data_checksum_version",
    "wal_log_hints setting": "wal_log_hints",
    "pg_control last modified": "last_modified",
}


def parse_controldata(text: str) -> dict[str, t.Any]:
    """The fields of ``pg_controldata`` output that replication decisions need, typed.

    ``timeline`` is the timeline the data directory is on (the minimum-recovery timeline when the
    server was a standby that got past its checkpoint, else the checkpoint's timeline), ``lsn`` the
    furthest position known to be in it.
    """
    raw: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _CONTROLDATA_KEYS:
            raw[_CONTROLDATA_KEYS[key.strip()]] = value.strip()
    result: dict[str, t.Any] = dict(raw)
    for key in ("checkpoint_timeline", "min_recovery_end_timeline", "data_checksum_version"):
        if key in raw:
            try:
                result[key] = int(raw[key])
            except ValueError:
                result[key] = None
    for key in ("checkpoint_lsn", "redo_lsn", "min_recovery_end_lsn"):
        if key in raw:
            try:
                parse_lsn(raw[key])
            except ValueError:
                result[key] = None
    timeline = result.get("checkpoint_timeline")
    min_timeline = result.get("min_recovery_end_timeline") or 0
    if isinstance(timeline, int) and min_timeline > timeline:
        timeline = min_timeline
    result["timeline"] = timeline
    lsn = max_lsn(result.get("checkpoint_lsn"), result.get("min_recovery_end_lsn"))
    result["lsn"] = format_lsn(lsn)
    result["in_recovery"] = result.get("cluster_state", "").startswith("shut down in recovery") or \
        result.get("cluster_state", "") == "in archive recovery"
    result["shut_down_cleanly"] = result.get("cluster_state", "") in ("shut down", "shut down in recovery")
    return result


def parse_postmaster_pid(text: str) -> dict[str, t.Any]:
    """The running server's ``postmaster.pid`` -> ``{pid, port, socket_dir, status}`` (empty when unreadable).

    The file's lines are the postmaster's pid, the data directory, its start time, the port, the first
    Unix socket directory, the first listen address, the shared memory key and (PostgreSQL 10+) its
    status (``starting``, ``ready``, ``standby``, ``stopping``). The port is the one the server listens on
    now: after a port change in the configuration it stays the old one until the restart.
    """
    lines = (text or "").splitlines()
    if len(lines) < 4:
        return {}
    try:
        pid, port = int(lines[0].strip()), int(lines[3].strip())
    except ValueError:
        return {}
    if pid <= 0 or not 0 < port < 65536:
        return {}
    return {"pid": pid, "port": port, "socket_dir": lines[4].strip() if len(lines) > 4 else "",
            "status": lines[7].strip() if len(lines) > 7 else ""}


def parse_timeline_history(text: str) -> list[dict[str, t.Any]]:
    """A timeline history file -> ``[{'timeline': 1, 'switchpoint': '0/3000148', 'reason': ...}, ...]``.

    Each entry says: timeline ``timeline`` ended at ``switchpoint`` (the next one forked there).
    Comment and blank lines are skipped.
    """
    entries = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 2)
        if len(fields) < 2:
            continue
        try:
            timeline = int(fields[0])
            switchpoint = format_lsn(parse_lsn(fields[1]))
        except ValueError:
            continue
        entries.append({"timeline": timeline, "switchpoint": switchpoint, "reason": fields[2] if len(fields) > 2 else ""})
    return entries


def follows_history(timeline: t.Any, lsn: t.Any, primary_timeline: t.Any, primary_history: list[dict[str, t.Any]] | None) -> bool | None:
    """Can a server on ``timeline`` at ``lsn`` follow a primary on ``primary_timeline`` with ``primary_history``?

    True when it is on the primary's timeline, or on an ancestor timeline and not past the point where
    the primary's history left it; False when it has diverged; None when it cannot be told (unknown values).
    """
    if not isinstance(timeline, int) or not isinstance(primary_timeline, int):
        return None
    if timeline == primary_timeline:
        return True
    if timeline > primary_timeline:
        return False
    position = parse_lsn(lsn)
    for entry in primary_history or []:
        if entry.get("timeline") == timeline:
            if position is None:
                return None
            return position <= parse_lsn(entry.get("switchpoint"))
    return None if not primary_history else False


# --- decisions over the state of every host ---------------------------------


def _get(state: t.Mapping[str, t.Any] | None, key: str, default: t.Any = None) -> t.Any:
    if not isinstance(state, t.Mapping):
        return default
    value = state.get(key, default)
    return default if value is None else value


def is_running_primary(state: t.Mapping[str, t.Any] | None) -> bool:
    return bool(_get(state, "running")) and _get(state, "in_recovery") is False


def has_data(state: t.Mapping[str, t.Any] | None) -> bool:
    return bool(_get(state, "data_initialized"))


def live_primary(states: t.Mapping[str, t.Mapping[str, t.Any]], inventory_primary: str) -> dict[str, t.Any]:
    """Decide which host the cluster's primary is now.

    ``states`` maps every reachable PostgreSQL host to its ``pg_replication_info`` result. Returns
    ``{'primary': host, 'initialize': bool, 'reason': str, 'warnings': [...]}``; ``initialize`` is true
    for a new cluster (no host has data: the inventory's primary is initialised).

    Raises ReplicationError for a state that must not be guessed at: two running primaries (split
    brain), or data everywhere but no primary anywhere (a failover is needed first).
    """
    running = [host for host, state in states.items() if is_running_primary(state)]
    if len(running) > 1:
        raise ReplicationError(
            "split brain: %s all accept writes (none is in recovery). Stop all but the right one, then run "
            "pg_failover.yml -e pg_failover_target=<host> or fix the cluster by hand" % " and ".join(sorted(running))
        )
    warnings: list[str] = []
    if running:
        primary = running[0]
        if primary != inventory_primary:
            warnings.append(
                "%s is the running primary, not %s as the inventory says (a failover or switchover happened); "
                "update the inventory (postgres_primary / postgres_role) to match" % (primary, inventory_primary)
            )
        return {"primary": primary, "initialize": False, "reason": "%s is running and not in recovery" % primary,
                "warnings": warnings}
    with_data = [host for host, state in states.items() if has_data(state)]
    if not with_data:
        if inventory_primary not in states:
            raise ReplicationError(
                "the inventory's primary %s is not reachable and no host has a PostgreSQL cluster yet" % inventory_primary
            )
        return {"primary": inventory_primary, "initialize": True,
                "reason": "new cluster: no host has data; %s is the inventory's primary" % inventory_primary,
                "warnings": warnings}
    stopped_primaries = [host for host in with_data if not _get(states[host], "running") and not _get(states[host], "standby_signal")]
    if inventory_primary in stopped_primaries:
        return {"primary": inventory_primary, "initialize": False,
                "reason": "%s is the inventory's primary; it has data and is not a standby (stopped)" % inventory_primary,
                "warnings": warnings}
    if inventory_primary in states and not has_data(states[inventory_primary]) and not stopped_primaries:
        raise ReplicationError(
            "the inventory's primary %s has no data but %s do: it is not initialised again over an existing "
            "cluster. Run pg_failover.yml to promote a replica, or restore the primary's data"
            % (inventory_primary, ", ".join(sorted(with_data)))
        )
    if len(stopped_primaries) == 1:
        primary = stopped_primaries[0]
        warnings.append("%s is the primary (stopped, data without standby.signal), not %s as the inventory says"
                        % (primary, inventory_primary))
        return {"primary": primary, "initialize": False,
                "reason": "%s has data and is not a standby (stopped)" % primary, "warnings": warnings}
    if len(stopped_primaries) > 1:
        raise ReplicationError(
            "%s all have data and none is a standby or running: cannot tell which is the primary. Start the "
            "right one, or run pg_failover.yml -e pg_failover_target=<host>" % ", ".join(sorted(stopped_primaries))
        )
    raise ReplicationError(
        "no primary: every reachable host with data (%s) is a standby. Run pg_failover.yml to promote the "
        "replica with the most WAL" % ", ".join(sorted(with_data))
    )


def replica_action(primary_state: t.Mapping[str, t.Any], state: t.Mapping[str, t.Any]) -> dict[str, str]:
    """What a host that is not the primary needs: ``{'action': ..., 'reason': ...}``.

    * ``clone``: no data, or data of another cluster (system identifier differs): a new base backup;
    * ``rejoin``: data of this cluster that is not a standby, or that has diverged from the primary's
      timeline: stop, pg_rewind from the primary, start as a standby (a clone when pg_rewind fails);
    * ``none``: a standby of this cluster on the primary's history; at most re-pointed and started.
    """
    if not has_data(state):
        return {"action": "clone", "reason": "no data directory"}
    primary_id = _get(primary_state, "system_identifier")
    own_id = _get(state, "system_identifier")
    if primary_id and own_id and str(primary_id) != str(own_id):
        return {"action": "clone", "reason": "data of another cluster (system identifier %s, primary's %s)" % (own_id, primary_id)}
    if is_running_primary(state):
        return {"action": "rejoin", "reason": "running as a primary"}
    if not _get(state, "running") and not _get(state, "standby_signal"):
        return {"action": "rejoin", "reason": "data without standby.signal (a former primary)"}
    follows = follows_history(
        _get(state, "timeline"), _get(state, "wal_position"),
        _get(primary_state, "timeline"), _get(primary_state, "timeline_history", []),
    )
    if follows is False:
        return {"action": "rejoin", "reason": "diverged: timeline %s at %s is not on the primary's history (timeline %s)"
                % (_get(state, "timeline"), _get(state, "wal_position"), _get(primary_state, "timeline"))}
    return {"action": "none", "reason": "a standby of this cluster"}


def failover_target(states: t.Mapping[str, t.Mapping[str, t.Any]], order: t.Sequence[str], requested: str | None = None,
                    force: bool = False) -> dict[str, t.Any]:
    """The replica to promote when the primary is lost: the one that has received the most WAL.

    ``states`` are the reachable hosts' ``pg_replication_info`` results, ``order`` the inventory
    order (the tie-break). ``requested`` (a host) is accepted when it has as much WAL as the best
    candidate, or when ``force`` is set. Returns ``{'target', 'lsn', 'candidates': [{host, lsn}], 'behind_bytes'}``.
    """
    candidates = []
    for host in order:
        state = states.get(host)
        if not _get(state, "running") or _get(state, "in_recovery") is not True:
            continue
        position = max_lsn(_get(state, "receive_lsn"), _get(state, "replay_lsn"))
        candidates.append({"host": host, "lsn": format_lsn(position), "_pos": position if position is not None else -1})
    if not candidates:
        raise ReplicationError("no running replica to promote (reachable hosts: %s)" % (", ".join(sorted(states)) or "none"))
    best = max(candidates, key=lambda item: item["_pos"])  # max() keeps the first of equals: inventory order
    chosen = best
    if requested:
        matches = [item for item in candidates if item["host"] == requested]
        if not matches:
            raise ReplicationError("pg_failover_target %s is not a running replica (candidates: %s)"
                                   % (requested, ", ".join(item["host"] for item in candidates)))
        chosen = matches[0]
        if chosen["_pos"] < best["_pos"] and not force:
            raise ReplicationError(
                "pg_failover_target %s has received less WAL than %s (%s < %s, %d bytes behind): promoting it would "
                "lose the commits only %s has. Choose %s, or set pg_failover_force=true to accept the loss"
                % (requested, best["host"], chosen["lsn"], best["lsn"], best["_pos"] - chosen["_pos"], best["host"], best["host"])
            )
    return {
        "target": chosen["host"],
        "lsn": chosen["lsn"],
        "behind_bytes": best["_pos"] - chosen["_pos"],
        "candidates": [{"host": item["host"], "lsn": item["lsn"]} for item in candidates],
    }


FAILOVER_MODES = ("failover", "fence", "converge", "refuse")


def failover_plan(inspected: t.Mapping[str, t.Any], order: t.Sequence[str], requested: str | None = None,
                  force: bool = False) -> dict[str, t.Any]:
    """What ``pg_failover.yml`` does, decided before anything changes.

    ``inspected`` maps every PostgreSQL host in the play to what the role's ``inspect`` entry point read there:
    ``{'state': <pg_replication_info result>, 'promotion': <the last promotion record, {} when none>}``; a host
    that did not answer (lost) has no ``state`` (or no ``running`` in it). ``order`` is the inventory order.

    ``mode`` is one of:

    * ``failover``: no primary runs; ``choice`` (:func:`failover_target`) is promoted;
    * ``fence``: ``force`` with a ``requested`` replica while a primary runs: it is stopped and fenced first;
    * ``converge``: the running primary was promoted by the last failover or switchover and nothing since (its
      timeline is the one after the record's ``timeline_before``): the others are re-pointed and rejoined;
    * ``refuse``: ``problem`` says why - a primary that is alive, two running primaries, a requested replica that
      is not acceptable. Nothing is changed then.

    Also returns ``reachable`` and ``primaries`` (hosts, inventory order), ``states`` (the reachable hosts'),
    ``choice`` (or None) and ``new_primary`` (the primary after the run; empty when refused)."""
    hosts = [host for host in order if host in inspected] + sorted(host for host in inspected if host not in order)
    states = {host: dict((inspected[host] or {}).get("state") or {}) for host in hosts}
    reachable = [host for host in hosts if "running" in states[host]]
    states = {host: states[host] for host in reachable}
    primaries = [host for host in reachable if is_running_primary(states[host])]
    plan: dict[str, t.Any] = {"mode": "refuse", "reachable": reachable, "primaries": primaries, "states": states,
                              "choice": None, "new_primary": "", "problem": ""}
    if len(primaries) > 1:
        plan["problem"] = ("Split brain: %s all accept writes. Stop the wrong one(s) by hand, then run this playbook with "
                           "-e pg_failover_target=<host>. Nothing was changed." % " and ".join(primaries))
        return plan
    if primaries:
        primary = primaries[0]
        if force and requested and requested != primary:
            plan["mode"] = "fence"
        else:
            record = (inspected[primary] or {}).get("promotion") or {}
            before, timeline = record.get("timeline_before"), _get(states[primary], "timeline")
            if before is not None and timeline is not None and int(before) + 1 == int(timeline):
                plan.update(mode="converge", new_primary=primary)
                return plan
            plan["problem"] = (
                "%s is reachable and accepts writes (it is the running primary): a failover now would make two primaries. "
                "For a planned change use pg_switchover.yml; if %s is broken although it runs, set -e pg_failover_force=true "
                "-e pg_failover_target=<replica> to fence it and fail over. Nothing was changed." % (primary, primary))
            return plan
    else:
        plan["mode"] = "failover"
    try:
        choice = failover_target({host: state for host, state in states.items() if host not in primaries}, list(order),
                                 requested, force)
    except ReplicationError as exc:
        plan.update(mode="refuse", problem="%s. Nothing was changed." % exc)
        return plan
    plan.update(choice=choice, new_primary=choice["target"])
    return plan


def switchover_ready(primary_state: t.Mapping[str, t.Any], target: str, max_lag_bytes: int = 0) -> dict[str, t.Any]:
    """Check a planned switchover to ``target``: it must be streaming from the primary with at most
    ``max_lag_bytes`` of replay lag (by the primary's pg_stat_replication). Returns ``{'ready', 'reason', 'lag_bytes'}``."""
    for replica in _get(primary_state, "replicas", []) or []:
        if replica.get("application_name") == target or replica.get("host") == target:
            if replica.get("state") != "streaming":
                return {"ready": False, "reason": "%s is %s, not streaming" % (target, replica.get("state")), "lag_bytes": None}
            lag = lsn_diff(_get(primary_state, "current_lsn"), replica.get("replay_lsn"))
            if lag is None or lag > max_lag_bytes:
                return {"ready": False, "lag_bytes": lag,
                        "reason": "%s lags the primary by %s bytes of replay (allowed: %d)" % (target, lag, max_lag_bytes)}
            return {"ready": True, "reason": "%s is streaming, %d bytes behind" % (target, lag), "lag_bytes": lag}
    return {"ready": False, "reason": "%s is not connected to the primary" % target, "lag_bytes": None}


# Settings a hot standby must keep at least as high as its primary's (PostgreSQL refuses read-only
# connections otherwise): raise them on the standbys first, lower them on the primary first.
STANDBY_MINIMUM_SETTINGS = ("max_connections", "max_prepared_transactions", "max_locks_per_transaction",
                            "max_wal_senders", "max_worker_processes")


def _lowered(row: t.Mapping[str, t.Any]) -> bool:
    if row.get("name") not in STANDBY_MINIMUM_SETTINGS:
        return False
    try:
        return int(str(row.get("configured")).strip()) < int(str(row.get("running")).strip())
    except (TypeError, ValueError):
        return False


def restart_order(pending: t.Mapping[str, t.Any], primary: str, hosts: t.Sequence[str], patroni: bool = False) -> dict[str, t.Any]:
    """The hosts to restart for settings that wait for a restart, one at a time.

    ``pending`` maps a host to its pending settings (``[{name, running, configured}]``, from pg_settings
    and pg_file_settings). Replicas first (in ``hosts`` order) and the primary last, so the primary
    restarts once its standbys run with the new values - unless one of
    :data:`STANDBY_MINIMUM_SETTINGS` is lowered: a standby may not run with less than its primary,
    so then the primary goes first. A port change of the primary also sends it first when the replicas
    connect to the port in their own configuration (``patroni`` false: their ``primary_conninfo``
    names the new port as soon as it is reloaded); under Patroni they connect to the port the leader
    advertises, which moves when the leader restarts, so the replicas go first there too.
    ``wait_replay``: after the primary, each standby waits until it has replayed the primary's lowered
    values before its own restart (it would start with the old ones otherwise). Not for a port change
    alone: a raised setting pauses a standby's replay until it restarts with the new value itself.
    Returns ``{'order': [...], 'primary_first': bool, 'wait_replay': bool, 'reason': str}``.
    """
    with_pending = [host for host in hosts if pending.get(host)]
    lowered = sorted({row.get("name") for host in with_pending for row in pending[host] if _lowered(row)})
    replicas = [host for host in with_pending if host != primary]
    primary_part = [primary] if primary in with_pending else []
    if lowered:
        return {"order": primary_part + replicas, "primary_first": True, "wait_replay": True,
                "reason": "%s lowered: the primary restarts first (a standby may not run with less than its primary)"
                          % ", ".join(lowered)}
    if not patroni and any(row.get("name") == "port" for row in pending.get(primary) or []):
        return {"order": primary_part + replicas, "primary_first": True, "wait_replay": False,
                "reason": "the port changes: the primary restarts first (the replicas connect to its new port already)"}
    return {"order": replicas + primary_part, "primary_first": False, "wait_replay": False, "reason": "replicas first, the primary last"}


# --- verification of a running cluster ---------------------------------------


def verify_cluster(states: t.Mapping[str, t.Any], hosts: t.Sequence[str], names: t.Mapping[str, str],
                   max_lag_bytes: int = 16 << 20, synchronous_count: int = 0) -> dict[str, t.Any]:
    """What is wrong with a running cluster, one message per problem, each naming the host.

    ``states`` maps a host to what ``pg_replication_info`` returned for it (a host missing there did
    not answer); ``hosts`` is group ``postgres`` in inventory order; ``names`` maps a host to its
    application (and slot) name. Checks: every host answers and runs; exactly one primary; every
    other host is a standby streaming from it, connected under its own name and at most
    ``max_lag_bytes`` behind in replay; at least ``synchronous_count`` synchronous standbys.
    Returns ``{'primary': host or None, 'problems': [...], 'summary': [...]}``.
    """
    problems: list[str] = []
    summary: list[str] = []
    running = []
    for host in hosts:
        state = states.get(host)
        if not isinstance(state, t.Mapping) or "running" not in state:
            reason = _get(state, "msg", "") if isinstance(state, t.Mapping) else ""
            problems.append("%s: did not answer (%s)" % (host, str(reason).strip() or "host unreachable, or its state could not be read"))
        elif not state.get("running"):
            problems.append("%s: PostgreSQL is not running (%s)" % (host, state.get("error") or "no server answers"))
        else:
            running.append(host)
    primaries = [host for host in running if is_running_primary(states[host])]
    if len(primaries) > 1:
        problems.append("%s: more than one server accepts writes (split brain)" % " and ".join(primaries))
        return {"primary": None, "problems": problems, "summary": summary}
    if not primaries:
        if running:
            problems.append("%s: no primary, every running server is a standby" % ", ".join(running))
        return {"primary": None, "problems": problems, "summary": summary}
    primary = primaries[0]
    connected = {str(row.get("application_name")): row for row in _get(states[primary], "replicas", []) or []}
    summary.append("%s: primary, timeline %s" % (primary, _get(states[primary], "timeline", "?")))
    synchronous = 0
    for host in running:
        if host == primary:
            continue
        receiver = _get(states[host], "wal_receiver", {}) or {}
        # The role's replicas connect under their slot name, Patroni's under the member (host) name.
        row = connected.get(names.get(host, host)) or connected.get(host)
        if receiver.get("status") != "streaming":
            problems.append("%s: standby is not streaming from %s (WAL receiver: %s)" % (host, primary, receiver.get("status") or "none"))
            continue
        if row is None:
            problems.append("%s: streams, but not from the primary %s (it is not among its replicas)" % (host, primary))
            continue
        lag = row.get("replay_lag_bytes")
        if lag is not None and int(lag) > max_lag_bytes:
            problems.append("%s: replays %s bytes behind %s (allowed: %d)" % (host, lag, primary, max_lag_bytes))
        if row.get("sync_state") in ("sync", "quorum"):
            synchronous += 1
        summary.append("%s: streaming from %s, %s, replay lag %s bytes" % (host, primary, row.get("sync_state") or "async", lag))
    if synchronous < synchronous_count:
        problems.append("%s: %d synchronous standby(s), %d required (synchronous_standby_names %r)" % (
            primary, synchronous, synchronous_count, _get(states[primary], "synchronous_standby_names", "")))
    return {"primary": primary, "problems": problems, "summary": summary}
