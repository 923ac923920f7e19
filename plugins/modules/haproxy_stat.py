#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: haproxy_stat
short_description: Read which PostgreSQL server each HAProxy listener of the haproxy role sends clients to
version_added: 1.1.0
description:
  - Asks HAProxy's runtime API (its stats socket) for C(show stat) and returns every proxy's servers with their state
    and the result of their last health check.
  - For the listeners the C(kaizen.hybrid.haproxy) role writes (C(postgresql_rw), checked against Patroni's
    C(/primary); C(postgresql_ro), against C(/replica)), it also says which servers are in service and what is wrong -
    no server or more than one behind the read-write port, no replica behind the read-only one.
  - Only reads; runs the same in check mode.
author:
  - kaizen.hybrid maintainers (@kaizen)
options:
  socket:
    description: HAProxy's stats socket (C(stats socket) in its configuration).
    type: path
    default: /run/haproxy/admin.sock
  replicas_expected:
    description: Whether a replica should pass the read-only listener's check (false for a tier of one host).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for HAProxy's answer.
    type: int
    default: 5
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
"""

EXAMPLES = r"""
- name: Read where HAProxy sends PostgreSQL clients
  kaizen.hybrid.haproxy_stat:
  become: true
  register: haproxy_state

- name: Fail when writes have nowhere to go
  ansible.builtin.assert:
    that: haproxy_state.problems | length == 0
    fail_msg: "{{ haproxy_state.problems | join('; ') }}"
"""

RETURN = r"""
proxies:
  description: Every proxy's servers (not its FRONTEND and BACKEND summary rows), each with C(status), C(check_status) and C(check_desc).
  returned: success
  type: dict
  sample: {"postgresql_rw": {"pg1": {"status": "UP", "check_status": "L7OK", "check_desc": "Layer7 check passed"}}}
rw:
  description: The servers in service behind C(postgresql_rw) (one, the Patroni leader, when all is well).
  returned: success
  type: list
  elements: str
ro:
  description: The servers in service behind C(postgresql_ro) (the replicas).
  returned: success
  type: list
  elements: str
problems:
  description: What is wrong, one sentence each; empty when all is well.
  returned: success
  type: list
  elements: str
"""

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.kaizen.hybrid.plugins.module_utils.haproxy import parse_stat, routing


def show_stat(path: str, timeout: int) -> str:
    """One command on the runtime API: HAProxy answers and closes the connection."""
    chunks = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(path)
        connection.sendall(b"show stat\n")
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return to_text(b"".join(chunks), errors="surrogate_or_strict")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
            replicas_expected=dict(type="bool", default=True),
            timeout=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    try:
        text = show_stat(module.params["socket"], module.params["timeout"])
    except OSError as exc:
        module.fail_json(msg="HAProxy's stats socket %s did not answer: %s. Is haproxy running?" % (module.params["socket"], exc))
    proxies = parse_stat(text)
    module.exit_json(changed=False, proxies=proxies, **routing(proxies, module.params["replicas_expected"]))


if __name__ == "__main__":
    main()
