"""Logging that cannot leak a CPR number: a filter that masks every record it passes."""

from __future__ import annotations

import logging

from toekgw.formats.findings import mask_cpr_in_text

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
    the message)."""

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return mask_cpr_in_text(super().formatException(ei))


def install(logger: logging.Logger | None = None) -> None:
    """Mask CPR numbers in everything the given logger's handlers emit (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, CprMaskingFilter) for f in handler.filters):
            handler.addFilter(CprMaskingFilter())
