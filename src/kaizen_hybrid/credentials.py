# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's secrets: the vault password, ``secret_vars``, and what is recorded.

- :class:`SecretFiles`: a private 0700 directory on tmpfs (``/dev/shm`` when
  there is one) holding the run's 0600 secret files, removed when the run ends;
- :func:`secret_arguments`: resolves the vault password (a file, or a callable
  whose errors are reported by type only), encrypts ``secret_vars`` with
  ansible-vault under a one-run password, writes both into
  :class:`SecretFiles` and returns the ansible-playbook arguments that read
  them;
- :func:`scrub_environment` / :func:`scrub_command_file`: the environment
  ansible-runner records in ``artifacts/<run>/command``, reduced to Ansible's
  own and locale settings, anything named like a secret redacted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import ValidationError
from .validation import RUN_VAULT_ID, RunRequest

# Environment variables kept in the recorded environment (artifacts/<run>/command).
_ENV_KEEP = re.compile(r"^(ANSIBLE_|RUNNER_|AWX_|KAIZEN_|PATH$|HOME$|USER$|LOGNAME$|LANG$|LC_|TZ$|PWD$|VIRTUAL_ENV$|PYTHONPATH$)")
_ENV_SECRET = re.compile(r"PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE", re.IGNORECASE)
_REDACTED = "<redacted by kaizen-hybrid>"


def _secret_base() -> str | None:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


class SecretFiles:
    """A private 0700 directory (tmpfs when possible) for the run's secret files."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def write(self, name: str, data: bytes) -> Path:
        if self.path is None:
            self.path = Path(tempfile.mkdtemp(prefix="kaizen-hybrid-secrets-", dir=_secret_base()))
            os.chmod(self.path, 0o700)
        target = self.path / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return target

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def _password_bytes(source: Callable[[], Any]) -> bytes:
    try:
        value = source()
    except Exception as exc:  # the message could hold the secret: report the type only
        raise ValidationError("vault_password: the callable raised %s" % type(exc).__name__) from None
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or not value.strip():
        raise ValidationError("vault_password: the callable must return a non-empty str or bytes")
    return value.strip()


def _encrypt_secret_vars(variables: dict[str, Any], password: bytes) -> bytes:
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(password)
    plaintext = json.dumps(variables).encode("utf-8")
    return VaultLib([(RUN_VAULT_ID, secret)]).encrypt(plaintext, secret=secret, vault_id=RUN_VAULT_ID)


def secret_arguments(request: RunRequest, files: SecretFiles) -> list[str]:
    """ansible-playbook's arguments for the vault password and ``secret_vars``, their files written into ``files``.

    Resolves the vault password (in the caller's thread). On any error the
    files written so far are removed before the error propagates.
    """
    cmdline: list[str] = []
    try:
        if request.vault_password_file is not None:
            cmdline += ["--vault-password-file", str(request.vault_password_file)]
        elif request.vault_password_source is not None:
            password = _password_bytes(request.vault_password_source)
            path = files.write("vault-password", password + b"\n")
            cmdline += ["--vault-password-file", str(path)]
        if request.secret_vars:
            run_password = secrets.token_urlsafe(32).encode("ascii")
            password_path = files.write("run-vault-password", run_password + b"\n")
            vars_path = files.write("secret-vars.yml", _encrypt_secret_vars(dict(request.secret_vars), run_password))
            cmdline += ["--vault-id", "%s@%s" % (RUN_VAULT_ID, password_path), "-e", "@%s" % vars_path]
    except BaseException:
        files.remove()
        raise
    return cmdline


def scrub_environment(env: dict[str, Any]) -> dict[str, Any]:
    """The environment as it may be recorded: only Ansible's and locale settings, no secrets."""
    return {
        key: (value if _ENV_KEEP.match(key) and not _ENV_SECRET.search(key) else _REDACTED)
        for key, value in env.items()
    }


def scrub_command_file(artifact_dir: str) -> None:
    """Rewrite ``<artifact_dir>/command`` with its recorded environment scrubbed (see :func:`scrub_environment`)."""
    path = os.path.join(artifact_dir, "command")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return
    data["env"] = scrub_environment(data.get("env") or {})
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    os.replace(tmp, path)
