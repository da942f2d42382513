"""Structured logs for central logging: one JSON object per line, CPR numbers masked.

Each line holds ``ts`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``; a record logged with ``extra={"correlation_id": ...}`` or inside
:func:`correlation` (the transmission it concerns) carries it as ``correlation_id``, one
with ``extra={"job": ...}`` (the service's job) as ``job``, and a record with an exception
carries the formatted traceback as ``exc``. The message and the traceback pass
:func:`~toekgw.formats.findings.mask_cpr_in_text` here, whatever filters the handler has.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from toekgw.formats.findings import mask_cpr_in_text

__all__ = [
    "CORRELATION_FIELD",
    "JOB_FIELD",
    "CorrelationFilter",
    "JsonFormatter",
    "correlation",
    "current_correlation",
]

#: The ``extra`` key that ties a log line to a transmission.
CORRELATION_FIELD = "correlation_id"
#: The ``extra`` key that ties a log line to a job of ``toekgw run``.
JOB_FIELD = "job"


_CURRENT: ContextVar[str | None] = ContextVar("toekgw_correlation_id", default=None)


@contextmanager
def correlation(ident: str | None) -> Iterator[None]:
    """Every line logged inside the block (in this thread or task) carries ``ident``: the
    id of the transmission being worked on (see :class:`CorrelationFilter`)."""
    token = _CURRENT.set(ident)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_correlation() -> str | None:
    return _CURRENT.get()


class CorrelationFilter(logging.Filter):
    """Gives a record logged inside :func:`correlation` that block's id (unless it names
    one of its own, ``extra={"correlation_id": ...}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, CORRELATION_FIELD, None) is None:
            ident = _CURRENT.get()
            if ident is not None:
                setattr(record, CORRELATION_FIELD, ident)
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (no newline inside: ``ensure_ascii`` escapes)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_cpr_in_text(record.getMessage()),
        }
        correlation = getattr(record, CORRELATION_FIELD, None)
        if correlation is not None:
            entry[CORRELATION_FIELD] = mask_cpr_in_text(str(correlation))
        job = getattr(record, JOB_FIELD, None)
        if job is not None:
            entry[JOB_FIELD] = mask_cpr_in_text(str(job))  # a job is named in the configuration
        if record.exc_info:
            entry["exc"] = mask_cpr_in_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=True)
