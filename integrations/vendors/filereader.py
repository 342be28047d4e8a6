"""What a vendor that drops files implements: a reader from a file's bytes to neutral records.

The file transport (`collectors.drops`, the FTP receiver) knows folders, the ledger of files
taken, quarantine and the call ledger; it knows no file format. It asks the connection's
vendor for a `FileReader` (`Vendor.file_reader_path`) and hands it each file as a binary
stream. A file is either call by call (each call kept once in the call ledger, the intervals
it touches recomputed from every stored call, so overlapping files count a call once) or
interval totals (upserted as they are); the reader says which for the connection.

A bad file raises `errors.DataError` naming the line, column and value; options that cannot
describe any file raise `FileConfigError` when the reader is built, before a file is touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from integrations.vendors.base import ConnectionSettings
    from integrations.vendors.records import IntervalRecord

# One call: (call id, queue vendor id, UTC start of its 15-minute interval, handle seconds,
# abandoned), the column order of the call ledger's bulk load.
CallRow = tuple[str, str, datetime, int, bool]


class FileConfigError(ValueError):
    """The connection's options do not describe its files: a configuration error, not the file's."""


@dataclass
class ReadStats:
    """What reading one file counted and noticed (notes end up on the file's run)."""

    rows: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < 20:
            self.notes.append(text)


class FileReader:
    """Reads the files of one connection; built from its settings (options, time zone)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    @property
    def has_calls(self) -> bool:
        """True when the files list calls (`read_calls`), False for interval totals."""
        raise NotImplementedError

    def new_stats(self) -> ReadStats:
        return ReadStats()

    def read_calls(self, stream: IO[bytes], stats: ReadStats) -> Iterator[CallRow]:
        """The file's calls, one at a time (memory stays flat in the file's size)."""
        raise NotImplementedError

    def read_intervals(self, stream: IO[bytes], stats: ReadStats) -> list[IntervalRecord]:
        raise NotImplementedError
