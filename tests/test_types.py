"""mypy (as `make typecheck` runs it) catches a wrong record type passed to a writer.

Two snippets differ only in what they hand `collectors.writers.upsert_intervals`: a poll's
StateSnapshot, which mypy must report, and a list of IntervalRecord, which must pass. Both
runs share one incremental cache in a temporary folder, so the second reuses the first's
analysis of the project and the stubs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = Path(__file__).resolve().parent / "type_snippets"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(snippet: str, cache_dir: Path) -> tuple[str, int]:
    """Check one snippet with the project's configuration; return (report, exit status)."""
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache_dir),
            "--no-error-summary",
            "--hide-error-context",
            str(SNIPPETS / snippet),
        ]
    )
    return stdout + stderr, status


def test_a_state_snapshot_passed_to_the_interval_writer_is_a_type_error(cache_dir: Path) -> None:
    report, status = mypy("states_to_interval_writer.py", cache_dir)

    assert status == 1, report
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert len(errors) == 1, report
    assert "states_to_interval_writer.py:17: error:" in errors[0]
    assert 'Argument 2 to "upsert_intervals" has incompatible type "StateSnapshot"' in errors[0]
    assert '"Iterable[IntervalRecord]"' in errors[0]
    assert errors[0].endswith("[arg-type]")


def test_interval_records_passed_to_the_interval_writer_pass_the_check(cache_dir: Path) -> None:
    report, status = mypy("intervals_to_interval_writer.py", cache_dir)

    assert status == 0, report
    assert report.strip() == "", report
