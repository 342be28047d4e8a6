"""The few HTTP shapes the vendor modules deal in, free of `http.server` details."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # below the vendor prefix, without the query string, e.g. "/api/rtstats/..."
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    now: datetime
    host: str  # "127.0.0.1:8765", as the client addressed us
    form: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.header("Authorization").partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_json(self) -> bool:
        return self.content_type.startswith("application/json")


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode())


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type)


def not_found(path: str) -> Response:
    return json_response({"error": "Not Found", "path": path}, 404)
