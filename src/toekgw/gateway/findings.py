"""Rendering findings as the error list an operator works through: text, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence

from toekgw.formats.findings import Finding, Severity, mask_cpr, mask_cpr_in_text

__all__ = [
    "FORMATS",
    "Finding",
    "Severity",
    "mask_cpr",
    "mask_cpr_in_text",
    "render",
    "summary",
]

FORMATS = ("text", "json", "csv")

CSV_COLUMNS = (
    "file",
    "line",
    "columns",
    "field",
    "code",
    "severity",
    "message",
    "expected",
    "found",
    "path",
)


def render_text(findings: Sequence[Finding]) -> str:
    out = []
    for f in findings:
        detail = []
        if f.expected is not None:
            detail.append(f"expected {f.expected}")
        if f.found is not None:
            detail.append(f"found {f.found!r}")
        tail = f" ({'; '.join(detail)})" if detail else ""
        out.append(f"{f.where()}: {f.severity.value} [{f.code}] {f.message}{tail}")
    return "\n".join(out) + ("\n" if out else "")


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2) + "\n"


def render_csv(findings: Sequence[Finding]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in findings:
        writer.writerow({k: ("" if v is None else v) for k, v in f.as_dict().items()})
    return buf.getvalue()


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "text":
        return render_text(findings)
    if fmt == "json":
        return render_json(findings)
    if fmt == "csv":
        return render_csv(findings)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def summary(findings: Iterable[Finding]) -> dict[str, Counter[str]]:
    """Counts per severity and per code: the error list's summary."""
    by_severity: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    for f in findings:
        by_severity[f.severity.value] += 1
        by_code[f.code] += 1
    return {"severity": by_severity, "code": by_code}
