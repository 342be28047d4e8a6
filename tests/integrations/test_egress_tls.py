"""Connecting to the vetted address keeps TLS honest: SNI and the certificate are for the URL's host name."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.egress import egress_session
from tests.collectors.test_ftp_tls import make_pair

# make_pair's certificate is for `localhost` (and 127.0.0.1, which no request here names).
NAME = "localhost"


@pytest.fixture
def tls_server(tmp_path, settings, fake_dns):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    fake_dns.names.update({NAME: ["127.0.0.1"], "impostor.example": ["127.0.0.1"]})
    pair = make_pair(tmp_path / "tls")
    cert_file, key_file = pair.cert, pair.key
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
