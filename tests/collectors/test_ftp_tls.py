# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""FTPS on the embedded receiver: real TLS sockets on 127.0.0.1, a throwaway certificate."""

from __future__ import annotations

import contextlib
import ftplib
import io
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from collectors.drops import scan_all
from collectors.ftp import build_server
from collectors.models import IntervalVolume
from tests.conftest import make_connection

from .drops_helpers import calls, drop_root  # noqa: F401

# The receiver serves from another thread, so tests that log in need committed rows.
live_db = pytest.mark.django_db(transaction=True)
PASSWORD = "ftps-secret-0123456789"
USER = "acme.tcn-ftps"


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path
    der: bytes


def make_pair(folder: Path, key_encryption=None, expires_in: timedelta = timedelta(days=1)) -> Pair:
    """A self-signed certificate for localhost and 127.0.0.1, and its key, as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + expires_in)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            key_encryption or serialization.NoEncryption(),
        )
    )
    return Pair(cert_path, key_path, cert.public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Pair:
    return make_pair(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_settings(settings, pair):
    settings.FTP_TLS_CERTFILE = str(pair.cert)
    settings.FTP_TLS_KEYFILE = str(pair.key)
    return settings


@pytest.fixture
def ftp_conn(drop_root, tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-ftps")
    conn.set_values("history", {"drop_folder": "acme/ftps", "ftp_password": PASSWORD})
    conn.save()
    return conn


@contextlib.contextmanager
def serving(server) -> Iterator[tuple[str, int]]:
    server.handler.auth_failed_timeout = 0
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            server.serve_forever(timeout=0.05, blocking=False)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.address[:2]
    finally:
        stop.set()
        thread.join(5)
        server.close_all()


@pytest.fixture
def receiver(tls_settings) -> Iterator[tuple[str, int]]:
    with serving(build_server("127.0.0.1", 0)) as address:
        yield address


def trusting(pair: Pair) -> ssl.SSLContext:
    """A client context that verifies the server against this certificate (and its name)."""
    return ssl.create_default_context(cafile=str(pair.cert))


def ftps(address, pair: Pair, user: str = USER, password: str = PASSWORD) -> ftplib.FTP_TLS:
    ftp = ftplib.FTP_TLS(context=trusting(pair))
    ftp.connect(*address, timeout=5)
    ftp.auth()
    ftp.login(user, password)
    return ftp


@live_db
def test_an_ftps_upload_ends_in_interval_rows_after_a_scan(ftp_conn, drop_root, pair, receiver):
    ftp = ftps(receiver, pair)
    # The session really is TLS, with the configured certificate, on both channels.
    assert ftp.sock.getpeercert(binary_form=True) == pair.der
    assert ftp.sock.version() in ("TLSv1.2", "TLSv1.3")
    ftp.prot_p()
    content = calls("1,Sales,2025/01/15 09:02,120,ANSWERED", "2,Sales,2025/01/15 09:03,0,ABANDONED")
    ftp.storbinary("STOR CallVolume_20250115_1700.csv.tmp", io.BytesIO(content))
    ftp.rename("CallVolume_20250115_1700.csv.tmp", "CallVolume_20250115_1700.csv")
    ftp.quit()
    landed = drop_root / "acme" / "ftps" / "CallVolume_20250115_1700.csv"
    assert landed.read_bytes() == content
    results = scan_all(now=datetime(2025, 1, 15, 18, 0, tzinfo=UTC))
    assert [r.name for r in results] == ["CallVolume_20250115_1700.csv"]
    rows = list(IntervalVolume.objects.filter(connection=ftp_conn).values_list("interval_start", "entered"))
    assert rows == [(datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 2)]


@live_db
def test_a_login_without_tls_is_refused_before_the_password_is_sent(ftp_conn, receiver):
    ftp = ftplib.FTP()
    ftp.connect(*receiver, timeout=5)
    with pytest.raises(ftplib.error_perm, match=r"^530 .*AUTH TLS"):
        ftp.login(USER, PASSWORD)  # ftplib stops at the refused USER
    # A client that sends PASS anyway is not logged in either.
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftp.sendcmd(f"PASS {PASSWORD}")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftp.sendcmd("PWD")
    ftp.quit()


@live_db
def test_a_transfer_without_prot_p_is_refused(ftp_conn, drop_root, pair, receiver):
    ftp = ftps(receiver, pair)
    with pytest.raises(ftplib.error_perm, match=r"^550 .*data channel"):
        ftp.storbinary("STOR clear.csv", io.BytesIO(b"x"))
    ftp.quit()
    assert not (drop_root / "acme" / "ftps" / "clear.csv").exists()


@live_db
def test_a_wrong_password_or_unknown_login_is_refused_over_tls(ftp_conn, pair, receiver):
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftps(receiver, pair, password="wrong")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftps(receiver, pair, user="nobody")


@live_db
def test_a_client_that_does_not_trust_the_certificate_fails_the_handshake(ftp_conn, tmp_path, receiver):
    stranger = make_pair(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        ftps(receiver, stranger)


def test_a_certificate_file_holding_the_key_needs_no_keyfile(settings, pair, tmp_path):
    both = tmp_path / "both.pem"
    both.write_bytes(pair.cert.read_bytes() + pair.key.read_bytes())
    settings.FTP_TLS_CERTFILE, settings.FTP_TLS_KEYFILE = str(both), ""
    server = build_server("127.0.0.1", 0)
    server.close_all()
    assert server.handler.tls and server.handler.tls_control_required and server.handler.tls_data_required


def test_an_expired_certificate_still_starts_with_a_warning(settings, tmp_path, caplog):
    old = make_pair(tmp_path / "old", expires_in=timedelta(days=-1))
    settings.FTP_TLS_CERTFILE, settings.FTP_TLS_KEYFILE = str(old.cert), str(old.key)
    server = build_server("127.0.0.1", 0)
    server.close_all()
    assert server.handler.tls
    assert [r.getMessage() for r in caplog.records if "expired" in r.getMessage()] != []


def test_without_a_certificate_it_serves_plain_ftp(settings):
    settings.FTP_TLS_CERTFILE, settings.FTP_TLS_KEYFILE = "", ""
    server = build_server("127.0.0.1", 0)
    server.close_all()
    assert server.handler.tls is False


def _not_pem(p: Pair, tmp: Path) -> tuple[str, str]:
    junk = tmp / "junk.pem"
    junk.write_text("not a certificate\n")
    return str(junk), str(p.key)


def _key_of_another(p: Pair, tmp: Path) -> tuple[str, str]:
    return str(p.cert), str(make_pair(tmp / "other").key)


def _encrypted_key(p: Pair, tmp: Path) -> tuple[str, str]:
    locked = make_pair(tmp / "locked", key_encryption=serialization.BestAvailableEncryption(b"pw"))
    return str(locked.cert), str(locked.key)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (lambda p, t: (str(t / "missing.pem"), str(p.key)), r"FTP_TLS_CERTFILE .*missing\.pem: no such file"),
        (lambda p, t: (str(p.cert), str(t / "nokey.pem")), r"FTP_TLS_KEYFILE .*nokey\.pem: no such file"),
        (lambda p, t: (str(p.cert), str(t)), r"FTP_TLS_KEYFILE .*: is a directory"),
        (lambda p, t: ("", str(p.key)), r"FTP_TLS_KEYFILE is set without FTP_TLS_CERTFILE"),
        (lambda p, t: (str(p.cert), ""), r"FTP_TLS_CERTFILE .*cert\.pem: no usable PEM private key.*KEYFILE"),
        (_not_pem, r"FTP_TLS_CERTFILE .*junk\.pem: no PEM certificate"),
        (_key_of_another, r"FTP_TLS_KEYFILE .*: the private key does not match the certificate"),
        (_encrypted_key, r"FTP_TLS_KEYFILE .*: the private key is encrypted"),
    ],
    ids=[
        "cert-missing",
        "key-missing",
        "key-a-dir",
        "key-only",
        "no-key",
        "not-pem",
        "mismatch",
        "encrypted",
    ],
)
def test_a_bad_certificate_or_key_stops_the_receiver_from_starting(settings, pair, tmp_path, files, message):
    settings.FTP_TLS_CERTFILE, settings.FTP_TLS_KEYFILE = files(pair, tmp_path)
    with pytest.raises(ValueError, match=message):
        build_server("127.0.0.1", 0)
    with pytest.raises(CommandError, match=rf"^cannot start the FTP receiver: {message}") as exc:
        call_command("ftp_receiver", "--port", "0")
    assert exc.value.returncode == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: no unreadable key to try")
def test_an_unreadable_key_stops_the_receiver_from_starting(settings, pair, tmp_path):
    key = tmp_path / "key.pem"
    key.write_bytes(pair.key.read_bytes())
    key.chmod(0)
    settings.FTP_TLS_CERTFILE, settings.FTP_TLS_KEYFILE = str(pair.cert), str(key)
    with pytest.raises(ValueError, match=r"FTP_TLS_KEYFILE .*: not readable by this user"):
        build_server("127.0.0.1", 0)


def test_the_command_serves_ftps_and_stops_cleanly_on_sigterm(pair, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")},
        "DJANGO_SETTINGS_MODULE": "wfm_site.settings",
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path),
        "FTP_TLS_CERTFILE": str(pair.cert),
        "FTP_TLS_KEYFILE": str(pair.key),
    }
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "manage.py", "ftp_receiver", "--port", "0", "--json"]
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()  # it exited before serving: show why
        started = json.loads(line)
        assert started["tls"] is True and started["host"] == "127.0.0.1"
        ftp = ftplib.FTP_TLS(context=trusting(pair))
        ftp.connect("127.0.0.1", started["port"], timeout=5)
        ftp.auth()
        assert ftp.sock.getpeercert(binary_form=True) == pair.der
        ftp.quit()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
    assert "Traceback" not in proc.stderr.read()
