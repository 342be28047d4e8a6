"""Connections kept per worker process between runs, until they change.

A poll every 10 s read its connection and tenant and decrypted its credentials every time
(the Fernet decryption of both credential sections alone was a tenth of a poll's CPU). A
worker keeps each connection it ran, keyed by its id, with the connection's `updated`
stamp as read by the statement that starts the run (`collectors.runs.start_leased` returns
it at no extra cost). A connection saved since (credentials, base URL, state map, interval:
every `save()` moves `updated`) no longer matches and is read again, so a run never uses a
stale value; a connection deleted is simply never asked for again.

The cached instance is shared by the runs of one connection in a thread-pool worker: runs
only read it. The cache is bounded: past `MAX_CONNECTIONS` it is emptied and refills.
"""

from __future__ import annotations

import threading

from integrations.models import VendorConnection

MAX_CONNECTIONS = 5000

_lock = threading.Lock()
_connections: dict[int, tuple[object, VendorConnection]] = {}


def connection_for(pk: int, stamp: object) -> VendorConnection:
    """The connection `pk` as of `stamp` (its `updated` value as the database returned it)."""
    cached = _connections.get(pk)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    connection = VendorConnection.objects.select_related("tenant").get(pk=pk)
    # Decrypt now, once: the instance then serves every run until the connection changes.
    connection.secret_values()
    with _lock:
        if len(_connections) >= MAX_CONNECTIONS:
            _connections.clear()
        _connections[pk] = (stamp, connection)
    return connection


def forget() -> None:
    """Empty the cache (tests; a worker never needs to)."""
    with _lock:
        _connections.clear()
