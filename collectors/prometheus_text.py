"""The Prometheus text format (0.0.4) of metric families, written here rather than by
`prometheus_client.generate_latest`, which validates and escapes every label name of every
sample again: at 20,000 connections (over a million samples) that was most of a scrape's time.

The label names are the module's own constants, so only label values are escaped, and each
sample's label set is formatted once per sample. The output is byte for byte the client's
(`tests/collectors/test_metrics_scale.py` compares them).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric
from prometheus_client.utils import floatToGoString

# Families whose name gains a suffix in the text format, and types it names otherwise.
SUFFIX = {"counter": "_total"}
TYPE_NAME = {"unknown": "untyped"}


def _value(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_value(v)}"' for k, v in sorted(labels.items())) + "}"


def render(families: Iterable[Metric]) -> bytes:
    """Gauges, counters (without `_created` samples) and histograms, as Prometheus reads them."""
    out: list[str] = []
    for family in families:
        if family.type not in ("gauge", "counter", "histogram", "unknown"):
            raise ValueError(f"metric type {family.type!r} of {family.name} is not written here")
        name = family.name + SUFFIX.get(family.type, "")
        help_text = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {help_text}\n# TYPE {name} {TYPE_NAME.get(family.type, family.type)}\n")
        for sample in family.samples:
            if sample.name == family.name + "_created" or sample.timestamp is not None:
                raise ValueError(f"{sample.name}: created samples and timestamps are not written here")
            out.append(f"{sample.name}{_labels(sample.labels)} {floatToGoString(sample.value)}\n")
    return "".join(out).encode()
