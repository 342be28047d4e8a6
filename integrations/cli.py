"""The management commands' `--json` convention, shared by every command that has the option.

Success is one JSON document on stdout. Under `--json` an error is a JSON object on stderr,
`{"error": "...", "code": N}`, with the exit status the plain command would have (2 for bad
arguments): never a usage text or a `CommandError:` line a script would have to parse.
A connection is its key (`tenant-slug/connection-name`); a time is ISO 8601 in UTC ending in `Z`.
docs/operating.md describes the convention for people.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.db import connections


def iso_z(value: datetime | None) -> str | None:
    """A time as ISO 8601 in UTC ending in `Z` (None stays None)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def dumps(doc: object, indent: int | None = 2) -> str:
    """`doc` as JSON, with datetimes as UTC `Z` times and dates as ISO dates."""
    return json.dumps(doc, indent=indent, default=_default)


def error_doc(message: str, code: int) -> str:
    return json.dumps({"error": message, "code": code})


class JsonCommand(BaseCommand):
    """A command whose `--json` also covers its errors (bad arguments included)."""

    def run_from_argv(self, argv: list[str]) -> None:
        if "--json" not in argv[2:]:
            super().run_from_argv(argv)
            return
        # argparse prints a usage text and exits 2; under --json the same failure is one object.
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured):
                options = parser.parse_args(argv[2:])
        except SystemExit as exc:
            if exc.code in (0, None):
                raise
            lines = [line for line in captured.getvalue().splitlines() if line.strip()]
            message = lines[-1].split(": error: ", 1)[-1] if lines else "bad arguments"
            code = exc.code if isinstance(exc.code, int) else 2
            sys.stderr.write(error_doc(message, code) + "\n")
            sys.exit(code)
        # What BaseCommand.run_from_argv does, with the error written as JSON.
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        handle_default_options(options)
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            sys.stderr.write(error_doc(str(exc), exc.returncode) + "\n")
            sys.exit(exc.returncode)
        finally:
            connections.close_all()

    def write_json(self, doc: Any) -> None:
        self.stdout.write(dumps(doc))
