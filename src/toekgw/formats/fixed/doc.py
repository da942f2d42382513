"""A layout as a Markdown table, so that the documentation is made from the table the code
uses and a test can keep the two the same."""

from __future__ import annotations

from toekgw.formats.fixed.layout import Kind, Layout

__all__ = ["markdown_table"]


def markdown_table(layout: Layout) -> str:
    rows = ["| pos | len | field | kind | required | status |", "|---|---|---|---|---|---|"]
    for f in layout.fields:
        name = f"`{f.name}`"
        if f.kind is Kind.LITERAL:
            name += f" = `{f.literal}`"
        elif f.kind is Kind.CODE and f.codes:
            name += ": " + ", ".join(f"`{c}`" for c in sorted(f.codes))
        if f.doc:
            name += f" ({f.doc})"
        required = "yes" if f.required and f.kind not in (Kind.LITERAL, Kind.FILLER) else ""
        status = layout.field_source(f.name)
        rows.append(f"| {f.start} | {f.length} | {name} | {f.kind.value} | {required} | {status} |")
    return "\n".join(rows) + "\n"
