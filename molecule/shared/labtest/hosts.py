# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tests do to lab hosts from outside, through the Docker engine that runs them (the lab's
console and power switch): kill a host with no warning, start it again, cut its network, look inside.
The playbooks under test never take this path: they reach the hosts over SSH."""

from __future__ import annotations

import subprocess
import time
import typing as t

from labtest.runs import wait_until


class Lab:
    """Lab hosts by inventory name; ``containers`` maps a name to its container (default: the name)."""

    def __init__(self, containers: t.Mapping[str, str] | None = None, say: t.Callable[[str], None] = print) -> None:
        self.containers = dict(containers or {})
        self.say = say
        self._hosts_files: dict[str, str] = {}

    def container(self, host: str) -> str:
        return self.containers.get(host, host)

    @staticmethod
    def docker(*argv: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *argv], capture_output=True, text=True, check=check, timeout=timeout)

    def exec(self, host: str, *argv: str, timeout: int = 60, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run a command as root inside the host; never raises on its exit code."""
        return subprocess.run(["docker", "exec", "-i", self.container(host), *argv], input=stdin, capture_output=True,
                              text=True, check=False, timeout=timeout)

    def spawn(self, host: str, argv: t.Sequence[str]) -> subprocess.Popen:
        """Start a command as root inside the host in the background (the caller waits for it, bounded)."""
        return subprocess.Popen(["docker", "exec", self.container(host), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _keep_hosts_file(self, host: str) -> None:
        # Docker writes /etc/hosts anew when it starts a container or connects it to a network, where a real host
        # keeps the file across a power cut or a network outage: it is kept here and put back afterwards.
        saved = self.exec(host, "cat", "/etc/hosts")
        if saved.returncode == 0:
            self._hosts_files[host] = saved.stdout

    def _restore_hosts_file(self, host: str) -> None:
        if host in self._hosts_files:
            self.exec(host, "sh", "-c", "cat > /etc/hosts", stdin=self._hosts_files.pop(host))

    def kill(self, host: str) -> float:
        """Kill the host's container (SIGKILL, no warning); returns when (monotonic)."""
        self._keep_hosts_file(host)
        self.docker("kill", self.container(host))
        at = time.monotonic()
        self.say("killed %s" % host)
        return at

    def start(self, host: str, boot_seconds: int = 90) -> bool:
        """Start the host again and wait until systemd has booted it."""
        self.docker("start", self.container(host))
        self._restore_hosts_file(host)
        self.say("started %s" % host)
        return self.wait_for("%s to boot" % host, lambda: self.exec(host, "systemctl", "is-system-running").stdout.strip()
                             in ("running", "degraded"), boot_seconds)

    def disconnect(self, host: str, network: str) -> float:
        """Cut the host off from ``network`` (its processes live on); returns when (monotonic)."""
        self._keep_hosts_file(host)
        self.docker("network", "disconnect", network, self.container(host))
        at = time.monotonic()
        self.say("cut %s off from %s" % (host, network))
        return at

    def connect(self, host: str, network: str, address: str) -> None:
        """Put the host back on ``network`` at ``address``."""
        self.docker("network", "connect", "--ip", address, network, self.container(host), check=False)
        self._restore_hosts_file(host)
        self.say("reconnected %s to %s" % (host, network))

    def service(self, host: str, action: str, unit: str) -> bool:
        return self.exec(host, "systemctl", action, unit).returncode == 0

    def psql(self, host: str, sql: str, db: str = "postgres", timeout: int = 30) -> str | None:
        """SQL as postgres over the host's local socket; None when the server does not answer."""
        result = self.exec(host, "runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-w", "-d", db, "-c", sql, timeout=timeout)
        return result.stdout.strip() if result.returncode == 0 else None

    def sha256(self, host: str, path: str) -> str:
        result = self.exec(host, "sha256sum", path)
        return result.stdout.split()[0] if result.returncode == 0 else "missing"

    def wait_for(self, what: str, predicate: t.Callable[[], bool], seconds: float, interval: float = 1.0) -> bool:
        """Poll ``predicate`` until it holds, at most ``seconds`` (a command that fails counts as not yet)."""
        def holds() -> bool:
            try:
                return bool(predicate())
            except (subprocess.SubprocessError, OSError):
                return False
        if wait_until(holds, seconds, interval=interval) is not None:
            return True
        self.say("gave up waiting for " + what)
        return False
