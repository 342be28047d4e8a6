"""Check a connection's credentials and reachability, with a message safe to show anywhere.

Used by the admin's "Test connection" action and `manage.py connections test`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.models import VendorConnection
from integrations.scrub import scrub
from integrations.vendors.errors import AuthError, TransientError, VendorError


@dataclass(frozen=True)
class CheckResult:
    connection: str
    ok: bool
    checked: list[str] = field(default_factory=list)
    error_class: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "connection": self.connection,
            "ok": self.ok,
            "checked": self.checked,
            "error_class": self.error_class,
            "error": self.error,
        }


def check_connection(conn: VendorConnection) -> CheckResult:
    """Run the vendor adapter's check(); never raises, never returns a secret."""
    secrets = conn.secret_values()

    def failed(kind: str, message: str) -> CheckResult:
        return CheckResult(conn.key, False, error_class=kind, error=scrub(message, secrets))

    vendor = conn.vendor_class
    try:
        adapter = vendor.adapter(conn.connection_settings())
    except ImportError:
        return failed("NotAvailable", f"no adapter for {vendor.label} is installed yet")
    try:
        checked = adapter.check()
    except AuthError as exc:
        return failed("AuthError", f"credentials refused: {exc}")
    except TransientError as exc:
        return failed("TransientError", f"not reachable: {exc}")
    except VendorError as exc:
        return failed(type(exc).__name__, str(exc))
    except NotImplementedError:
        return failed("NotAvailable", f"the {vendor.label} adapter cannot check connections yet")
    except Exception as exc:  # an adapter bug must not leak a secret or crash the admin
        return failed(type(exc).__name__, f"unexpected error: {exc}")
    return CheckResult(conn.key, True, checked=[scrub(str(c), secrets) for c in checked or []])
