"""`manage.py ftp_receiver [--host H] [--port P] [--json]`: the embedded FTP receiver.

Optional: a deployment with its own FTP server leaves it off (it is not in the Procfile).
Logins, jail and TLS: see collectors.ftp. With FTP_TLS_CERTFILE set it serves FTPS only;
a certificate or key it cannot use stops it (exit status 2) rather than serving plain FTP.
Stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import signal
from typing import Any

from django.core.management.base import CommandError, CommandParser

from collectors.ftp import build_server
from integrations.cli import JsonCommand, dumps

# The serving loop checks for a stop request between polls of at most this many seconds. A
# SystemExit raised from the signal handler itself would land wherever the main thread
# happened to be (inside a TLS shutdown, say); under load the process then sometimes
# outlived SIGTERM.
POLL_SECONDS = 0.5


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Command(JsonCommand):
    help = "Run the embedded FTP receiver for the drop folders of file-drop connections (TCN's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default=None, help="listen address (FTP_RECEIVER_HOST, default 127.0.0.1)"
        )
        parser.add_argument(
            "--port", type=int, default=None, help="control port (FTP_RECEIVER_PORT, default 2121)"
        )
        parser.add_argument("--json", action="store_true", help="print the bound address as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if port is not None and not 0 <= int(port) <= 65535:
            raise CommandError(f"--port {port} is not a TCP port", returncode=2)
        try:
            server = build_server(options["host"], port)
        except (OSError, RuntimeError, ValueError) as exc:
            raise CommandError(f"cannot start the FTP receiver: {exc}", returncode=2) from None
        host, bound = server.address[:2]
        tls = server.handler.tls
        if options["json"]:
            self.stdout.write(dumps({"host": host, "port": bound, "tls": tls}, indent=None))
        else:
            self.stdout.write(f"FTP receiver on {host}:{bound}{' (FTPS required)' if tls else ''}")
        if not tls and not _is_loopback(host):
            self.stderr.write(
                "warning: plain FTP on a non-loopback address: passwords and files cross in clear; "
                "set FTP_TLS_CERTFILE (and FTP_TLS_KEYFILE) to require FTPS"
            )
        self.stdout.flush()
        # The handlers only ask the loop to stop; it closes every connection once the current
        # poll (at most POLL_SECONDS) returns, never from inside a connection's own code.
        stopping: list[int] = []
        signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
        signal.signal(signal.SIGINT, lambda signum, _frame: stopping.append(signum))
        try:
            while not stopping:
                server.ioloop.loop(POLL_SECONDS, blocking=False)  # one poll, then the timers
        finally:
            server.close_all()
