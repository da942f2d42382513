"""SF1490 tests' rig: the STS and benefit index simulators over real HTTP (uvicorn, in
threads), a journal with payments the bank has paid, and a toekgw.toml naming all of them
for the command (in-process or as a child process the crash tests kill)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.configs import write_config
from tests.crashkit import toekgw_child
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.pki import identity
from toekgw.adapters.kombit.settings import Credentials, KombitSettings
from toekgw.adapters.kombit.tokens import TokenClient
from toekgw.adapters.ydelsesindeks import IndexClient, YdelsesindeksSettings
from toekgw.gateway.httpserver import AsgiServer
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.simulators.sts import EXCHANGE_PATH, STS_PATH, StsSimulator
from toekgw.simulators.ydelsesindeks import INDEX_PATH, IndexFaults, IndexSimulator

CVR = "29189846"
SYSTEM = "3b0c5a52-4f0e-4d8e-9a57-1d2f6e0b7c41"
ISSUER = "https://sts.simulator.toekgw.local"


def pay(
    journal: SqliteJournal, count: int, *, paid: int | None = None, delivery: int = 1
) -> list[str]:
    """``count`` payments journaled, the first ``paid`` (default: all) at the bank; their keys."""
    first = 100 * (delivery - 1) + 1
    payments = [instruction(n, delivery=delivery) for n in range(first, first + count)]
    tid = journal_delivery(journal, payments, delivery=delivery)
    items = list(journal.items(tid))
    for item in items[: count if paid is None else paid]:
        for state in ("released", "sent", "received", "accepted", "at-bank"):
            journal.set_item_state(item.id, state, reason="test")
    return [p.business_key for p in payments]


@dataclass
class IndexRig:
    root: Path
    faults: IndexFaults = field(default_factory=IndexFaults)
    index_trusts: str = "sts-simulator"

    def __post_init__(self) -> None:
        self.stack = ExitStack()
        sts_identity = identity("sts-simulator")
        self.gateway = identity("toek-gateway")
        self.sts = StsSimulator(
            identity_key=sts_identity.key,
            identity_certificate=sts_identity.certificate,
            trusted=[self.gateway.certificate],
            cvrs=frozenset({CVR}),
            issuer=ISSUER,
        )
        self.index = IndexSimulator(
            ledger_path=self.root / "index" / "ledger.sqlite",
            trusted_sts=[identity(self.index_trusts).certificate],
            issuer=ISSUER,
            faults=self.faults,
        )
        self.sts_server = self.stack.enter_context(AsgiServer(self.sts.app()))
        self.index_server = self.stack.enter_context(AsgiServer(self.index.app()))
        self.journal_path = self.root / "journal.sqlite"
        self.settings = YdelsesindeksSettings(
            url=self.index_server.url + INDEX_PATH,
            system_uuid=SYSTEM,
            backoff_seconds=0.01,
            timeout_seconds=5,
        )

    def journal(self) -> SqliteJournal:
        return open_journal(self.journal_path)

    def clients(
        self, settings: YdelsesindeksSettings | None = None
    ) -> tuple[IndexClient, TokenClient]:
        kombit = KombitSettings(
            sts_url=self.sts_server.url + STS_PATH,
            exchange_url=self.sts_server.url + EXCHANGE_PATH,
        )
        me = Credentials(self.gateway.certificate, self.gateway.key)
        return IndexClient(settings or self.settings, me), TokenClient(kombit, me)

    def config(self) -> Path:
        cert, key = self.gateway.write_pem(self.root / "keys", "gateway")
        return write_config(
            self.root,
            f"""
[nemkonto]
[nemkonto.mq]
queue_db = "queues.sqlite"
[nemkonto.authorities.101]
cvr = "{CVR}"
agreement_number = "4711"
debtor_registration = "1234"
debtor_account = "0001234567"

[kombit]
sts_url = "{self.sts_server.url + STS_PATH}"
exchange_url = "{self.sts_server.url + EXCHANGE_PATH}"
certificate = "{cert}"
key = "{key}"

[ydelsesindeks]
url = "{self.settings.url}"
system_uuid = "{SYSTEM}"
backoff_seconds = 0.01
timeout_seconds = 5
""",
        )

    def child(self, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        return toekgw_child(list(args), self.config(), cwd=self.root, crash_at=crash_at)

    def close(self) -> None:
        self.stack.close()
        self.index.ledger.close()


@contextmanager
def index_rig(root: Path, **options: object) -> Iterator[IndexRig]:
    rig = IndexRig(root, **options)  # type: ignore[arg-type]
    try:
        yield rig
    finally:
        rig.close()
