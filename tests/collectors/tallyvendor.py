"""Tally, a vendor of the test suite that delivers interval totals, or calls, only as files.

Lines `queue,2025-01-15T09:00Z,entered,abandoned,handle` (totals) or, with the option
`"tally_calls": true`, `call id,queue,2025-01-15T09:00Z,handle,abandoned` (calls). Nothing of
it is in the file-drop transport: the transport finds it through `supplies` and asks it for
its reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from integrations.vendors.base import FILE, STREAM_VOLUME, ConnectionSettings, Field, Vendor
from integrations.vendors.errors import DataError
from integrations.vendors.filereader import CallRow, FileConfigError, FileReader, ReadStats
from integrations.vendors.records import IntervalRecord

REGISTRY = {"tally": "tests.collectors.tallyvendor.Tally"}


class Tally(Vendor):
    key = "tally"
    label = "Tally"
    history_fields = (
        Field("drop_folder", "Path to files", required=False, staff_only=True),
        Field("ftp_username", "FTP login", required=False),
        Field("ftp_password", "FTP password", secret=True, required=False),
    )
    default_interval_seconds = 900
    supplies = {STREAM_VOLUME: FILE}
    file_reader_path = "tests.collectors.tallyvendor.TallyReader"


class TallyReader(FileReader):
    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        if settings.options.get("tally_broken"):
            raise FileConfigError("the option tally_broken is set")

    @property
    def has_calls(self) -> bool:
        return bool(self.settings.options.get("tally_calls"))

    def _lines(self, stream: IO[bytes], stats: ReadStats, width: int) -> Iterator[tuple[int, list[str]]]:
        for n, raw in enumerate(stream.read().decode().splitlines(), start=1):
            cells = raw.split(",")
            if len(cells) != width:
                raise DataError(f"line {n}: {len(cells)} cells where {width} were expected")
            stats.rows += 1
            yield n, cells

    def read_intervals(self, stream: IO[bytes], stats: ReadStats) -> list[IntervalRecord]:
        return [
            IntervalRecord(
                queue, datetime.fromisoformat(start), int(entered), int(abandoned), int(handle), queue
            )
            for _n, (queue, start, entered, abandoned, handle) in self._lines(stream, stats, 5)
        ]

    def read_calls(self, stream: IO[bytes], stats: ReadStats) -> Iterator[CallRow]:
        for _n, (call_id, queue, start, handle, abandoned) in self._lines(stream, stats, 5):
            yield call_id, queue, datetime.fromisoformat(start), int(handle), abandoned == "1"
