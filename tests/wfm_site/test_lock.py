"""The locks agree with the direct dependencies they were compiled from (`make lock`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line.strip()):
            found[normal(match[1])] = match[2]
    return found


@pytest.mark.parametrize(
    ("direct", "lock"),
    [
        (["requirements.txt"], "requirements.lock"),
        (["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock"),
    ],
)
def test_every_direct_dependency_is_locked_at_its_pinned_version(direct, lock):
    locked = pins(ROOT / lock)
    wanted = {name: version for path in direct for name, version in pins(ROOT / path).items()}
    stale = {
        name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version
    }
    assert stale == {}, f"{lock} is stale (wanted, locked): run `make lock`"


def test_every_locked_line_carries_hashes():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert len(pins(ROOT / lock)) > 30
        for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2]):
            assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"


def test_honcho_is_a_development_tool_only():
    assert "honcho" not in pins(ROOT / "requirements.lock")
    assert "honcho" in pins(ROOT / "requirements-dev.lock")
