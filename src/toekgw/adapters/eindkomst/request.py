"""The send input (``toekgw eindkomst send FILE.json``): reports, reversals and tax-card orders
as JSON. Every problem names the file and the JSON path. The format is ours (documented in
``docs/eindkomst.md``)::

    {"reports": [{"company_se": "12345674", "period_start": "2026-11-01",
                  "period_end": "2026-11-30", "disposition_date": "2026-11-27",
                  "income_type": "06", "key": "batch-1",
                  "recipients": [{"cpr": "0101501234",
                                  "amounts": {"0014": 1000000, "0015": 380000}}]}],
     "reversals": [{"company_se": "12345674", "report_id": "…", "cpr": null}],
     "orders": [{"company_se": "12345674", "cpr": "0101501234", "order_type": "1",
                 "employment_start": "2026-12-01", "valid_from": "2026-12-01"}]}

Amounts are signed integer øre; counts are signed hundredths.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toekgw.formats.eindkomst import IncomeReport, Recipient, ReversalRequest, TaxCardOrder
from toekgw.gateway.errors import InputError

__all__ = ["SendRequest", "load_request"]


@dataclass(slots=True)
class SendRequest:
    reports: list[IncomeReport] = field(default_factory=list)
    reversals: list[ReversalRequest] = field(default_factory=list)
    orders: list[TaxCardOrder] = field(default_factory=list)


class _Reader:
    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, path: str, expected: str, found: object) -> InputError:
        shown = json.dumps(found, ensure_ascii=False)[:40]
        return InputError(f"{self.file}: {path}: expected {expected}, found {shown}")

    def obj(self, value: Any, path: str, keys: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "an object", value)
        unknown = set(value) - keys
        if unknown:
            raise self.fail(f"{path}.{sorted(unknown)[0]}", "one of " + ", ".join(sorted(keys)), "")
        missing = required - set(value)
        if missing:
            raise InputError(f"{self.file}: {path}.{sorted(missing)[0]}: missing (required)")
        return value

    def text(self, value: Any, path: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "a non-empty string", value)
        return value

    def date(self, value: Any, path: str) -> dt.date:
        try:
            return dt.date.fromisoformat(str(self.text(value, path)))
        except ValueError:
            raise self.fail(path, "a date YYYY-MM-DD", value) from None

    def ints(self, value: Any, path: str) -> dict[str, int]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, "an object of field number -> integer", value)
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int):
                raise self.fail(f"{path}.{k}", "an integer (øre / hundredths)", v)
        return dict(value)

    def texts(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, "an object of field number -> text", value)
        return {k: str(self.text(v, f"{path}.{k}")) for k, v in value.items()}

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "a list", value)
        return value


_RECIPIENT = {"cpr", "cvr_se", "income_kind", "employee_no", "amounts", "codes", "ticks"}
_RECIPIENT |= {"texts", "counts"}
_REPORT = {"company_se", "period_start", "period_end", "disposition_date", "income_type"}
_REPORT_OPT = {"recipients", "key", "correction", "pay_kind", "reference_id"}


def load_request(file: Path) -> SendRequest:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: not valid JSON: {exc}") from exc
    r = _Reader(file)
    top = r.obj(data, "$", {"reports", "reversals", "orders"}, set())
    out = SendRequest()
    for n, rep in enumerate(r.items(top.get("reports"), "$.reports")):
        out.reports.append(_report(r, rep, f"$.reports[{n}]"))
    for n, rev in enumerate(r.items(top.get("reversals"), "$.reversals")):
        out.reversals.append(_reversal(r, rev, f"$.reversals[{n}]"))
    for n, o in enumerate(r.items(top.get("orders"), "$.orders")):
        out.orders.append(_order(r, o, f"$.orders[{n}]"))
    if not (out.reports or out.reversals or out.orders):
        raise InputError(f"{file}: nothing to send (no reports, reversals or orders)")
    return out


def _report(r: _Reader, value: object, p: str) -> IncomeReport:
    rep = r.obj(value, p, _REPORT | _REPORT_OPT, _REPORT | {"recipients"})
    recipients = [
        _recipient(r, rec, f"{p}.recipients[{m}]")
        for m, rec in enumerate(r.items(rep["recipients"], f"{p}.recipients"))
    ]
    if not recipients:
        raise r.fail(f"{p}.recipients", "at least one recipient", [])
    correction = rep.get("correction", False)
    if not isinstance(correction, bool):
        raise r.fail(f"{p}.correction", "true or false", correction)
    return IncomeReport(
        company_se=str(r.text(rep["company_se"], f"{p}.company_se")),
        period_start=r.date(rep["period_start"], f"{p}.period_start"),
        period_end=r.date(rep["period_end"], f"{p}.period_end"),
        disposition_date=r.date(rep["disposition_date"], f"{p}.disposition_date"),
        income_type=str(r.text(rep["income_type"], f"{p}.income_type")),
        recipients=recipients,
        correction=correction,
        pay_kind=r.text(rep.get("pay_kind"), f"{p}.pay_kind", optional=True),
        reference_id=r.text(rep.get("reference_id"), f"{p}.reference_id", optional=True),
        key=r.text(rep.get("key"), f"{p}.key", optional=True) or "",
    )


def _recipient(r: _Reader, value: object, q: str) -> Recipient:
    rec = r.obj(value, q, _RECIPIENT, set())
    ticks = r.items(rec.get("ticks"), f"{q}.ticks")
    return Recipient(
        cpr=r.text(rec.get("cpr"), f"{q}.cpr", optional=True),
        cvr_se=r.text(rec.get("cvr_se"), f"{q}.cvr_se", optional=True),
        income_kind=r.text(rec.get("income_kind"), f"{q}.income_kind", optional=True),
        employee_no=r.text(rec.get("employee_no"), f"{q}.employee_no", optional=True),
        amounts=r.ints(rec.get("amounts"), f"{q}.amounts"),
        codes=r.texts(rec.get("codes"), f"{q}.codes"),
        ticks=tuple(str(r.text(t, f"{q}.ticks[{i}]")) for i, t in enumerate(ticks)),
        texts=r.texts(rec.get("texts"), f"{q}.texts"),
        counts=r.ints(rec.get("counts"), f"{q}.counts"),
    )


def _reversal(r: _Reader, value: object, p: str) -> ReversalRequest:
    rev = r.obj(value, p, {"company_se", "report_id", "cpr"}, {"company_se", "report_id"})
    return ReversalRequest(
        str(r.text(rev["company_se"], f"{p}.company_se")),
        str(r.text(rev["report_id"], f"{p}.report_id")),
        cpr=r.text(rev.get("cpr"), f"{p}.cpr", optional=True),
    )


def _order(r: _Reader, value: object, p: str) -> TaxCardOrder:
    need = {"company_se", "cpr", "order_type", "employment_start", "valid_from"}
    o = r.obj(value, p, need | {"employment_end"}, need)
    order_type = str(r.text(o["order_type"], f"{p}.order_type"))
    if order_type not in ("1", "2", "6", "7"):
        raise r.fail(f"{p}.order_type", "1, 2, 6 or 7", order_type)
    end = o.get("employment_end")
    return TaxCardOrder(
        str(r.text(o["company_se"], f"{p}.company_se")),
        str(r.text(o["cpr"], f"{p}.cpr")),
        r.date(o["employment_start"], f"{p}.employment_start"),
        order_type,
        r.date(o["valid_from"], f"{p}.valid_from"),
        employment_end=None if end is None else r.date(end, f"{p}.employment_end"),
    )
