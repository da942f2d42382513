"""SF1490 Ydelsesindeks: TØK reports each effectuated payment to KOMBIT's benefit index.

:class:`~toekgw.adapters.ydelsesindeks.client.IndexClient` (zeep over KOMBIT's bundled WSDL,
SF1514 token in the header) and :func:`~toekgw.adapters.ydelsesindeks.report.report_effectuated`
(claimed in the journal before each call, retried on transport faults only, a refusal on
the error list); ``[ydelsesindeks]`` configures them. See docs/kombit.md.
"""

from toekgw.adapters.ydelsesindeks.client import (
    IndexClient,
    IndexRefused,
    IndexUnavailable,
    YdelsesindeksError,
)
from toekgw.adapters.ydelsesindeks.report import REPORT_KIND, ReportRun, report_effectuated
from toekgw.adapters.ydelsesindeks.settings import YDELSESINDEKS_SECTION, YdelsesindeksSettings

__all__ = [
    "REPORT_KIND",
    "YDELSESINDEKS_SECTION",
    "IndexClient",
    "IndexRefused",
    "IndexUnavailable",
    "ReportRun",
    "YdelsesindeksError",
    "YdelsesindeksSettings",
    "report_effectuated",
]
