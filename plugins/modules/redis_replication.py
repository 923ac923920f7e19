#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_replication
short_description: Make a Redis instance replicate from a given master, or check that it is the master
version_added: '1.0.0'
description:
  - Reads the instance's replication role (C(ROLE)). With O(master_host), makes it a replica of that master when it is
    not one already (C(REPLICAOF host port)); without it, checks that the instance is a master and, only with
    O(promote=true), turns a replica into a master (C(REPLICAOF NO ONE)).
  - A change is persisted by the server itself (C(CONFIG REWRITE)), the way Sentinel persists the changes it makes,
    so the server's own configuration file stays the server's.
  - Nothing is sent when the instance already has the wanted role; the module then reports no change.
  - With O(wait_timeout), waits until a replica's link to its master is up (C(master_link_status:up)).
extends_documentation_fragment:
  - kaizen.hybrid.redis
attributes:
  check_mode:
    support: full
    description: In check mode the role is read and the change that would be made is reported; nothing is sent.
  diff_mode:
    support: full
    description: The role before and after, as one line each.
options:
  login_host:
    description:
      - Address of the Redis server.
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - Port of the Redis server.
    type: int
    default: 6379
  master_host:
    description:
      - Address of the master this instance must replicate from. Empty or omitted - this instance must be a master.
    type: str
  master_port:
    description:
      - Port of that master.
    type: int
    default: 6379
  promote:
    description:
      - When O(master_host) is empty and the instance is a replica, turn it into a master. Without it the module fails
        instead, because promoting is Sentinel's decision once Sentinel runs.
    type: bool
    default: false
  persist:
    description:
      - Have the server write the change to its configuration file (C(CONFIG REWRITE)).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait until a replica's link to its master is up; V(0) does not wait.
    type: int
    default: 0
author:
  - kaizen.hybrid maintainers (@kaizen)
"""

EXAMPLES = r"""
- name: Replicate from the master Sentinel reports
  kaizen.hybrid.redis_replication:
    login_host: 10.20.0.42
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    master_host: 10.20.0.41
    wait_timeout: 60
  no_log: true

- name: Check that this instance is the master
  kaizen.hybrid.redis_replication:
    login_host: 10.20.0.41
    login_user: admin
    login_password: "{{ redis_admin_password }}"
  no_log: true
"""

RETURN = r"""
before:
  description: The role before, V(master) or V(replica of <host>:<port>).
  returned: always
  type: str
  sample: master
after:
  description: The role after (in check mode, the role it would have).
  returned: always
  type: str
  sample: replica of 10.20.0.41:6379
link_status:
  description:
    - C(master_link_status) of a replica after the change (and the wait), else V(null).
    - In check mode, the link of a replica that already has the wanted role (nothing would change), else V(null).
  returned: always
  type: str
  sample: up
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import (
    RedisClient,
    RedisError,
    Role,
    connection_argument_spec,
    parse_info,
    parse_role,
    same_address,
)


def wanted_role(master_host: str | None, master_port: int) -> Role:
    if master_host:
        return Role("replica", master_host, master_port)
    return Role("master")


def has_role(current: Role, wanted: Role) -> bool:
    if current.role != wanted.role:
        return False
    if wanted.role == "replica":
        return same_address(current.master_host, wanted.master_host) and current.master_port == wanted.master_port
    return True


def link_status(client: RedisClient) -> str | None:
    return parse_info(client.command("INFO", "replication")).get("master_link_status")


def run(module: AnsibleModule, client: RedisClient) -> dict[str, t.Any]:
    params = module.params
    current = parse_role(client.command("ROLE"))
    wanted = wanted_role(params["master_host"], params["master_port"])
    result: dict[str, t.Any] = dict(changed=False, before=current.describe(), after=current.describe(), link_status=None)
    if not has_role(current, wanted):
        if wanted.role == "master" and not params["promote"]:
            module.fail_json(
                msg="%s is a %s but should be the master; it is not promoted here (promote=false): when Sentinel "
                    "runs, promoting is its decision. Check what the Sentinels report." % (client.address, current.describe()),
                **result
            )
        result.update(changed=True, after=wanted.describe())
        if module._diff:
            result["diff"] = dict(before="%s\n" % current.describe(), after="%s\n" % wanted.describe())
        if not module.check_mode:
            if wanted.role == "replica":
                client.command("REPLICAOF", wanted.master_host, str(wanted.master_port))
            else:
                client.command("REPLICAOF", "NO", "ONE")
            if params["persist"]:
                client.command("CONFIG", "REWRITE")
    if wanted.role == "replica" and module.check_mode:
        # Reading INFO changes nothing: a check reports the link of a replica that has the wanted role.
        result["link_status"] = None if result["changed"] else link_status(client)
    elif wanted.role == "replica":
        deadline = time.monotonic() + max(0, params["wait_timeout"])
        status = link_status(client)
        while status != "up" and time.monotonic() < deadline:
            time.sleep(1)
            status = link_status(client)
        result["link_status"] = status
        if params["wait_timeout"] > 0 and status != "up":
            module.fail_json(
                msg="%s: the link to its master %s is still %s after %d s; see the server's log (journalctl -u "
                    "redis-server)" % (client.address, host_port(wanted.master_host, wanted.master_port), status,
                                       params["wait_timeout"]),
                **result
            )
    return result


def main() -> None:
    argument_spec = connection_argument_spec(6379)
    argument_spec.update(
        master_host=dict(type="str"),
        master_port=dict(type="int", default=6379),
        promote=dict(type="bool", default=False),
        persist=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = RedisClient.from_params(module.params)
    try:
        with client:
            result = run(module, client)
    except RedisError as exc:
        module.fail_json(msg="%s: %s" % (client.address, exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
