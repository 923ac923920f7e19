# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of the kaizen.hybrid Redis modules (module_utils/redis_client.py)."""

    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - ACL user to authenticate as. Without it, but with O(login_password), the module sends C(AUTH <password>).
    type: str
  login_password:
    description:
      - Password of O(login_user). Without it the module does not authenticate.
    type: str
  tls:
    description:
      - Connect with TLS and verify the server's certificate and that it names the address connected to (the pki role
        puts every host's addresses in its certificate).
    type: bool
    default: false
  tls_ca_file:
    description:
      - CA certificate to verify the server with; default is the system trust store.
    type: path
  tls_cert_file:
    description:
      - Client certificate, for servers that require one (C(tls-auth-clients yes)).
    type: path
  tls_key_file:
    description:
      - Private key of O(tls_cert_file).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for a connection and for each reply.
    type: float
    default: 3.0
notes:
  - The modules speak the Redis protocol themselves (Python standard library only); the C(redis) Python package is not
    needed on the managed host.
"""
