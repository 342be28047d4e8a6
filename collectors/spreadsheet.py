"""CSV cells a spreadsheet shows as text, for every CSV Switchboard writes (export, the API)."""

from __future__ import annotations

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): a queue or agent name typed in the vendor's console must not become
# `=HYPERLINK(...)` on the WFM analyst's machine.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a text value starting with a formula
    trigger gets a leading single quote (the csv writer quotes and escapes the rest).

    Only text is touched. Counts are integers written as numbers and are never negative
    here, so a leading `-` only ever starts text (a name, an id, a state label), which is
    neutralised like `=`: `-2+3` in a name stays the text `'-2+3`. Empty cells stay empty.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
