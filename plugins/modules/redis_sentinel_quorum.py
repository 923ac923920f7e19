#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_sentinel_quorum
short_description: Set the quorum a Redis Sentinel uses for a master
version_added: '1.0.0'
description:
  - Reads the quorum a running Sentinel uses for O(master_name) (C(SENTINEL MASTER)) and changes it with
    C(SENTINEL SET <name> quorum <n>) when it differs. Sentinel saves the change in its own state file.
  - The quorum lives in the Sentinel's C(sentinel monitor) line, which belongs to Sentinel once it runs (it rewrites
    that file on every configuration change); changing it at run time keeps the master Sentinel knows.
  - Fails when the Sentinel does not monitor O(master_name).
extends_documentation_fragment:
  - kaizen.hybrid.redis
attributes:
  check_mode:
    support: full
    description: In check mode the quorum is read and the change that would be made is reported.
  diff_mode:
    support: full
    description: The quorum before and after.
options:
  login_host:
    description:
      - Address of the Sentinel.
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - Port of the Sentinel.
    type: int
    default: 26379
  master_name:
    description:
      - Name the Sentinel monitors the master under.
    type: str
    required: true
  quorum:
    description:
      - Number of Sentinels that must agree the master is down before a failover starts.
    type: int
    required: true
author:
  - kaizen.hybrid maintainers (@kaizen)
"""

EXAMPLES = r"""
- name: Two of three Sentinels must agree
  kaizen.hybrid.redis_sentinel_quorum:
    login_host: 10.20.0.41
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    master_name: kaizen
    quorum: 2
  no_log: true
"""

RETURN = r"""
before:
  description: The quorum before.
  returned: always
  type: int
  sample: 3
after:
  description: The quorum after (in check mode, the quorum it would have).
  returned: always
  type: int
  sample: 2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import (
    RedisClient,
    RedisError,
    RedisReplyError,
    connection_argument_spec,
    pairs_to_dict,
)


def main() -> None:
    argument_spec = connection_argument_spec(26379)
    argument_spec.update(master_name=dict(type="str", required=True), quorum=dict(type="int", required=True))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["master_name"]
    quorum = module.params["quorum"]
    if quorum < 1:
        module.fail_json(msg="quorum must be at least 1, got %d" % quorum)
    client = RedisClient.from_params(module.params)
    result = dict(changed=False)
    try:
        with client:
            try:
                info = pairs_to_dict(client.command("SENTINEL", "MASTER", name))
            except RedisReplyError as exc:
                module.fail_json(msg="%s does not monitor a master named %r: %s" % (client.address, name, exc))
            before = int(info.get("quorum", 0))
            result.update(before=before, after=before)
            if before != quorum:
                result.update(changed=True, after=quorum)
                if module._diff:
                    result["diff"] = dict(before="quorum %d\n" % before, after="quorum %d\n" % quorum)
                if not module.check_mode:
                    client.command("SENTINEL", "SET", name, "quorum", str(quorum))
    except RedisError as exc:
        module.fail_json(msg="%s: %s" % (client.address, exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
