"""Faults injected per vendor, switched at run time (control endpoint or Python API).

| fault           | effect                                                                     |
|-----------------|----------------------------------------------------------------------------|
| `500`           | every request answers HTTP 500 with an HTML error page                     |
| `429`           | every request answers HTTP 429 with `Retry-After: <retry_after>`            |
| `slow`          | every request waits `delay` seconds before it is answered                 |
| `invalid_token` | credentials refused: 8x8 and Nextiva/Thrio 401 (login too), TCN 400 body    |
|                 | `Invalid Login Information!`                                                |
| `expired_token` | 8x8 401; TCN the invalid-login body; Nextiva/Thrio: every token issued      |
|                 | before the fault was set answers 401 "Token expired" (a new login works)   |
| `malformed`     | a 200 answer's body is cut in half (JSON) or replaced by an HTML page (text)|
| `missing_file`  | TCN only: the drop writer skips its files while set                         |

Which vendors there are, and which faults each takes, their simulations declare
(`integrations.sandbox.vendors`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from integrations.sandbox.vendors import sandbox_vendors

FAULTS = ("500", "429", "slow", "invalid_token", "expired_token", "malformed", "missing_file")


class FaultError(ValueError):
    """A fault request that names an unknown vendor or fault, or a bad parameter."""


@dataclass(frozen=True)
class Fault:
    fault: str
    retry_after: int = 5
    delay: float = 3.0
    # Bumped every time a fault is set, so `expired_token` can expire the tokens issued before.
    generation: int = 0


class FaultBoard:
    """The faults in force, one per vendor; safe to use from the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._generation = 0

    def set(
        self, vendor: str, fault: str | None, *, retry_after: int = 5, delay: float = 3.0
    ) -> Fault | None:
        vendors = sandbox_vendors()
        if vendor not in vendors:
            raise FaultError(f"unknown vendor {vendor!r}; expected one of {', '.join(vendors)}")
        if fault is not None and fault not in FAULTS:
            raise FaultError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)} or null")
        if fault is not None and fault not in vendors[vendor].faults:
            takers = [key for key, spec in vendors.items() if fault in spec.faults]
            raise FaultError(f"{fault} applies to {', '.join(takers)} only (the file drop)")
        if not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
            raise FaultError(f"retry_after must be a whole number of seconds >= 0, not {retry_after!r}")
        if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= 300:
            raise FaultError(f"delay must be a number of seconds between 0 and 300, not {delay!r}")
        with self._lock:
            self._generation += 1
            if fault is None:
                self._faults.pop(vendor, None)
                return None
            self._faults[vendor] = Fault(fault, retry_after, float(delay), self._generation)
            return self._faults[vendor]

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def get(self, vendor: str) -> Fault | None:
        with self._lock:
            return self._faults.get(vendor)

    def is_set(self, vendor: str, fault: str) -> bool:
        current = self.get(vendor)
        return current is not None and current.fault == fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> dict[str, dict | None]:
        with self._lock:
            out: dict[str, dict | None] = dict.fromkeys(sandbox_vendors())
            for vendor, fault in self._faults.items():
                out[vendor] = {k: v for k, v in asdict(fault).items() if k != "generation"}
            return out

    def set_from_json(self, payload: object) -> Fault | None:
        """Apply a control request body; raise `FaultError` naming what was wrong."""
        if not isinstance(payload, dict):
            raise FaultError('expected a JSON object like {"vendor": "8x8", "fault": "500"}')
        unknown = set(payload) - {"vendor", "fault", "retry_after", "delay"}
        if unknown:
            raise FaultError(f"unknown field(s): {', '.join(sorted(unknown))}")
        if "vendor" not in payload or "fault" not in payload:
            raise FaultError("both 'vendor' and 'fault' are required ('fault': null clears)")
        return self.set(
            payload["vendor"],
            payload["fault"],
            retry_after=payload.get("retry_after", 5),
            delay=payload.get("delay", 3.0),
        )
