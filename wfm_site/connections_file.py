"""The connections file: tenants, members, vendor connections and token expiries as YAML.

`import_text()` is idempotent and all-or-nothing: it runs in one transaction, validates
every object with the same model validation as the admin (`full_clean`), collects every
problem with its path in the file (`tenants[0].connections[2].vendor: unknown vendor 'tcm'`)
and rolls everything back if there is one. `export_text()` never writes a secret; importing
an export changes nothing, because a secret left out keeps its stored value.

It lives in `wfm_site` because it writes both `integrations` and `tokens` rows, and imports
point `tokens` -> `integrations` only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from integrations.models import Membership, Tenant, VendorConnection
from integrations.vendors import field_map, get_vendor, is_known, vendor_keys
from integrations.vendors.base import HISTORY, REALTIME, SECTIONS
from tokens.addresses import member_problems
from tokens.models import AccessToken, one_year_after

KINDS = ("tenants", "users", "members", "connections", "tokens")
ROLES = tuple(role for role, _ in Membership.ROLES)
TENANT_KEYS = {"slug", "name", "time_zone", "active", "members", "connections"}
MEMBER_KEYS = {"email", "role", "name"}
CONNECTION_KEYS = {
    "name",
    "vendor",
    "enabled",
    "interval_seconds",
    "time_zone",
    "backfill_days",
    "max_request_days",
    "realtime",
    "history",
    "options",
    "state_map",
    "tokens",
}
TOKEN_KEYS = {"section", "service_login", "owner", "issued", "expires"}
ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

HEADER = """\
# Switchboard connections file (manage.py connections import/export).
# Secrets are never exported: add them inline or as ${ENV_VAR} references before importing
# into an empty database. Re-importing this file as it is changes nothing; a secret that
# is left out keeps its stored value.
"""


class FileProblems(Exception):
    """The file is invalid; nothing was changed. `problems` are "path: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class _Rollback(Exception):
    pass


@dataclass
class Summary:
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {k: {"created": 0, "updated": 0, "unchanged": 0} for k in KINDS}
    )
    dry_run: bool = False

    def add(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "changed": self.changed, **self.counts}

    def lines(self) -> list[str]:
        return [
            f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for kind, c in self.counts.items()
        ]


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": exc.messages}


# Where a model field's error points in the file.
_FIELD_PATHS = {
    "realtime_base_url": "realtime.base_url",
    "history_base_url": "history.base_url",
}
# Whole numbers of days a connection may leave out (null: the default).
DAY_KEYS = ("backfill_days", "max_request_days")


def _field_path(name: str) -> str:
    if name in _FIELD_PATHS:
        return _FIELD_PATHS[name]
    for section in SECTIONS:
        if name.startswith(f"{section}_"):
            return f"{section}.{name[len(section) + 1 :]}"
    return name


class _Importer:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []
        self.summary = Summary()
        # Users by lower-cased email, found or created in this run.
        self.users: dict[str, Any] = {}
        # Secret values met in the file, scrubbed from every problem line.
        self.secrets: list[str] = []

    def redact(self, line: str) -> str:
        # Only the literal values: scrub()'s "access_token: …" pattern would eat the paths.
        for secret in self.secrets:
            if len(secret) >= 4:
                line = line.replace(secret, "[redacted]")
        return line

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def validated(self, path: str, obj: Any, exclude: set[str] | None = None, paths: Any = None) -> bool:
        try:
            obj.full_clean(exclude=exclude)
        except ValidationError as exc:
            for name, messages in _errors_of(exc).items():
                where = path if name == "__all__" else f"{path}.{(paths or str)(name)}"
                for message in messages:
                    self.problem(where, message)
            return False
        return True

    # --- shape ------------------------------------------------------------------------
    def mapping(self, path: str, value: Any, keys: set[str], required: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {type(value).__name__}")
            return False
        # Unknown keys (typos) are problems, but the rest is still checked.
        for key in sorted(set(value) - keys, key=str):
            self.problem(f"{path}.{key}", f"unknown key (expected one of {', '.join(sorted(keys))})")
        ok = True
        for key in required:
            if value.get(key) in (None, ""):
                self.problem(f"{path}.{key}", "is required")
                ok = False
        return ok

    def items(self, path: str, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"expected a list, got {type(value).__name__}")
            return []
        return value

    def text(self, path: str, value: Any, default: str = "") -> str:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, f"expected text, got {type(value).__name__}")
            return default
        return str(value)

    def flag(self, path: str, value: Any, default: bool = True) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, "expected true or false")
            return default
        return value

    def day(self, path: str, value: Any) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problem(path, f"expected a date like 2026-01-31, got {value!r}")
            return None

    # --- tenants ----------------------------------------------------------------------
    def run(self, doc: Any) -> None:
        if not self.mapping("(file)", doc, {"tenants"}):
            return
        seen: set[str] = set()
        for i, entry in enumerate(self.items("tenants", doc.get("tenants"))):
            path = f"tenants[{i}]"
            if not self.mapping(path, entry, TENANT_KEYS, required=("slug",)):
                continue
            slug = self.text(f"{path}.slug", entry["slug"])
            if slug in seen:
                self.problem(f"{path}.slug", f"tenant {slug!r} appears twice in the file")
                continue
            seen.add(slug)
            self.tenant(path, entry, slug)

    def tenant(self, path: str, entry: dict[str, Any], slug: str) -> None:
        tenant = Tenant.objects.filter(slug=slug).first()
        created = tenant is None
        if tenant is None:
            tenant = Tenant(slug=slug)
        before = (tenant.name, tenant.time_zone, tenant.active)
        tenant.name = self.text(f"{path}.name", entry.get("name"), tenant.name or slug)
        tenant.time_zone = self.text(f"{path}.time_zone", entry.get("time_zone"), tenant.time_zone or "UTC")
        tenant.active = self.flag(f"{path}.active", entry.get("active"), tenant.active)
        ok = self.validated(path, tenant)
        if ok and (created or before != (tenant.name, tenant.time_zone, tenant.active)):
            tenant.save()
            self.summary.add("tenants", "created" if created else "updated")
        elif ok:
            self.summary.add("tenants", "unchanged")
        saved = tenant if tenant.pk else None
        emails: set[str] = set()
        for j, member in enumerate(self.items(f"{path}.members", entry.get("members"))):
            email = self.member(f"{path}.members[{j}]", member, saved)
            if email and email in emails:
                self.problem(f"{path}.members[{j}].email", f"{email} appears twice in this tenant")
            emails.add(email or "")
        names: set[str] = set()
        for j, conn in enumerate(self.items(f"{path}.connections", entry.get("connections"))):
            cpath = f"{path}.connections[{j}]"
            if not self.mapping(cpath, conn, CONNECTION_KEYS, required=("name", "vendor")):
                continue
            name = self.text(f"{cpath}.name", conn["name"])
            if name in names:
                self.problem(f"{cpath}.name", f"connection {name!r} appears twice in this tenant")
                continue
            names.add(name)
            self.connection(cpath, conn, tenant, name)

    # --- members ----------------------------------------------------------------------
    def user(self, path: str, email: str, name: str = "", create: bool = True) -> Any:
        key = email.lower()
        if key in self.users:
            return self.users[key]
        try:
            validate_email(email)
        except ValidationError:
            self.problem(path, f"{email!r} is not an email address")
            return None
        User = get_user_model()
        found = list(User.objects.filter(email__iexact=email)[:2]) or list(
            User.objects.filter(username__iexact=email)[:2]
        )
        if len(found) > 1:
            self.problem(path, f"more than one user has the email {email}")
            return None
        if found:
            user = found[0]
            self.summary.add("users", "unchanged")
        elif not create:
            self.problem(path, f"no user with the email {email} (list them under members)")
            return None
        else:
            first, _, last = name.partition(" ")
            user = User(username=email, email=email, first_name=first, last_name=last, is_staff=True)
            # They log in after a password reset; no password travels in a file.
            user.set_unusable_password()
            user.save()
            self.summary.add("users", "created")
        self.users[key] = user
        return user

    def member(self, path: str, entry: Any, tenant: Tenant | None) -> str | None:
        if not self.mapping(path, entry, MEMBER_KEYS, required=("email", "role")):
            return None
        email = self.text(f"{path}.email", entry["email"]).strip()
        role = self.text(f"{path}.role", entry["role"])
        if role not in ROLES:
            self.problem(f"{path}.role", f"unknown role {role!r} (use one of {', '.join(ROLES)})")
            return email.lower()
        user = self.user(f"{path}.email", email, self.text(f"{path}.name", entry.get("name")))
        if user is None or tenant is None:
            return email.lower()
        if problems := member_problems(user, tenant, role):
            for problem in problems:
                self.problem(f"{path}.email", problem)
            return email.lower()
        membership = Membership.objects.filter(user=user, tenant=tenant).first()
        if membership is None:
            Membership.objects.create(user=user, tenant=tenant, role=role)
            self.summary.add("members", "created")
        elif membership.role != role:
            membership.role = role
            try:
                membership.save(update_fields=["role"])
            except ValidationError as exc:  # the tenant's last owner or manager
                for message in exc.messages:
                    self.problem(f"{path}.role", message)
                return email.lower()
            self.summary.add("members", "updated")
        else:
            self.summary.add("members", "unchanged")
        return email.lower()

    # --- connections ------------------------------------------------------------------
    def section_values(
        self, path: str, value: Any, vendor_key: str, section: str
    ) -> tuple[str, dict[str, str]]:
        vendor = get_vendor(vendor_key)
        keys = {"base_url"} | {f.name for f in vendor.fields(section)}
        if value is None:
            return "", {}
        if not self.mapping(path, value, keys):
            return "", {}
        resolved: dict[str, str] = {}
        for key, raw in value.items():
            text = self.text(f"{path}.{key}", raw)
            ref = ENV_REF.match(text)
            if ref:
                if ref.group(1) not in self.env:
                    self.problem(f"{path}.{key}", f"environment variable {ref.group(1)} is not set")
                    continue
                text = self.env[ref.group(1)]
            if key in vendor.secret_names(section):
                self.secrets.append(text)
            resolved[key] = text
        return resolved.pop("base_url", ""), resolved

    @staticmethod
    def snapshot(conn: VendorConnection) -> tuple[Any, ...]:
        return (
            conn.enabled,
            conn.realtime_base_url,
            conn.history_base_url,
            dict(conn.realtime_values),
            dict(conn.history_values),
            dict(conn.realtime_secrets),
            dict(conn.history_secrets),
            conn.interval_seconds,
            conn.time_zone,
            conn.backfill_days,
            conn.max_request_days,
            conn.options,
            conn.state_map,
        )

    def connection(self, path: str, entry: dict[str, Any], tenant: Tenant, name: str) -> None:
        vendor = self.text(f"{path}.vendor", entry["vendor"])
        if not is_known(vendor):
            self.problem(
                f"{path}.vendor", f"unknown vendor {vendor!r} (use one of {', '.join(vendor_keys())})"
            )
            return
        conn = VendorConnection.objects.filter(tenant=tenant, name=name).first() if tenant.pk else None
        created = conn is None
        if conn is None:
            conn = VendorConnection(tenant=tenant, name=name, vendor=vendor)
        elif conn.vendor != vendor:
            self.problem(
                f"{path}.vendor",
                f"the connection is {conn.vendor!r}; a vendor cannot change (use a new name)",
            )
            return
        before = None if created else self.snapshot(conn)
        conn.enabled = self.flag(f"{path}.enabled", entry.get("enabled"), True)
        interval = entry.get("interval_seconds")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int)):
            self.problem(f"{path}.interval_seconds", f"expected a whole number of seconds, got {interval!r}")
            interval = None
        conn.interval_seconds = interval or get_vendor(vendor).default_interval_seconds
        for key in DAY_KEYS:
            days = entry.get(key)
            if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
                self.problem(f"{path}.{key}", f"expected a whole number of days, got {days!r}")
                days = getattr(conn, key)
            setattr(conn, key, days)
        # A vendor may accept old zone aliases (TCN's list); the canonical zone is stored.
        conn.time_zone = get_vendor(vendor).canonical_time_zone(
            self.text(f"{path}.time_zone", entry.get("time_zone"), get_vendor(vendor).default_time_zone)
        )
        for key in ("options", "state_map"):
            value = entry.get(key) or {}
            if not isinstance(value, dict):
                self.problem(f"{path}.{key}", "expected a mapping")
                value = {}
            setattr(conn, key, value)
        self.field_map(f"{path}.options.{field_map.OPTION}", conn, vendor)
        for section in SECTIONS:
            base_url, values = self.section_values(f"{path}.{section}", entry.get(section), vendor, section)
            if section == REALTIME:
                conn.realtime_base_url = base_url or get_vendor(vendor).default_base_url
            else:
                conn.history_base_url = base_url
            # Values the vendor no longer declares are not the file's business: keep them.
            declared = {f.name for f in get_vendor(vendor).fields(section)}
            stored = conn.realtime_values if section == REALTIME else conn.history_values
            kept = {k: v for k, v in (stored or {}).items() if k not in declared}
            conn.set_values(section, {**kept, **values})
        exclude = {"tenant"} if tenant.pk is None else None
        ok = self.validated(path, conn, exclude=exclude, paths=_field_path)
        if ok and tenant.pk:
            if created or before != self.snapshot(conn):
                try:
                    with transaction.atomic():
                        conn.save()
                except IntegrityError as exc:
                    self.problem(path, f"cannot be saved: {exc}")
                    return
                self.summary.add("connections", "created" if created else "updated")
            else:
                self.summary.add("connections", "unchanged")
        sections: set[str] = set()
        for k, token in enumerate(self.items(f"{path}.tokens", entry.get("tokens"))):
            token_section = self.token(f"{path}.tokens[{k}]", token, conn if conn.pk else None)
            if token_section and token_section in sections:
                self.problem(
                    f"{path}.tokens[{k}].section", f"a second {token_section} token for this connection"
                )
            sections.add(token_section or "")

    def field_map(self, path: str, conn: VendorConnection, vendor: str) -> None:
        """Check `options.field_map` and keep only the names that differ from the defaults."""
        if field_map.OPTION not in conn.options:
            return
        declared = get_vendor(vendor)
        try:
            overrides = field_map.validate(
                declared.default_field_map, conn.options[field_map.OPTION], declared.label
            )
        except field_map.FieldMapError as exc:
            self.problem(path, str(exc))
            return
        options = {k: v for k, v in conn.options.items() if k != field_map.OPTION}
        conn.options = {**options, field_map.OPTION: overrides} if overrides else options

    # --- tokens -----------------------------------------------------------------------
    def token(self, path: str, entry: Any, conn: VendorConnection | None) -> str | None:
        if not self.mapping(path, entry, TOKEN_KEYS, required=("issued",)):
            return None
        section = self.text(f"{path}.section", entry.get("section"), REALTIME)
        if section not in SECTIONS:
            self.problem(f"{path}.section", f"unknown section {section!r} (use {REALTIME} or {HISTORY})")
            return None
        issued = self.day(f"{path}.issued", entry["issued"])
        expires = self.day(f"{path}.expires", entry["expires"]) if entry.get("expires") else None
        if issued and expires is None:
            expires = one_year_after(issued)  # TCN access tokens live one year
        if issued and expires and expires <= issued:
            self.problem(f"{path}.expires", f"must be after issued ({issued.isoformat()})")
            return section
        owner = None
        if entry.get("owner"):
            owner = self.user(f"{path}.owner", self.text(f"{path}.owner", entry["owner"]), create=False)
        login = self.text(f"{path}.service_login", entry.get("service_login"))
        if conn is None or issued is None or expires is None or self.problems:
            return section
        wanted = {
            "service_login": login,
            "owner_id": owner.pk if owner else None,
            "issued": issued,
            "expires": expires,
        }
        token = AccessToken.objects.filter(connection=conn, section=section).first()
        if token is None:
            token = AccessToken(connection=conn, section=section, **wanted)
            outcome = "created"
        elif any(getattr(token, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(token, k, v)
            outcome = "updated"
        else:
            self.summary.add("tokens", "unchanged")
            return section
        if self.validated(path, token, exclude={"connection", "owner"}):
            token.save()
            self.summary.add("tokens", outcome)
        return section


def parse(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise FileProblems([f"{where}: not valid YAML: {problem}"]) from None


def import_text(text: str, env: Mapping[str, str] | None = None, dry_run: bool = False) -> Summary:
    """Apply a connections file; raise FileProblems (having changed nothing) when invalid."""
    doc = parse(text)
    importer = _Importer(os.environ if env is None else env)
    importer.summary.dry_run = dry_run
    try:
        with transaction.atomic():
            importer.run(doc)
            if importer.problems or dry_run:
                raise _Rollback
    except _Rollback:
        if importer.problems:
            raise FileProblems([importer.redact(p) for p in importer.problems]) from None
    return importer.summary


# --- export -------------------------------------------------------------------------------
def _section(conn: VendorConnection, section: str) -> dict[str, str]:
    vendor = conn.vendor_class
    values = conn.realtime_values if section == REALTIME else conn.history_values
    out: dict[str, str] = {}
    base = conn.realtime_base_url if section == REALTIME else conn.history_base_url
    if base:
        out["base_url"] = base
    for f in vendor.fields(section):
        if not f.secret and values.get(f.name):
            out[f.name] = values[f.name]
    return out


def export_data(tenants: QuerySet[Tenant]) -> dict[str, Any]:
    tenants = tenants.order_by("slug").prefetch_related(
        "memberships__user", "connections__access_tokens__owner"
    )
    doc: list[dict[str, Any]] = []
    for tenant in tenants:
        members = sorted(tenant.memberships.all(), key=lambda m: (m.user.email or m.user.username).lower())
        connections = sorted(tenant.connections.all(), key=lambda c: c.name)
        doc.append(
            {
                "slug": tenant.slug,
                "name": tenant.name,
                "time_zone": tenant.time_zone,
                "active": tenant.active,
                "members": [
                    {
                        "email": m.user.email or m.user.username,
                        "role": m.role,
                        **({"name": m.user.get_full_name()} if m.user.get_full_name() else {}),
                    }
                    for m in members
                ],
                "connections": [_export_connection(c) for c in connections],
            }
        )
    return {"tenants": doc}


def _export_connection(conn: VendorConnection) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": conn.name,
        "vendor": conn.vendor,
        "enabled": conn.enabled,
        "interval_seconds": conn.interval_seconds,
        "time_zone": conn.time_zone,
        **{key: getattr(conn, key) for key in DAY_KEYS if getattr(conn, key) is not None},
        "realtime": _section(conn, REALTIME),
        "history": _section(conn, HISTORY),
        "options": dict(conn.options or {}),
        "state_map": dict(conn.state_map or {}),
    }
    tokens = sorted(conn.access_tokens.all(), key=lambda t: t.section)
    if tokens:
        out["tokens"] = [
            {
                "section": t.section,
                **({"service_login": t.service_login} if t.service_login else {}),
                **({"owner": t.owner.email or t.owner.username} if t.owner else {}),
                "issued": t.issued,
                "expires": t.expires,
            }
            for t in tokens
        ]
    return out


def export_text(tenants: QuerySet[Tenant]) -> str:
    body = yaml.safe_dump(export_data(tenants), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return HEADER + body
