# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stopping a run's processes: ansible-playbook and its workers.

:class:`Stopper` is the cancel callback ansible-runner polls during a run. On
cancel or timeout it finds the run's process tree through ``/proc`` (our
child running in the run's private directory, and its descendants), sends
SIGTERM to ansible-playbook, waits a grace period, then SIGKILLs the process
groups of whatever is left.
"""

from __future__ import annotations

import os
import signal
import threading
import time

# After SIGTERM, how long ansible-playbook has to stop its workers (seconds).
_STOP_GRACE = 5.0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _process_tree(cwd: str) -> list[int]:
    """Our child running in ``cwd`` (ansible-playbook) and all its descendants."""
    if not os.path.isdir("/proc"):
        return []
    children = _children_map()
    roots = []
    for pid in children.get(os.getpid(), []):
        try:
            if os.readlink("/proc/%d/cwd" % pid) == cwd:
                roots.append(pid)
        except OSError:
            continue
    tree: list[int] = []
    queue = list(roots)
    while queue and len(tree) < 10000:
        pid = queue.pop(0)
        tree.append(pid)
        queue.extend(children.get(pid, []))
    return tree


def _alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class Stopper:
    """ansible-runner's cancel callback: stops the run on cancel() or timeout, cleanly.

    ansible-runner alone sends SIGKILL to ansible-playbook's process group,
    but ansible-core's workers run in sessions of their own (``setsid``) and
    would finish their task unattended. So: SIGTERM to ansible-playbook first
    (it forwards the signal to its workers, which stop their process groups),
    a grace period, then SIGKILL to whatever of the tree is left, then tell
    ansible-runner to finish.
    """

    def __init__(self, cancel: threading.Event, cwd: str, timeout: float | None) -> None:
        self.cancel = cancel
        self.cwd = cwd
        self.deadline = time.monotonic() + timeout if timeout else None
        self.timed_out = False
        self.stopping_since: float | None = None
        self.tree: list[int] = []

    @property
    def stop_requested(self) -> bool:
        return self.cancel.is_set() or self.timed_out

    def __call__(self) -> bool:
        if not self.stop_requested:
            if self.deadline is None or time.monotonic() < self.deadline:
                return False
            self.timed_out = True
        now = time.monotonic()
        if self.stopping_since is None:
            self.stopping_since = now
            self.tree = _process_tree(self.cwd)
            if self.tree:
                _signal(self.tree[0], signal.SIGTERM, group=False)
                return False
            return True
        alive = [pid for pid in self.tree if _alive(pid)]
        if alive and now - self.stopping_since < _STOP_GRACE:
            return False
        self.kill_leftovers(grace=0)
        return True

    def kill_leftovers(self, grace: float = 2.0) -> None:
        """Stop the process groups of whatever of the run's tree still lives: SIGTERM, then SIGKILL."""
        alive = [pid for pid in self.tree if _alive(pid)]
        for pid in alive:
            _signal(pid, signal.SIGTERM, group=True)
        deadline = time.monotonic() + grace
        for _poll in range(int(grace / 0.1) + 1):
            alive = [pid for pid in alive if _alive(pid)]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for pid in alive:
            _signal(pid, signal.SIGKILL, group=True)


def _signal(pid: int, signum: int, group: bool) -> None:
    try:
        if group:
            pgid = os.getpgid(pid)
            if pgid != os.getpgid(0):
                os.killpg(pgid, signum)
                return
        os.kill(pid, signum)
    except OSError:
        pass
