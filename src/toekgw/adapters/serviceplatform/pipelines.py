"""The core's inbound and outbound file pipelines over Serviceplatformen.

:func:`receive_pipeline` and :func:`send_file` are :class:`~toekgw.gateway.inbound.InboundPipeline`
and :func:`~toekgw.gateway.outbound.send_file` with Serviceplatformen's protocol
(:data:`~toekgw.adapters.serviceplatform.exchange.SERVICEPLATFORM`) and its journal names
(counterpart ``serviceplatform``, kind ``serviceplatform-file`` for our uploads) filled in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Literal

from toekgw.adapters.serviceplatform.exchange import SERVICEPLATFORM, ServiceplatformExchange
from toekgw.gateway import outbound
from toekgw.gateway.inbound import InboundPipeline, InboundProcessor
from toekgw.gateway.journal import Journal, KindSpec
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.transport.files import FileTransport

__all__ = ["COUNTERPART", "SEND_KIND", "receive_pipeline", "send_file"]

#: Our uploads are journaled under this counterpart (their kind: ``serviceplatform-file``).
COUNTERPART = "serviceplatform"
#: The kind of ``toekgw send``'s uploads (what :func:`send_file` journals by default).
SEND_KIND = register_kind(outbound.outbound_kind(f"{COUNTERPART}-file"))


def receive_pipeline(
    journal: Journal,
    transport: FileTransport,
    processor: InboundProcessor,
    *,
    party: str,
    senders: Collection[str],
    staging: Path,
    in_dir: str = "IN",
    after_receive: Literal["remove", "archive"] = "remove",
    archive_dir: str | None = None,
) -> InboundPipeline:
    """An inbound pipeline for the files in ``in_dir`` that ``senders`` send to ``party``."""
    return InboundPipeline(
        journal,
        transport,
        processor,
        exchange=SERVICEPLATFORM,
        party=party,
        senders=senders,
        staging=staging,
        in_dir=in_dir,
        after_receive=after_receive,
        archive_dir=archive_dir,
    )


def send_file(
    journal: Journal,
    transport: FileTransport,
    local: Path,
    *,
    recipients: Sequence[str],
    sender: str,
    counterpart: str = COUNTERPART,
    kind: KindSpec | None = None,
    out_dir: str = "OUT",
    in_dir: str = "IN",
    receipt_timeout: float = 120.0,
    poll: float = 0.5,
    exchange: ServiceplatformExchange = SERVICEPLATFORM,
) -> outbound.SendOutcome:
    """Journal ``local``, upload it with its trigger, and wait up to ``receipt_timeout`` for
    the technical receipt (see :func:`toekgw.gateway.outbound.send_file`). ``exchange`` may
    carry routing information for the trigger (``ServiceplatformExchange(content=...)``)."""
    return outbound.send_file(
        journal,
        transport,
        local,
        exchange=exchange,
        recipients=recipients,
        sender=sender,
        counterpart=counterpart,
        kind=kind,
        out_dir=out_dir,
        in_dir=in_dir,
        receipt_timeout=receipt_timeout,
        poll=poll,
    )
