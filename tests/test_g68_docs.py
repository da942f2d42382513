"""The G68 docs stay true: every finding code and layout field is documented, the example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.guide import run_code
from toekgw.formats.fixed import Layout
from toekgw.formats.g68 import layouts
from toekgw.simulators.ksd import ERROR_KINDS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
G68_LAYOUTS = [
    layouts.Z300_FAST,
    layouts.SLUTD_FAST,
    layouts.G68_FLOATING_PREFIX,
    layouts.G68_FAST,
    layouts.G68_TAG_FIELDS,
]


def emitted_codes() -> set[str]:
    """Finding codes as the G68 sources spell them out."""
    codes = set()
    sources = [
        ROOT / "src" / "toekgw" / "formats" / "g68" / n
        for n in ("codec.py", "rules.py", "delivery.py")
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for what in re.findall(r'(?:_finding|_error)\(\s*"([a-z0-9_.]+)"', text):
            codes.add(f"g68.{what}")
        for what in re.findall(r'"(ident\.[a-z_]+)"', text):
            codes.add(f"g68.{what}")
        for what in re.findall(r'_structure\(\s*"([a-z0-9_]+)"', text):
            codes.add(f"g68.structure.{what}")
    engine = (ROOT / "src" / "toekgw" / "formats" / "fixed" / "codec.py").read_text(
        encoding="utf-8"
    )
    scaled = any(f.scale != 1 for layout in G68_LAYOUTS for f in layout.fields)
    for what in re.findall(r'"((?:record|field)\.[a-z_]+)"', engine):
        if what != "field.precision" or scaled:  # only a scaled amount can be too precise
            codes.add(f"g68.{what}")
    codes |= {"g68.field.date", "g68.field.time", "g68.slutd.count", "g68.slutd.sum"}
    return codes


def test_every_finding_code_is_documented() -> None:
    doc = (DOCS / "g68.md").read_text(encoding="utf-8")
    codes = emitted_codes() | set(ERROR_KINDS.values())
    assert len(codes) > 30
    missing = sorted(c for c in codes if f"`{c}`" not in doc)
    assert missing == []


@pytest.mark.parametrize(
    "layout",
    [
        layouts.Z300_FAST,
        layouts.SLUTD_FAST,
        layouts.G68_FLOATING_PREFIX,
        layouts.G68_FAST,
        layouts.G68_TAG_FIELDS,
    ],
)
def test_every_layout_field_is_in_layouts_md(layout: Layout) -> None:
    doc = (DOCS / "layouts.md").read_text(encoding="utf-8")
    names = {f.name for f in layout.fields if not f.name.startswith("text_")}
    assert sorted(n for n in names if f"`{n}`" not in doc) == []


def test_developers_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (DOCS / "developers.md").read_text(encoding="utf-8")
    match = re.search(r"## G68.*?```python\n(.*?)```", doc, re.S)
    assert match is not None
    run_code(match.group(1), "developers.md", {})
    out = capsys.readouterr().out
    assert "2000 payments" in out and "refused: False" in out
