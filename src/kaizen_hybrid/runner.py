# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook through ansible-runner, safely, and follow it live.

What every run gets, whatever the caller passes:

- a fresh private data directory (``mkdtemp``, 0700, absolute paths), removed
  afterwards; nothing is read from or left in a reused ``env/`` directory
  (``suppress_env_files``);
- artifacts under one root (default ``~/.local/state/kaizen-hybrid/artifacts``),
  one directory per run, the oldest removed beyond ``keep_artifacts``
  (ansible-runner's ``rotate_artifacts``);
- secrets kept out of artifacts, extra-vars files and environment dumps: the
  vault password is written to a 0600 file in a private 0700 directory on
  tmpfs (``/dev/shm`` when there is one) that is removed when the run ends;
  ``secret_vars`` are encrypted with ansible-vault under a one-run password
  in the same directory; the environment ansible-runner records in
  ``artifacts/<run>/command`` is reduced to Ansible's own settings; facts
  are cached in memory only (a controller's facts hold its environment);
- quiet: nothing is printed, everything arrives as events;
- every event parsed and counted before the caller's handler sees it, so a
  handler that returns nothing (or raises) loses neither events nor stats;
- ``ANSIBLE_COLLECTIONS_PATH`` starting with the collection the inputs were
  validated against, and host key checking on unless the caller's
  environment says otherwise (ansible-runner turns it off by default).

:func:`run_playbook_async` returns a :class:`RunHandle` at once; its
:meth:`RunHandle.cancel` may be called from any thread and stops
ansible-playbook and its workers (SIGKILL to the process group) within about a
second.

This module prepares a run, runs it in a thread and dispatches its events;
the secret files and the scrubbing of the recorded environment live in
:mod:`.credentials`, stopping ansible-playbook's process tree in :mod:`.process`.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

import ansible_runner.interface

from .collection import Collection, locate_collection
from .credentials import SecretFiles, scrub_command_file, secret_arguments
from .errors import KaizenHybridError
from .events import Event, RunStatusChanged, parse_event
from .process import Stopper
from .result import ResultBuilder, RunResult
from .validation import RunRequest, build_request

log = logging.getLogger("kaizen_hybrid")

# How often ansible-runner polls the cancel flag (seconds).
_POLL_INTERVAL = 0.5
# How long interpreter exit waits for a cancelled run to stop (seconds).
_EXIT_GRACE = 15.0
_MAX_CALLBACK_ERRORS = 20

_ACTIVE: set["RunHandle"] = set()
_ACTIVE_LOCK = threading.Lock()


def _collections_path(collection: Collection) -> str:
    current = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    rest = current.split(os.pathsep) if current else [
        os.path.expanduser("~/.ansible/collections"),
        "/usr/share/ansible/collections",
    ]
    first = str(collection.search_path)
    return os.pathsep.join([first] + [p for p in rest if p and p != first])


def _run_environment(request: RunRequest) -> dict[str, str]:
    env = {
        "ANSIBLE_COLLECTIONS_PATH": _collections_path(request.collection),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    # The ansible-playbook of this interpreter's environment, even when the
    # caller did not activate it.
    bindir = os.path.dirname(sys.executable)
    if os.path.isfile(os.path.join(bindir, "ansible-playbook")):
        path = os.environ.get("PATH", "")
        if path.split(os.pathsep)[:1] != [bindir]:
            env["PATH"] = os.pathsep.join([bindir, path]) if path else bindir
    if "ANSIBLE_HOST_KEY_CHECKING" not in os.environ:
        env["ANSIBLE_HOST_KEY_CHECKING"] = "True"
    env.update(request.env)
    return env


def _write_json(path: Path, data: Any) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def _rewrite(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass


def _new_ident(label: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.")[:40] or "run"
    return "%s-%s-%s" % (time.strftime("%Y%m%dT%H%M%S"), stem, uuid.uuid4().hex[:8])


class _Dispatcher:
    """Receives ansible-runner's callbacks; feeds the result, then the caller."""

    def __init__(self, handler: Callable[[Event], Any] | None, builder: ResultBuilder, ident: str) -> None:
        self.handler = handler
        self.builder = builder
        self.ident = ident
        self.artifact_dir = ""
        self.stopper: Stopper | None = None

    def deliver(self, event: Event) -> None:
        if self.handler is None:
            return
        try:
            self.handler(event)  # the return value does not matter
        except Exception as exc:  # a broken handler must not break the run
            if len(self.builder.callback_errors) < _MAX_CALLBACK_ERRORS:
                self.builder.record_callback_error(
                    "%s on %s event: %s" % (type(exc).__name__, event.kind, traceback.format_exception_only(exc)[-1].strip())
                )

    def on_event(self, raw: dict[str, Any]) -> bool:
        try:
            if not str(raw.get("event", "")).startswith("runner_"):
                # Ansible's own errors and warnings; a task's failure is its event.
                self.builder.feed_output(str(raw.get("stdout") or ""))
            event = parse_event(raw)
        except Exception as exc:  # an event we cannot read is skipped, not fatal
            self.builder.record_callback_error("unreadable %s event: %s" % (raw.get("event"), type(exc).__name__))
            return True
        if event is not None:
            self.builder.feed(event)
            self.deliver(event)
        # True: ansible-runner writes the event to job_events/ too, whatever
        # the caller's handler returned.
        return True

    def on_status(self, status_data: dict[str, Any], runner_config: Any = None) -> None:
        status = str(status_data.get("status", ""))
        if self.stopper is not None and self.stopper.stop_requested and status in ("successful", "failed", "canceled"):
            status = "timeout" if self.stopper.timed_out else "canceled"
        if status == "running" and self.artifact_dir:
            # ansible-runner has just recorded the command and its environment.
            scrub_command_file(self.artifact_dir)
        self.deliver(RunStatusChanged(status=status, ident=self.ident, created=_now()))


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


class RunHandle:
    """A run in a background thread. Create with :func:`run_playbook_async`.

    ``cancel()`` may be called from any thread; ``wait()`` returns the
    :class:`RunResult` (or ``None`` if ``timeout`` passed first) and re-raises
    an exception that stopped the run from starting. Events reach the
    handler on the run's thread.
    """

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        if request.operation:
            label = request.operation
        elif os.path.isabs(request.playbook):
            label = Path(request.playbook).stem
        else:
            label = request.playbook.rsplit(".", 1)[-1]
        self.ident = _new_ident(label)
        self.artifact_dir = request.artifacts_dir / self.ident
        self._cancel = threading.Event()
        # Not Thread.join(): a KeyboardInterrupt during join() can leave the
        # thread looking finished while it runs on.
        self._finished = threading.Event()
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="kaizen-hybrid-%s" % self.ident, daemon=True)
        self._prepared = _prepare(request, self.ident)

    def _start(self) -> "RunHandle":
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            self._result = _execute(self.request, self.ident, self._prepared, self._cancel)
        except BaseException as exc:  # handed to wait()
            self._error = exc
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(self)
            self._finished.set()

    def cancel(self) -> None:
        """Ask the run to stop; returns at once (``wait()`` for the result)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> RunResult | None:
        if not self._finished.wait(timeout):
            return None
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def result(self) -> RunResult:
        if not self.done():
            raise RuntimeError("the run %s has not finished" % self.ident)
        result = self.wait(0)
        assert result is not None
        return result


class _Prepared:
    """What must exist before the thread starts: the secret files."""

    def __init__(self) -> None:
        self.secrets = SecretFiles()
        self.cmdline: list[str] = []


def _prepare(request: RunRequest, ident: str) -> _Prepared:
    """Resolve the vault password and write the secret files (in the caller's thread)."""
    prepared = _Prepared()
    prepared.cmdline += secret_arguments(request, prepared.secrets)
    for vault_id in request.vault_ids:
        prepared.cmdline += ["--vault-id", vault_id]
    if request.remote_user:
        prepared.cmdline += ["--user", request.remote_user]
    if request.check:
        prepared.cmdline.append("--check")
    if request.diff:
        prepared.cmdline.append("--diff")
    return prepared


def _execute(request: RunRequest, ident: str, prepared: _Prepared, cancel: threading.Event) -> RunResult:
    started = time.monotonic()
    builder = ResultBuilder()
    dispatcher = _Dispatcher(request.event_handler, builder, ident)
    private = Path(tempfile.mkdtemp(prefix="kaizen-hybrid-run-"))
    stopper = Stopper(cancel, os.path.realpath(private), request.timeout)
    dispatcher.stopper = stopper
    status, rc = "failed", None
    try:
        os.chmod(private, 0o700)
        request.artifacts_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        inventory = str(request.inventory_path) if request.inventory_path else None
        if request.inventory_data is not None:
            (private / "inventory").mkdir(mode=0o700)
            inventory_file = private / "inventory" / "hosts.json"
            _write_json(inventory_file, request.inventory_data)
            inventory = str(inventory_file)
        (private / "env").mkdir(mode=0o700)
        # ansible-runner drops a settings= argument when env/settings is
        # missing, so the (non-secret) settings go in the file.
        _write_json(private / "env" / "settings", {"pexpect_timeout": _POLL_INTERVAL, "suppress_ansible_output": True})
        if request.extra_vars:
            _write_json(private / "env" / "extravars", dict(request.extra_vars))
        dispatcher.artifact_dir = str(request.artifacts_dir / ident)
        kwargs: dict[str, Any] = {
            "private_data_dir": str(private),
            "artifact_dir": str(request.artifacts_dir),
            "ident": ident,
            "rotate_artifacts": request.keep_artifacts,
            "playbook": request.playbook,
            "inventory": inventory,
            "envvars": _run_environment(request),
            "quiet": True,
            "suppress_env_files": True,
            "fact_cache_type": "memory",
            "event_handler": dispatcher.on_event,
            "status_handler": dispatcher.on_status,
            "cancel_callback": stopper,
        }
        if request.limit:
            kwargs["limit"] = request.limit
        if request.tags:
            kwargs["tags"] = ",".join(request.tags)
        if request.skip_tags:
            kwargs["skip_tags"] = ",".join(request.skip_tags)
        if request.forks:
            kwargs["forks"] = request.forks
        if request.verbosity:
            kwargs["verbosity"] = request.verbosity
        if prepared.cmdline:
            kwargs["cmdline"] = shlex.join(prepared.cmdline)
        try:
            runner = ansible_runner.interface.init_runner(**kwargs)
        except Exception as exc:
            raise KaizenHybridError("ansible-runner could not prepare the run: %s" % exc) from exc
        if cancel.is_set():
            status, rc = "canceled", None
            dispatcher.on_status({"status": "canceled"})
        else:
            status, rc = runner.run()
            if stopper.stop_requested:
                stopper.kill_leftovers()
                # ansible-playbook may have ended on our SIGTERM before
                # ansible-runner saw the cancel: it was a cancel all the same.
                status, rc = ("timeout" if stopper.timed_out else "canceled"), 254
                _rewrite(os.path.join(dispatcher.artifact_dir, "status"), status)
                _rewrite(os.path.join(dispatcher.artifact_dir, "rc"), str(rc))
    finally:
        prepared.secrets.remove()
        shutil.rmtree(private, ignore_errors=True)
    return builder.build(
        status=str(status),
        rc=rc,
        duration=time.monotonic() - started,
        playbook=request.playbook,
        operation=request.operation,
        ident=ident,
        artifact_dir=request.artifacts_dir / ident,
        check=request.check,
    )


def run_playbook_async(
    playbook: str | os.PathLike[str],
    inventory: str | os.PathLike[str] | dict[str, Any],
    *,
    collection: Collection | None = None,
    operation: str | None = None,
    **options: Any,
) -> RunHandle:
    """Validate the inputs, then start the run in a thread; returns its :class:`RunHandle`.

    ``playbook`` is a path or a collection playbook name (``kaizen.hybrid.site``);
    ``inventory`` a path (file or directory) or an inventory mapping
    (``{"all": {"hosts": {...}, "children": {...}}}``). Options (all keyword):

    ``extra_vars`` (mapping; not for secrets), ``secret_vars`` (mapping;
    vault-encrypted for the run, never written in clear), ``limit`` (pattern or
    list), ``tags`` / ``skip_tags`` (str or list), ``check``, ``diff`` (bool),
    ``forks`` (int), ``verbosity`` (0-6), ``vault_password`` (path to a password
    file, or a callable returning the password), ``vault_ids`` (``[label@]file``
    strings, as ansible-playbook's ``--vault-id``), ``remote_user`` (as its
    ``--user``; a become password goes in ``secret_vars`` as
    ``ansible_become_password``), ``event_handler`` (callable
    taking one :class:`~kaizen_hybrid.events.Event`), ``timeout`` (seconds),
    ``artifacts_dir``, ``keep_artifacts`` (int, default 20), ``env`` (mapping
    of extra, non-secret environment variables).

    Raises :class:`ValidationError` (listing every problem) before anything runs.
    """
    if collection is None:
        collection = locate_collection()
    request = build_request(playbook, inventory, collection=collection, operation=operation, **options)
    return RunHandle(request)._start()


def run_playbook(
    playbook: str | os.PathLike[str],
    inventory: str | os.PathLike[str] | dict[str, Any],
    *,
    collection: Collection | None = None,
    operation: str | None = None,
    **options: Any,
) -> RunResult:
    """Run a playbook and return its :class:`RunResult` (same arguments as :func:`run_playbook_async`).

    A KeyboardInterrupt while waiting cancels the run, waits for it to stop,
    then propagates.
    """
    handle = run_playbook_async(playbook, inventory, collection=collection, operation=operation, **options)
    try:
        result = handle.wait()
    except KeyboardInterrupt:
        handle.cancel()
        handle.wait(_EXIT_GRACE)
        raise
    assert result is not None
    return result


@atexit.register
def _cancel_active_runs() -> None:
    """At interpreter exit, stop runs still going rather than orphan ansible-playbook."""
    with _ACTIVE_LOCK:
        handles = list(_ACTIVE)
    for handle in handles:
        handle.cancel()
    deadline = time.monotonic() + _EXIT_GRACE
    for handle in handles:
        handle.wait(max(0.0, deadline - time.monotonic()))
