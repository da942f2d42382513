"""Shared by the G68 receive tests: a rig with a [receive.g68] profile, generated deliveries,
and what the error list must hold for a generated delivery."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from pathlib import Path

from tests.crashkit import Rig
from toekgw.adapters.g68 import G68Processor
from toekgw.cli.receive._common import receive_once
from toekgw.formats.fixed import iter_lines
from toekgw.formats.g68 import G68Form, payment_codec
from toekgw.gateway.inbound import Outcome
from toekgw.simulators.ksd import GeneratorSettings, write_delivery

TODAY = dt.date(2026, 11, 23)
PROFILE = '\n[receive.g68]\nsenders = ["ksd"]\ncounterpart = "ksd"\n'
PROCESSOR = ["--profile", "g68", "--processor", "toekgw.adapters.g68:G68Processor"]


def g68_rig(base: Path) -> Rig:
    return Rig(base, extra_config=PROFILE).start()


def receive(rig: Rig) -> list[Outcome]:
    return receive_once(rig.settings, "g68", functools.partial(G68Processor, today=TODAY))


def generate(base: Path, name: str, **settings: object) -> tuple[bytes, Counter[tuple[int, str]]]:
    """A generated delivery and the (line, code) findings its error list must hold."""
    values: dict[str, object] = {"seed": 1, "today": TODAY, **settings}
    path = base / name
    write_delivery(path, GeneratorSettings(**values))  # type: ignore[arg-type]
    manifest = json.loads(path.with_name(name + ".planted.json").read_text())
    expected = Counter((p["line"], p["code"]) for p in manifest["planted"])
    duplicates = {line for line, code in expected if code == "g68.payment.duplicate"}
    codec = payment_codec(values.get("form", G68Form.FAST))  # type: ignore[arg-type]
    with path.open("rb") as handle:
        for number, text, _ in iter_lines(handle):
            payment = codec.decode(text) if number > 1 else None
            if payment is None:
                continue
            if payment.is_recall:
                # The generator's recalls name payments that were never paid.
                expected[(number, "g68.recall.unmatched")] += 1
            elif number in duplicates:
                # A duplicate with the same payment ident cannot be a second item.
                expected[(number, "g68.payment.ident_reused")] += 1
    return path.read_bytes(), expected


def excluded_lines(expected: Counter[tuple[int, str]]) -> set[int]:
    """The lines that are not journaled: those with an error (the duplicate is a warning)."""
    return {line for line, code in expected if code != "g68.payment.duplicate"}
