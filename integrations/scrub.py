"""Remove secrets from text before it reaches a log line, a run record or a page."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS = (
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)(authorization\s*[:=]\s*)(\S+(\s+\S+)?)"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # key=value / "key": "value" for the usual secret names.
    (
        re.compile(
            r"""(?ix)
            (["']?(?:password|passwd|pwd|token|access_?token|api_?key|apikey|secret|client_?secret)["']?
             \s*[:=]\s*["']?)
            ([^"'&\s,}]+)
            """
        ),
        r"\1[redacted]",
    ),
    # JWTs.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values and anything that looks like a credential."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask(value: str) -> str:
    """Show at most the last 4 characters of a secret (none of a short one)."""
    if not value:
        return ""
    if len(value) < 12:
        return "••••"
    return "••••" + value[-4:]
