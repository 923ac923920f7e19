# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Steady writers for the failover tests: one operation after another, each acknowledged or not.

:class:`Writer` runs any operation (a callable taking the operation's number) in a thread, bounded in
attempts and seconds, and records every outcome in a :class:`~labtest.timeline.Timeline`.
:class:`PgInserts` (one row per transaction, through a libpq URL) and :class:`RedisSets` (one key per
write, through Sentinel) are the operations the scenarios use.
"""

from __future__ import annotations

import threading
import time
import typing as t

from labtest.timeline import Timeline


class InDoubt(Exception):
    """The operation was sent but its answer was lost: it may or may not have been applied."""


def error_text(exc: BaseException) -> str:
    """The first line of an error, or its type when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Writer(threading.Thread):
    """Calls ``operation(number)`` for number 1, 2, ... until stopped, ``max_attempts`` or ``max_seconds``.

    A success is followed by ``interval`` seconds of rest, a failure by ``error_pause``. ``acked`` lists the
    numbers of the acknowledged operations, ``in_doubt`` those whose answer was lost (:class:`InDoubt`),
    ``errors`` each failure with its time.
    """

    def __init__(self, operation: t.Callable[[int], None], *, interval: float = 0.02, error_pause: float = 0.1,
                 max_seconds: float = 180.0, max_attempts: int = 20000,
                 clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep) -> None:
        super().__init__(daemon=True)
        self.operation = operation
        self.interval, self.error_pause = interval, error_pause
        self.max_seconds, self.max_attempts = max_seconds, max_attempts
        self.clock, self.sleep = clock, sleep
        self.timeline = Timeline()
        self.acked: list[int] = []
        self.in_doubt: list[int] = []
        self.errors: list[tuple[float, str]] = []
        self.attempts = 0
        self._stopping = threading.Event()

    def run(self) -> None:
        started = self.clock()
        while not self._stopping.is_set() and self.attempts < self.max_attempts and self.clock() - started < self.max_seconds:
            self.attempts += 1
            number = self.attempts
            try:
                self.operation(number)
            except Exception as exc:  # noqa: BLE001 - every failure of the operation counts as one
                at = self.clock()
                self.timeline.record(at, False)
                self.errors.append((at, error_text(exc)))
                if isinstance(exc, InDoubt):
                    self.in_doubt.append(number)
                self.sleep(self.error_pause)
                continue
            self.timeline.record(self.clock(), True)
            self.acked.append(number)
            self.sleep(self.interval)

    @property
    def finished(self) -> bool:
        """The thread ran and ended (its bounds were reached, or it was stopped)."""
        return self.ident is not None and not self.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=30)

    def lost_window(self, present: t.Iterable[int], moment: float) -> float:
        """How long before ``moment`` (a loss, on the writer's clock) the oldest acknowledged operation missing from
        ``present`` was acknowledged: the seconds of acknowledged writes that were lost (the RPO). 0.0 when none was
        lost, or nothing was acknowledged."""
        kept = set(present)
        acked_at = self.timeline.successes()  # one per acknowledged operation, in the order of self.acked
        missing = [at for number, at in zip(self.acked, acked_at) if number not in kept]
        return max(0.0, moment - missing[0]) if missing else 0.0

    def wait_for_acks(self, count: int, seconds: float) -> bool:
        """Wait (at most ``seconds``) until ``count`` operations were acknowledged."""
        deadline = self.clock() + seconds
        while len(self.acked) < count and self.clock() < deadline and not self.finished:
            self.sleep(0.1)
        return len(self.acked) >= count

    def wait_for_recovery(self, moment: float, settle: float, seconds: float) -> float | None:
        """Wait (at most ``seconds`` from now) until operations succeed again after ``moment`` and have for
        ``settle`` seconds; the time of the recovery, or None."""
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            recovered = self.timeline.recovery(moment)
            if recovered is not None and self.clock() - recovered >= settle:
                return recovered
            self.sleep(0.1)
        return self.timeline.recovery(moment)


def interrupted(writer: Writer, interrupt: t.Callable[[], float], seconds: float, settle: float = 3.0) -> tuple[float, float | None]:
    """While ``writer`` runs: ``interrupt()`` (a kill, a cut; it returns when the interruption happened, on the
    writer's clock), then wait at most ``seconds`` until writes succeed again and have for ``settle`` seconds. The
    writer is stopped in any case. Returns ``(moment, recovery)``, the recovery None when writes never came back."""
    try:
        moment = interrupt()
        return moment, writer.wait_for_recovery(moment, settle, seconds)
    finally:
        writer.stop()


class PgInserts:
    """One row per transaction (``INSERT INTO table (id) VALUES (number)``) through a libpq URL; a
    connection is opened again after any error. A commit whose answer is lost raises :class:`InDoubt`.
    A server cut off from the network (no reset, no answer) fails the connection within seconds
    (TCP keepalives and ``tcp_user_timeout``), as a careful client's would."""

    # libpq connection options for a peer that vanishes without closing the connection.
    DEAD_PEER = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2, "tcp_user_timeout": 3000}

    def __init__(self, url: str, table: str, password: str | None = None) -> None:
        self.url, self.table, self.password = url, table, password
        self.connection: t.Any = None

    def __call__(self, number: int) -> None:
        import psycopg  # the scenarios' virtualenv has it; the unit tests of the writer do not need it

        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.url, autocommit=False, **self.DEAD_PEER,
                                                  **({"password": self.password} if self.password else {}))
            with self.connection.cursor() as cursor:
                cursor.execute("INSERT INTO %s (id) VALUES (%%s)" % self.table, (number,))
            try:
                self.connection.commit()
            except psycopg.Error as exc:
                raise InDoubt(error_text(exc)) from exc
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.connection = None


class RedisSets:
    """``SET <prefix><number> <number>`` on the master a redis-py Sentinel client finds."""

    def __init__(self, master: t.Any, prefix: str) -> None:
        self.master, self.prefix = master, prefix

    def key(self, number: int) -> str:
        return "%s%d" % (self.prefix, number)

    def __call__(self, number: int) -> None:
        self.master.set(self.key(number), number)
