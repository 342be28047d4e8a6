"""Every Markdown document the project's code, templates, process files and docs name is in
the repository, so a reader who follows a comment's reference finds the page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not the project: the virtualenv, runtime state, caches and build output.
SKIPPED_DIRS = {".venv", "var", ".git", "node_modules", "build", "dist", "__pycache__", ".ruff_cache"}
SKIPPED_DIRS |= {".pytest_cache", ".mypy_cache"}
# The tests name files they write themselves (a benchmark's RESULTS.md in a temporary folder).
SKIPPED_TOP = {"tests"}
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".md"}
SOURCE_NAMES = {"Makefile", "Procfile", "Procfile.production"}

# A path ending in .md that does not continue a URL (after "//" or a host) or a longer word.
MD_PATH = re.compile(r"(?<![\w/.:@-])((?:\.\.?/|[\w-][\w.-]*/)*[\w-][\w.-]*\.md)\b")


def source_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED_TOP:
            continue
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES):
            found.append(path)
    return found


def cited_documents(path: Path) -> set[str]:
    return set(MD_PATH.findall(path.read_text(encoding="utf-8", errors="replace")))


def resolves(citing: Path, cited: str) -> bool:
    """A citation is relative to the citing file's folder (Markdown links) or to the
    repository's root (comments name `docs/x.md`, `bench/RESULTS.md`)."""
    return any(
        (base / cited).resolve().is_file() and (base / cited).resolve().is_relative_to(ROOT)
        for base in (citing.parent, ROOT)
    )


def test_the_scan_sees_the_code_and_the_docs() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in source_files()}
    assert {"README.md", "Makefile", "Procfile", "wfm_site/settings.py", "docs/operating.md"} <= names
    assert not any(name.startswith((".venv/", "tests/")) for name in names)


def test_the_pattern_finds_paths_and_leaves_urls_alone() -> None:
    text = "see docs/api.md, [x](../retention.md#a) and https://example.com/a/README.md or x@y.md"
    assert MD_PATH.findall(text) == ["docs/api.md", "../retention.md"]


def test_every_cited_document_is_in_the_repository() -> None:
    missing = sorted(
        f"{path.relative_to(ROOT)} cites {cited}"
        for path in source_files()
        for cited in cited_documents(path)
        if not resolves(path, cited)
    )
    assert missing == []
