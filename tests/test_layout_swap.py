"""The swap promise, proven once: when SKAT's own layout arrives, the table changes and no code
does.

A copy of the package is made with only ``formats/eindkomst/layouts.py`` edited: the 6000
record as it was before the TIN change (TIN 53/25, TIN country 78/2, two filler columns
80-81; the rest where it was). In a separate interpreter that imports the copy, the report
builder writes the new positions, the validator reads them without a finding, and the decoder
gives back the same values - with every other file of the package byte for byte as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "toekgw"
OLD = (
    '        Field("tin", 53, 27, Kind.TEXT, required=False, doc="foreign TIN, since the TIN '
    'change"),\n        Field("tin_country", 80, 2, Kind.TEXT, required=False),\n'
)
NEW = """        Field("tin", 53, 25, Kind.TEXT, required=False, doc="foreign TIN"),
        Field("tin_country", 78, 2, Kind.TEXT, required=False),
        Field("filler_e101", 80, 2, Kind.FILLER),
"""
SCRIPT = """
import datetime as dt, io, json
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.records import RecipientRecord
from toekgw.formats.eindkomst.report import Abroad, IncomeReport, Recipient, ReportBuilder, Sender
from toekgw.formats.eindkomst.rules import validate_delivery

se = "12345674"
abroad = Abroad(dt.date(1980, 1, 1), "1", "SE", "Svensson, Sven", tin="SE-19800101-1234",
                tin_country="SE")
report = IncomeReport(se, dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.date(2026, 11, 27),
                      "06", [Recipient(abroad=abroad, amounts={"0014": 123_450})])
builder = ReportBuilder(Sender(se=se, cvr=se), created=dt.datetime(2026, 11, 27, 18, 0))
data = b"".join(delivery.to_bytes() for delivery in builder.deliveries([report]))
line = next(l for l in data.decode("iso-8859-1").split("\\r\\n") if l[7:11] == "6000")
check = validate_delivery(io.BytesIO(data), today=dt.date(2026, 11, 30))
records = [e.record for e in decode_records(io.BytesIO(data))]
rec = next(r for r in records if isinstance(r, RecipientRecord))
import toekgw
assert toekgw.__file__.startswith(COPY), toekgw.__file__
print(json.dumps({"tin_at": line.find("SE-19800101-1234") + 1, "country": line[77:79],
                  "findings": [f.code for f in check.findings], "tin": rec.tin,
                  "tin_country": rec.tin_country}))
"""


def test_a_changed_layout_table_needs_no_change_of_code(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "toekgw"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    table = copy / "formats" / "eindkomst" / "layouts.py"
    text = table.read_text(encoding="utf-8")
    assert OLD in text, "the 6000 TIN fields moved: update this test's OLD"
    table.write_text(text.replace(OLD, NEW), encoding="utf-8")

    changed = [
        p.relative_to(copy)
        for p in copy.rglob("*")
        if p.is_file() and p.read_bytes() != (PACKAGE / p.relative_to(copy)).read_bytes()
    ]
    assert changed == [Path("formats/eindkomst/layouts.py")]

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run(
        [sys.executable, "-c", f"COPY = {str(copy)!r}\n" + SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got == {
        "tin_at": 53,
        "country": "SE",  # 78-79 now, where the TIN used to run on
        "findings": [],
        "tin": "SE-19800101-1234",
        "tin_country": "SE",
    }
    # The real table writes the country at 80.
    assert 'tin_country", 80, 2' in PACKAGE.joinpath("formats/eindkomst/layouts.py").read_text()
