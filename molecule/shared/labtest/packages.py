# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A package mirror that stops answering mid-transfer: the roles' apt refresh must fail within a bounded time,
naming the host and the source, and a run after the mirror recovers must go on.

:class:`StalledMirror` is the broken mirror, on the lab machine: it answers every request (as an HTTP proxy, the way
apt talks to a package cache) with a header and the first bytes of a body it never finishes, then says nothing until
its hold time is over (bounded) or it is stopped.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
import typing as t

ERROR_SECONDS = 120


class StalledMirror(socketserver.ThreadingTCPServer):
    """Every request gets ``200``, a ``Content-Length`` of 1 MiB and 100 bytes, then silence for at most ``hold`` seconds."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], hold: float = 180.0) -> None:
        self.hold = hold
        self.requests: list[str] = []
        self.stopping = threading.Event()
        super().__init__(address, _StallHandler)


class _StallHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        if not isinstance(server, StalledMirror):
            return
        self.request.settimeout(10)
        try:
            head = self.request.recv(65536).decode("latin-1")
        except (OSError, socket.timeout):
            return
        server.requests.append(head.split("\r\n", 1)[0])
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 100)
        except OSError:
            return
        server.stopping.wait(server.hold)


class PackageTests:
    """``settings``: host (the lab host to refresh on), address and port for the broken mirror (the lab machine's
    address on the hosts' network), playbook (the one whose common role refreshes the index)."""

    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, runner: t.Any) -> None:
        self.settings = settings
        self.report, self.runner = report, runner

    def stalled_mirror(self) -> None:
        host = self.settings["host"]
        proxy = "http://%s:%d" % (self.settings["address"], int(self.settings["port"]))
        mirror = StalledMirror((self.settings["address"], int(self.settings["port"])))
        thread = threading.Thread(target=mirror.serve_forever, daemon=True)
        thread.start()
        broken = {"common_apt_proxy": proxy, "common_apt_cache_valid_time": 0, "common_apt_timeout": 5, "common_apt_retries": 1,
                  "common_apt_refresh_timeout": 90}
        try:
            run = self.runner.playbook("playbooks/baseline.yml", "--limit", host, "--tags", "common_install", "-e", json.dumps(broken))
        finally:
            mirror.stopping.set()
            mirror.shutdown()
            mirror.server_close()
        self.report.figure("stalled_mirror_requests", len(mirror.requests))
        self.report.check(bool(mirror.requests), "apt on %s asked the broken mirror (%s)" % (host, mirror.requests[:3]))
        self.report.goal("stalled_mirror_error_seconds", round(run.elapsed, 1), ERROR_SECONDS,
                         "seconds until the refresh through a mirror that stopped mid-transfer failed")
        expected = "apt could not refresh its package index on %s through the proxy %s" % (host, proxy)
        self.report.check(run.returncode != 0 and expected in run.text and "http://" in run.text.split(expected, 1)[-1],
                          "the failure names the host, the proxy and the source (rc %d: %s)" % (
                              run.returncode, run.text[run.text.find("apt could not"):][:400] if "apt could not" in run.text else run.text[-400:]))
        started = time.monotonic()
        run = self.runner.playbook("playbooks/baseline.yml", "--limit", host, "--tags", "common_install")
        self.report.figure("recovered_refresh_seconds", round(time.monotonic() - started, 1))
        self.report.check(run.returncode == 0, "once the mirror answers again the same run goes on (rc %d)" % run.returncode)
