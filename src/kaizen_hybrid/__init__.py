# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the kaizen.hybrid playbooks from Python and follow them live.

    from kaizen_hybrid import deploy

    result = deploy("inventories/lab", event_handler=print)
    print(result.status, result.changed_hosts, result.failures)

One function per operation the collection's playbooks offer (see
:data:`OPERATIONS`), a generic :func:`run_playbook`, and ``*_async`` /
:func:`start` variants that return a cancellable :class:`RunHandle`.
Reference: docs/api.md.

Names are imported on first use, so ``import kaizen_hybrid`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "1.1.0"

_EXPORTS = {
    # operations
    "OPERATIONS": "operations",
    "Operation": "operations",
    "OperationParam": "operations",
    "deploy": "operations",
    "deploy_async": "operations",
    "preflight": "operations",
    "preflight_async": "operations",
    "verify": "operations",
    "verify_async": "operations",
    "switchover": "operations",
    "switchover_async": "operations",
    "failover": "operations",
    "failover_async": "operations",
    "update": "operations",
    "update_async": "operations",
    "backup": "operations",
    "backup_async": "operations",
    "drill": "operations",
    "drill_async": "operations",
    "restore": "operations",
    "restore_async": "operations",
    "dr": "operations",
    "dr_async": "operations",
    "scale": "operations",
    "scale_async": "operations",
    "run_operation": "operations",
    "start": "operations",
    # generic runs
    "run_playbook": "runner",
    "run_playbook_async": "runner",
    "RunHandle": "runner",
    # events
    "Event": "events",
    "PlaybookStarted": "events",
    "PlayStarted": "events",
    "TaskStarted": "events",
    "TaskOk": "events",
    "TaskChanged": "events",
    "TaskSkipped": "events",
    "TaskFailed": "events",
    "TaskUnreachable": "events",
    "PlaybookStats": "events",
    "RunStatusChanged": "events",
    "parse_event": "events",
    # results
    "HostStats": "events",
    "Failure": "result",
    "RunResult": "result",
    # collection, errors
    "Collection": "collection",
    "locate_collection": "collection",
    "find_checkout": "collection",
    "KaizenHybridError": "errors",
    "ValidationError": "errors",
    "CollectionNotFound": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'kaizen_hybrid' has no attribute %r" % name)
    value = getattr(importlib.import_module("%s.%s" % (__name__, module)), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
