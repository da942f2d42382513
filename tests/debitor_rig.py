"""TØK's claims to the debtor system, end to end on real servers: the STS simulator and the
debtor simulator under uvicorn, TØK's callback service over HTTPS, the TØK intake on the
embedded broker and one SQLite journal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.configs import write_config
from tests.pki import identity
from tests.tok_helpers import CPR, PLACES, Names, clock, header, send, statuses
from toekgw.adapters.debitor import (
    CALLBACK_PATH,
    CallbackService,
    CallbackSettings,
    ClaimSender,
    DebitorClient,
    Endpoints,
)
from toekgw.adapters.kombit.settings import Credentials, KombitSettings
from toekgw.adapters.kombit.tokens import TokenClient
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.formats.tok import ClaimCreate, Party, PartyKind, SubClaim
from toekgw.gateway.httpserver import AsgiServer, TlsFiles
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.debitor import (
    INDBETALING_PATH,
    REGISTRERING_PATH,
    DebitorSimulator,
    DebtorSystem,
    Signer,
)
from toekgw.simulators.sts import EXCHANGE_PATH, STS_PATH, StsSimulator

CVR = "29189846"
SIGNER = Signer(identity("debtor-system").key, identity("debtor-system").certificate)


def claim(claim_id: str, amount_ore: int = 1_000_00, *, sender: str = "KP") -> ClaimCreate:
    day = dt.date(2026, 11, 1)
    return ClaimCreate(
        header(sender=sender),
        claim_id,
        Party(PartyKind.CPR, CPR),
        "TILBAGEBET",
        amount_ore,
        day,
        day.replace(day=30),
        day,
        dt.date(2027, 1, 1),
        (SubClaim(f"{claim_id}a", "A", amount_ore - 100_00), SubClaim(f"{claim_id}b", "B", 100_00)),
    )


@dataclasses.dataclass
class Rig:
    tmp: Path
    journal_path: Path
    sts_url: str
    debtor_url: str
    callback_url: str
    tls: TlsFiles
    system: DebtorSystem
    simulator: DebitorSimulator
    names: Names = dataclasses.field(default_factory=Names)

    def broker(self) -> SqliteBroker:
        return SqliteBroker(self.tmp / "broker.sqlite")

    def send_tok(self, *messages: object) -> None:
        """The case system sends; the intake journals them ``received``."""
        broker = self.broker()
        journal = open_journal(self.journal_path)
        try:
            for message in messages:
                send(broker, self.names.queues[message.interface], message)  # type: ignore[attr-defined]
            Intake(journal, broker, registration_places=PLACES, now=clock,
                   queues=self.names.queues).take()  # fmt: skip
        finally:
            journal.close()
            broker.close()

    def statuses(self, sender: str = "KP") -> list[tuple[str | None, str]]:
        broker = self.broker()
        journal = open_journal(self.journal_path)
        try:
            StatusPublisher(journal, journal, broker, now=clock,
                            reply_queue=self.names.reply).publish_due()  # fmt: skip
            return [
                (s.business_key, s.state) for s in statuses(broker, self.names.reply_of(sender))
            ]
        finally:
            journal.close()
            broker.close()

    def client(
        self,
        *,
        session: requests.Session | None = None,
        signer: str = "toek-gateway",
        **endpoints: object,
    ) -> DebitorClient:
        """The gateway's client; ``signer``: whose key signs the calls (the token's holder is
        always the gateway), ``session``: the HTTP session (a test's may alter what is sent)."""
        me = identity("toek-gateway")
        tokens = TokenClient(
            KombitSettings(
                sts_url=self.sts_url + STS_PATH, exchange_url=self.sts_url + EXCHANGE_PATH
            ),
            Credentials(me.certificate, me.key),
        )
        settings = Endpoints(
            self.debtor_url + REGISTRERING_PATH,
            self.debtor_url + INDBETALING_PATH,
            timeout_seconds=float(str(endpoints.pop("timeout_seconds", 10))),
            backoff_seconds=0.01,
            **endpoints,  # type: ignore[arg-type]
        )
        signing = Credentials(identity(signer).certificate, identity(signer).key)
        return DebitorClient(settings, tokens, signing, session=session, sleep=lambda _: None)

    def write_config(self) -> Path:
        """A ``toekgw.toml`` in the rig's directory: its journal, the STS and the debtor system."""
        cert, key = identity("toek-gateway").write_pem(self.tmp / "pki", "gateway")
        return write_config(
            self.tmp,
            f"""
[kombit]
sts_url = "{self.sts_url}{STS_PATH}"
certificate = "{cert}"
key = "{key}"
[debitor.afsend]
registrering_url = "{self.debtor_url}{REGISTRERING_PATH}"
indbetaling_url = "{self.debtor_url}{INDBETALING_PATH}"
timeout_seconds = 10
backoff_seconds = 0.05
""",
        )

    def sender(
        self, journal: SqliteJournal, now: Callable[[], dt.datetime] | None = None, **client: Any
    ) -> ClaimSender:
        return ClaimSender(
            journal, self.client(**client), now=now or (lambda: dt.datetime.now(dt.UTC))
        )


@contextmanager
def debtor_rig(tmp: Path) -> Iterator[Rig]:
    journal_path = tmp / "journal.sqlite"
    tls_cert, tls_key = identity("localhost-callback").write_pem(tmp / "tls", "server")
    tls = TlsFiles(tls_cert, tls_key)
    sts_identity = identity("sts-simulator")
    sts = StsSimulator(
        identity_key=sts_identity.key,
        identity_certificate=sts_identity.certificate,
        trusted=[identity("toek-gateway").certificate],
        cvrs=frozenset({CVR}),
    )
    callback = CallbackService(
        journal_path,
        CallbackSettings(
            trusted=[SIGNER.certificate], issuer=SIGNER.issuer, audience=SIGNER.audience
        ),
    )
    with ExitStack() as stack:
        sts_server = stack.enter_context(AsgiServer(sts.app()))
        callback_server = stack.enter_context(AsgiServer(callback, tls=tls))
        stack.callback(callback.close)
        callback_url = callback_server.url.replace("127.0.0.1", "localhost") + CALLBACK_PATH
        system = DebtorSystem()
        simulator = DebitorSimulator(
            system,
            signer=SIGNER,
            callback_url=callback_url,
            callback_ca=tls_cert,
            trusted_sts=[sts_identity.certificate],
            sts_issuer=sts.issuer,
        )
        debtor_server = stack.enter_context(AsgiServer(simulator.app()))
        yield Rig(tmp, journal_path, sts_server.url, debtor_server.url, callback_url, tls,
                  system, simulator)  # fmt: skip


def new_id() -> str:
    return str(uuid.uuid4())
