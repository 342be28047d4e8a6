"""The file-drop transport: find complete files, ingest each once, atomically, then file it away.

Vendor-neutral: a vendor that delivers intervals by file (`Vendor.supplies`) names a file
reader (`integrations.vendors.filereader`), and this module asks the connection's vendor for
it; it knows folders, the ledger of files, quarantine and the call ledger, no file format.

A scan (the `scan_drops` beat tick, every 60 s) looks at the top level of the drop folder of
each connection whose vendor drops files. A file is taken when it is complete: the same size and mtime as
at the previous scan, or at first sight when the previous scan saw it under a temporary
name (`X.tmp`, `X.part`, `.X`), which is how uploaders signal a finished file. Then:

* the content hash is looked up in the ledger (`DropFile`, unique per connection): the
  same content under another name is a no-op;
* the rows, the ledger entry and the `CollectionRun` are written in one transaction;
* the file moves to `processed/<YYYY-MM-DD>/` (UTC date of ingestion), or, when it is bad,
  to `quarantine/` with `<name>.reason` beside it. A bad file writes no rows, fails its
  run with the line, column and value, and never stops the files after it.

Files that list calls go through the call ledger (`collectors.call_ledger`): each call is
stored once and the intervals a file touches are recomputed from every stored call, so
overlapping files count a call once and ingestion order does not matter. Files of interval
totals are upserted as they are.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db import connection as db
from django.utils import timezone

from collectors.call_ledger import store_calls, window_of
from collectors.models import CollectionRun, CollectionSchedule, DropFile, DropPending
from collectors.runs import record_outcome, storable
from collectors.writers import Merged, upsert_intervals
from integrations.drop_folders import DropFolderError
from integrations.models import VendorConnection
from integrations.scrub import scrub
from integrations.vendors import vendors_supplying
from integrations.vendors.base import STREAM_FILE_DROP
from integrations.vendors.errors import DataError
from integrations.vendors.filereader import FileConfigError, FileReader

log = logging.getLogger(__name__)


def _driver_errors() -> tuple[type[BaseException], ...]:
    # Django wraps the driver's errors raised through its cursor; psycopg's COPY is used
    # directly (call_ledger.store_calls), so its errors arrive unwrapped.
    return (DatabaseError, db.Database.Error)  # type: ignore[attr-defined]  # the backend's DB-API module


PROCESSED = "processed"
QUARANTINE = "quarantine"
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".upload")
HASH_CHUNK = 1 << 20

INGESTED = "ingested"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"
FAILED = "failed"  # not the file's fault (configuration); the file stays for the next scan


@dataclass
class IngestResult:
    name: str
    status: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    reason: str = ""
    run_id: int | None = None
    moved_to: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.name,
            "status": self.status,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "reason": self.reason,
            "run": self.run_id,
            "moved_to": self.moved_to,
            "notes": self.notes,
        }


class DropConfigError(Exception):
    """The connection's drop folder or file options are wrong; nothing is ingested until fixed."""


def file_reader(connection: VendorConnection) -> FileReader:
    """The connection's vendor's reader of its files (FileConfigError when its options are wrong)."""
    return connection.vendor_class.file_reader(connection.connection_settings())


# --- folders -----------------------------------------------------------------------------


def drop_folder(
    connection: VendorConnection, folders: dict[int, Path | DropFolderError] | None = None
) -> Path:
    """The connection's own folder, checked on the filesystem as it is now.

    `folders` is `VendorConnection.objects.drop_folders()`, computed once per scan of all
    connections. A folder that became a link, lies outside its tenant's folder or overlaps
    another connection's is a configuration error: nothing in it is read.
    """
    found = (VendorConnection.objects.drop_folders() if folders is None else folders).get(connection.pk)
    if found is None:
        raise DropConfigError(f"{connection.key}: not a file-drop connection")
    if isinstance(found, DropFolderError):
        raise DropConfigError(f"{connection.key}: {found}")
    return found


def is_temporary(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES)


def final_name(temp: str) -> str:
    """The name a temporary upload will be renamed to ("X.tmp" -> "X", ".X" -> "X")."""
    lower = temp.lower()
    for suffix in TEMP_SUFFIXES:
        if lower.endswith(suffix):
            return temp[: -len(suffix)]
    return temp.lstrip(".")


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    os.replace(path, target)
    return target


def file_away(path: Path, root: Path, result: IngestResult, now: datetime) -> None:
    """Move a taken file out of the drop folder (after its transaction committed)."""
    try:
        if result.status == QUARANTINED:
            target = _move(path, root / QUARANTINE)
            target.with_name(target.name + ".reason").write_text(result.reason + "\n", encoding="utf-8")
        else:
            target = _move(path, root / PROCESSED / now.astimezone(UTC).strftime("%Y-%m-%d"))
    except FileNotFoundError:
        # Another scan filed it away first; the ledger made its ingestion a no-op.
        return
    result.moved_to = str(target)


# --- ingestion ---------------------------------------------------------------------------


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# Told how many more bytes of the file were read (a progress bar's `update`).
Progress = Callable[[int], object]


class _CountedReads(io.RawIOBase):
    """A file's bytes as read, each chunk told to `progress`: the parser streams, so bytes
    read are the honest measure of how far ingestion got."""

    def __init__(self, raw: io.FileIO, progress: Progress) -> None:
        self.raw, self.progress = raw, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase's buffer type
        n = self.raw.readinto(buffer) or 0
        if n:
            self.progress(n)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_counted(path: Path, progress: Progress | None) -> io.BufferedReader:
    """`path` opened for reading, its reads reported to `progress` when given."""
    if progress is None:
        return path.open("rb")
    return io.BufferedReader(_CountedReads(io.FileIO(path, "rb"), progress), HASH_CHUNK)


def ingest_path(
    connection: VendorConnection,
    path: Path,
    *,
    move: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest one file through the ledger, in one transaction, and file it away when `move`.

    `progress`, when given, is told each chunk of bytes the parser reads (`ingest_file`'s bar).
    Raises DropConfigError (before touching anything) when the connection's file options
    are wrong.
    """
    now = now or timezone.now()
    try:
        reader = file_reader(connection)
    except FileConfigError as exc:
        raise DropConfigError(f"{connection.key}: {exc}") from None
    name = path.name
    sha, size = sha256_of(path)
    result = IngestResult(name=name, status=INGESTED)
    secrets = connection.secret_values()
    schedule = CollectionSchedule.objects.filter(connection=connection, stream=STREAM_FILE_DROP).first()

    try:
        with transaction.atomic():
            # One file of a connection at a time: recomputing intervals from stored calls
            # must see every call committed before it.
            VendorConnection.objects.select_for_update().filter(pk=connection.pk).first()
            previous = DropFile.objects.filter(connection=connection, sha256=sha).first()
            if previous is not None and previous.status == DropFile.INGESTED:
                result.status = DUPLICATE
                result.notes.append(
                    f"same content as {previous.name}, ingested {previous.received_at:%Y-%m-%dT%H:%M:%SZ}; "
                    "nothing written"
                )
                run = _run(connection, name, now, CollectionRun.OK, notes=result.notes)
            else:
                run = _ingest(connection, path, name, sha, size, reader, now, result, previous, progress)
            result.run_id = run.pk
            if schedule is not None:
                record_outcome(schedule, run, now)
    except Exception as exc:
        if not isinstance(exc, _driver_errors()):
            raise
        # The whole transaction is rolled back: no call, interval, ledger or run row remains.
        if (
            isinstance(exc, IntegrityError)
            and DropFile.objects.filter(connection=connection, sha256=sha, status=DropFile.INGESTED).exists()
        ):
            # A concurrent scan ingested the same content first.
            result.status = DUPLICATE
            result.notes = ["ingested by a concurrent scan; nothing written"]
        else:
            _database_failure(connection, schedule, name, sha, size, now, result, exc)
    if result.status in (QUARANTINED, FAILED):
        log.warning("drop %s: %s %s: %s", connection.key, name, result.status, scrub(result.reason, secrets))
    else:
        log.info("drop %s: %s %s (%s rows)", connection.key, name, result.status, result.rows)
    if move and result.status != FAILED:
        file_away(path, path.parent, result, now)
    return result


def _ingest(
    connection: VendorConnection,
    path: Path,
    name: str,
    sha: str,
    size: int,
    reader: FileReader,
    now: datetime,
    result: IngestResult,
    previous: DropFile | None,
    progress: Progress | None = None,
) -> CollectionRun:
    stats = reader.new_stats()
    try:
        with transaction.atomic():
            ledger = previous or DropFile(connection=connection, sha256=sha)
            ledger.name, ledger.size, ledger.received_at = name, size, now
            if reader.has_calls:
                # The ledger row first, so each new call is written with its file at once
                # (completed below; a bad file rolls it back with the calls).
                ledger.status, ledger.rows, ledger.reason, ledger.run = DropFile.INGESTED, 0, "", None
                ledger.save()
            with open_counted(path, progress) as stream:
                if reader.has_calls:
                    merged = store_calls(connection, ledger, reader.read_calls(stream, stats), now)
                else:
                    records = reader.read_intervals(stream, stats)
                    merged = Merged(*upsert_intervals(connection, records, now), window_of(records))
            result.created, result.updated = merged.created, merged.updated
            result.rows = stats.rows
            result.notes = list(stats.notes)
            if stats.rows == 0:
                result.notes.append("no data rows: the drop is alive")
            run = _run(
                connection,
                name,
                now,
                CollectionRun.OK,
                notes=result.notes,
                created=result.created,
                updated=result.updated,
                window=merged.window,
            )
            ledger.status, ledger.rows, ledger.reason, ledger.run = DropFile.INGESTED, stats.rows, "", run
            ledger.save()
            return run
    except DataError as exc:
        # The savepoint is gone: no interval, call or ledger row of this file remains.
        result.status = QUARANTINED
        result.rows = result.created = result.updated = 0
        result.reason = storable(scrub(f"{name}: {exc}", connection.secret_values()))
        run = _run(
            connection,
            name,
            now,
            CollectionRun.FAILED,
            error=result.reason,
            sample=exc.sample,
            notes=list(stats.notes),
        )
        ledger = previous or DropFile(connection=connection, sha256=sha)
        ledger.name, ledger.size, ledger.received_at = name, size, now
        ledger.status, ledger.rows, ledger.reason, ledger.run = DropFile.QUARANTINED, 0, result.reason, run
        ledger.save()
        return run


def _database_failure(
    connection: VendorConnection,
    schedule: CollectionSchedule | None,
    name: str,
    sha: str,
    size: int,
    now: datetime,
    result: IngestResult,
    exc: BaseException,
) -> None:
    """Record a file the database refused, after its transaction was rolled back.

    A refusal caused by the content (a value the column cannot hold, a constraint it
    breaks) quarantines the file with the database's reason. A failure of the database
    itself (connection lost, lock timeout, deadlock: OperationalError) is not the file's
    fault: the file stays in the folder for the next scan, and the run says why.
    """
    # db.Database: the backend's DB-API module (Django's stubs do not declare it).
    operational = isinstance(exc, OperationalError | db.Database.OperationalError | InterfaceError)  # type: ignore[attr-defined]
    kind = type(exc).__name__
    detail = storable(" ".join(str(exc).split()))[:500] or kind
    result.rows = result.created = result.updated = 0
    result.notes = []
    if operational:
        result.status = FAILED
        result.reason = scrub(
            f"{name}: the database failed ({kind}: {detail}); the file stays for the next scan",
            connection.secret_values(),
        )
    else:
        result.status = QUARANTINED
        result.reason = scrub(
            f"{name}: the database refused the file ({kind}: {detail})", connection.secret_values()
        )
    with transaction.atomic():
        run = _run(connection, name, now, CollectionRun.FAILED, error=result.reason)
        run.error_class = kind[:100]
        run.save(update_fields=["error_class"])
        if not operational:
            DropFile.objects.update_or_create(
                connection=connection,
                sha256=sha,
                defaults={
                    "name": name,
                    "size": size,
                    "received_at": now,
                    "status": DropFile.QUARANTINED,
                    "rows": 0,
                    "reason": result.reason,
                    "run": run,
                },
            )
        if schedule is not None:
            record_outcome(schedule, run, now)
    result.run_id = run.pk


def _run(
    connection: VendorConnection,
    name: str,
    now: datetime,
    status: str,
    *,
    notes: list[str] | None = None,
    error: str = "",
    sample: str = "",
    created: int = 0,
    updated: int = 0,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> CollectionRun:
    secrets = connection.secret_values()
    return CollectionRun.objects.create(
        connection=connection,
        stream=STREAM_FILE_DROP,
        source=name[:300],
        started_at=now,
        finished_at=timezone.now(),
        status=status,
        rows_created=created,
        rows_updated=updated,
        window_start=window[0],
        window_end=window[1],
        error_class="DataError" if error else "",
        error_message=storable(error)[:2000],
        payload_sample=storable(scrub(sample, secrets))[:2000],
        notes=storable(scrub("\n".join(notes or []), secrets))[:5000],
    )


# --- scanning ----------------------------------------------------------------------------


def complete_files(connection: VendorConnection, folder: Path) -> list[Path]:
    """Files of the folder's top level that are complete, oldest first; remembers the rest."""
    entries: dict[str, os.stat_result] = {}
    with os.scandir(folder) as it:
        for entry in it:
            if entry.is_file(follow_symlinks=False):
                entries[entry.name] = entry.stat(follow_symlinks=False)
    pending = {p.name: p for p in DropPending.objects.filter(connection=connection)}
    ready: list[Path] = []
    now = timezone.now()
    for name, st in entries.items():
        before = pending.get(name)
        if not is_temporary(name):
            renamed = any(
                t in pending and t not in entries for t in (*(name + s for s in TEMP_SUFFIXES), "." + name)
            )
            if renamed or (before and before.size == st.st_size and before.mtime_ns == st.st_mtime_ns):
                ready.append(folder / name)
                continue
        if before is None:
            # ignore_conflicts: a concurrent scan may record the same name first.
            DropPending.objects.bulk_create(
                [
                    DropPending(
                        connection=connection,
                        name=name,
                        size=st.st_size,
                        mtime_ns=st.st_mtime_ns,
                        first_seen=now,
                    )
                ],
                ignore_conflicts=True,
            )
        elif (before.size, before.mtime_ns) != (st.st_size, st.st_mtime_ns):
            DropPending.objects.filter(pk=before.pk).update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    taken = {p.name for p in ready}
    gone = [n for n in pending if n not in entries or n in taken]
    # A temporary name that vanished was renamed (recognised above) or abandoned.
    DropPending.objects.filter(connection=connection, name__in=gone).delete()
    ready.sort(key=lambda p: (entries[p.name].st_mtime_ns, p.name))
    return ready


def mark_complete(connection: VendorConnection, path: Path) -> None:
    """Record a file an uploader finished (the FTP receiver), so the next scan takes it."""
    st = path.stat()
    DropPending.objects.update_or_create(
        connection=connection,
        name=path.name,
        defaults={"size": st.st_size, "mtime_ns": st.st_mtime_ns, "first_seen": timezone.now()},
    )


def scan_connection(
    connection: VendorConnection,
    now: datetime | None = None,
    folders: dict[int, Path | DropFolderError] | None = None,
) -> list[IngestResult]:
    """One scan of one connection's drop folder: ingest every complete file."""
    try:
        folder = drop_folder(connection, folders)
        folder.mkdir(parents=True, exist_ok=True)
        # mkdir follows a link planted since the check; look again before reading anything.
        if folder.resolve() != folder:
            raise DropConfigError(f"{connection.key}: the drop folder became a symbolic link; refused")
        file_reader(connection)
    except (DropConfigError, FileConfigError, OSError) as exc:
        _config_failure(connection, str(exc), now or timezone.now())
        return []
    results = []
    for path in complete_files(connection, folder):
        try:
            results.append(ingest_path(connection, path, now=now))
        except DropConfigError as exc:
            _config_failure(connection, str(exc), now or timezone.now())
            break
        except OSError as exc:
            log.warning("drop %s: %s not ingested: %s", connection.key, path.name, exc)
        except Exception:
            # A bug, or a database that failed even to record the failure: the file stays for
            # the next scan, and the files after it are still tried.
            log.error(
                "drop %s: %s not ingested:\n%s",
                connection.key,
                path.name,
                scrub(traceback.format_exc(), connection.secret_values()),
            )
    return results


def _config_failure(connection: VendorConnection, message: str, now: datetime) -> None:
    """Show a configuration problem once on a run (not every minute) and on the schedule."""
    schedule = CollectionSchedule.objects.filter(connection=connection, stream=STREAM_FILE_DROP).first()
    message = scrub(message, connection.secret_values())
    if schedule is not None and schedule.last_error == f"DropConfigError: {message}":
        return
    run = _run(connection, "", now, CollectionRun.FAILED, error=message)
    run.error_class = "DropConfigError"
    run.save(update_fields=["error_class"])
    if schedule is not None:
        record_outcome(schedule, run, now)
    log.warning("drop %s: %s", connection.key, message)


def scan_all(now: datetime | None = None) -> list[IngestResult]:
    """The beat tick: the drop folder of every enabled connection whose vendor drops files."""
    results: list[IngestResult] = []
    connections = VendorConnection.objects.filter(
        vendor__in=vendors_supplying(STREAM_FILE_DROP), enabled=True, tenant__active=True
    )
    folders = VendorConnection.objects.drop_folders()
    for connection in connections.select_related("tenant"):
        try:
            results.extend(scan_connection(connection, now, folders))
        except Exception:
            # One connection's failure (its folder unreadable, its database rows locked) never
            # keeps the other tenants' folders from being scanned.
            log.error(
                "drop %s: scan failed:\n%s",
                connection.key,
                scrub(traceback.format_exc(), connection.secret_values()),
            )
    return results
