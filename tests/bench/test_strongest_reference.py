"""A benchmark with several references is compared with the fastest of those that do the same work."""

from __future__ import annotations

from bench.harness import REFERENCE, SWITCHBOARD, Measurement, Reference
from bench.run import summarise

REFERENCES = [
    Reference(REFERENCE, "does less work", compared=False),
    Reference(f"{REFERENCE}:a", "fair, slower"),
    Reference(f"{REFERENCE}:b", "fair, faster"),
]


def runs(side: str, *seconds: float) -> list[Measurement]:
    return [Measurement("x", side, 100, s, 3, 2048, 1024) for s in seconds]


def test_switchboard_is_compared_with_the_fastest_compared_reference_by_median():
    ms = [
        *runs(SWITCHBOARD, 2.0, 2.2, 9.0),
        *runs(REFERENCE, 0.1, 0.1, 0.1),
        *runs(f"{REFERENCE}:a", 1.5, 1.6, 1.7),
        *runs(f"{REFERENCE}:b", 0.9, 1.0, 5.0),
    ]
    row = summarise(100, ms, REFERENCES)
    assert row["ref_side"] == f"{REFERENCE}:b"
    assert row["ref_seconds"] == 1.0
    assert row["ratio"] == 2.2 / 1.0
    assert row["refs"][REFERENCE]["seconds"] == 0.1  # shown, never the one compared
    assert row["refs"][f"{REFERENCE}:a"]["seconds"] == 1.6


def test_a_reference_not_measured_leaves_the_others_to_compare_with():
    ms = [*runs(SWITCHBOARD, 2.0), *runs(f"{REFERENCE}:a", 4.0)]
    row = summarise(100, ms, REFERENCES)
    assert row["ref_side"] == f"{REFERENCE}:a"
    assert row["ratio"] == 0.5
    assert row["refs"][f"{REFERENCE}:b"]["seconds"] is None


def test_a_benchmark_with_one_reference_keeps_its_figures():
    row = summarise(100, [*runs(SWITCHBOARD, 3.0), *runs(REFERENCE, 1.0)])
    assert (row["ref_side"], row["ref_seconds"], row["ratio"]) == (REFERENCE, 1.0, 3.0)
