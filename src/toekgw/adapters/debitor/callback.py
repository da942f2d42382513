"""TØK's callback service for SF1590_B: ``DaekningAfskrivningRegistreringAfsend``.

An ASGI application (served by uvicorn, :class:`toekgw.gateway.httpserver.AsgiServer`, with
TLS in production) that takes the debtor system's coverings and write-offs on TØK's claims.
Each request, in this order:

1. the body is read up to ``max_body`` bytes (more: HTTP 413 with a SOAP fault);
2. it is parsed safely (no DOCTYPE, no entities, no network) and the message validated against
   the schema; the caller's SAML token is checked: signed by a trusted issuer certificate, the
   configured issuer and audience, valid now (the clock is injected), for the CVR the message
   names; and the message's own signature (OIO IDWS, as Serviceplatformen's calls carry it):
   made by the token's holder, over the body, an unexpired timestamp and the token, none of
   them altered (:func:`toekgw.formats.kombit.idws.verify_request`);
3. the message is journaled in one durable commit - one inbound transmission keyed by its
   ``BeskedId``, one item per registration keyed by its ``RegistreringId`` and looked up by
   its claim - and only then answered ``StatusKode`` 20. A message delivered again (the same
   ``BeskedId``, or registrations already journaled) is answered 20 again with no second effect.

Anything refused gets a SOAP fault and changes nothing; an unexpected error is logged (without
the request) and answered with a ``soap:Server`` fault, never a traceback.

Throughput: the journal lives in one committer thread (SQLite connections belong to their
thread). It takes every message waiting for it into one durable transaction (group commit: one
fsync for many messages; each is still answered only after that commit), and falls back to one
transaction per message if a batch fails, so one bad message never fails the others. A token
whose signature has been verified is remembered (by the digest of its canonical form, at most
:data:`TOKEN_CACHE` of them, the least recently used forgotten first): the debtor system
sends the same token for hours, and verifying its signature again proves nothing new; a copy
altered in any way has another digest and is verified afresh. Its validity and CVR are still
checked on every call, and the message's own signature, digests and timestamp always.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from cryptography import x509
from lxml import etree

from toekgw.adapters.debitor.keys import claim_key
from toekgw.formats.debitor.daekning import (
    BadRequest,
    DaekningBesked,
    build_fault,
    build_ok,
    read_request,
)
from toekgw.formats.kombit import idws
from toekgw.formats.kombit.saml import AssertionInfo, TokenExpired, TokenRefused, read_assertion
from toekgw.formats.kombit.wsse import SignatureRefused
from toekgw.gateway.faults import crash_point
from toekgw.gateway.httpserver import BodyTooLarge, read_body
from toekgw.gateway.journal import (
    Direction,
    DuplicateTransmission,
    Journal,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    open_journal,
)
from toekgw.gateway.kinds import register_kind

__all__ = ["CALLBACK_KIND", "CALLBACK_PATH", "CallbackService", "CallbackSettings", "claim_key"]

CALLBACK_PATH = "/service/OIR/DaekningAfskrivningRegistreringAfsend/1"
CALLBACK_KIND = KindSpec(
    "oir-daekning-afskrivning",
    Direction.IN,
    Lifecycle(("received",), {}, {"received": "journaled, then answered StatusKode 20"}),
    Lifecycle(("recorded",), {}, {"recorded": "a covering, write-off or reversal on a claim"}),
)
register_kind(CALLBACK_KIND)
_log = logging.getLogger(__name__)
#: Verified tokens remembered by the digest of their canonical form.
TOKEN_CACHE = 1024
#: At most this many messages share one durable commit.
MAX_BATCH = 64
_XML = [(b"content-type", b"text/xml; charset=utf-8")]


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackSettings:
    """Whom the service trusts: tokens signed by ``trusted`` (the STS's certificates), issued
    by ``issuer`` for ``audience`` (the callback service's entity id)."""

    trusted: Sequence[x509.Certificate]
    issuer: str
    audience: str
    max_body: int = 1024 * 1024
    counterpart: str = "debitor"


class CallbackService:
    """The ASGI application; ``journal_path`` is opened in the service's own thread."""

    def __init__(
        self,
        journal_path: JournalLocation,
        settings: CallbackSettings,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._journal_path = journal_path
        self._journal: Journal | None = None
        self._verified: OrderedDict[bytes, AssertionInfo] = OrderedDict()
        self._pending: queue.Queue[tuple[DaekningBesked, Future[None]] | None] = queue.Queue()
        self._committer = threading.Thread(
            target=self._commit_loop, name="callback-journal", daemon=True
        )
        self._committer.start()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != CALLBACK_PATH or scope["method"] != "POST":
            await _respond(send, 404, build_fault("Client", "no such operation here"))
            return
        try:
            status, body = await self._handle(receive)
        except Exception:  # the last line of defence: a fault, never a traceback to the caller
            _log.exception("the callback service failed on a request")
            status, body = 500, build_fault("Server", "internal error; the message was not taken")
        await _respond(send, status, body)

    async def _handle(self, receive: Any) -> tuple[int, bytes]:
        try:
            data = await read_body(receive, self.settings.max_body)
        except BodyTooLarge as exc:
            return 413, build_fault("Client", str(exc))
        try:
            envelope, message = read_request(data)
            info = idws.verify_request(envelope, now=self.clock(), read_token=self._check_token)
            if info.cvr != message.cvr:
                raise TokenRefused(f"the token is for CVR {info.cvr}, the message for another")
        except (BadRequest, TokenRefused, SignatureRefused) as exc:
            return 500, build_fault("Client", f"refused: {exc}", errors=[("400", str(exc))])
        done: Future[None] = Future()
        self._pending.put((message, done))
        await asyncio.wrap_future(done)
        return 200, build_ok()

    def _check_token(self, assertion: etree._Element) -> AssertionInfo:
        key = hashlib.sha256(etree.tostring(assertion, method="c14n")).digest()
        now = self.clock()
        info = self._verified.get(key)
        if info is None:
            info = read_assertion(
                assertion,
                trusted=self.settings.trusted,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                now=now,
            )
            self._verified[key] = info
            if len(self._verified) > TOKEN_CACHE:
                self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(key)  # the least recently used is forgotten first
            if not info.not_before <= now < info.not_on_or_after:
                raise TokenExpired(
                    f"the token is valid {info.not_before} to {info.not_on_or_after}"
                )
        return info

    def _commit_loop(self) -> None:
        while (first := self._pending.get()) is not None:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._pending.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._pending.put(None)  # stop after this batch
                    break
                batch.append(more)
            self._commit(batch)
        if self._journal is not None:
            self._journal.close()

    def _commit(self, batch: list[tuple[DaekningBesked, Future[None]]]) -> None:
        try:
            journal = self._open()
            with journal.transaction(durable=True):
                for message, _ in batch:
                    self._record(journal, message)
        except Exception:
            if len(batch) > 1:  # one at a time, so one bad message fails alone
                for one in batch:
                    self._commit([one])
                return
            batch[0][1].set_exception(RuntimeError("the message could not be journaled"))
            _log.exception("journaling a callback message failed")
            return
        crash_point("oir.callback.after_commit")
        for _, done in batch:
            done.set_result(None)

    def _record(self, journal: Journal, message: DaekningBesked) -> None:
        try:
            transmission = journal.create_transmission(
                NewTransmission(
                    counterpart=self.settings.counterpart,
                    kind=CALLBACK_KIND.name,
                    state="received",
                    delivery_key=message.besked_id,
                    meta={"cvr": message.cvr},
                    reason="DaekningAfskrivningRegistreringAfsend",
                )
            )
        except DuplicateTransmission:
            return
        keys = {f"registrering:{r.registrering_id}": r for r in message.registreringer}
        known = journal.existing_items(self.settings.counterpart, keys)
        journal.add_items(
            transmission.id,
            [
                NewItem(
                    business_key=key,
                    amount_ore=r.beloeb_ore,
                    lookup=claim_key(message.cvr, r.fordring_id),
                    data={
                        "type": r.type,
                        "dato": r.dato.isoformat(),
                        "fordring": r.fordring_id,
                    },
                )
                for key, r in keys.items()
                if key not in known
            ],
            state="recorded",
            reason="taken from the debtor system",
        )

    def _open(self) -> Journal:
        if self._journal is None:
            self._journal = open_journal(self._journal_path)
            self._journal.define_kind(CALLBACK_KIND)
        return self._journal

    def close(self) -> None:
        """Journal what is pending, then stop the committer and close the journal."""
        self._pending.put(None)
        self._committer.join(timeout=60)


async def _respond(send: Any, status: int, body: bytes) -> None:
    headers = [*_XML, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
