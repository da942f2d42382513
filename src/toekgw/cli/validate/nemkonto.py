"""``toekgw validate nemkonto FILE...``: every finding of NemKonto documents.

A file is a payment bundle (root ``NKSBetaling``: what we put on the request queue), a stop
request (``NKSStop``, ours: also put on the request queue) or an answer (roots
``NKSReceipt0/1``, ``NKSResponse2/5/7/8/9``: what NemKonto puts on the reply queue); the root
decides. So an operator can check a document a counterpart sent, or one of ours, the way the
flows read it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import click
from lxml import etree

from toekgw.cli import clock
from toekgw.cli.validate._common import Checked, format_option, today_option, validate_files
from toekgw.formats.findings import Finding
from toekgw.formats.nemkonto import payment_findings, read_answer, read_bundle, read_stop
from toekgw.formats.nemkonto.answer import DOCUMENTS
from toekgw.gateway.errors import InputError
from toekgw.gateway.findings import summary
from toekgw.gateway.money import kroner

__all__ = ["command"]


def _root_name(path: Path) -> str | None:
    """The local name of the document's root element, read without parsing the rest (and
    without entities, DTDs or the network); ``None`` when the start is not XML."""
    try:
        for _event, element in etree.iterparse(
            str(path), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
        ):
            return str(etree.QName(element).localname)
    except etree.XMLSyntaxError:
        return None
    return None


_ANSWER_ROOTS = frozenset(d.root for d in DOCUMENTS.values())


def _check(today: dt.date, path: Path) -> Checked:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    findings: list[Finding]
    root = _root_name(path)
    if root == "NKSStop":
        request, findings = read_stop(data)
        what = (
            f"stop request {request.stop_id} for bundle {request.bundle_id}, "
            f"{len(request.payments)} payments"
            if request is not None
            else "stop request (NKSStop)"
        )
    elif root in _ANSWER_ROOTS:
        answer, findings = read_answer(data)
        what = (
            f"answer type {answer.answer_type.value} for bundle {answer.bundle_id}"
            f"{' (bundle rejected)' if answer.bundle_rejected else ''}, "
            f"{len(answer.payments)} payment statuses"
            if answer is not None
            else "answer"
        )
    else:
        bundle, findings = read_bundle(data)
        what = "bundle (NKSBetaling)"
        if bundle is not None:
            per_payment = payment_findings(bundle.payments, today)
            findings = [f for listed in per_payment.values() for f in listed]
            what = (
                f"bundle {bundle.bundle_id}: {bundle.number_of_payments} payments, "
                f"{kroner(bundle.control_sum_ore)} kr"
            )
    counts = summary(findings)["severity"]
    return Checked(
        [f.in_file(str(path)) for f in findings],
        f"{path}: {what}, {counts['error']} errors, {counts['warning']} warnings",
        any(f.is_error for f in findings),
    )


@click.command("nemkonto")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@today_option
@format_option
def command(files: tuple[Path, ...], today: dt.datetime | None, fmt: str) -> None:
    """Validate NemKonto documents: payment bundles (NKSBetaling), stop requests (NKSStop) and
    answers (NKSReceipt0/1, NKSResponse2/5/7/8/9), the root decides. Syntax (no DOCTYPE, no
    entities), the schema of the root, the header's count and control sum, duplicate payment
    ids, each payment's recipient (CPR birth date, CVR/SE mod-11), and an answer's statuses
    per its kind.

    Prints every finding; with --format text, one summary line per file follows.
    Exit 0 when no file has an error, 1 when any has, 2 when a file could not be read.
    """
    on = today.date() if today else clock.today()
    validate_files(files, fmt, partial(_check, on), kind="a NemKonto document")
