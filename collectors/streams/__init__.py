"""The stream registry: an explicit dict from stream key to its declaration, imported lazily.

Adding a neutral stream is one module under this folder (its `Stream` declaration and the
hook that collects a run), one line here with its key (a constant in
`integrations.vendors.base`), and the adapter method that fetches it in each vendor that
supplies it (vendors list the stream keys they supply in `Vendor.streams`); docs/streams.md
walks through it. Nothing is found by importing modules for their side effects.

`settings.COLLECT_EXTRA_STREAMS` (a dict of the same shape) adds streams to these, read at
use: the test suite registers a test-only stream with it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from integrations.vendors.base import STREAM_AGENT_STATES, STREAM_CONFIG, STREAM_FILE_DROP, STREAM_VOLUME

if TYPE_CHECKING:
    from collectors.streams.base import Stream

STREAMS: dict[str, str] = {
    STREAM_VOLUME: "collectors.streams.intervals.STREAM",
    STREAM_AGENT_STATES: "collectors.streams.agent_states.STREAM",
    STREAM_CONFIG: "collectors.streams.config.STREAM",
    STREAM_FILE_DROP: "collectors.streams.file_drop.STREAM",
}


def registered() -> dict[str, str]:
    """Every stream key with the dotted path of its declaration, in registry order."""
    from django.conf import settings

    extra = getattr(settings, "COLLECT_EXTRA_STREAMS", None)
    return {**STREAMS, **extra} if extra else STREAMS


@cache
def _load(path: str) -> Stream:
    from django.utils.module_loading import import_string

    return import_string(path)


def find_stream(key: str) -> Stream | None:
    """The declaration of `key`, or None for a key no module declares."""
    path = registered().get(key)
    return _load(path) if path is not None else None


def get_stream(key: str) -> Stream:
    stream = find_stream(key)
    if stream is None:
        raise KeyError(f"unknown stream {key!r}")
    return stream


def all_streams() -> list[Stream]:
    return [_load(path) for path in registered().values()]


def stream_choices() -> list[tuple[str, str]]:
    """(key, label) of every registered stream: the `stream` fields' choices, read at use, so
    a new stream needs no migration."""
    return [(s.key, s.label) for s in all_streams()]


def dispatched_streams() -> tuple[str, ...]:
    """Keys of the streams the dispatcher runs (the others are fed by a transport)."""
    return tuple(s.key for s in all_streams() if s.dispatched)


def gap_streams() -> tuple[str, ...]:
    """Keys of the streams that fill the 15-minute grid (gaps are counted from their runs)."""
    return tuple(s.key for s in all_streams() if s.gaps)


def queues() -> tuple[str, ...]:
    """The Celery queues of the built-in streams, each once (the site's worker queues).

    Only the built-in registry: the Celery app reads this while Django is still loading,
    before settings may be read.
    """
    names = (_load(path).queue for path in STREAMS.values())
    return tuple(dict.fromkeys(name for name in names if name))


def stream_by_name(name: str) -> Stream | None:
    """The stream a person named on the command line: its key (`agent_states`) or its
    command-line name (`agent-states`); None for a name no stream has."""
    for stream in all_streams():
        if name in (stream.key, stream.command_name):
            return stream
    return None
