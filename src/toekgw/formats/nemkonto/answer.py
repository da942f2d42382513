"""NKSAnswer: build and parse NemKonto's answers (schema ``nemkonto/NKSAnswer.xsd``)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto.errors import NemKontoFormatError
from toekgw.formats.nemkonto.model import AnswerType, BundleAnswer, PaymentState, PaymentStatus
from toekgw.formats.xmlcheck import load_schema, parse_safely, schema_findings

__all__ = ["NAMESPACE", "SCHEMA", "build_answer", "parse_answer", "read_answer"]

SCHEMA = "nemkonto/NKSAnswer.xsd"
NAMESPACE = "urn:toek-gateway:nemkonto:NKSAnswer:1"
CODE = "nemkonto.answer"
_N = f"{{{NAMESPACE}}}"


def _x(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _opt(tag: str, value: object | None) -> str:
    return "" if value is None else f"<{tag}>{_x(str(value))}</{tag}>"


def build_answer(answer: BundleAnswer, *, validate: bool = True) -> bytes:
    """The NKSAnswer document of ``answer``; raises :class:`NemKontoFormatError` if invalid."""
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<NKSAnswer xmlns="{NAMESPACE}">',
        f"<AnswerType>{int(answer.answer_type)}</AnswerType>",
        _opt("BundleId", answer.bundle_id),
        f"<ProcessedAt>{answer.processed_at.isoformat()}</ProcessedAt>",
        _opt("ReceivedCount", answer.received_count),
        _opt("AcceptedCount", answer.accepted_count),
        _opt("ErrorCode", answer.error_code),
        _opt("ErrorText", answer.error_text),
        "\n",
    ]
    for p in answer.payments:
        parts += (
            "<Payment>",
            _opt("PaymentId", p.payment_id),
            _opt("Status", p.status.value),
            _opt("ErrorCode", p.error_code),
            _opt("ErrorText", p.error_text),
            "</Payment>\n",
        )
    parts.append("</NKSAnswer>\n")
    try:
        data = "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        finding = Finding(
            f"{CODE}.text.encoding",
            Severity.ERROR,
            f"a text holds a character UTF-8 cannot encode ({exc.reason})",
            expected="characters XML 1.0 allows",
        )
        raise NemKontoFormatError("the answer is not valid", [finding]) from None
    if validate:
        root, findings = parse_safely(data, CODE)
        if root is not None:
            findings = schema_findings(load_schema(SCHEMA), root, CODE)
        if findings:
            raise NemKontoFormatError("the answer is not valid", findings)
    return data


def read_answer(data: bytes) -> tuple[BundleAnswer | None, list[Finding]]:
    """Parse, validate and decode: the answer (``None`` on any error) and all findings."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return None, findings
    findings = schema_findings(load_schema(SCHEMA), root, CODE)
    if findings:
        return None, findings
    try:
        return _decode(root), []
    except ValueError as exc:
        # Schema-valid but inconsistent (e.g. a type 2 answer without payments).
        return None, [Finding(f"{CODE}.inconsistent", Severity.ERROR, str(exc), path="/NKSAnswer")]


def parse_answer(data: bytes) -> BundleAnswer:
    """The answer in ``data``; raises :class:`NemKontoFormatError` unless it is valid."""
    answer, findings = read_answer(data)
    if answer is None:
        raise NemKontoFormatError("the answer is not valid", findings)
    return answer


def _child_text(el: etree._Element, tag: str) -> str | None:
    child = el.find(_N + tag)
    return None if child is None else (child.text or "")


def _int(el: etree._Element, tag: str) -> int | None:
    text = _child_text(el, tag)
    return None if text is None else int(text)


def _decode(root: etree._Element) -> BundleAnswer:
    processed = dt.datetime.fromisoformat(_child_text(root, "ProcessedAt") or "")
    if processed.tzinfo is None:
        processed = processed.replace(tzinfo=dt.UTC)
    payments = tuple(
        PaymentStatus(
            payment_id=_child_text(p, "PaymentId") or "",
            status=PaymentState(_child_text(p, "Status") or ""),
            error_code=_child_text(p, "ErrorCode"),
            error_text=_child_text(p, "ErrorText"),
        )
        for p in root.iterfind(_N + "Payment")
    )
    return BundleAnswer(
        answer_type=AnswerType(int(_child_text(root, "AnswerType") or "")),
        bundle_id=_child_text(root, "BundleId"),
        processed_at=processed,
        received_count=_int(root, "ReceivedCount"),
        accepted_count=_int(root, "AcceptedCount"),
        error_code=_child_text(root, "ErrorCode"),
        error_text=_child_text(root, "ErrorText"),
        payments=payments,
    )
