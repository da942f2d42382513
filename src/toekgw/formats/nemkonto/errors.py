"""The one exception of the NemKonto codec: a document that is not valid, with its findings."""

from __future__ import annotations

from collections.abc import Sequence

from toekgw.formats.findings import Finding, first_and_more, mask_cpr_in_text

__all__ = ["NemKontoFormatError"]


class NemKontoFormatError(ValueError):
    """Raised by the builders and parsers; ``findings`` lists every problem (CPR masked)."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        shown = first_and_more([f"{f.where() or '-'}: {f.message}" for f in self.findings], 3)
        text = f"{message}: {shown}" if shown else message
        super().__init__(mask_cpr_in_text(text))
