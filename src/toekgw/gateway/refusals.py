"""What a flow could not take goes on the error list, once.

A file that cannot be taken (an unsafe name, a link, a document too large or not valid) stays
where it is for the counterpart's operator to see, and the next poll meets it again: it is
listed once while its entry is open, not once per poll. A queued message whose processing
failed is backed out and retried; the queue moves it to its error (backout) queue after a few
attempts, and by then the operator has long been told: its first failure is listed.
"""

from __future__ import annotations

import logging

from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.errors import is_environmental
from toekgw.gateway.journal import Journal

__all__ = [
    "DEAD_LETTER",
    "FAILED_MESSAGE",
    "MAX_ATTEMPTS_PER_RUN",
    "REFUSED",
    "FailedMessages",
    "list_dead_letter",
    "list_failed_message",
    "list_refusal",
]

#: The finding code of a remote file refused and left in place.
REFUSED = "remote.refused"
#: The finding code of a queued message whose processing failed.
FAILED_MESSAGE = "queue.message_failed"
#: The finding code of a broker message dead-lettered because it cannot be used.
DEAD_LETTER = "queue.dead_lettered"

#: How often one message may fail in one run before the run stops, so that a queue that moves
#: nothing aside (a backout threshold of 0 or a very high one) cannot keep a run busy forever.
MAX_ATTEMPTS_PER_RUN = 10

_log = logging.getLogger(__name__)


def list_refusal(journal: Journal, counterpart: str, name: str, reason: str) -> None:
    """Put ``name`` (refused for ``reason``) on ``counterpart``'s error list unless an open
    entry already says the same."""
    _list_once(journal, counterpart, name, "file", Finding(REFUSED, Severity.ERROR, reason))


def list_failed_message(
    journal: Journal, counterpart: str, queue: str, msg_id: bytes, error: BaseException
) -> None:
    """Put the message ``msg_id`` of ``queue``, whose processing raised ``error``, on the error
    list (once while its entry is open). Called after the failed unit of work was rolled
    back; if the journal cannot take it either, the failure is logged and the caller's own
    error goes on."""
    name = f"{queue} MsgId {msg_id.hex()}"
    reason = (
        f"processing failed ({type(error).__name__}: {error}); the message is backed out and "
        "retried, and after the queue's backout threshold it is moved to the error queue"
    )
    finding = Finding(FAILED_MESSAGE, Severity.ERROR, reason)
    try:
        _list_once(journal, counterpart, name, "message", finding, same_code_is_enough=True)
    except Exception as exc:  # the journal itself may be what failed (a full disk)
        _log.error("could not put %s on the error list: %s", name, exc)


def list_dead_letter(
    journal: Journal, counterpart: str, queue: str, message: str, reason: str
) -> None:
    """Put ``message`` (an id or tag) of ``queue``, dead-lettered for ``reason``, on the error
    list - once while its entry is open, so a redelivery after a crash is not listed twice.
    Called before the broker is told to dead-letter it."""
    finding = Finding(
        DEAD_LETTER, Severity.ERROR, f"{reason}; moved to the dead-letter queue of {queue}"
    )
    _list_once(journal, counterpart, f"{queue} message {message}", "message", finding)


class FailedMessages:
    """One run's messages that broke their reader, for a flow that takes a queue.

    After the caller has backed out the message's unit of work, :meth:`set_aside` decides:
    an error of the environment (:func:`~toekgw.gateway.errors.is_environmental`) stops the run;
    otherwise the message is listed and the run goes on with the next one - unless the same
    message has failed :data:`MAX_ATTEMPTS_PER_RUN` times already.
    """

    def __init__(self, journal: Journal, counterpart: str, queue: str) -> None:
        self.journal = journal
        self.counterpart = counterpart
        self.queue = queue
        self._attempts: dict[bytes, int] = {}

    def set_aside(self, msg_id: bytes, error: Exception) -> None:
        """Return to go on with the next message; raise ``error`` to stop the run."""
        if is_environmental(error):
            raise error
        list_failed_message(self.journal, self.counterpart, self.queue, msg_id, error)
        self._attempts[msg_id] = self._attempts.get(msg_id, 0) + 1
        if self._attempts[msg_id] > MAX_ATTEMPTS_PER_RUN:
            raise error


def _list_once(
    journal: Journal,
    counterpart: str,
    name: str,
    subject: str,
    finding: Finding,
    *,
    same_code_is_enough: bool = False,
) -> None:
    """Add an entry for ``name`` with ``finding`` unless an open one already has it (its code
    and message; or only its code, when ``same_code_is_enough``)."""
    for entry in journal.iter_errors(counterpart=counterpart):
        if entry.file_name == name and any(
            f.code == finding.code and (same_code_is_enough or f.message == finding.message)
            for f in entry.findings
        ):
            return
    journal.add_error(counterpart=counterpart, subject=subject, file_name=name, findings=[finding])
