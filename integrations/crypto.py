"""Fernet encryption of credentials at rest, with key rotation (MultiFernet).

FIELD_ENCRYPTION_KEYS lists keys newest first: the first encrypts, all decrypt, and
`manage.py rotate_encryption_keys` re-encrypts every value with the first.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        # Never echo the key itself.
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _reset(**kwargs: object) -> None:
    _fernet.cache_clear()


setting_changed.connect(_reset)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "a stored credential cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was a key removed before rotate_encryption_keys ran?)"
        ) from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class SecretDict(dict[str, str]):
    """A dict of secrets whose repr never shows a value (logs, tracebacks, shells)."""

    def __repr__(self) -> str:
        return f"SecretDict(keys={sorted(self)!r})"

    __str__ = __repr__


# To mypy the field is set from a dict of strings and reads as a SecretDict (a plain TextField
# would be typed str); Django's field classes take no type parameters at run time.
if TYPE_CHECKING:
    _SecretTextField = models.TextField[dict[str, str], SecretDict]
else:
    _SecretTextField = models.TextField


class EncryptedJSONField(_SecretTextField):
    """A dict of strings stored as one Fernet token. Not searchable, by design."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> SecretDict:
        if not value:
            return SecretDict()
        return SecretDict(json.loads(decrypt(value)))

    def to_python(self, value: object) -> SecretDict:
        if isinstance(value, dict):
            return SecretDict(value)
        if not value:
            return SecretDict()
        return SecretDict(json.loads(decrypt(str(value))))

    def get_prep_value(self, value: object) -> str:
        if not value:
            value = {}
        if not isinstance(value, dict):
            raise TypeError("EncryptedJSONField holds a dict")
        return encrypt(json.dumps(value, sort_keys=True))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata) gets ciphertext, never plaintext.
        return self.get_prep_value(self.value_from_object(obj))
