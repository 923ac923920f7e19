# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by the API before or around a run.

A run that starts and fails is not an exception: it is a :class:`RunResult`
with ``status == "failed"``. These are for what stops a run from starting.
"""

from __future__ import annotations


class KaizenHybridError(Exception):
    """Base class of the API's own errors."""


class ValidationError(KaizenHybridError, ValueError):
    """The inputs of a run are wrong; nothing was started.

    ``problems`` lists every problem found (not just the first), each naming
    the argument or variable at fault. Secret values are never included.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = "invalid input: %s" % self.problems[0]
        else:
            message = "%d problems with the inputs:\n%s" % (
                len(self.problems),
                "\n".join("- %s" % problem for problem in self.problems),
            )
        super().__init__(message)


class CollectionNotFound(KaizenHybridError):
    """Neither an installed kaizen.hybrid collection nor a checkout was found."""


class NotACheckout(KaizenHybridError):
    """A command that needs a checkout of the repository (the lab) ran outside one."""


class LabError(KaizenHybridError):
    """The lab's Docker engine or base image could not be made ready."""
