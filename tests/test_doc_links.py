"""The README's and the guides' relative links lead somewhere: the file exists, and an
anchor names a heading of the page it points at (as GitHub spells heading anchors)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# [text](target) and ![alt](target); a title after the target ("…") is allowed.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose(path: Path) -> str:
    """The text outside fenced code blocks (a code sample is not a link)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(prose(path)):
        slug = anchor(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: are not checked
    ]


def broken(path: Path, target: str) -> str | None:
    file_part, _, fragment = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    if not linked.is_relative_to(ROOT):
        return "points outside the repository"
    if not linked.exists():
        return "no such file"
    if fragment and linked.suffix == ".md" and fragment not in anchors(linked):
        return f"no heading #{fragment}"
    return None


def test_anchors_are_spelled_as_github_spells_them() -> None:
    assert anchor("The `file_layout` option (TCN, 8x8)") == "the-file_layout-option-tcn-8x8"
    assert anchor("How to add a vendor") == "how-to-add-a-vendor"


def test_links_inside_code_blocks_are_not_links() -> None:
    assert FENCE.sub("", "a\n```md\n[x](nowhere.md)\n```\nb") == "a\n\nb"


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    problems = sorted(
        f"{path.relative_to(ROOT)}: ({target}) {reason}"
        for path in documents()
        for target in relative_links(path)
        if (reason := broken(path, target))
    )
    assert problems == []


def test_the_readme_links_into_every_guide() -> None:
    readme = {target.partition("#")[0] for target in relative_links(ROOT / "README.md")}
    guides = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert guides <= readme


def test_the_readme_stays_a_short_start() -> None:
    # The reference lives in docs/; the README says what Switchboard is and where to go next.
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
