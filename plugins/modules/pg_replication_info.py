#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_replication_info
short_description: Replication state of a local PostgreSQL server
version_added: 1.0.0
description:
  - Reports whether the local PostgreSQL server runs, whether it is a primary or a replica, its timeline
    and WAL positions, its replay lag, the replicas connected to it with their synchronous state, and its
    replication slots.
  - Connects over the local Unix socket (peer authentication as O(login_user), normally C(postgres), so run the
    task with C(become_user=postgres)).
  - With O(data_directory), also reports what the data directory says when the server is stopped
    (C(pg_controldata)) - whether it is initialised, a standby (C(standby.signal)), its system identifier and
    timeline. The switchover and failover playbooks and the C(postgresql) role decide from this.
  - Never fails because the server is down; RV(running) is then V(false) and RV(error) says why.
  - Needs C(psycopg2) (Debian package C(python3-psycopg2)) or C(psycopg) 3 on the managed host.
author:
  - kaizen.hybrid maintainers (@kaizen)
options:
  login_user:
    description: Database role to connect as (with peer authentication, the OS user the task runs as).
    type: str
    default: postgres
  login_unix_socket:
    description: Directory of the server's Unix socket.
    type: path
    default: /var/run/postgresql
  port:
    description:
      - Port of the server (selects the socket file).
      - With O(data_directory), the port in the running server's C(postmaster.pid) is tried first, so a server whose
        configured port changed and that has not restarted yet is still found; RV(port) says where it answered.
    type: int
    default: 5432
  db:
    description: Database to connect to.
    type: str
    default: postgres
  connect_timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 5
  data_directory:
    description:
      - Data directory of the cluster. When given, RV(data_initialized), RV(standby_signal) and RV(controldata)
        are reported, and the system identifier and timeline are known even when the server is stopped.
    type: path
  bin_dir:
    description:
      - Directory with C(pg_controldata). Default - C(/usr/lib/postgresql/<major>/bin), the major version read
        from C(PG_VERSION) in O(data_directory).
    type: path
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: community.postgresql.postgresql_info
notes:
  - LSNs are returned as PostgreSQL prints them (C(16/B374D848)); byte differences are computed in Python.
"""

EXAMPLES = r"""
- name: Read the replication state
  kaizen.hybrid.pg_replication_info:
    data_directory: /var/lib/postgresql/15/main
  become: true
  become_user: postgres
  register: pg_state

- name: Show the replicas the primary sees
  ansible.builtin.debug:
    msg: "{{ item.application_name }}: {{ item.state }} ({{ item.sync_state }}), {{ item.replay_lag_bytes }} bytes behind"
  loop: "{{ pg_state.replicas }}"
  when: pg_state.role == 'primary'

- name: Wait until this replica streams
  kaizen.hybrid.pg_replication_info:
  become: true
  become_user: postgres
  register: pg_replica
  until: (pg_replica.wal_receiver.status | default('')) == 'streaming'
  retries: 30
  delay: 2
"""

RETURN = r"""
running:
  description: Whether the server accepted a connection.
  returned: always
  type: bool
error:
  description: Why the server could not be queried (empty when RV(running)).
  returned: always
  type: str
role:
  description:
    - C(primary) or C(replica). For a stopped server with O(data_directory), what the data directory will start
      as (C(replica) when C(standby.signal) exists). V(null) when unknown.
  returned: always
  type: str
  sample: replica
in_recovery:
  description: C(pg_is_in_recovery()); V(null) when the server is not running.
  returned: always
  type: bool
server_version_num:
  description: C(server_version_num) of the running server (V(0) when not running).
  returned: always
  type: int
data_initialized:
  description: Whether O(data_directory) holds a cluster (C(PG_VERSION) exists). V(null) without O(data_directory).
  returned: always
  type: bool
standby_signal:
  description: Whether C(standby.signal) exists in O(data_directory). V(null) without O(data_directory).
  returned: always
  type: bool
system_identifier:
  description: The cluster's system identifier (the same on a primary and its replicas), as a string.
  returned: always
  type: str
  sample: "7311845627419874521"
timeline:
  description: The timeline the server is on (a primary's current timeline; a replica's replay timeline).
  returned: always
  type: int
timeline_history:
  description: The history of the current timeline (parsed C(0000000N.history)); empty on timeline 1.
  returned: always
  type: list
  elements: dict
  contains:
    timeline:
      description: A past timeline.
      type: int
    switchpoint:
      description: The LSN where that timeline ended and the next forked.
      type: str
    reason:
      description: Why it ended.
      type: str
current_lsn:
  description: C(pg_current_wal_lsn()) on a primary.
  returned: always
  type: str
  sample: 0/5000148
receive_lsn:
  description: C(pg_last_wal_receive_lsn()) on a replica (WAL received and flushed to its disk).
  returned: always
  type: str
replay_lsn:
  description: C(pg_last_wal_replay_lsn()) on a replica.
  returned: always
  type: str
wal_position:
  description: The furthest WAL position the server has (primary - current; replica - received or replayed;
    stopped - from C(pg_controldata)).
  returned: always
  type: str
replay_lag_bytes:
  description: On a replica, received but not yet replayed WAL, in bytes.
  returned: always
  type: int
replay_lag_seconds:
  description: On a replica, seconds since the last replayed transaction was committed on the primary (V(0) when
    everything received is replayed).
  returned: always
  type: float
wal_receiver:
  description: C(pg_stat_wal_receiver) on a replica (empty when no WAL receiver runs).
  returned: always
  type: dict
  contains:
    status:
      description: C(streaming), C(starting), C(waiting), ...
      type: str
    sender_host:
      description: Host the replica streams from.
      type: str
    sender_port:
      description: Port the replica streams from.
      type: int
    slot_name:
      description: Replication slot in use.
      type: str
    received_tli:
      description: Timeline of the last received WAL.
      type: int
    flushed_lsn:
      description: Last WAL position flushed to disk.
      type: str
replicas:
  description: C(pg_stat_replication) - the replicas (and base backups) connected to this server.
  returned: always
  type: list
  elements: dict
  contains:
    application_name:
      description: The replica's C(application_name) (the role uses its slot name).
      type: str
    client_addr:
      description: The replica's address.
      type: str
    state:
      description: C(streaming), C(catchup), C(backup), ...
      type: str
    sync_state:
      description: C(sync), C(quorum), C(potential) or C(async).
      type: str
    sent_lsn:
      description: Last WAL position sent.
      type: str
    flush_lsn:
      description: Last WAL position the replica flushed.
      type: str
    replay_lsn:
      description: Last WAL position the replica replayed.
      type: str
    replay_lag_bytes:
      description: C(current_lsn - replay_lsn) in bytes.
      type: int
    replay_lag_seconds:
      description: C(replay_lag) in seconds (V(null) when idle).
      type: float
slots:
  description: C(pg_replication_slots).
  returned: always
  type: list
  elements: dict
  contains:
    slot_name:
      description: Name of the slot.
      type: str
    slot_type:
      description: C(physical) or C(logical).
      type: str
    active:
      description: Whether a consumer is connected.
      type: bool
    restart_lsn:
      description: Oldest WAL the slot keeps.
      type: str
    wal_status:
      description: C(reserved), C(extended), C(unreserved) or C(lost).
      type: str
    retained_bytes:
      description: WAL kept for the slot, in bytes (V(null) when unknown).
      type: int
synchronous_standby_names:
  description: The server's C(synchronous_standby_names).
  returned: always
  type: str
port:
  description: The port the server answered on (the configured O(port) when it is not running).
  returned: always
  type: int
controldata:
  description: Selected C(pg_controldata) fields (system_identifier, cluster_state, timeline, lsn, ...), when
    O(data_directory) holds a cluster.
  returned: always
  type: dict
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kaizen.hybrid.plugins.module_utils.postgresql_replication import (
    format_lsn,
    lsn_diff,
    max_lsn,
    parse_controldata,
    parse_postmaster_pid,
    parse_timeline_history,
)

DRIVER_IMPORT_ERROR = None
try:
    import psycopg2 as DRIVER
except ImportError:
    try:
        import psycopg as DRIVER  # psycopg 3
    except ImportError:
        DRIVER = None
        DRIVER_IMPORT_ERROR = traceback.format_exc()


def _empty_result():
    return dict(
        changed=False, running=False, error="", port=None, role=None, in_recovery=None, server_version_num=0,
        data_initialized=None, standby_signal=None, system_identifier=None, timeline=None, timeline_history=[],
        current_lsn=None, receive_lsn=None, replay_lsn=None, wal_position=None, replay_lag_bytes=None,
        replay_lag_seconds=None, wal_receiver={}, replicas=[], slots=[], synchronous_standby_names=None,
        controldata={},
    )


def _rows(cursor, query, params=None):
    cursor.execute(query, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _one(cursor, query, params=None):
    rows = _rows(cursor, query, params)
    return rows[0] if rows else {}


def _seconds(value):
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return round(value.total_seconds(), 3)
    return round(float(value), 3)


def read_data_directory(module, result):
    """Fill the data-directory fields (works when the server is stopped)."""
    data_directory = module.params["data_directory"]
    if not data_directory:
        return
    version_file = os.path.join(data_directory, "PG_VERSION")
    try:
        initialized = os.path.isfile(version_file)
    except OSError:
        initialized = False
    result["data_initialized"] = initialized
    result["standby_signal"] = os.path.exists(os.path.join(data_directory, "standby.signal"))
    if not initialized:
        return
    bin_dir = module.params["bin_dir"]
    if not bin_dir:
        with open(version_file) as handle:
            major = handle.read().strip()
        bin_dir = "/usr/lib/postgresql/%s/bin" % major
    rc, out, err = module.run_command([os.path.join(bin_dir, "pg_controldata"), "-D", data_directory],
                                      environ_update={"LC_ALL": "C"})
    if rc != 0:
        result["controldata"] = {"error": (err or out).strip()}
        return
    controldata = parse_controldata(out)
    result["controldata"] = controldata
    if not result["running"]:
        result["system_identifier"] = controldata.get("system_identifier")
        result["timeline"] = controldata.get("timeline")
        result["wal_position"] = controldata.get("lsn")
        result["role"] = "replica" if result["standby_signal"] else "primary"


def running_port(data_directory):
    """The port in the data directory's postmaster.pid (None without one)."""
    if not data_directory:
        return None
    try:
        with open(os.path.join(data_directory, "postmaster.pid")) as handle:
            return parse_postmaster_pid(handle.read()).get("port")
    except (OSError, UnicodeDecodeError):
        return None


def connect(module, result):
    """A connection to the local server, trying the port in postmaster.pid first, then the configured one."""
    params = module.params
    ports = [port for port in (running_port(params["data_directory"]), params["port"]) if port]
    result["port"] = params["port"]
    errors = []
    for port in dict.fromkeys(ports):
        try:
            connection = DRIVER.connect(
                host=params["login_unix_socket"], port=port, dbname=params["db"], user=params["login_user"],
                connect_timeout=params["connect_timeout"], application_name="kaizen.hybrid.pg_replication_info",
            )
        except Exception as exc:  # the server is down or refuses us: report, do not fail
            errors.append(str(exc).strip())
            continue
        result["port"] = port
        return connection
    result["error"] = "; ".join(errors)
    return None


def read_server(module, result):
    """Fill the fields a running server reports. Returns False when it cannot be reached."""
    connection = connect(module, result)
    if connection is None:
        return False
    try:
        connection.autocommit = True
        cursor = connection.cursor()
        server = _one(cursor, "SELECT pg_is_in_recovery() AS in_recovery, current_setting('server_version_num')::int AS version, "
                              "current_setting('synchronous_standby_names') AS sync_names, "
                              "(SELECT system_identifier::text FROM pg_control_system()) AS system_identifier, "
                              "(SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline")
        result["running"] = True
        result["in_recovery"] = bool(server["in_recovery"])
        result["role"] = "replica" if result["in_recovery"] else "primary"
        result["server_version_num"] = server["version"]
        result["synchronous_standby_names"] = server["sync_names"]
        result["system_identifier"] = server["system_identifier"]
        timeline = server["checkpoint_timeline"]
        if result["in_recovery"]:
            positions = _one(cursor, "SELECT pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay, "
                                     "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 ELSE "
                                     "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END AS lag_seconds")
            result["receive_lsn"] = positions["receive"]
            result["replay_lsn"] = positions["replay"]
            result["wal_position"] = format_lsn(max_lsn(positions["receive"], positions["replay"]))
            lag = lsn_diff(positions["receive"], positions["replay"])
            result["replay_lag_bytes"] = max(lag, 0) if lag is not None else None
            result["replay_lag_seconds"] = _seconds(positions["lag_seconds"])
            receiver = _one(cursor, "SELECT status, sender_host, sender_port, slot_name, received_tli, flushed_lsn::text AS flushed_lsn "
                                    "FROM pg_stat_wal_receiver")
            result["wal_receiver"] = receiver
            recovery = _one(cursor, "SELECT min_recovery_end_timeline FROM pg_control_recovery()")
            candidates = [timeline, receiver.get("received_tli"), recovery.get("min_recovery_end_timeline")]
            timeline = max(value for value in candidates if value) if any(candidates) else timeline
        else:
            current = _one(cursor, "SELECT pg_current_wal_lsn()::text AS lsn")
            result["current_lsn"] = current["lsn"]
            result["wal_position"] = current["lsn"]
            result["replay_lag_bytes"] = 0
            result["replay_lag_seconds"] = 0.0
            # A promoted server runs on a new timeline before its first checkpoint records it.
            try:
                walfile = _one(cursor, "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli")
                timeline = max(timeline or 0, walfile.get("tli") or 0)
            except Exception:  # pragma: no cover - defensive; the query works on every supported version
                pass
        result["timeline"] = timeline
        if timeline and timeline > 1:
            try:
                history = _one(cursor, "SELECT pg_read_file(%s) AS content", ("pg_wal/%08X.history" % timeline,))
                result["timeline_history"] = parse_timeline_history(history.get("content") or "")
            except Exception:  # no privilege to read it, or not received yet
                result["timeline_history"] = []
        replicas = _rows(cursor, "SELECT application_name, client_addr::text AS client_addr, state, sync_state, sync_priority, "
                                 "sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, flush_lsn::text AS flush_lsn, "
                                 "replay_lsn::text AS replay_lsn, EXTRACT(EPOCH FROM write_lag) AS write_lag_seconds, "
                                 "EXTRACT(EPOCH FROM flush_lag) AS flush_lag_seconds, "
                                 "EXTRACT(EPOCH FROM replay_lag) AS replay_lag_seconds "
                                 "FROM pg_stat_replication ORDER BY application_name")
        reference = result["current_lsn"] or result["replay_lsn"]
        for replica in replicas:
            for key in ("write_lag_seconds", "flush_lag_seconds", "replay_lag_seconds"):
                replica[key] = _seconds(replica[key])
            lag = lsn_diff(reference, replica["replay_lsn"])
            replica["replay_lag_bytes"] = max(lag, 0) if lag is not None else None
        result["replicas"] = replicas
        slots = _rows(cursor, "SELECT slot_name, slot_type, active, restart_lsn::text AS restart_lsn, wal_status "
                              "FROM pg_replication_slots ORDER BY slot_name")
        for slot in slots:
            retained = lsn_diff(result["wal_position"], slot["restart_lsn"])
            slot["retained_bytes"] = max(retained, 0) if retained is not None else None
        result["slots"] = slots
    finally:
        connection.close()
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            login_user=dict(type="str", default="postgres"),
            login_unix_socket=dict(type="path", default="/var/run/postgresql"),
            port=dict(type="int", default=5432),
            db=dict(type="str", default="postgres"),
            connect_timeout=dict(type="int", default=5),
            data_directory=dict(type="path"),
            bin_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if DRIVER is None:
        module.fail_json(msg=missing_required_lib("psycopg2 (Debian: python3-psycopg2) or psycopg"),
                         exception=DRIVER_IMPORT_ERROR)
    result = _empty_result()
    try:
        read_server(module, result)
        read_data_directory(module, result)
    except Exception as exc:
        module.fail_json(msg="reading the replication state failed: %s" % exc, exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
