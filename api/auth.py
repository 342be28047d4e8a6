"""`Authorization: Bearer <key>`, the key's scopes, and throttling per key."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from api.conf import app_settings
from api.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: expected `Bearer <key>`.")
        key = ApiKey.find(parts[1].decode("latin-1"))
        if key is None:
            # One answer for unknown, malformed and revoked keys: nothing to learn by probing.
            raise AuthenticationFailed("Invalid or revoked API key.")
        key.touch()
        # A key acts for its tenant, not for a person: the request has no user.
        return None, key

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="switchboard"'


class HasScope(BasePermission):
    """The key must hold the view's `required_scope` (any scope of `any_scope` views)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        scopes = getattr(view, "required_scopes", ())
        if any(key.allows(scope) for scope in scopes):
            return True
        self.message = f"This key does not hold the scope {' or '.join(scopes)}."
        return False


class ApiKeyThrottle(SimpleRateThrottle):
    """Requests per key in a sliding window; over it, 429 with Retry-After (DRF's Throttled)."""

    scope = "api_key"

    def get_rate(self) -> str:
        return app_settings.THROTTLE_RATE

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
