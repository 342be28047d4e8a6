"""HTTP for Nextiva Contact Center / Thrio.

Login is `GET {login base}/provider/token-with-authorities` with HTTP Basic; it answers a
token and the tenant's cluster (`location`), where every further call goes [CODE]. Working
clients send the token raw in `Authorization`, the harvested OpenAPI says `Bearer` [CODE vs
PROTO]: we try raw first, then Bearer once, and remember what worked.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from integrations.vendors.errors import AuthError, DataError
from integrations.vendors.http import DEFAULT_TIMEOUT, HttpClient

LOGIN_PATH = "provider/token-with-authorities"
CONFIG_PATH = "/data/api/types/{kind}"
RAW, BEARER = "raw", "bearer"


@dataclass
class _Login:
    token: str
    location: str  # scheme://host[:port][/path], no trailing slash


# Per process: a token per connection login until it fails, and which Authorization form
# the connection's cluster accepts. Keys hold a digest of the password, never the password.
_lock = threading.Lock()
_logins: dict[str, _Login] = {}
_schemes: dict[str, str] = {}


def forget_all() -> None:
    """Drop every cached token and scheme (tests, and after a credential change)."""
    with _lock:
        _logins.clear()
        _schemes.clear()


class NCCClient(HttpClient):
    def __init__(
        self,
        connection_key: str,
        login_base: str,
        login: str,
        password: str,
        label: str = "Nextiva",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(timeout)
        self.vendor_label = label
        if not login_base:
            raise DataError(f"{label}: the connection has no login base URL")
        if not login or not password:
            raise AuthError(f"{label}: the connection has no login name or no password")
        self.login_base = login_base.rstrip("/") + "/"
        self._credentials = (login, password)
        digest = hashlib.sha256(f"{login}\0{password}".encode()).hexdigest()[:16]
        self._cache_key = f"{connection_key}|{self.login_base}|{digest}"
        self._scheme_key = f"{connection_key}|{self.login_base}"
        self.secrets.append(password)
        # "Log in again on 401, at most once per run": a client lives for one run.
        self._relogged = False
        self.session.headers["Accept"] = "application/json"

    # --- login -------------------------------------------------------------------------
    def _login(self) -> _Login:
        url = self.login_base + LOGIN_PATH
        label = f"{self.vendor_label} login"
        response = self.send("GET", url, auth=self._credentials)
        self.raise_for_status(response, label)
        body = self._parse(response, label)
        if not isinstance(body, dict):
            raise DataError(f"{label}: expected a JSON object, got {type(body).__name__}")
        token, location = body.get("token"), body.get("location")
        if not isinstance(token, str) or not token.strip():
            raise DataError(f"{label}: the answer has no 'token'")
        self.secrets.append(token)
        if not isinstance(location, str) or not location.strip():
            raise DataError(f"{label}: the answer has no 'location'")
        login = _Login(token.strip(), self._location(location.strip(), label))
        with _lock:
            _logins[self._cache_key] = login
        return login

    def _location(self, location: str, label: str) -> str:
        """A full URL or a bare host (then https) [CODE]."""
        if "://" not in location:
            location = "https://" + location
        parts = urlsplit(location)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DataError(f"{label}: 'location' {location[:80]!r} is not a URL or host name")
        if parts.scheme == "http" and urlsplit(self.login_base).scheme == "https":
            # Never send the token in clear text because an answer said so.
            raise DataError(f"{label}: 'location' downgrades to plain http ({parts.hostname})")
        return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")

    def _current(self) -> tuple[_Login, bool]:
        """The cached login, or a new one; and whether it is new."""
        with _lock:
            cached = _logins.get(self._cache_key)
        if cached is None:
            return self._login(), True
        self.secrets.append(cached.token)
        return cached, False

    def _forget(self, login: _Login) -> None:
        with _lock:
            if _logins.get(self._cache_key) is login:
                del _logins[self._cache_key]

    # --- calls -------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` on the cluster, handling the token's form and one re-login on 401."""
        label = f"{self.vendor_label} GET {path}"
        login, fresh = self._current()
        while True:
            with _lock:
                known = _schemes.get(self._scheme_key)
            if not known:
                order = [RAW, BEARER]
            elif fresh:
                order = [known, BEARER if known == RAW else RAW]
            else:
                # The remembered form refused with a token that used to work: it expired.
                order = [known]
            for scheme in order:
                response = self.send(
                    "GET",
                    login.location + path,
                    params=params,
                    headers={"Authorization": login.token if scheme == RAW else f"Bearer {login.token}"},
                )
                if response.status_code != 401:
                    self.raise_for_status(response, label)
                    if known != scheme:
                        with _lock:
                            _schemes[self._scheme_key] = scheme
                    return self._parse(response, label)
            self._forget(login)
            if self._relogged:
                raise AuthError(f"{label}: token refused (HTTP 401) after logging in again")
            self._relogged = True
            login, fresh = self._login(), True

    def config_page(self, kind: str, start: int, rows: int) -> Any:
        return self.get_json(CONFIG_PATH.format(kind=kind), {"start": start, "rows": rows})

    def _parse(self, response: requests.Response, label: str) -> Any:
        # The password and tokens are in `secrets`: an answer an error quotes is scrubbed of them.
        return self.json(response, label)
