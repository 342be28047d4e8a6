"""Connecting to the vetted address keeps TLS honest: SNI and the certificate are for the URL's host name."""

from __future__ import annotations

import ssl
import threading
from datetime import UTC, datetime
from datetime import timedelta as td
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.egress import egress_session

NAME = "vendor.example"


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - td(days=1))
        .not_valid_after(now + td(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path, settings, fake_dns):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    fake_dns.names.update({NAME: ["127.0.0.1"], "impostor.example": ["127.0.0.1"]})
    cert_file, key_file = self_signed(tmp_path, NAME)
    server_names: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], str(cert_file), server_names
    httpd.shutdown()
    httpd.server_close()


def test_the_certificate_is_verified_for_the_host_name_not_the_vetted_address(tls_server):
    port, ca, server_names = tls_server
    response = egress_session().get(f"https://{NAME}:{port}/", verify=ca, timeout=5)
    assert response.text == "ok"
    assert server_names == [NAME]


def test_a_certificate_for_another_name_is_refused(tls_server):
    port, ca, _names = tls_server
    with pytest.raises(requests.exceptions.SSLError):
        egress_session().get(f"https://impostor.example:{port}/", verify=ca, timeout=5)
