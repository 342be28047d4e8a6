"""TCN's 15-minute call-volume file: the customer-chosen CSV layouts, parsed as a stream.

TCN sends whatever dashboard or report the customer picked (the export is not a fixed public
schema), so the columns come from a per-connection mapping in
`connection.options["file_layout"]` with two built-in layouts:

* `interval_summary`: one row per queue (hunt group) and 15-minute interval.
* `call_detail`: one row per call; calls are counted into the 15-minute interval their
  start time falls in.

Everything here is pure: bytes in, neutral records out. Memory is flat in the file size
(rows are read one by one by the csv module); local times are converted with zoneinfo once
per distinct 15-minute bucket, because per-row zone conversion is what a large file spends
its time on.

Daylight saving (the connection's zone, default America/Los_Angeles):
* a local time that does not exist (the spring-forward hour, 02:00-02:59) is refused with
  the line and value: no clock produces it, so guessing would invent data;
* a local time in the repeated fall-back hour (01:00-01:59) is ambiguous. TCN writes its
  files in time order, and that order settles it where it can: an interval-summary row
  repeating a queue's local interval start inside that hour is the second pass (standard
  time), and in a call-detail file whose times in that hour run 01:58, 01:59 and then 01:00
  again, the calls from the return on are the second pass (`RepeatedHour`). Where the order
  cannot tell (no return, or times out of order), such a time is taken as the *earlier*
  instant (the first pass, still on daylight time; Python's fold=0), and a note on the run
  says so. Files that carry an ISO 8601 offset are never ambiguous.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from integrations.vendors.errors import DataError
from integrations.vendors.grid import EARLIEST
from integrations.vendors.records import IntervalRecord

SUMMARY = "interval_summary"
CALL_DETAIL = "call_detail"
KINDS = (SUMMARY, CALL_DETAIL)

# Mapping keys (what Switchboard needs) -> the customer's header, per layout.
DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    SUMMARY: {
        "queue": "Hunt Group",
        "interval_start": "Interval Start",
        "entered": "Calls Offered",
        "abandoned": "Calls Abandoned",
        "handle_seconds": "Handle Time",
    },
    CALL_DETAIL: {
        "call_id": "Call ID",
        "queue": "Hunt Group",
        "start": "Start Time",
        "handle_seconds": "Handle Time",
        "result": "Result",
    },
}
REQUIRED_KEYS = {
    SUMMARY: ("queue", "interval_start", "entered", "abandoned", "handle_seconds"),
    CALL_DETAIL: ("call_id", "queue", "start", "handle_seconds"),
}
OPTIONAL_KEYS = {SUMMARY: ("interval_end",), CALL_DETAIL: ("result", "abandoned")}
# The result values that mean the caller hung up before an agent answered: the plain word, and
# TCN's default call result map (platform API guide, Appendix A) as code, short and long result:
# 2110 / ALA / "Answered Linkcall Abandoned". A connection's `abandoned_results` replaces them.
DEFAULT_ABANDONED_RESULTS = ("ABANDONED", "2110", "ALA", "Answered Linkcall Abandoned")
TRUE_FLAGS = frozenset({"1", "true", "yes", "y", "t", "x", "abandoned"})
FALSE_FLAGS = frozenset({"", "0", "false", "no", "n", "f"})
DEFAULT_TOTAL_LABELS = ("total", "totals", "grand total", "sum", "summary")

GRID = timedelta(minutes=15)
# Control characters (Unicode category Cc) other than tab, CR and LF: a NUL or an escape in a
# cell is corrupt input, on every database (SQLite would store a NUL, PostgreSQL cannot).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_NAMES = {"\x00": "NUL", "\x1a": "SUB", "\x1b": "ESC", "\x7f": "DEL"}
TIME_HINT = "expected yyyy/MM/dd HH:mm (connection's zone) or ISO 8601"


class LayoutError(ValueError):
    """The connection's file_layout option is wrong: a configuration error, not the file's fault."""


@dataclass(frozen=True)
class FileLayout:
    kind: str = CALL_DETAIL
    columns: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS[CALL_DETAIL]))
    abandoned_results: frozenset[str] = frozenset(r.casefold() for r in DEFAULT_ABANDONED_RESULTS)
    total_labels: frozenset[str] = frozenset(DEFAULT_TOTAL_LABELS)
    delimiter: str = ","

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> FileLayout:
        """Build the layout from `options["file_layout"]` (a kind name or an object)."""
        raw = options.get("file_layout", CALL_DETAIL)
        if isinstance(raw, str):
            raw = {"kind": raw}
        if not isinstance(raw, Mapping):
            raise LayoutError("file_layout must be a layout name or an object")
        unknown = set(raw) - {
            "kind",
            "columns",
            "abandoned_results",
            "total_labels",
            "delimiter",
            "interval_minutes",
        }
        if unknown:
            raise LayoutError(f"file_layout has unknown key(s) {sorted(unknown)}")
        kind = raw.get("kind", CALL_DETAIL)
        if kind not in KINDS:
            raise LayoutError(f"file_layout.kind must be one of {', '.join(KINDS)}, got {kind!r}")
        minutes = raw.get("interval_minutes", 15)
        if minutes != 15:
            raise LayoutError(
                f"file_layout.interval_minutes is {minutes!r}: Switchboard stores 15-minute intervals and "
                "will not split longer ones; have TCN send the report on a 15-minute grid"
            )
        given = raw.get("columns", {})
        if not isinstance(given, Mapping) or not all(isinstance(v, str) for v in given.values()):
            raise LayoutError("file_layout.columns must map keys to header names")
        allowed = set(REQUIRED_KEYS[kind]) | set(OPTIONAL_KEYS[kind])
        if set(given) - allowed:
            raise LayoutError(
                f"file_layout.columns has unknown key(s) {sorted(set(given) - allowed)} for {kind}; "
                f"use {', '.join(sorted(allowed))}"
            )
        columns = {**DEFAULT_COLUMNS[kind], **given}
        # An explicit abandoned flag column replaces the result codes.
        if kind == CALL_DETAIL and "abandoned" in given and "result" not in given:
            columns.pop("result", None)
        columns = {k: v for k, v in columns.items() if v}
        results = raw.get("abandoned_results", DEFAULT_ABANDONED_RESULTS)
        labels = raw.get("total_labels", DEFAULT_TOTAL_LABELS)
        delimiter = raw.get("delimiter", ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise LayoutError("file_layout.delimiter must be one character")
        return cls(
            kind=kind,
            columns=columns,
            abandoned_results=frozenset(str(r).strip().casefold() for r in results),
            total_labels=frozenset(str(label).strip().casefold() for label in labels),
            delimiter=delimiter,
        )


@dataclass(frozen=True, slots=True)
class CallFact:
    """One call of a call-detail file, already placed in its UTC 15-minute interval."""

    call_id: str
    queue: str
    interval_start: datetime
    handle_seconds: int
    abandoned: bool


@dataclass
class ParseStats:
    rows: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < 20:
            self.notes.append(text)


class LocalTimes:
    """Local or ISO timestamps to UTC 15-minute buckets, converting once per local bucket."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cache: dict[tuple[datetime, int], tuple[datetime, bool]] = {}
        # Raw text -> result: a day has at most 1440 distinct `yyyy/MM/dd HH:mm` values, so
        # most rows cost one dict lookup. Bounded, for files with per-second times.
        self._texts: dict[str, tuple[datetime, bool, bool]] = {}

    def bucket(self, text: str, *, fold: int = 0) -> tuple[datetime, bool, bool]:
        """(UTC bucket start, on the grid exactly, ambiguous local time). Raises ValueError."""
        if fold:
            return self._bucket(text, fold)
        hit = self._texts.get(text)
        if hit is None:
            if len(self._texts) > 100_000:
                self._texts.clear()
            hit = self._texts[text] = self._bucket(text, 0)
        return hit

    def _bucket(self, text: str, fold: int) -> tuple[datetime, bool, bool]:
        naive = _parse_naive(text)
        if naive is None:
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"not a time ({TIME_HINT})") from None
            if when.tzinfo is not None:
                utc = when.astimezone(UTC)
                start = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
                if start < EARLIEST:
                    raise ValueError(f"before {EARLIEST:%Y-%m-%d}, the earliest date Switchboard accepts")
                return start, start == utc, False
            naive = when
        local = naive.replace(minute=naive.minute - naive.minute % 15, second=0, microsecond=0)
        exact = local == naive
        key = (local, fold)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._convert(local, fold)
        if hit[0] < EARLIEST:
            raise ValueError(f"before {EARLIEST:%Y-%m-%d}, the earliest date Switchboard accepts")
        return hit[0], exact, hit[1]

    def _convert(self, local: datetime, fold: int) -> tuple[datetime, bool]:
        aware = local.replace(tzinfo=self.zone, fold=fold)
        utc = aware.astimezone(UTC)
        if utc.astimezone(self.zone).replace(tzinfo=None) != local:
            raise ValueError(
                f"a local time that does not exist in {self.zone.key} "
                "(clocks skip this hour when daylight saving starts)"
            )
        if utc.minute % 15:
            raise ValueError(f"in {self.zone.key}, whose offset is off the 15-minute UTC grid")
        ambiguous = aware.replace(fold=0).utcoffset() != aware.replace(fold=1).utcoffset()
        return utc, ambiguous


def _parse_naive(text: str) -> datetime | None:
    """TCN's `yyyy/MM/dd HH:mm[:ss]`, sliced by hand: strptime per row is the slow part."""
    if len(text) not in (16, 19) or text[4] != "/" or text[7] != "/" or text[13] != ":":
        return None
    if text[10] not in " T":
        return None
    parts = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16])
    second = "0"
    if len(text) == 19:
        if text[16] != ":":
            return None
        second = text[17:19]
    if not all(p.isdigit() for p in (*parts, second)):
        raise ValueError(f"not a time ({TIME_HINT})")
    try:
        return datetime(*(int(p) for p in parts), int(second))  # type: ignore[misc]
    except ValueError:
        raise ValueError(f"not a valid date/time ({TIME_HINT})") from None


# Digits, optionally grouped in thousands by commas ("1,234"); "1,5" is not a thousand-grouped
# number (it is a decimal comma), so it is refused rather than read as 15.
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
FRACTION = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d*)[.,]\d+")


def _digits(text: str) -> str | None:
    """The digits of a whole number written plainly or with thousands commas, else None."""
    return text.replace(",", "") if NUMBER.fullmatch(text) else None


def parse_count(text: str) -> int:
    """A non-negative whole number; blank is zero (dashboards print zero as blank).

    A fractional count ("2.5", "2,5") is refused, never rounded.
    """
    text = text.strip()
    if not text:
        return 0
    digits = _digits(text)
    if digits is None:
        if FRACTION.fullmatch(text):
            raise ValueError("a fractional count: counts are whole numbers and are not rounded")
        raise ValueError("not a non-negative whole number")
    return int(digits)


def parse_seconds(text: str) -> int:
    """Seconds as a number (decimals rounded) or as [H:]MM:SS; blank is zero."""
    if text.isdigit():  # the common case, first
        return int(text)
    text = text.strip()
    if not text:
        return 0
    if "," in text:
        # Thousands commas only: a decimal comma ("1,5") would otherwise read as 15.
        if not NUMBER.fullmatch(text):
            raise ValueError("not a duration in seconds or [H:]MM:SS (a comma only groups thousands)")
        text = text.replace(",", "")
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) > 3 or any(p < 0 for p in parts):
                raise ValueError
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + p
        else:
            seconds = float(text)
    except ValueError:
        raise ValueError("not a duration in seconds or [H:]MM:SS") from None
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError("not a non-negative duration")
    return round(seconds)


class _Lines:
    """The decoded text as lines, read in large chunks, each searched once for a control
    character: a search at C speed per 64 KiB instead of one per row. Rows are checked one
    by one (to name the line and column) only after a chunk with one was read.

    Each chunk is extended to the end of its last line, so the lines (and csv's line
    numbers) are those the text stream itself would give.
    """

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.dirty = False

    def __iter__(self) -> Iterator[str]:
        read, readline = self.text.read, self.text.readline
        while chunk := read(1 << 16):
            if chunk[-1] == "\r":
                chunk += read(1)  # a CR LF split between two chunks stays one line end
            if chunk[-1] not in "\r\n":
                chunk += readline()
            if not self.dirty and CONTROL.search(chunk):
                self.dirty = True
            yield from io.StringIO(chunk, newline="")


class _Rows:
    """csv rows with the header resolved to column indexes and footer rows set aside."""

    def __init__(self, stream: IO[bytes], layout: FileLayout, stats: ParseStats) -> None:
        self.layout = layout
        self.stats = stats
        # utf-8-sig drops a BOM; newline="" lets csv handle CRLF and newlines inside quotes.
        self.text = _Lines(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        # strict: a quote opened and never closed is an error at the end of the file, not one
        # cell swallowing every line after it (which read as "no data rows" and lost the calls).
        self.reader = csv.reader(self.text, delimiter=layout.delimiter, strict=True)
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    @property
    def line(self) -> int:
        return self.reader.line_num

    def header(self) -> bool:
        """Read the header; False for an empty file."""
        for row in self._raw():
            self.names = [c.strip() for c in row]
            names = [c.strip().casefold() for c in row]
            missing = []
            for key, header in self.layout.columns.items():
                try:
                    self.index[key] = names.index(header.strip().casefold())
                except ValueError:
                    missing.append(f"{header!r} ({key})")
            if missing:
                raise DataError(
                    f"line {self.line}: header lacks column(s) {', '.join(missing)} for the "
                    f"{self.layout.kind} layout; found {', '.join(repr(c.strip()) for c in row)}"
                )
            return True
        return False

    def _raw(self) -> Iterator[list[str]]:
        first = 1  # the line the next row starts on
        search = CONTROL.search
        text = self.text
        try:
            for row in self.reader:
                if text.dirty and search("".join(row)):
                    raise self.control_character(row, first)
                first = self.reader.line_num + 1
                if any(row) and (len(row) > 1 or row[0].strip()):
                    yield row
        except UnicodeDecodeError as exc:
            raise DataError(f"after line {self.line}: the file is not UTF-8 ({exc.reason})") from None
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise DataError(
                    f"line {first}: malformed CSV, a quoted field opened on this line is never closed "
                    f"(the file ends at line {self.line} inside it)"
                ) from None
            raise DataError(f"line {self.line}: malformed CSV ({exc})") from None

    def control_character(self, row: list[str], first: int) -> DataError:
        """Name the line, column and character of the first control character in `row`."""
        for number, cell in enumerate(row, 1):
            found = CONTROL.search(cell)
            if found is None:
                continue
            char = found.group()
            # The physical line: a quoted cell may span lines before the character.
            line = first + sum(c.count("\n") for c in row[: number - 1]) + cell[: found.start()].count("\n")
            name = CONTROL_NAMES.get(char, "a control character")
            header = self.names[number - 1] if number <= len(self.names) else ""
            where = f"column {number}" + (f" ({header!r})" if header else "")
            return DataError(
                f"line {line}, {where}: U+{ord(char):04X} ({name}) at character {found.start() + 1} of "
                "the cell; control characters other than tab, CR and LF are corrupt input",
                sample=repr(cell[:200]),
            )
        raise AssertionError("no control character in the row")  # pragma: no cover

    def rows(self, time_key: str) -> Iterator[dict[str, str]]:
        in_footer = False
        keys = tuple(self.index)
        indexes = tuple(self.index.values())
        width = max(indexes) + 1
        for row in self._raw():
            if len(row) < width:
                row = row + [""] * (width - len(row))
            cells = dict(zip(keys, [row[i].strip() for i in indexes], strict=True))
            if self.is_footer(cells, time_key):
                in_footer = True
                continue
            if in_footer:
                raise DataError(f"line {self.line}: data row after a totals/footer row")
            yield cells

    def is_footer(self, cells: dict[str, str], time_key: str) -> bool:
        total = self.is_total_label(cells["queue"])
        if total or not cells[time_key]:
            self.note_footer(total, time_key)
            return True
        return False

    def is_total_label(self, queue: str) -> bool:
        label = queue.casefold().rstrip(":")
        return label in self.layout.total_labels or label.startswith(("total ", "grand total"))

    def note_footer(self, total: bool, time_key: str) -> None:
        """Count a skipped totals/footer row and say why (the queue label, else no time)."""
        self.stats.skipped += 1
        if total:
            self.stats.note(f"skipped totals row at line {self.line}")
        else:
            self.stats.note(f"skipped footer row at line {self.line} (no {time_key} value)")

    def fail(self, key: str, value: str, problem: str) -> DataError:
        header = self.layout.columns[key]
        return DataError(f"line {self.line}, column {header!r}: {value!r} is {problem}")


def read_summary(
    stream: IO[bytes], layout: FileLayout, zone: ZoneInfo, stats: ParseStats
) -> list[IntervalRecord]:
    """An interval-summary file as interval records (rows of one queue and interval add up)."""
    rows = _Rows(stream, layout, stats)
    if not rows.header():
        return []
    times = LocalTimes(zone)
    totals: dict[tuple[str, datetime], list[int]] = {}
    # Local (queue, start) keys seen in the repeated fall-back hour: a repeat is the second pass.
    seen_ambiguous: set[tuple[str, str]] = set()
    distinct_local: set[datetime] = set()
    for cells in rows.rows("interval_start"):
        queue, text = cells["queue"], cells["interval_start"]
        try:
            start, exact, ambiguous = times.bucket(text)
            if ambiguous:
                if (queue, text) in seen_ambiguous:
                    start, exact, _ = times.bucket(text, fold=1)
                seen_ambiguous.add((queue, text))
        except ValueError as exc:
            raise rows.fail("interval_start", text, str(exc)) from None
        if not exact:
            raise rows.fail("interval_start", text, "not on the 15-minute grid (:00, :15, :30, :45)")
        if "interval_end" in cells:
            _check_end(rows, times, cells["interval_end"], start)
        values = []
        for key in ("entered", "abandoned", "handle_seconds"):
            try:
                values.append((parse_seconds if key == "handle_seconds" else parse_count)(cells[key]))
            except ValueError as exc:
                raise rows.fail(key, cells[key], str(exc)) from None
        if values[1] > values[0]:
            raise rows.fail("abandoned", cells["abandoned"], f"more than the {values[0]} calls offered")
        if not queue:
            raise rows.fail("queue", queue, "empty")
        if len(queue) > MAX_ID_LENGTH:
            raise rows.fail("queue", queue[:40] + "…", f"longer than {MAX_ID_LENGTH} characters")
        stats.rows += 1
        distinct_local.add(start)
        slot = totals.setdefault((queue, start), [0, 0, 0])
        for i, v in enumerate(values):
            slot[i] += v
    _refuse_coarse_grid(distinct_local, zone)
    return _records(totals)


def _check_end(rows: _Rows, times: LocalTimes, text: str, start: datetime) -> None:
    try:
        end, _, _ = times.bucket(text)
    except ValueError as exc:
        raise rows.fail("interval_end", text, str(exc)) from None
    if end - start != GRID:
        minutes = int((end - start).total_seconds() // 60)
        raise rows.fail(
            "interval_end",
            text,
            f"{minutes} minutes after the start: Switchboard stores 15-minute intervals and will not "
            "split longer ones",
        )


def _refuse_coarse_grid(starts: set[datetime], zone: ZoneInfo) -> None:
    """Refuse a summary that is evidently on a half-hour or hour grid instead of guessing.

    A regular drop holds one interval, so this only judges files with several: four or
    more distinct starts, none of them at :15 or :45 local time.
    """
    if len(starts) < 4:
        return
    minutes = {s.astimezone(zone).minute for s in starts}
    if minutes <= {0, 30}:
        grid = "hour" if minutes == {0} else "half-hour"
        raise DataError(
            f"interval starts are all on the {grid} grid ({len(starts)} intervals, none at :15 or :45): "
            "Switchboard stores 15-minute intervals and will not guess how to split longer ones"
        )


# Queue labels and call ids are stored in 200-character columns; a longer one is refused
# here so that every database judges the file alike (SQLite would store it whole).
MAX_ID_LENGTH = 200

# One call's handle time above this is a corrupt cell, not a call (and would overflow the
# ledger's 64-bit column long before any real total could).
MAX_CALL_SECONDS = 7 * 24 * 3600

CallRow = tuple[str, str, datetime, int, bool]
"""(call id, queue, UTC interval start, handle seconds, abandoned): a CallFact's fields."""


def read_calls(
    stream: IO[bytes], layout: FileLayout, zone: ZoneInfo, stats: ParseStats
) -> Iterator[CallFact]:
    """A call-detail file, one call at a time (a generator: memory stays flat)."""
    for row in read_call_rows(stream, layout, zone, stats):
        yield CallFact(*row)


def read_call_rows(
    stream: IO[bytes], layout: FileLayout, zone: ZoneInfo, stats: ParseStats
) -> Iterator[CallRow]:
    """`read_calls` as plain tuples, for bulk storage (the same rows, checks and errors).

    The hot loop of a large file: cells are taken by index (no dict per row), and every
    value that repeats (queue labels, start times, result codes, flags) is judged once
    per distinct text and then looked up.
    """
    rows = _Rows(stream, layout, stats)
    if not rows.header():
        return
    times = LocalTimes(zone)
    texts = times._texts
    index = rows.index
    i_id, i_queue, i_start, i_handle = (index[k] for k in ("call_id", "queue", "start", "handle_seconds"))
    i_flag = index.get("abandoned")
    i_result = index.get("result")
    width = max(index.values()) + 1
    results = layout.abandoned_results
    verdicts: dict[str, bool] = {}  # result code or flag text -> abandoned
    footers: dict[str, bool] = {}  # queue label -> is a totals row
    in_footer = False
    hour = RepeatedHour(times)
    count = 0
    try:
        for row in rows._raw():
            if len(row) < width:
                row = row + [""] * (width - len(row))
            queue = row[i_queue].strip()
            text = row[i_start].strip()
            footer = footers.get(queue)
            if footer is None:
                if len(queue) > MAX_ID_LENGTH:
                    raise rows.fail("queue", queue[:40] + "…", f"longer than {MAX_ID_LENGTH} characters")
                footer = footers[queue] = rows.is_total_label(queue)
            if footer or not text:
                rows.note_footer(footer, "start")
                in_footer = True
                continue
            if in_footer:
                raise DataError(f"line {rows.line}: data row after a totals/footer row")
            hit = texts.get(text)
            if hit is None:
                try:
                    hit = times.bucket(text)
                except ValueError as exc:
                    raise rows.fail("start", text, str(exc)) from None
            handle_text = row[i_handle].strip()
            if handle_text.isdigit():
                handle = int(handle_text)
            else:
                try:
                    handle = parse_seconds(handle_text)
                except ValueError as exc:
                    raise rows.fail("handle_seconds", handle_text, str(exc)) from None
            if handle > MAX_CALL_SECONDS:
                raise rows.fail("handle_seconds", handle_text, "implausibly long for one call (over 7 days)")
            if i_flag is not None:
                value = row[i_flag].strip()
                abandoned = verdicts.get(value)
                if abandoned is None:
                    folded = value.casefold()
                    if folded not in TRUE_FLAGS and folded not in FALSE_FLAGS:
                        raise rows.fail("abandoned", value, "not a yes/no flag")
                    abandoned = verdicts[value] = folded in TRUE_FLAGS
            elif i_result is not None:
                value = row[i_result].strip()
                abandoned = verdicts.get(value)
                if abandoned is None:
                    abandoned = verdicts[value] = value.casefold() in results
            else:
                abandoned = "" in results  # no result column: as an empty result code
            call_id = row[i_id].strip()
            if not call_id:
                raise rows.fail("call_id", "", "empty")
            if len(call_id) > MAX_ID_LENGTH:
                raise rows.fail("call_id", call_id[:40] + "…", f"longer than {MAX_ID_LENGTH} characters")
            if not queue:
                raise rows.fail("queue", "", "empty")
            count += 1
            if hit[2] or hour.held:
                yield from hour.take((call_id, queue, hit[0], handle, abandoned), text, hit)
            else:
                yield call_id, queue, hit[0], handle, abandoned
        yield from hour.flush()
    finally:
        # Counted as we go, published once (also when the caller stops early or a row fails).
        stats.rows += count
    hour.note(stats, zone)


class RepeatedHour:
    """Which pass of the repeated fall-back hour each call of a call-detail file is in.

    From the first row in the repeated hour, rows are held (in file order; memory is that
    hour's rows) until one lies after the hour, or the file ends. If the held times of the
    hour then go back exactly once (01:58, 01:59, 01:00, ...), the file crossed the hour and
    the rows from the step on are its second pass (fold=1). With no step the rows could be
    either pass, and with more than one the file is not in time order: then every held row
    keeps the first pass (fold=0), as `note` says on the run.
    """

    __slots__ = ("disordered", "first", "held", "last", "second", "times", "unresolved")

    def __init__(self, times: LocalTimes) -> None:
        self.times = times
        # (row, its time text when in the repeated hour, else None)
        self.held: list[tuple[CallRow, str | None]] = []
        # The second-pass instant of the first held row: every row before the end of the
        # repeated hour has an earlier first-pass bucket, every row after it a later one.
        self.last: datetime | None = None
        self.first = self.second = self.unresolved = self.disordered = 0

    def take(self, row: CallRow, text: str, hit: tuple[datetime, bool, bool]) -> list[CallRow]:
        """Rows ready to be yielded, in file order, after this one."""
        out: list[CallRow] = []
        if self.held and self.last is not None and hit[0] > self.last:
            out = self.flush()
        if not hit[2]:
            if self.held:
                self.held.append((row, None))
            else:
                out.append(row)
            return out
        if not self.held:
            self.last = self.times.bucket(text, fold=1)[0]
        self.held.append((row, text))
        return out

    def flush(self) -> list[CallRow]:
        held, self.held = self.held, []
        # Per distinct time text, as in the main loop: a busy hour repeats each minute often.
        local_of: dict[str, datetime] = {}
        ambiguous: list[tuple[int, datetime]] = []
        for i, (_, text) in enumerate(held):
            if text is not None:
                when = local_of.get(text)
                if when is None:
                    when = local_of[text] = _local(text)
                ambiguous.append((i, when))
        steps = [ambiguous[k][0] for k in range(1, len(ambiguous)) if ambiguous[k][1] < ambiguous[k - 1][1]]
        if len(steps) != 1:
            self.unresolved += len(ambiguous)
            if len(steps) > 1:
                self.disordered += len(ambiguous)
            return [row for row, _ in held]
        out: list[CallRow] = []
        second_pass: dict[str, datetime] = {}
        for i, (row, text) in enumerate(held):
            if text is not None and i >= steps[0]:
                start = second_pass.get(text)
                if start is None:
                    start = second_pass[text] = self.times.bucket(text, fold=1)[0]
                row = (row[0], row[1], start, row[3], row[4])
                self.second += 1
            elif text is not None:
                self.first += 1
            out.append(row)
        return out

    def note(self, stats: ParseStats, zone: ZoneInfo) -> None:
        if self.first or self.second:
            stats.note(
                f"{self.first + self.second} call(s) in the repeated fall-back hour of {zone.key} were "
                f"placed by the file's time order: {self.first} in its first pass (daylight time), "
                f"{self.second} in its second (standard time)"
            )
        if self.unresolved:
            if self.disordered:
                why = "the file's times there are not in time order"
            else:
                why = "the file's times there never return to the hour's start, so they do not show the pass"
            stats.note(
                f"{self.unresolved} call(s) in the repeated fall-back hour were placed in its first pass "
                f"(daylight time) of {zone.key}: {why}"
            )


def _local(text: str) -> datetime:
    """The local wall-clock time of a time text `LocalTimes` has already accepted."""
    return _parse_naive(text) or datetime.fromisoformat(text)


def aggregate_calls(calls: Iterable[CallFact]) -> list[IntervalRecord]:
    """Count calls into intervals, each call id (per queue) once."""
    seen: set[tuple[str, str]] = set()
    totals: dict[tuple[str, datetime], list[int]] = {}
    for call in calls:
        if (call.queue, call.call_id) in seen:
            continue
        seen.add((call.queue, call.call_id))
        slot = totals.setdefault((call.queue, call.interval_start), [0, 0, 0])
        slot[0] += 1
        slot[1] += call.abandoned
        slot[2] += call.handle_seconds
    return _records(totals)


def _records(totals: dict[tuple[str, datetime], list[int]]) -> list[IntervalRecord]:
    return [
        IntervalRecord(
            queue_vendor_id=q, interval_start=s, entered=e, abandoned=a, handle_seconds=h, queue_name=q
        )
        for (q, s), (e, a, h) in sorted(totals.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


def parse_file(
    stream: IO[bytes], layout: FileLayout, zone: ZoneInfo, stats: ParseStats | None = None
) -> list[IntervalRecord]:
    """Any layout to interval records (the pure entry point; ingestion also keeps call ids)."""
    stats = stats if stats is not None else ParseStats()
    if layout.kind == SUMMARY:
        return read_summary(stream, layout, zone, stats)
    return aggregate_calls(read_calls(stream, layout, zone, stats))
