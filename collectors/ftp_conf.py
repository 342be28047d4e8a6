"""Settings of the embedded FTP receiver, read from Django settings with documented defaults.

Each is a plain Django setting (set it in the environment-backed settings or with
`override_settings` in tests); the environment variable of the same name is the fallback.
"""

from __future__ import annotations

import os

from django.conf import settings


def _get(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name) or default)


def ftp_host() -> str:
    """FTP_RECEIVER_HOST: address the embedded receiver listens on (default 127.0.0.1)."""
    return _get("FTP_RECEIVER_HOST", "127.0.0.1")


def ftp_port() -> int:
    """FTP_RECEIVER_PORT: its control port (default 2121; 21 needs root)."""
    return int(_get("FTP_RECEIVER_PORT", "2121"))


def ftp_passive_ports() -> range | None:
    """FTP_PASSIVE_PORTS: `first-last` for data connections behind a firewall (default: any)."""
    value = _get("FTP_PASSIVE_PORTS", "")
    if not value:
        return None
    first, _, last = value.partition("-")
    return range(int(first), int(last or first) + 1)


def ftp_masquerade_address() -> str:
    """FTP_MASQUERADE_ADDRESS: public address announced for passive mode behind NAT."""
    return _get("FTP_MASQUERADE_ADDRESS", "")


def ftp_tls_certfile() -> str:
    """FTP_TLS_CERTFILE: a PEM certificate (chain); when set the receiver speaks FTPS only."""
    return _get("FTP_TLS_CERTFILE", "")


def ftp_tls_keyfile() -> str:
    """FTP_TLS_KEYFILE: its private key, when not in the certificate file."""
    return _get("FTP_TLS_KEYFILE", "")
