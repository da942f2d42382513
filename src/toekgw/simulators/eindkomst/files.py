"""SKAT's eIndkomst over KOMBIT's SF0770_B: deliveries as files over Serviceplatformen.

The municipal route to eIndkomst (``IndkomstOplysningIndberet``): bulk reports are uploaded as
files over Serviceplatformen's SFTP, and SKAT's receipts and error notices come back over SFTP;
tax cards come through the Beskedfordeler. This simulator is SKAT as a Serviceplatformen party
(its ``IN/`` and ``OUT/`` on the platform's tree). For every complete file in its ``IN/`` (the
payload with its ``.metadata``) it lets :class:`~toekgw.simulators.eindkomst.skat.Skat`
register the delivery (once, by report id; a repeat is answered again from the ledger) and
uploads each answer to the sender with a trigger, under a name derived from the delivery's main
report id (so answering again writes the same names and bytes). Tax cards go the same way, or,
given a broker and a queue (``cards_to``), as a Beskedfordeler message (a ``Haendelsesbesked``
of type ``cards_type`` for the sender's CVR) - the route KOMBIT names for them.

Only after the answers are uploaded (and, for cards, confirmed by the broker) is the delivery
moved to ``done/``: a SIGKILL before that answers it again with the same bytes, which the
gateway drops by SHA-256.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toekgw.formats.kombit.besked import build_besked
from toekgw.formats.serviceplatform import METADATA_SUFFIX, XmlDocumentError, parse_metadata
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.simulators._queue_loop import utc_now
from toekgw.simulators._upload import upload
from toekgw.simulators.eindkomst.ledger import Ledger
from toekgw.simulators.eindkomst.skat import Answer, SimulatorScript, SimulatorStats, Skat

__all__ = ["ANSWER_NAMES", "CardsTo", "EindkomstFileSimulator"]

#: The answer files' names (ours: the SF0770_B file names are not public).
ANSWER_NAMES = {
    "receipt": "EIK_KVITTERING_{main_id}.txt",
    "advice": "EIK_FEJL_{main_id}.txt",
    "cards": "EIK_SKATTEKORT_{main_id}.xml",
}

#: Namespace of the Beskedfordeler message ids the simulator gives its tax cards.
_BESKED_IDS = uuid.UUID("6f1f3b8e-2f5c-4c38-9d53-0b3c1b0e7a11")


@dataclass(frozen=True, slots=True)
class CardsTo:
    """Where the simulator sends tax cards instead of SFTP: a Beskedfordeler queue."""

    broker: MessageBroker
    queue: str
    cards_type: str  # the Beskedtype (UUID) the gateway routes to its tax-card component
    recipient_cvr: str


class EindkomstFileSimulator:
    """SKAT as party ``party`` with home ``home`` on the platform's tree."""

    def __init__(
        self,
        home: Path,
        ledger: Ledger | str | Path,
        script: SimulatorScript | None = None,
        *,
        party: str,
        cards_to: CardsTo | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.home, self.party, self.cards_to = Path(home), party, cards_to
        self.skat = Skat(ledger, script, clock=clock)
        self.clock, self.sleep = clock, sleep
        for sub in ("IN", "OUT", "done"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)

    @property
    def ledger(self) -> Ledger:
        return self.skat.ledger

    @property
    def stats(self) -> SimulatorStats:
        return self.skat.stats

    def scan_once(self) -> int:
        """Answer every complete delivery in IN/; how many were answered."""
        handled = 0
        inbox = self.home / "IN"
        for meta in sorted(inbox.glob(f"*{METADATA_SUFFIX}")):
            name = meta.name[: -len(METADATA_SUFFIX)]
            payload = inbox / name
            if not payload.is_file():
                continue
            try:
                sender = parse_metadata(meta.read_bytes(), name=meta.name).file.sender
            except XmlDocumentError:
                continue  # the real platform never sends one; nothing to answer
            answers = self.skat.register(payload.read_bytes())
            if self.skat.script.delay:
                self.sleep(self.skat.script.delay)
            copies: dict[str, int] = {}
            for answer in answers:
                copy = copies[answer.kind] = copies.get(answer.kind, -1) + 1
                self._send(answer, sender, copy=copy)
            payload.replace(self.home / "done" / name)
            meta.unlink()
            handled += 1
        return handled

    def run(self, *, max_seconds: float | None = None, poll: float = 0.5) -> None:
        """Scan until ``max_seconds`` have passed (for ever when None)."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while deadline is None or time.monotonic() < deadline:
            if not self.scan_once():
                self.sleep(poll)

    def _send(self, answer: Answer, sender: str, *, copy: int) -> None:
        if answer.kind == "cards" and self.cards_to is not None:
            to = self.cards_to
            besked_id = str(uuid.uuid5(_BESKED_IDS, answer.main_id))  # a copy: the same id
            body = build_besked(
                besked_type=to.cards_type,
                payload=answer.body,
                recipient_cvr=to.recipient_cvr,
                created=self.clock(),
                besked_id=besked_id,
            )
            to.broker.publish(to.queue, body, message_id=besked_id)
            return
        name = ANSWER_NAMES[answer.kind].format(main_id=answer.main_id)
        if copy:
            name = name.replace(".", f".{copy}.", 1)
        upload(self.home / "OUT", name, answer.body, sender=self.party, recipients=(sender,))
