# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exit codes of ``kaizen-hybrid`` (:data:`EXIT_CODES`) and what maps to them.

:func:`exit_code` turns a run's result into the command's exit code;
:func:`guarded` runs a command's action and turns the errors of
:mod:`kaizen_hybrid.errors` into a reported problem and an exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .errors import CollectionNotFound, KaizenHybridError, LabError, NotACheckout, ValidationError
from .result import RunResult

if TYPE_CHECKING:
    from .render import Output

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 64  # sysexits EX_USAGE
EXIT_ENVIRONMENT = 69  # sysexits EX_UNAVAILABLE
EXIT_TIMEOUT = 124
EXIT_CANCELED = 130
EXIT_CODES = {
    EXIT_OK: "the run succeeded",
    EXIT_FAILED: "the run failed with an error of Ansible's (also when ansible-playbook's status is unknown)",
    2: "a task failed on a host (ansible-playbook's code)",
    4: "a host was unreachable, or Ansible could not parse the playbook or inventory (ansible-playbook's code)",
    EXIT_USAGE: "invalid usage or inputs; nothing was started",
    EXIT_ENVIRONMENT: "environment: collection or checkout not found, lab engine or image could not be made",
    EXIT_TIMEOUT: "the run hit --timeout",
    EXIT_CANCELED: "cancelled (Ctrl-C)",
}
_OWN_CODES = frozenset((EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_TIMEOUT, EXIT_CANCELED))


def exit_code(result: RunResult) -> int:
    """0, 124 or 130 by the run's status; a failed run exits with ansible-playbook's status (1 when unknown)."""
    by_status = {"successful": EXIT_OK, "canceled": EXIT_CANCELED, "timeout": EXIT_TIMEOUT}
    if result.status in by_status:
        return by_status[result.status]
    rc = result.rc
    if isinstance(rc, int) and 0 < rc < 256 and rc not in _OWN_CODES:
        return rc
    return EXIT_FAILED


def guarded(output: Output, action: Callable[[], int]) -> int:
    """``action()``'s exit code; the library's errors reported on ``output`` and mapped to 64, 69 or 1."""
    try:
        return action()
    except ValidationError as exc:
        output.problem(str(exc), exc.problems, kind="invalid_input")
        return EXIT_USAGE
    except (CollectionNotFound, NotACheckout, LabError) as exc:
        output.problem(str(exc))
        return EXIT_ENVIRONMENT
    except KaizenHybridError as exc:
        output.problem(str(exc))
        return EXIT_FAILED
