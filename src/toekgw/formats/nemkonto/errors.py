"""The one exception of the NemKonto codec: a document that is not valid, with its findings."""

from __future__ import annotations

from collections.abc import Sequence

from toekgw.formats.findings import Finding, mask_cpr_in_text

__all__ = ["NemKontoFormatError"]


class NemKontoFormatError(ValueError):
    """Raised by the builders and parsers; ``findings`` lists every problem (CPR masked)."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        shown = "; ".join(f"{f.where() or '-'}: {f.message}" for f in self.findings[:3])
        more = f" (and {len(self.findings) - 3} more)" if len(self.findings) > 3 else ""
        text = f"{message}: {shown}{more}" if shown else message
        super().__init__(mask_cpr_in_text(text))
