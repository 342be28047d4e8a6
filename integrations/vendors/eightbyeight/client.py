"""HTTP for 8x8's legacy real-time (rtstats) and Statistics Reporting APIs.

Both authenticate with HTTP Basic: the tenant name and the data request token [DOC].
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urljoin

from integrations.vendors.errors import AuthError, DataError
from integrations.vendors.http import DEFAULT_TIMEOUT, HttpClient

AGENTS_PATH = "rtstats/stats/agents.json"
QUEUES_PATH = "rtstats/stats/queues.json"
INTERACTIONS_PATH = "stats/queues/{queue_id}/interactions.json"
# `n` is a 1-based record offset; the API serves pages of up to this many records [INF].
PAGE_SIZE = 50


class EightByEightClient(HttpClient):
    vendor_label = "8x8"

    def __init__(
        self, base_url: str, tenant: str, token: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__(timeout)
        if not base_url:
            raise DataError("8x8: the connection has no base URL")
        if not tenant or not token:
            raise AuthError("8x8: the connection has no tenant name or no token")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.session.auth = (tenant, token)
        self.session.headers["Accept"] = "application/json"
        self.secrets.append(token)

    def get_json(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        # The token is in `secrets`, so every answer an error quotes is scrubbed of it.
        response = self.request("GET", urljoin(self.base_url, path), params=params)
        return self.json(response, f"8x8 {path}")

    def agents(self) -> Any:
        return self.get_json(AGENTS_PATH)

    def queues(self) -> Any:
        return self.get_json(QUEUES_PATH)

    def interactions(self, queue_id: str, first: date, last: date, offset: int) -> Any:
        return self.get_json(
            INTERACTIONS_PATH.format(queue_id=quote(queue_id, safe="")),
            {"d": f"{first:%Y%m%d},{last:%Y%m%d}", "n": offset},
        )
