"""TCN's files for the file transport: the connection's `file_layout` picks the parser in `files`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, cast

from integrations.vendors.base import ConnectionSettings
from integrations.vendors.filereader import CallRow, FileConfigError, FileReader, ReadStats
from integrations.vendors.records import IntervalRecord
from integrations.vendors.tcn.files import (
    CALL_DETAIL,
    FileLayout,
    LayoutError,
    ParseStats,
    read_call_rows,
    read_summary,
)


class TCNFileReader(FileReader):
    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        try:
            self.layout = FileLayout.from_options(settings.options)
        except LayoutError as exc:
            raise FileConfigError(str(exc)) from None

    @property
    def has_calls(self) -> bool:
        return self.layout.kind == CALL_DETAIL

    def new_stats(self) -> ReadStats:
        # ParseStats has the same rows and notes (and counts skipped rows besides).
        return cast(ReadStats, ParseStats())

    def read_calls(self, stream: IO[bytes], stats: ReadStats) -> Iterator[CallRow]:
        return read_call_rows(stream, self.layout, self.settings.zone, cast(ParseStats, stats))

    def read_intervals(self, stream: IO[bytes], stats: ReadStats) -> list[IntervalRecord]:
        return read_summary(stream, self.layout, self.settings.zone, cast(ParseStats, stats))
