# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kaizen.hybrid.http_health against real HTTP and HTTPS servers on 127.0.0.1 (nothing else is contacted)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible.module_utils.testing import patch_module_args

from ansible_collections.kaizen.hybrid.plugins.modules import http_health

HEALTHY = {"status": "healthy", "uptime_seconds": 3.0, "version": "2.0.0",
           "checks": {name: {"service": name, "status": "healthy", "details": {}} for name in ("application", "database", "redis", "system")}}


class Kaizen:
    """Serves a script of answers to /health and /ready: each request takes the next (status, body); the last repeats."""

    def __init__(self, answers, tls=None):
        self.answers = list(answers)
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                owner.requests.append((self.path, dict(self.headers)))
                status, body = owner.answers.pop(0) if len(owner.answers) > 1 else owner.answers[0]
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/health", scheme="http"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kaizen():
    servers = []

    def make(*answers, tls=None):
        server = Kaizen(answers, tls)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def probe(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            http_health.main()
    return json.loads(capsys.readouterr().out)


def test_healthy_answer(kaizen, capsys):
    server = kaizen((200, HEALTHY))
    result = probe(capsys, url=server.url(), headers={"Host": "kaizen.example.com"})
    assert not result.get("failed") and result["healthy"] and result["status"] == "healthy"
    assert result["version"] == "2.0.0" and result["attempts"] == 1 and result["status_code"] == 200
    assert result["document"]["checks"]["database"]["status"] == "healthy" and not result["changed"]
    assert server.requests[0][1]["Host"] == "kaizen.example.com"


def test_unhealthy_fails_naming_the_component(kaizen, capsys):
    doc = dict(HEALTHY, status="unhealthy", checks=dict(HEALTHY["checks"], redis={"status": "unhealthy", "details": {"error": "timeout"}}))
    server = kaizen((503, doc))
    result = probe(capsys, url=server.url(), retries=1, delay=0.01)
    assert result["failed"] and result["attempts"] == 2 and result["failing"] == ["redis"] and result["status_code"] == 503
    assert "/health: unhealthy (redis unhealthy) after 2 attempt(s)" in result["msg"]
    reported = probe(capsys, url=server.url(), require_healthy=False)
    assert not reported.get("failed") and reported["healthy"] is False and reported["checks"]["redis"]["details"] == {"error": "timeout"}


def test_retries_until_ready(kaizen, capsys):
    server = kaizen((503, {"ready": False, "checks": {"database": True, "redis": False}}), (200, {"ready": True, "checks": {"database": True, "redis": True}}))
    result = probe(capsys, url=server.url("/ready"), retries=5, delay=0.01)
    assert not result.get("failed") and result["status"] == "ready" and result["attempts"] == 2
    assert [path for path, _headers in server.requests] == ["/ready", "/ready"]


def test_no_answer_and_not_a_document_fail_even_when_only_reporting(kaizen, capsys):
    server = kaizen((502, b"<html>bad gateway</html>"))
    result = probe(capsys, url=server.url(), require_healthy=False)
    assert result["failed"] and "HTTP 502, and the answer is not JSON" in result["msg"]
    port = server.port
    server.close()
    result = probe(capsys, url="http://127.0.0.1:%d/health" % port, timeout=1, require_healthy=False)
    assert result["failed"] and "no answer" in result["msg"] and result["status_code"] is None


def test_bad_parameters(capsys):
    result = probe(capsys, url="http://127.0.0.1:9/health", retries=-1)
    assert result["failed"] and "retries and delay must be >= 0" in result["msg"]


# --- TLS ------------------------------------------------------------------------------


def _certificate(subject, issuer, key, issuer_key, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1 signed by it, as PEM files."""
    directory = tmp_path_factory.mktemp("pki")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    cert = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key, ca_key)
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.crt", directory / "server.key")
    return directory, context


def test_https_with_the_internal_ca(kaizen, pki, capsys):
    directory, context = pki
    server = kaizen((200, HEALTHY), tls=context)
    result = probe(capsys, url=server.url(scheme="https"), ca_file=str(directory / "ca.crt"))
    assert not result.get("failed") and result["healthy"]
    untrusted = probe(capsys, url=server.url(scheme="https"), timeout=2)
    assert untrusted["failed"] and "no answer" in untrusted["msg"] and "CERTIFICATE_VERIFY_FAILED" in untrusted["msg"].upper().replace(" ", "_")
