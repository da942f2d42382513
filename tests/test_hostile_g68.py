"""Hostile G68 input: randomly damaged deliveries never crash validation and never leak a CPR.

Issue 11, cases 13 and 14: with the ``&`` of a floating tag changed to a letter, the next
field's digits were read into the previous field's raw value, and the finding showed the
beneficiary's CPR inside it; the CPR check read the real clock.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from tests.g68_helpers import TODAY, delivery_lines, payment
from toekgw.cli.main import cli
from toekgw.formats.g68 import G68Form
from toekgw.formats.g68.codec import decode_delivery
from toekgw.simulators.ksd import GeneratorSettings
from toekgw.simulators.ksd.g68 import generate_lines

FILES = 300
DAY = TODAY.isoformat()
_JUNK = "&0O1-+ æøÅ\x85\tAZ9"


def _cprs(lines: list[str]) -> set[str]:
    delivery = decode_delivery(lines)
    return {p.beneficiary[4:] for p in delivery.payments if p.ident_code == "02"}


def _mutate(line: str, rng: random.Random) -> str:
    at = rng.randrange(len(line))
    match rng.randrange(4):
        case 0:  # a tag's ampersand becomes a letter (the case that leaked)
            amps = [i for i, c in enumerate(line) if c == "&"]
            at = rng.choice(amps) if amps else at
            return line[:at] + rng.choice("OIlA") + line[at + 1 :]
        case 1:
            return line[:at] + rng.choice(_JUNK) + line[at + 1 :]
        case 2:
            return line[:at] + line[at + 1 :]
        case _:
            return line[:at] + rng.choice(_JUNK) + line[at:]


def _damaged(seed: int) -> tuple[list[str], set[str]]:
    rng = random.Random(seed)
    form = G68Form.FLOATING if seed % 2 else G68Form.FAST
    lines = list(generate_lines(GeneratorSettings(count=12, seed=seed, form=form, today=TODAY)))
    cprs = _cprs(lines)
    for _ in range(rng.randint(1, 6)):
        n = rng.randrange(1, len(lines) - 1)
        lines[n] = _mutate(lines[n], rng)
    return lines, cprs


def test_randomly_damaged_deliveries_exit_0_or_1_and_never_show_a_cpr(tmp_path: Path) -> None:
    runner = CliRunner()
    leaks: list[str] = []
    for seed in range(FILES):
        lines, cprs = _damaged(seed)
        path = tmp_path / f"d{seed}.g68"
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1", "replace"))
        for fmt in ("text", "json", "csv"):
            result = runner.invoke(
                cli,
                ["validate", "g68", "--today", DAY, "--format", fmt, str(path)],
                obj={"debug": False},
            )
            out = result.stdout + result.stderr
            assert result.exit_code in (0, 1), (seed, fmt, out[-500:])
            assert "Traceback" not in out, (seed, fmt)
            leaks += [f"seed {seed} {fmt}: {c[:6]}" for c in cprs if c in out]
    assert leaks == []


def test_a_damaged_tag_does_not_leak_the_next_fields_cpr(tmp_path: Path) -> None:
    lines = delivery_lines(G68Form.FLOATING, [payment(1, beneficiary="00000101851234")])
    tag = lines[1].index("&11")
    lines[1] = lines[1][:tag] + "O" + lines[1][tag + 1 :]
    path = tmp_path / "tag.g68"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))
    for fmt in ("text", "json", "csv"):
        result = CliRunner().invoke(
            cli,
            ["validate", "g68", "--today", DAY, "--format", fmt, str(path)],
            obj={"debug": False},
        )
        assert result.exit_code == 1
        assert "0101851234" not in result.stdout, result.stdout


def test_an_unborn_beneficiary_is_named_so_on_the_configured_date(tmp_path: Path) -> None:
    unborn = "00000112264234"  # born 2026-12-01
    lines = delivery_lines(G68Form.FAST, [payment(1, beneficiary=unborn)])
    path = tmp_path / "unborn.g68"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))

    def validate(day: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            cli, ["validate", "g68", "--today", day, str(path)], obj={"debug": False}
        )
        return result.exit_code, result.stdout

    code, out = validate("2026-11-30")
    assert code == 1 and "not yet born" in out and "not a valid birth date" not in out
    assert validate("2026-12-01")[0] == 0


def test_text_in_another_encoding_is_a_warning_and_kept_as_written(tmp_path: Path) -> None:
    utf8 = "Kontanthjælp".encode().decode("iso-8859-1")  # 'KontanthjÃ¦lp'
    cp1252 = "Betaling \x96 november"  # an en dash in Windows-1252
    for form in (G68Form.FAST, G68Form.FLOATING):
        payments = [payment(1, texts=(utf8,)), payment(2, texts=(cp1252,)), payment(3)]
        path = tmp_path / f"{form.value}.g68"
        data = ("\r\n".join(delivery_lines(form, payments)) + "\r\n").encode("iso-8859-1")
        path.write_bytes(data)
        result = CliRunner().invoke(
            cli,
            ["validate", "g68", "--today", DAY, "--format", "json", str(path)],
            obj={"debug": False},
        )
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        assert [(f["line"], f["code"], f["severity"]) for f in found] == [
            (2, "g68.text.encoding", "warning"),
            (3, "g68.text.encoding", "warning"),
        ]
        assert "UTF-8 for 'æ'" in found[0]["message"] and "'–'" in found[1]["message"]
        texts = [p.texts for p in decode_delivery(data.decode("iso-8859-1").splitlines()).payments]
        assert texts[:2] == [(utf8,), (cp1252,)]  # never altered
