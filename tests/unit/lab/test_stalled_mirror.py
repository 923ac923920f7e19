# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The broken mirror of the stalled-mirror test answers, then stops mid-transfer, and lets go when stopped."""

from __future__ import annotations

import socket
import threading
import time

from labtest.packages import StalledMirror


def test_it_sends_a_header_and_part_of_the_body_then_nothing_until_stopped():
    mirror = StalledMirror(("127.0.0.1", 0), hold=30)
    thread = threading.Thread(target=mirror.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(mirror.server_address, timeout=5) as sock:
            sock.sendall(b"GET http://deb.example/debian/dists/bookworm/InRelease HTTP/1.1\r\nHost: deb.example\r\n\r\n")
            received = b""
            while b"x" * 100 not in received:
                received += sock.recv(4096)
            assert received.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 1048576" in received
            sock.settimeout(0.5)
            started = time.monotonic()
            try:
                more = sock.recv(4096)
            except socket.timeout:
                more = None
            assert more is None and time.monotonic() - started >= 0.45      # stalled, not closed
            mirror.stopping.set()
            sock.settimeout(5)
            assert sock.recv(4096) == b""                                   # let go once stopped
        assert mirror.requests == ["GET http://deb.example/debian/dists/bookworm/InRelease HTTP/1.1"]
    finally:
        mirror.stopping.set()
        mirror.shutdown()
        mirror.server_close()
