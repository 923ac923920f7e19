# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway lab hosts for the API tests: systemd containers the tests create and remove.

The recipe of docs/development.md ("Lab hosts") (no --privileged; tmpfs /run, /run/lock, /tmp;
cgroup read-only; SYS_ADMIN + NET_ADMIN; seccomp unconfined) on a network of
their own, from the base image lab/base-image.sh builds. Every docker call is
bounded in time; waiting loops are bounded in count.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field

IMAGE = "kaizen-lab/debian12-systemd:latest"
DOCKER_TIMEOUT = 120
BOOT_TIMEOUT = 90


def docker(*args: str, timeout: float = DOCKER_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError("docker %s failed: %s" % (" ".join(args[:2]), (result.stderr or result.stdout).strip()))
    return result


def lab_unavailable() -> str | None:
    """Why the lab cannot run here (None when it can)."""
    if shutil.which("docker") is None:
        return "docker is not installed (make engine)"
    try:
        if docker("info", timeout=30, check=False).returncode != 0:
            return "the Docker engine is not running (make engine)"
        if docker("image", "inspect", IMAGE, timeout=30, check=False).returncode != 0:
            return "the base image %s is missing (make image)" % IMAGE
    except subprocess.TimeoutExpired:
        return "docker did not answer"
    return None


@dataclass
class LabHosts:
    """Containers ``kaizen-apitest-<id>-<name>`` on network ``kaizen-apitest-<id>``."""

    names: tuple[str, ...]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    addresses: dict[str, str] = field(default_factory=dict)

    @property
    def network(self) -> str:
        return "kaizen-apitest-%s" % self.run_id

    def container(self, name: str) -> str:
        return "kaizen-apitest-%s-%s" % (self.run_id, name)

    def start(self) -> "LabHosts":
        docker("network", "create", "--label", "kaizen.apitest=true", self.network)
        # make test runs this lane in the background of the site scenario: its hosts get less CPU weight.
        shares = os.environ.get("KAIZEN_LAB_CPU_SHARES")
        weight = ("--cpu-shares", shares) if shares else ()
        for name in self.names:
            docker(
                "run", "-d", "--name", self.container(name), "--hostname", name, *weight,
                "--network", self.network, "--label", "kaizen.apitest=true",
                "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
                "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
                "--security-opt", "seccomp=unconfined",
                IMAGE, "/lib/systemd/systemd",
            )
        for name in self.names:
            self._wait_booted(name)
            info = json.loads(docker("inspect", self.container(name)).stdout)[0]
            self.addresses[name] = info["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        return self

    def _wait_booted(self, name: str) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        state = ""
        for _attempt in range(BOOT_TIMEOUT):
            if time.monotonic() > deadline:
                break
            state = self.exec(name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(1)
        raise RuntimeError("%s did not boot within %ds (systemd: %s)" % (self.container(name), BOOT_TIMEOUT, state))

    def exec(self, name: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.container(name), *command, check=check)

    def file_exists(self, name: str, path: str) -> bool:
        return self.exec(name, "test", "-e", path, check=False).returncode == 0

    def inventory(self, only: tuple[str, ...] | None = None, host_vars: dict[str, dict] | None = None, **group_vars: object) -> dict:
        """An inventory mapping for these hosts (or ``only`` some), connection community.docker.docker."""
        hosts = {}
        for name in only or self.names:
            hosts[name] = {"ansible_host": self.container(name), "kaizen_address": self.addresses[name]}
            hosts[name].update((host_vars or {}).get(name, {}))
        base = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}
        base.update(group_vars)
        return {"all": {"vars": base, "hosts": hosts}}

    def remove(self) -> None:
        for name in self.names:
            docker("rm", "-f", "-v", self.container(name), check=False)
        docker("network", "rm", self.network, check=False)
