"""The SF1490 flow as the command and ``toekgw run`` use it: one reporter per process.

:class:`Reporting` holds the token client and the SOAP client (zeep parses the WSDL once, the
token is cached across runs); :meth:`Reporting.run` takes the flow's lock and the journal and
reports what is due (:func:`~toekgw.adapters.ydelsesindeks.report.report_effectuated`).
"""

from __future__ import annotations

import dataclasses
from contextlib import closing

from toekgw.adapters.kombit.settings import KOMBIT_SECTION, load_credentials
from toekgw.adapters.kombit.tokens import TokenClient
from toekgw.adapters.nemkonto.settings import NEMKONTO_SECTION
from toekgw.adapters.ydelsesindeks.client import IndexClient
from toekgw.adapters.ydelsesindeks.report import ReportRun, report_effectuated
from toekgw.adapters.ydelsesindeks.settings import YDELSESINDEKS_SECTION, YdelsesindeksSettings
from toekgw.gateway.config import Settings
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import open_journal
from toekgw.gateway.tokens import Clock, utc_now

__all__ = ["FLOW", "Reporting"]

FLOW = "ydelsesindeks-report"


@dataclasses.dataclass
class Reporting:
    settings: Settings
    index: YdelsesindeksSettings
    tokens: TokenClient
    client: IndexClient

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = utc_now) -> Reporting:
        """Needs ``[ydelsesindeks]``, ``[kombit]`` and ``[nemkonto]`` (the CVR numbers)."""
        index = settings.require(YDELSESINDEKS_SECTION)
        settings.require(NEMKONTO_SECTION)
        kombit = settings.require(KOMBIT_SECTION)
        credentials = load_credentials(kombit)
        return cls(
            settings,
            index,
            TokenClient(kombit, credentials, clock=clock),
            IndexClient(index, credentials, clock=clock),
        )

    def run(self) -> ReportRun:
        authorities = self.settings.require(NEMKONTO_SECTION).authorities
        with (
            flow_lock(
                lock_path(self.settings.staging, FLOW),
                "ydelsesindeks report",
                journal=self.settings.journal,
            ),
            closing(open_journal(self.settings.journal, verify=True)) as journal,
        ):
            return report_effectuated(
                journal,
                self.client,
                self.tokens,
                self.index,
                {place: a.cvr for place, a in authorities.items()},
            )
