"""The sandbox's settings: Django settings of the same name win, then the environment, then defaults.

| name                     | default                              |
|--------------------------|--------------------------------------|
| `SANDBOX_HOST`           | `127.0.0.1`                          |
| `SANDBOX_PORT`           | `8765`                               |
| `SANDBOX_SEED`           | `switchboard`                        |
| `SANDBOX_ZONE`           | `America/Chicago` (the tenant's zone)|
| `SANDBOX_DROP_FOLDERS`   | `$DROP_ROOT/demo/tcn-demo` (comma-separated; the demo connection's folder) |
| `SANDBOX_BACKFILL_HOURS` | `24`                                 |
| `SANDBOX_TOKEN_LIFETIME` | `3600` (Nextiva/Thrio token seconds) |
| `SANDBOX_8X8_TENANT` / `SANDBOX_8X8_TOKEN` | `demo` / `sandbox-8x8-token` |
| `SANDBOX_NEXTIVA_LOGIN` / `SANDBOX_NEXTIVA_PASSWORD` | `wfm` / `sandbox-nextiva` |
| `SANDBOX_THRIO_LOGIN` / `SANDBOX_THRIO_PASSWORD` | `wfm` / `sandbox-thrio` |
| `SANDBOX_TCN_TOKEN`      | `sandbox-tcn-token`                  |

The credential settings are those each simulation declares (`SandboxVendor.credentials`).
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.conf import settings

from integrations.sandbox.traffic import DEFAULT_SEED, DEFAULT_ZONE
from integrations.sandbox.vendors import sandbox_vendors

_env = environ.Env()


def _get(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = _env.str(name, default=default)
    return str(value)


# What the sandbox accepts, per vendor: {vendor key: {connection field: value}}. A vendor or
# field left out takes its simulation's default, which the demo connections (`setup_demo`) use.
Credentials = dict[str, dict[str, str]]


def credentials_from_settings() -> Credentials:
    out: Credentials = {}
    for key, spec in sandbox_vendors().items():
        out[key] = {c.field: _get(c.setting, c.default) for c in spec.credentials}
    return out


class SandboxSettings:
    @property
    def HOST(self) -> str:
        return _get("SANDBOX_HOST", "127.0.0.1")

    @property
    def PORT(self) -> int:
        return int(_get("SANDBOX_PORT", "8765"))

    @property
    def SEED(self) -> str:
        return _get("SANDBOX_SEED", DEFAULT_SEED)

    @property
    def ZONE(self) -> str:
        return _get("SANDBOX_ZONE", DEFAULT_ZONE)

    @property
    def DROP_FOLDERS(self) -> list[Path]:
        value = getattr(settings, "SANDBOX_DROP_FOLDERS", None)
        if value is None:
            # The demo TCN connection's derived folder, DROP_ROOT/<tenant-slug>/<connection-name>;
            # DROP_ROOT read here as integrations.drop_folders reads it.
            root = getattr(settings, "DROP_ROOT", None) or _env.str("DROP_ROOT", default="")
            root = root or str(Path(settings.VAR_DIR) / "drops")
            default = str(Path(root).expanduser() / "demo" / "tcn-demo")
            value = _env.list("SANDBOX_DROP_FOLDERS", default=[default])
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        return [Path(v.strip() if isinstance(v, str) else v) for v in value]

    @property
    def BACKFILL_HOURS(self) -> int:
        return int(_get("SANDBOX_BACKFILL_HOURS", "24"))

    @property
    def TOKEN_LIFETIME(self) -> int:
        return int(_get("SANDBOX_TOKEN_LIFETIME", "3600"))

    @property
    def CREDENTIALS(self) -> Credentials:
        return credentials_from_settings()


app_settings = SandboxSettings()
