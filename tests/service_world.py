"""The world ``toekgw run`` lives in, for the service tests: KSD delivering G68 files over a
Serviceplatformen directory, NemKonto answering from the embedded queue, SKAT answering
eIndkomst, and the independent check of what NemKonto got.

Time is the caller's: :meth:`World.act` (the counterparts answer, at ``now``) and
:meth:`World.arrive` (the deliveries due by ``now`` land in IN/).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.formats.g68.codec import decode_delivery
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import EindkomstSimulator
from toekgw.simulators.ksd import GeneratorSettings, write_delivery
from toekgw.simulators.ksd.g68 import manifest_path
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript
from toekgw.simulators.serviceplatform.platform import Platform

SUPPLIER = "29189846"
MUNICIPALITY = "101"
EIK_SE = "12345674"

CONFIG = f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"

[serviceplatform.localdir]
root = "platform/parties/toek"

[receive.g68]
senders = ["ksd"]
counterpart = "ksd"

[nemkonto.mq]
transport = "sqlite"
queue_db = "var/mq/queues.sqlite"

[nemkonto.authorities.{MUNICIPALITY}]
cvr = "{SUPPLIER}"
agreement_number = "4711"
debtor_registration = "1234"
debtor_account = "0001234567"

[eindkomst]
sender_se = "{EIK_SE}"
companies = ["{EIK_SE}"]
queue_db = "var/mq/queues.sqlite"
"""


@dataclass
class World:
    base: Path
    #: (when, file name, generator settings) not yet delivered.
    schedule: list[tuple[dt.datetime, str, GeneratorSettings]] = field(default_factory=list)
    delivered: dict[str, dt.datetime] = field(default_factory=dict)
    #: payment id -> when NemKonto first had it.
    at_nemkonto: dict[str, dt.datetime] = field(default_factory=dict)
    nemkonto_down: bool = False

    def __post_init__(self) -> None:
        self.platform = Platform(self.base / "platform")
        for party in ("ksd", "toek"):
            self.platform.add_party(party)
        self.var = self.base / "var"
        (self.var / "mq").mkdir(parents=True, exist_ok=True)
        self.config = self.base / "toekgw.toml"

    def write_config(self, extra: str = "") -> Path:
        self.config.write_text(CONFIG + extra, encoding="utf-8")
        return self.config

    def plan(self, when: dt.datetime, number: int, *, count: int, straks: bool = False) -> str:
        name = f"G68_{SUPPLIER}_{number:05d}.g68"
        settings = GeneratorSettings(
            count=count,
            seed=number,
            error_rate=0.02,
            today=when.date(),
            supplier_id=SUPPLIER,
            delivery_number=number,
            registration_place=MUNICIPALITY,
            straks=straks,
        )
        self.schedule.append((when, name, settings))
        return name

    def arrive(self, now: dt.datetime) -> None:
        """KSD uploads every delivery due by ``now``; the platform puts it in our IN/."""
        for when, name, settings in [s for s in self.schedule if s[0] <= now]:
            self.schedule.remove((when, name, settings))
            path = self.base / "ksd" / name
            path.parent.mkdir(exist_ok=True)
            write_delivery(path, settings)
            data = path.read_bytes()
            out = self.platform.party_dir("ksd") / "OUT"
            (out / name).write_bytes(data)
            trigger = Trigger(FileDescriptor(name, len(data), "ksd", ("toek",), f"ksd-{name}"))
            (out / f"{name}.trigger").write_bytes(build_trigger(trigger))
            self.platform.scan()
            self.delivered[name] = when

    def act(self, now: dt.datetime) -> None:
        """NemKonto and SKAT take their requests and answer, as of ``now``."""
        if self.nemkonto_down:
            return
        with SqliteQueue(self.var / "mq" / "queues.sqlite") as queue:
            nemkonto = NemKontoSimulator(
                queue, self.var / "nemkonto-ledger.sqlite", SimulatorScript(), clock=lambda: now
            )
            nemkonto.drain()
            nemkonto.send_bank_answers()
            nemkonto.ledger.close()
            skat = EindkomstSimulator(queue, self.var / "eindkomst-ledger.sqlite")
            skat.drain()
            skat.ledger.close()
        for payment_id in self.nemkonto_payments():
            self.at_nemkonto.setdefault(payment_id, now)

    def nemkonto_payments(self) -> Counter[str]:
        path = self.var / "nemkonto-ledger.sqlite"
        if not path.exists():
            return Counter()
        ledger = sqlite3.connect(path)
        try:
            return Counter(
                row[0]
                for row in ledger.execute(
                    "SELECT payment_id FROM outcome "
                    "WHERE coalesce(control_code, '') != 'DUPLICATE_PAYMENT'"
                )
            )
        finally:
            ledger.close()

    def sent_by_ksd(self, name: str) -> dict[str, int]:
        """payment key -> amount of each valid, unrecalled payment in delivery ``name``."""
        path = self.base / "ksd" / name
        manifest = json.loads(manifest_path(path).read_text())
        planted = {p["line"] for p in manifest["planted"]}
        lines = path.read_bytes().decode("iso-8859-1").splitlines()
        clean = [line for n, line in enumerate(lines, 1) if n not in planted]
        valid: dict[str, int] = {}
        for payment in decode_delivery(clean).payments:
            key = f"{SUPPLIER}:{payment.payment_ident}"
            if payment.is_recall:
                valid.pop(key, None)
            else:
                valid[key] = payment.amount
        return valid
