from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from integrations.cli import JsonCommand, dumps
from wfm_site.services import broker_error, create_database_if_missing, database_error


class Command(JsonCommand):
    help = "Check that the configured database and broker answer (used by `make test` under CI)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if create_database_if_missing():
            self.stderr.write(f"created database {settings.DATABASES['default']['NAME']}")
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        result = {
            "database": {"engine": engine, "error": database_error()},
            "broker": {"transport": broker, "error": broker_error()},
        }
        if options["json"]:
            self.stdout.write(dumps(result, indent=None))
        failed = [
            f"{name} ({v.get('engine') or v.get('transport')}): {v['error']}"
            for name, v in result.items()
            if v["error"]
        ]
        if failed:
            raise CommandError("unreachable: " + "; ".join(failed))
        if not options["json"]:
            self.stdout.write(f"database {engine} and broker {broker} reachable")
