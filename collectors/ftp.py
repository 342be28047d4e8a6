"""The embedded FTP receiver for TCN's 15-minute drop (pyftpdlib), `manage.py ftp_receiver`.

One login per TCN connection that has an FTP password (history section, stored
encrypted like every credential): the login is the connection's `ftp_username`, or
`tenant-slug.connection-name`. A session is jailed to that connection's drop folder
(pyftpdlib resolves every path, symlinks included, inside the home folder) and may only
list, upload and rename files in its top level: no reads, deletes or subfolders. A
finished upload is registered at once, so the next scan takes it without waiting for a
second look; an interrupted one is deleted. With FTP_TLS_CERTFILE set, the receiver
speaks FTPS only (explicit TLS required on control and data connections).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
from pathlib import Path

from django.db import close_old_connections
from pyftpdlib.authorizers import AuthenticationFailed
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

from integrations.models import VendorConnection
from integrations.vendors.base import HISTORY
from integrations.vendors.tcn import conf
from integrations.vendors.tcn.vendor import resolve_drop_folder

log = logging.getLogger(__name__)

# e: change directory, l: list, w: store, f: rename (uploaders rename X.tmp to X).
PERMS = "elwf"
WRITE_PERMS = set("wf")


def login_of(connection: VendorConnection) -> str:
    return connection.values_of(HISTORY).get("ftp_username") or f"{connection.tenant.slug}.{connection.name}"


def find_login(username: str) -> tuple[VendorConnection, str, Path] | None:
    """The connection a login belongs to, its password and its drop folder (or None)."""
    connections = VendorConnection.objects.filter(vendor="tcn", enabled=True, tenant__active=True)
    for connection in connections.select_related("tenant"):
        values = connection.values_of(HISTORY)
        password = values.get("ftp_password", "")
        if not password or login_of(connection) != username:
            continue
        try:
            return connection, password, resolve_drop_folder(values.get("drop_folder", ""))
        except ValueError:
            log.warning("ftp: %s has a drop folder outside DROP_ROOT; login refused", connection.key)
            return None
    return None


class ConnectionAuthorizer:
    """pyftpdlib's authorizer interface over the TCN connections in the database."""

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
        return target == home or home in target.parents

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
    connection_pk: int | None = None

    def on_file_received(self, file: str) -> None:
        from collectors.drops import mark_complete

        close_old_connections()
        connection = VendorConnection.objects.select_related("tenant").filter(pk=self.connection_pk).first()
        if connection is not None:
            mark_complete(connection, Path(file))
            log.info("ftp: %s received %s", connection.key, Path(file).name)

    def on_incomplete_file_received(self, file: str) -> None:
        # A broken upload must never be ingested; TCN sends the next one whole.
        with contextlib.suppress(OSError):
            os.remove(file)


class DropFTPHandler(DropHandlerMixin, FTPHandler):
    pass


def handler_class() -> type[FTPHandler]:
    certfile = conf.ftp_tls_certfile()
    if not certfile:
        handler: type[FTPHandler] = DropFTPHandler
    else:
        try:
            from pyftpdlib.handlers import TLS_FTPHandler
        except ImportError as exc:
            raise RuntimeError("FTP_TLS_CERTFILE is set but pyOpenSSL is not installed") from exc

        class DropTLSHandler(DropHandlerMixin, TLS_FTPHandler):
            tls_control_required = True
            tls_data_required = True

        DropTLSHandler.certfile = certfile
        DropTLSHandler.keyfile = conf.ftp_tls_keyfile() or None
        handler = DropTLSHandler
    return handler


def build_server(host: str | None = None, port: int | None = None) -> FTPServer:
    """A configured receiver (not yet serving); `server.address` is the bound address."""
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    base = handler_class()
    handler = type("Handler", (base,), {})
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
