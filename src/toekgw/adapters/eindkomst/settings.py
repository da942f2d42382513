"""``[eindkomst]``: income reports to SKAT (see ``docs/eindkomst.md``).

The reporting employer (SE, CVR), the companies registered for withholding (who get nil
reports), the route (``route = "mq"``, the default, or ``"serviceplatform"``: KOMBIT's SF0770_B
over ``[serviceplatform]``, with SKAT's party there in ``skat_party`` and where tax cards come
from in ``tax_cards``: ``"sftp"`` or ``"beskedfordeler"``), the queue manager
(``[eindkomst.mq]``, or ``queue_db`` alone for the embedded queue), the queue names, where
each delivery is kept as sent (so a re-send is the same bytes), when a missing receipt is
overdue, the largest message the queue takes, whether this is production, and the tax card
the service orders for a new recipient (``order_type``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toekgw.formats.eindkomst import REPLY_QUEUE, REQUEST_QUEUE
from toekgw.formats.eindkomst.layouts import ORDER_TYPES
from toekgw.formats.idents import cvr_problem
from toekgw.gateway.config import (
    REQUIRED,
    ConfigError,
    CoreSettings,
    Section,
    Table,
    register_section,
)
from toekgw.gateway.transport.config import MqSettings, parse_mq

__all__ = ["EINDKOMST_SECTION", "EindkomstSettings"]


@dataclass(frozen=True, slots=True)
class EindkomstSettings:
    """``[eindkomst]``: income reports to SKAT (see ``docs/eindkomst.md``)."""

    sender_se: str
    sender_cvr: str
    companies: tuple[str, ...]  # SE numbers registered for withholding (nil reports)
    mq: MqSettings
    request_queue: str
    reply_queue: str
    outbox: Path  # each delivery as sent, so a re-send is the same bytes
    overdue_hours: float
    max_message_bytes: int
    production: bool
    route: str = "mq"  # or "serviceplatform" (SF0770_B)
    skat_party: str | None = None  # SKAT's party on Serviceplatformen (route serviceplatform)
    tax_cards: str = "sftp"  # route serviceplatform: "sftp" or "beskedfordeler"
    order_type: str = "1"  # the tax card the service orders for a new recipient (2101 pos 85)


def _eindkomst(t: Table, core: CoreSettings) -> EindkomstSettings:
    se = t.text("sender_se", REQUIRED)
    cvr = t.text("sender_cvr", se)
    companies = t.names("companies") if "companies" in t.data else (se,)
    for key, values in (("sender_se", (se,)), ("sender_cvr", (cvr,)), ("companies", companies)):
        for value in values:
            problem = cvr_problem(value)
            if problem:
                raise ConfigError(f"{t.where(key)}: {value!r} is not an SE/CVR number: {problem}")
    hours = t.seconds("overdue_hours", 24)
    route = t.choice("route", ("mq", "serviceplatform"), "mq")
    skat_party = t.text("skat_party", None)
    if route == "serviceplatform" and not skat_party:
        raise ConfigError(
            f'{t.where("skat_party")}: required when route = "serviceplatform" '
            "(SKAT's party on Serviceplatformen, the recipient of the uploads)"
        )
    settings = EindkomstSettings(
        sender_se=se,
        sender_cvr=cvr,
        companies=companies,
        mq=_eindkomst_mq(t),
        request_queue=t.text("request_queue", REQUEST_QUEUE),
        reply_queue=t.text("reply_queue", REPLY_QUEUE),
        outbox=t.path("outbox") or core.staging / "eindkomst-outbox",
        overdue_hours=hours,
        max_message_bytes=t.integer("max_message_bytes", 4 * 1024 * 1024, 4096, 100 * 1024 * 1024),
        production=t.flag("production", False),
        route=route,
        skat_party=skat_party,
        tax_cards=t.choice("tax_cards", ("sftp", "beskedfordeler"), "sftp"),
        order_type=t.choice("order_type", tuple(ORDER_TYPES), "1"),
    )
    t.finish()
    return settings


def _eindkomst_mq(t: Table) -> MqSettings:
    mq_table = t.table("mq")
    if mq_table is None:
        # The short form: ``queue_db`` alone in [eindkomst] is the embedded queue.
        return MqSettings("sqlite", _queue_db(t))
    if "queue_db" in t.data:
        raise ConfigError(
            f"{t.where('queue_db')}: the queue is set in [eindkomst.mq]; "
            "give queue_db there, not in both places"
        )
    return parse_mq(mq_table)


def _queue_db(t: Table) -> Path:
    path = t.path("queue_db", "var/queues.sqlite")
    assert path is not None
    return path


EINDKOMST_SECTION = register_section(
    Section(
        "eindkomst", _eindkomst, hint="add one with at least sender_se; see docs/configuration.md"
    )
)
