"""Where a file-drop connection's folder is, and the rules that keep it that connection's own.

Layout: `DROP_ROOT/<tenant-slug>/<connection-name>/`, derived from the tenant and the
connection, so a tenant manager never types a path. An account manager (superuser) may
give a connection an explicit path instead; it then obeys the same rules as a derived one:

* it lies strictly inside its tenant's folder `DROP_ROOT/<tenant-slug>/` (checked on the
  path with `..` collapsed, so `acme/../bolt/tcn` is bolt's, not acme's);
* it is a real folder: neither it nor a folder on the way to it (below DROP_ROOT) is a
  symbolic link, so it cannot resolve anywhere but where it says;
* it is not the same as, inside, or around another connection's folder.

The rules are checked when a connection is saved and again, on the real filesystem, at
every scan and every FTP login: a folder swapped for a link after saving is refused then.
Messages name only paths relative to DROP_ROOT and never another connection, because run
records are read by the tenant's partners.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from pathlib import Path

from django.conf import settings


def drop_root() -> Path:
    """DROP_ROOT: every drop folder must lie under it (default `<VAR_DIR>/drops`).

    A Django setting, with the environment variable of the same name as the fallback.
    """
    default = Path(getattr(settings, "VAR_DIR", Path.cwd() / "var")) / "drops"
    value = getattr(settings, "DROP_ROOT", None) or os.environ.get("DROP_ROOT") or str(default)
    return Path(str(value)).expanduser().resolve()


class DropFolderError(ValueError):
    """A drop folder breaks one of the rules above; the message says which."""


OVERLAP = (
    "the drop folder {folder} is the same as, inside, or around another connection's drop folder; "
    "each connection's folder must be its own"
)


def derived(tenant_slug: str, connection_name: str) -> str:
    """The folder of a connection without an explicit path, relative to DROP_ROOT.

    Both parts are safe path segments by their validators (no `/`, never `.` or `..`).
    """
    return f"{tenant_slug}/{connection_name}"


def locate(tenant_slug: str, connection_name: str, explicit: str = "", root: Path | None = None) -> Path:
    """The real path of a connection's folder, checked against its own rules (not overlap)."""
    root = root or drop_root()
    value = explicit or derived(tenant_slug, connection_name)
    shown = f"{value!r}" if explicit else f"DROP_ROOT/{value}/"
    lexical = Path(os.path.normpath(root / Path(value).expanduser()))
    home = root / tenant_slug
    if home not in lexical.parents:
        raise DropFolderError(
            f"The drop folder must lie inside this tenant's folder DROP_ROOT/{tenant_slug}/; "
            f"{shown} does not."
        )
    real = lexical.resolve()
    if real != lexical:
        raise DropFolderError(
            f"The drop folder {shown} is a symbolic link or lies below one; it must be a real folder."
        )
    return real


def relative(path: Path, root: Path | None = None) -> str:
    root = root or drop_root()
    try:
        return f"DROP_ROOT/{path.relative_to(root)}/"
    except ValueError:
        return str(path)


def overlapping(folders: Mapping[Hashable, Path]) -> set[Hashable]:
    """Keys whose folder is the same as, inside or around another key's folder.

    Sorted with a trailing `/`, the folders inside P are exactly the run of entries right
    after P that start with `P/`: one pass instead of comparing every pair. Compared
    case-folded, so two folders a case-insensitive filesystem would merge count as one.
    """
    keyed = sorted(
        ((str(path).casefold().rstrip("/") + "/", key) for key, path in folders.items()),
        key=lambda item: item[0],
    )
    found: set[Hashable] = set()
    for i, (prefix, key) in enumerate(keyed):
        j = i + 1
        while j < len(keyed) and keyed[j][0].startswith(prefix):
            found.update((key, keyed[j][1]))
            j += 1
    return found
