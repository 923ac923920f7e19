#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_sentinel_info
short_description: Ask Redis Sentinels which instance is the master
version_added: '1.0.0'
description:
  - Asks every Sentinel in O(sentinels) about the master it monitors under O(master_name) (C(SENTINEL MASTER)) and
    reports the master the Sentinels agree on.
  - When Sentinels disagree, the answer with the highest configuration epoch wins, as it does among the Sentinels
    themselves; two different masters with the same epoch fail the module.
  - A Sentinel that cannot be reached, that is not configured yet (no password set, for example Debian's default
    configuration right after the package is installed) or that does not monitor O(master_name) gives no answer.
    When no Sentinel answers, RV(master) is V(null) - the caller may then start from its own idea of the master.
  - A Sentinel that refuses the credentials or the command is an error; when no other Sentinel answers, the module
    fails rather than let the caller guess the master.
  - The redis role runs this before it writes any configuration, so that a re-run after a failover keeps the master
    Sentinel chose instead of going back to the inventory's initial primary.
extends_documentation_fragment:
  - kaizen.hybrid.redis
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to compare.
options:
  sentinels:
    description:
      - The Sentinels to ask.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Address of the Sentinel.
        type: str
        required: true
      port:
        description: Port of the Sentinel.
        type: int
        default: 26379
      name:
        description: Inventory name of the Sentinel's host, for messages.
        type: str
  master_name:
    description:
      - Name the Sentinels monitor the master under.
    type: str
    required: true
  settle_timeout:
    description:
      - Seconds to wait, asking again every second, while the Sentinels report the master as down or a failover in
        progress; the module fails with a message saying so if that lasts longer. V(0) reports the master as it is.
    type: int
    default: 0
author:
  - kaizen.hybrid maintainers (@kaizen)
"""

EXAMPLES = r"""
- name: Ask the Sentinels who the master is
  kaizen.hybrid.redis_sentinel_info:
    sentinels:
      - host: 10.20.0.41
      - host: 10.20.0.42
      - host: 10.20.0.43
    master_name: kaizen
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    tls: true
    tls_ca_file: /etc/kaizen/pki/ca.crt
  register: sentinel_view
  no_log: true

- name: Show the master
  ansible.builtin.debug:
    msg: "{{ sentinel_view.master.host | default('no Sentinel knows the master yet') }}"
"""

RETURN = r"""
master:
  description:
    - The master the Sentinels report, or V(null) when none of them answered.
  returned: always
  type: dict
  contains:
    host:
      description: Address of the master.
      type: str
      sample: 10.20.0.42
    port:
      description: Port of the master.
      type: int
      sample: 6379
    flags:
      description: The master's flags as the answering Sentinel sees them.
      type: list
      elements: str
      sample: [master]
    down:
      description: Whether that Sentinel sees the master as down (C(s_down) or C(o_down)) or a failover in progress.
      type: bool
      sample: false
    config_epoch:
      description: Configuration epoch of the answer.
      type: int
      sample: 3
    quorum:
      description: The quorum that Sentinel uses.
      type: int
      sample: 2
    sentinel:
      description: The Sentinel whose answer was taken (C(host:port)).
      type: str
      sample: 10.20.0.41:26379
sentinels:
  description: What each Sentinel said.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The Sentinel, C(host:port).
      type: str
    state:
      description:
        - V(answered), V(unreachable), V(unconfigured) (no password set on that Sentinel), V(unknown_master) (it
          does not monitor O(master_name)), or V(error) (credentials or command refused).
      type: str
    error:
      description: Why there is no answer, when there is none.
      type: str
    master_host:
      description: The master's address, when it answered.
      type: str
    master_port:
      description: The master's port, when it answered.
      type: int
    config_epoch:
      description: The configuration epoch of its answer.
      type: int
answered:
  description: How many Sentinels answered.
  returned: always
  type: int
  sample: 3
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.redis_client import (
    RedisClient,
    RedisConnectionError,
    RedisError,
    RedisReplyError,
    connection_argument_spec,
    pairs_to_dict,
    same_address,
)

DOWN_FLAGS = ("s_down", "o_down", "failover_in_progress", "promoted", "disconnected")


def _as_int(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _answers_without_auth(client: RedisClient) -> bool:
    try:
        return client.command("PING") == "PONG"
    except RedisError:
        return False


def ask(params: t.Mapping[str, t.Any], host: str, port: int, master_name: str) -> dict[str, t.Any]:
    """One Sentinel's answer (see RETURN.sentinels)."""
    client = RedisClient.from_params(params, host=host, port=port)
    result: dict[str, t.Any] = {"address": host_port(host, port)}
    stage = "connect"
    try:
        client.connect()
        stage = "query"
        reply = client.command("SENTINEL", "MASTER", master_name)
    except RedisConnectionError as exc:
        result.update(state="unreachable", error=str(exc))
        return result
    except RedisReplyError as exc:
        if stage == "connect":
            # Refused credentials. A Sentinel that still answers without any (its default user is open, as in
            # Debian's default file right after the package is installed) is not configured yet; one that does
            # not is configured with other credentials.
            open_default = "without any password configured" in str(exc) or _answers_without_auth(client)
            result.update(state="unconfigured" if open_default else "error", error="AUTH: %s" % exc)
        elif "no such master" in str(exc).lower():
            result.update(state="unknown_master", error="SENTINEL MASTER %s: %s" % (master_name, exc))
        else:
            result.update(state="error", error="SENTINEL MASTER %s: %s" % (master_name, exc))
        return result
    except RedisError as exc:
        result.update(state="error", error=str(exc))
        return result
    finally:
        client.close()
    info = pairs_to_dict(reply)
    flags = [flag for flag in str(info.get("flags", "")).split(",") if flag]
    result.update(
        state="answered",
        master_host=str(info.get("ip", "")),
        master_port=_as_int(info.get("port")),
        flags=flags,
        config_epoch=_as_int(info.get("config-epoch")) or 0,
        quorum=_as_int(info.get("quorum")),
    )
    return result


def choose(answers: list[dict[str, t.Any]]) -> tuple[dict[str, t.Any] | None, str | None]:
    """The master from the answers, by highest config epoch; (None, error) when answers of that epoch disagree."""
    answered = [a for a in answers if a["state"] == "answered"]
    if not answered:
        return None, None
    best_epoch = max(a["config_epoch"] for a in answered)
    best = [a for a in answered if a["config_epoch"] == best_epoch]
    first = best[0]
    for other in best[1:]:
        if not (same_address(other["master_host"], first["master_host"]) and other["master_port"] == first["master_port"]):
            return None, (
                "Sentinels disagree about the master with the same configuration epoch %d: %s says %s, %s says %s. "
                "Let them settle (a failover may be running) and run again."
                % (best_epoch, first["address"], host_port(first["master_host"], first["master_port"]),
                   other["address"], host_port(other["master_host"], other["master_port"]))
            )
    master = {
        "host": first["master_host"],
        "port": first["master_port"],
        "flags": first["flags"],
        "down": any(flag in DOWN_FLAGS for flag in first["flags"]),
        "config_epoch": first["config_epoch"],
        "quorum": first["quorum"],
        "sentinel": first["address"],
    }
    return master, None


def ask_all(params: t.Mapping[str, t.Any]) -> tuple[list[dict[str, t.Any]], dict[str, t.Any] | None, str | None]:
    answers = []
    for item in params["sentinels"]:
        answer = ask(params, item["host"], item["port"], params["master_name"])
        if item.get("name"):
            answer["name"] = item["name"]
        answers.append(answer)
    master, disagreement = choose(answers)
    return answers, master, disagreement


def main() -> None:
    argument_spec = connection_argument_spec()
    argument_spec.update(
        sentinels=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(host=dict(type="str", required=True), port=dict(type="int", default=26379), name=dict(type="str")),
        ),
        master_name=dict(type="str", required=True),
        settle_timeout=dict(type="int", default=0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    deadline = time.monotonic() + max(0, params["settle_timeout"])
    answers, master, disagreement = ask_all(params)
    while (disagreement or (master is not None and master["down"])) and time.monotonic() < deadline:
        time.sleep(1)
        answers, master, disagreement = ask_all(params)
    result = dict(changed=False, master=master, sentinels=answers, answered=sum(a["state"] == "answered" for a in answers))
    if disagreement:
        module.fail_json(msg=disagreement, **result)
    errors = [a for a in answers if a["state"] == "error"]
    if errors and master is None:
        module.fail_json(
            msg="No Sentinel told which instance is the master of %r, and some refused: %s. The master is not "
                "guessed while Sentinels that may know it cannot be asked; check the credentials (login_user, "
                "login_password) and the Sentinels' ACLs." % (params["master_name"], "; ".join(
                    "%s: %s" % (a["address"], a["error"]) for a in errors)),
            **result
        )
    for answer in errors:
        module.warn("Sentinel %s gave no answer: %s" % (answer["address"], answer["error"]))
    if master is not None and master["down"] and params["settle_timeout"] > 0:
        where = host_port(master["host"], master["port"])
        module.fail_json(
            msg="Sentinel %s reports the master of %r, %s, as down or failing over (flags: %s) after waiting %d s. "
                "Nothing was changed. If a failover cannot complete (no healthy replica, too few Sentinels for the "
                "quorum), fix that first." % (master["sentinel"], params["master_name"], where, ",".join(master["flags"]),
                                              params["settle_timeout"]),
            **result
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
