#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_health
short_description: Probe the Kaizen health or readiness endpoint and return its document structured
version_added: 1.0.0
description:
  - Sends C(GET) to a Kaizen C(/health) or C(/ready) URL over HTTP or HTTPS (with the internal CA, and a client
    certificate when one is given), retrying a bounded number of times, and parses the answer.
  - C(/health) is the Kaizen HealthChecker document - an overall C(status) and one check per component
    (C(application), C(database), C(redis), C(ai_models), C(system)), each with its own status and details.
    C(/ready) is the quick readiness check - C(ready) and one boolean per dependency.
  - Either way the module returns one shape - RV(healthy), RV(status), RV(checks), RV(failing) - so a play can
    gate on it (the rolling update does) or report which component is wrong.
  - Only reads; runs the same in check mode.
author:
  - kaizen.hybrid maintainers (@kaizen)
options:
  url:
    description: The URL to probe, for example C(https://10.20.0.21:8080/health).
    type: str
    required: true
  kind:
    description:
      - Which document to expect. V(auto) takes V(ready) for a path ending in C(/ready), else V(health).
    type: str
    choices: [auto, health, ready]
    default: auto
  ca_file:
    description: CA certificate(s) that must have signed the server's certificate (the internal CA of the C(pki) role).
    type: path
  validate_certs:
    description: Verify the server's certificate and name. Turn off only to probe a host whose certificate is being replaced.
    type: bool
    default: true
  client_cert:
    description: Client certificate (PEM) for servers that require mutual TLS.
    type: path
  client_key:
    description: Key of O(client_cert).
    type: path
  headers:
    description: Extra request headers, for example C(Host) when probing a virtual host by address.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 5
  retries:
    description: How many more attempts after the first when there is no answer or it is not healthy.
    type: int
    default: 0
  delay:
    description: Seconds between attempts.
    type: float
    default: 2
  require_healthy:
    description:
      - Fail when the last answer is not healthy (or ready). With V(false) the module only reports.
      - An endpoint that does not answer, or answers something that is not a Kaizen document, fails either way.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The probe only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - A component whose status is C(degraded) (the Kaizen checker's word for high CPU, memory or disk use) does not
    make the instance unhealthy by itself; it is reported in RV(checks).
"""

EXAMPLES = r"""
- name: Wait until the new container is ready, at most 60 s
  kaizen.hybrid.http_health:
    url: "https://{{ kaizen_address }}:8080/ready"
    ca_file: /etc/kaizen/pki/ca.crt
    retries: 30
    delay: 2

- name: Read the deep health document without failing
  kaizen.hybrid.http_health:
    url: https://kaizen.example.com/health
    require_healthy: false
  register: health

- name: Name the failing components
  ansible.builtin.debug:
    msg: "{{ health.status }}: {{ health.failing | join(', ') }}"
  when: not health.healthy
"""

RETURN = r"""
url:
  description: The URL probed.
  returned: always
  type: str
status_code:
  description: HTTP status of the last answer, V(null) when there was none.
  returned: always
  type: int
  sample: 200
healthy:
  description: Whether the last answer says healthy (C(/health)) or ready (C(/ready)).
  returned: always
  type: bool
  sample: true
status:
  description: The overall status - C(healthy), C(unhealthy), ... for C(/health); C(ready) or C(not ready) for C(/ready).
  returned: when an answer was parsed
  type: str
  sample: healthy
checks:
  description: Each component with C(healthy), C(status) and C(details).
  returned: always
  type: dict
  sample: {"database": {"healthy": true, "status": "healthy", "details": {"latency_ms": 2}}}
failing:
  description: The components that are not healthy, sorted.
  returned: always
  type: list
  elements: str
  sample: [redis]
version:
  description: The version the service reports, when its document has one.
  returned: always
  type: str
  sample: 1.4.2
uptime_seconds:
  description: The uptime the service reports, when its document has one.
  returned: always
  type: float
attempts:
  description: How many requests were sent.
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds from the first request to the last answer.
  returned: always
  type: float
document:
  description: The parsed JSON document of the last answer, V(null) when there was none.
  returned: always
  type: dict
"""

import json
import time
import typing as t
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

from ansible_collections.kaizen.hybrid.plugins.module_utils.kaizen_health import HEALTH, READY, HealthDocumentError, kind_of, parse, summary


def probe_once(module: AnsibleModule, kind: str) -> dict[str, t.Any]:
    """One request: ``{'status_code', 'body', 'error'}``."""
    params = module.params
    try:
        response = open_url(
            params["url"],
            method="GET",
            headers=dict(params["headers"] or {}, Accept="application/json"),
            timeout=params["timeout"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_file"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            follow_redirects="none",
            use_proxy=False,
        )
        return {"status_code": response.getcode(), "body": response.read(), "error": None}
    except HTTPError as exc:
        # Kaizen answers an unhealthy /health or an unready /ready with an error status and the document.
        try:
            body = exc.read()
        except Exception:  # the body may be gone with the connection
            body = b""
        return {"status_code": exc.code, "body": body, "error": None}
    except URLError as exc:
        return {"status_code": None, "body": None, "error": to_text(getattr(exc, "reason", exc))}
    except Exception as exc:  # timeouts, TLS errors, resets: all "no answer"
        return {"status_code": None, "body": None, "error": "%s: %s" % (type(exc).__name__, to_text(exc))}


def run(module: AnsibleModule) -> dict[str, t.Any]:
    params = module.params
    kind = kind_of(params["url"]) if params["kind"] == "auto" else params["kind"]
    result: dict[str, t.Any] = dict(changed=False, url=params["url"], status_code=None, healthy=False, checks={}, failing=[],
                                    version=None, uptime_seconds=None, attempts=0, elapsed=0.0, document=None)
    started = time.monotonic()
    problem = ""
    for attempt in range(1, max(0, params["retries"]) + 2):
        if attempt > 1:
            time.sleep(max(0.0, params["delay"]))
        answer = probe_once(module, kind)
        result.update(attempts=attempt, status_code=answer["status_code"], elapsed=round(time.monotonic() - started, 3),
                      document=None, healthy=False)
        result.pop("status", None)
        if answer["error"] is not None:
            problem = "no answer: %s" % answer["error"]
            continue
        try:
            parsed = parse(answer["body"], kind)
        except HealthDocumentError as exc:
            problem = "HTTP %s, and %s" % (answer["status_code"], exc)
            continue
        result.update(parsed, document=json.loads(to_text(answer["body"])))
        problem = summary(parsed)
        if parsed["healthy"]:
            break
    result["msg"] = "%s: %s after %d attempt(s) in %.1f s" % (params["url"], problem, result["attempts"], result["elapsed"])
    # No document at all fails whatever require_healthy says: there is nothing to report.
    if not result["healthy"] and (result["document"] is None or params["require_healthy"]):
        module.fail_json(**result)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            kind=dict(type="str", choices=["auto", HEALTH, READY], default="auto"),
            ca_file=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            client_cert=dict(type="path"),
            client_key=dict(type="path", no_log=False),
            headers=dict(type="dict", default={}),
            timeout=dict(type="float", default=5),
            retries=dict(type="int", default=0),
            delay=dict(type="float", default=2),
            require_healthy=dict(type="bool", default=True),
        ),
        required_together=[("client_cert", "client_key")],
        supports_check_mode=True,
    )
    if module.params["retries"] < 0 or module.params["timeout"] <= 0 or module.params["delay"] < 0:
        module.fail_json(msg="retries and delay must be >= 0 and timeout > 0 (got retries=%s, delay=%s, timeout=%s)" % (
            module.params["retries"], module.params["delay"], module.params["timeout"]))
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
