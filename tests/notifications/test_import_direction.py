"""Imports point one way: collectors → tokens → notifications → integrations.

The notification app imports neither the apps that publish into it nor the site, and
the health monitor reaches mail and people through it, not through tokens.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    """file -> every module it imports (at the top or inside a function)."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        out[str(path.relative_to(ROOT))] = names
    return out


def offenders(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path, names in imported_modules(package).items():
        bad = sorted(n for n in names if n.split(".")[0] in forbidden)
        if bad:
            found[path] = bad
    return found


def test_the_notification_app_imports_none_of_the_apps_that_publish_into_it():
    assert offenders("notifications", ("tokens", "collectors", "api", "wfm_site")) == {}


def test_the_tokens_app_imports_neither_collectors_nor_the_site():
    assert offenders("tokens", ("collectors", "api", "wfm_site")) == {}


def test_collectors_reach_mail_and_people_through_notifications_not_tokens():
    mail_modules = {"tokens.mailer", "tokens.recipients", "tokens.verification", "tokens.outbox"}
    found = {
        path: sorted(names & mail_modules)
        for path, names in imported_modules("collectors").items()
        if names & mail_modules
    }
    assert found == {}
