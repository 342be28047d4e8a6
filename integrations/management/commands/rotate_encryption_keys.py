"""Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this, then drop the old keys.
All encrypted columns of all models are rotated in one transaction, read and written in
batches so memory stays flat however many connections there are.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from integrations.cli import JsonCommand, dumps
from integrations.crypto import EncryptedJSONField, rotate

BATCH = 500


def encrypted_columns() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedJSONField)]
        if names:
            found.append((model, names))
    return found


def rotate_model(model: type[models.Model], names: list[str], batch: int = BATCH) -> int:
    """Rotate one model's encrypted columns; returns the number of rows rewritten."""
    # Read the ciphertext as plain text (Cast skips the field's decrypting from_db_value),
    # and write it back as a plain value, so each token is rotated, not decrypted and re-made.
    raw = {f"raw_{n}": Cast(n, output_field=models.TextField()) for n in names}
    rows, last_pk = 0, None
    while True:
        qs = model._default_manager.order_by("pk").annotate(**raw)
        if last_pk is not None:
            qs = qs.filter(pk__gt=last_pk)
        chunk = list(qs.values_list("pk", *raw)[:batch])
        if not chunk:
            return rows
        for pk, *tokens in chunk:
            new = {
                name: models.Value(rotate(token), output_field=models.TextField())
                for name, token in zip(names, tokens, strict=True)
                if token
            }
            if new:
                model._default_manager.filter(pk=pk).update(**new)
                rows += 1
        last_pk = chunk[-1][0]


class Command(JsonCommand):
    help = "Re-encrypt every stored credential with the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH, help="rows per batch (default 500)")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=2)
        counts: dict[str, int] = {}
        # One transaction: either every value is under the new key or none is.
        try:
            with transaction.atomic():
                for model, names in encrypted_columns():
                    counts[model._meta.label] = rotate_model(model, names, options["batch_size"])
        except InvalidToken:
            raise CommandError(
                "a stored value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS "
                "(keep the old keys after the new one while rotating); nothing was changed",
                returncode=1,
            ) from None
        if options["json"]:
            self.stdout.write(dumps({"rotated": counts, "total": sum(counts.values())}, indent=None))
        else:
            for label, n in counts.items():
                self.stdout.write(f"{label}: {n} row(s) re-encrypted")
