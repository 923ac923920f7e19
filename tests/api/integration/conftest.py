# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab hosts for the API integration tests: two systemd containers this
session creates (tests/api/labhosts.py) and removes at the end."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from labhosts import LabHosts, lab_unavailable


@pytest.fixture(scope="session")
def lab():
    reason = lab_unavailable()
    if reason:
        if os.environ.get("KAIZEN_API_REQUIRE_LAB"):
            pytest.fail("the API integration tests need the lab: %s" % reason)
        pytest.skip(reason)
    hosts = LabHosts(("h1", "h2"))
    try:
        yield hosts.start()
    finally:
        hosts.remove()


@dataclass(frozen=True)
class SiteSecrets:
    """The site's CA and its passphrase (a vault variable), shared by the deploys of a session."""

    ca_dir: Path
    passphrase: str
    vault_password: str

    def vaulted(self, value: str) -> dict:
        """``value`` encrypted with the session's vault password, as an inventory mapping carries it."""
        from ansible.parsing.vault import VaultLib, VaultSecret

        secret = VaultSecret(self.vault_password.encode())
        return {"__ansible_vault": VaultLib([("default", secret)]).encrypt(value.encode(), secret=secret).decode()}

    def site_inventory(self, lab, *names: str) -> dict:
        return lab.inventory(
            only=names,
            pki_ca_dir=str(self.ca_dir),
            pki_ca_passphrase=self.vaulted(self.passphrase),
            # No NTP traffic from the test hosts: only lab hosts may be addressed.
            common_chrony_pools=[],
        )


@pytest.fixture(scope="session")
def site_secrets(tmp_path_factory) -> SiteSecrets:
    return SiteSecrets(
        ca_dir=tmp_path_factory.mktemp("site") / "ca",
        passphrase=secrets.token_hex(20),
        vault_password="test-vault-%s" % secrets.token_hex(12),
    )
