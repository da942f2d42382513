"""Logging that cannot leak a CPR number: a filter that masks every record it passes."""

from __future__ import annotations

import logging

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.jsonlog import CORRELATION_FIELD, CorrelationFilter

__all__ = ["CprMaskingFilter", "MaskingFormatter", "install"]


class CprMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cpr_in_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


class MaskingFormatter(logging.Formatter):
    """The text log format, with CPR numbers masked in tracebacks too (the filter sees only
    the message), and a line about a transmission prefixed with the first 8 characters of
    its correlation id: ``[6c0b766e] put on NKS.PAYMENT.REQUEST ...``."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        ident = getattr(record, CORRELATION_FIELD, None)
        if ident is None:
            return super().formatMessage(record)
        plain = record.message
        record.message = f"[{mask_cpr_in_text(str(ident))[:8]}] {plain}"
        try:
            return super().formatMessage(record)
        finally:
            record.message = plain

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return mask_cpr_in_text(super().formatException(ei))


def install(logger: logging.Logger | None = None) -> None:
    """Mask CPR numbers in everything the given logger's handlers emit (root by default),
    and give each line the correlation id of the transmission it was logged about."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, CprMaskingFilter) for f in handler.filters):
            handler.addFilter(CprMaskingFilter())
        if not any(isinstance(f, CorrelationFilter) for f in handler.filters):
            handler.addFilter(CorrelationFilter())
