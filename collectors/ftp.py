"""The embedded FTP receiver of the file-drop transport (pyftpdlib), `manage.py ftp_receiver`.

One login per connection whose vendor drops files (`Vendor.supplies`, e.g. TCN's 15-minute
call file) and that has an FTP password (history section, stored
encrypted like every credential): the login is the connection's `ftp_username`, or
`tenant-slug.connection-name`, unique across all connections (case-insensitively; the
database holds it in a unique column). A session is jailed to that connection's own drop
folder, checked at login as a scan checks it (pyftpdlib resolves every path, symlinks
included, inside the home folder) and may only list, upload and rename files in its top
level: no reads, deletes or subfolders. A
finished upload is registered at once, so the next scan takes it without waiting for a
second look; an interrupted one is deleted.

With FTP_TLS_CERTFILE set (and FTP_TLS_KEYFILE when the key is in its own file) the
receiver speaks explicit FTPS only: a client must send AUTH TLS before USER/PASS and
PBSZ 0 / PROT P before any transfer, so neither credentials nor files cross in clear.
The certificate and key are loaded and checked when the server is built: a missing,
unreadable, encrypted or mismatched file stops it from starting, never a silent
fallback to plain FTP.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.db import close_old_connections
from OpenSSL import SSL
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

from collectors import ftp_conf as conf
from integrations.drop_folders import DropFolderError
from integrations.models import VendorConnection, normalise_login
from integrations.vendors import vendors_supplying
from integrations.vendors.base import HISTORY, STREAM_FILE_DROP

log = logging.getLogger(__name__)

# e: change directory, l: list, w: store, f: rename (uploaders rename X.tmp to X).
PERMS = "elwf"
WRITE_PERMS = set("wf")


def login_of(connection: VendorConnection) -> str:
    return connection.effective_ftp_login()


def find_login(username: str) -> tuple[VendorConnection, str, Path] | None:
    """The connection a login belongs to, its password and its drop folder (or None).

    Logins are unique across connections (a unique column holds them normalised), so a
    login names one connection or none. Its folder is checked as a scan checks it: a folder
    outside its tenant's, a link, or one that overlaps another connection's refuses the login.
    """
    connection = (
        VendorConnection.objects.filter(
            ftp_login=normalise_login(username),
            vendor__in=vendors_supplying(STREAM_FILE_DROP),
            enabled=True,
            tenant__active=True,
        )
        .select_related("tenant")
        .first()
    )
    if connection is None:
        return None
    password = connection.values_of(HISTORY).get("ftp_password", "")
    if not password:
        return None
    try:
        return connection, password, connection.drop_folder()
    except DropFolderError as exc:
        log.warning("ftp: %s: login refused: %s", connection.key, exc)
        return None


class ConnectionAuthorizer:
    """pyftpdlib's authorizer interface over the file-drop connections in the database."""

    read_perms = "el"
    write_perms = "wf"

    def __init__(self) -> None:
        self.homes: dict[str, Path] = {}

    def validate_authentication(self, username: str, password: str, handler: FTPHandler) -> None:
        close_old_connections()
        found = find_login(username)
        # Compare even for an unknown login, so timing does not tell which logins exist.
        expected = found[1] if found else "\x00unknown-login"
        if not hmac.compare_digest(password.encode(), expected.encode()) or found is None:
            raise AuthenticationFailed("Authentication failed.")
        connection, _password, folder = found
        folder.mkdir(parents=True, exist_ok=True)
        self.homes[username] = folder
        handler.connection_pk = connection.pk
        log.info("ftp: %s logged in for %s", username, connection.key)

    def get_home_dir(self, username: str) -> str:
        return str(self.homes[username])

    def has_user(self, username: str) -> bool:
        return username in self.homes

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        if perm not in PERMS or username not in self.homes:
            return False
        if path is None:
            return True
        home = self.homes[username]
        target = Path(os.path.realpath(path))
        if perm in WRITE_PERMS:
            # Uploads land in the top level only (processed/ and quarantine/ stay ours).
            return target.parent == home and not target.is_dir()
        # Listing and changing directory: the top level only, never into processed/ or
        # quarantine/ (names of files already taken are not the uploader's business).
        return target == home or (target.parent == home and not target.is_dir())

    def get_perms(self, username: str) -> str:
        return PERMS

    def get_msg_login(self, username: str) -> str:
        return "Switchboard drop folder ready."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        pass

    def terminate_impersonation(self, username: str) -> None:
        pass


class DropHandlerMixin:
    """What both handlers share: the upload hooks (the jail is the authorizer's)."""

    connection_pk: int | None = None
    tls = False

    def on_file_received(self, file: str) -> None:
        from collectors.drops import mark_complete

        close_old_connections()
        connection = VendorConnection.objects.select_related("tenant").filter(pk=self.connection_pk).first()
        if connection is not None:
            mark_complete(connection, Path(file))
            log.info("ftp: %s received %s", connection.key, Path(file).name)

    def on_incomplete_file_received(self, file: str) -> None:
        # A broken upload must never be ingested; the vendor sends the next one whole.
        with contextlib.suppress(OSError):
            os.remove(file)


class DropFTPHandler(DropHandlerMixin, FTPHandler):
    pass


class DropTLSHandler(DropHandlerMixin, TLS_FTPHandler):
    """Explicit FTPS, required on the control and the data connections."""

    tls = True
    tls_control_required = True
    tls_data_required = True

    def process_command(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        # pyftpdlib answers 550 here; 530 ("not logged in") is what FTP clients show
        # as a login refusal, and it comes on USER, before a client sends its password.
        if cmd in ("USER", "PASS") and not self._ssl_established:
            msg = "Login refused: this server requires AUTH TLS first (FTPS)."
            self.respond(f"530 {msg}")
            self.log_cmd(cmd, args[0] if args else "", 530, msg)
            return
        super().process_command(cmd, *args, **kwargs)


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{setting} {path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{setting} {path}: is a directory, not a PEM file") from None
    except PermissionError:
        raise ValueError(f"{setting} {path}: not readable by this user (permission denied)") from None
    except OSError as exc:
        raise ValueError(f"{setting} {path}: cannot be read ({exc.strerror})") from None


def tls_context(certfile: str, keyfile: str = "") -> SSL.Context:
    """The receiver's TLS context from PEM files; a ValueError names the setting at fault.

    The key is loaded here with `cryptography` rather than by OpenSSL so an encrypted
    key is refused with a message instead of a passphrase prompt on the terminal.
    """
    cert_pem = _read("FTP_TLS_CERTFILE", certfile)
    key_setting, key_path = ("FTP_TLS_KEYFILE", keyfile) if keyfile else ("FTP_TLS_CERTFILE", certfile)
    key_pem = _read(key_setting, key_path) if keyfile else cert_pem
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise ValueError(f"FTP_TLS_CERTFILE {certfile}: no PEM certificate in it") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise ValueError(
            f"{key_setting} {key_path}: the private key is encrypted; give the receiver an "
            "unencrypted key file readable only by its user"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        hint = "" if keyfile else " (set FTP_TLS_KEYFILE when the key is in its own file)"
        raise ValueError(f"{key_setting} {key_path}: no usable PEM private key in it{hint}") from None
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.set_options(SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | SSL.OP_NO_COMPRESSION)
    context.use_certificate(chain[0])
    for intermediate in chain[1:]:
        context.add_extra_chain_cert(intermediate)
    try:
        context.use_privatekey(key)
        context.check_privatekey()
    except TypeError:
        raise ValueError(f"{key_setting} {key_path}: unsupported private key type") from None
    except SSL.Error:
        # OpenSSL checks the pair in use_privatekey already; check_privatekey is the backstop.
        raise ValueError(
            f"{key_setting} {key_path}: the private key does not match the certificate in "
            f"FTP_TLS_CERTFILE {certfile}"
        ) from None
    if chain[0].not_valid_after_utc < datetime.now(UTC):
        # Still start: clients that do not verify keep working, and the log says why others fail.
        log.warning("ftp: the certificate in %s expired on %s", certfile, chain[0].not_valid_after_utc)
    return context


def handler_class() -> type[FTPHandler]:
    """A fresh handler class for one server: FTPS when a certificate is configured."""
    certfile, keyfile = conf.ftp_tls_certfile(), conf.ftp_tls_keyfile()
    if not certfile:
        if keyfile:
            raise ValueError("FTP_TLS_KEYFILE is set without FTP_TLS_CERTFILE; set both or neither")
        return type("Handler", (DropFTPHandler,), {})
    handler = type("Handler", (DropTLSHandler,), {})
    handler.ssl_context = tls_context(certfile, keyfile)
    handler.certfile, handler.keyfile = certfile, keyfile or certfile
    return handler


def build_server(host: str | None = None, port: int | None = None) -> FTPServer:
    """A configured receiver (not yet serving); `server.address` is the bound address."""
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    handler = handler_class()
    handler.authorizer = ConnectionAuthorizer()
    handler.banner = "Switchboard FTP receiver"
    handler.permit_foreign_addresses = False
    passive = conf.ftp_passive_ports()
    if passive is not None:
        handler.passive_ports = passive
    if conf.ftp_masquerade_address():
        handler.masquerade_address = conf.ftp_masquerade_address()
    server = FTPServer((host or conf.ftp_host(), conf.ftp_port() if port is None else port), handler)
    server.max_cons = 64
    server.max_cons_per_ip = 16
    return server
