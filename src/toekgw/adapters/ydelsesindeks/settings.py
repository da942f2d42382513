"""``[ydelsesindeks]``: where SF1490's benefit index is and who reports to it.

``url`` is the index's endpoint (KOMBIT's test index:
``https://ydelsesindeks.eksterntest-stoettesystemerne.dk/ydelseindeks/6``); ``service`` the
entity id a token is asked for (public: ``http://entityid.kombit.dk/service/ydi/ydelseindeks/6``);
``system_uuid`` the gateway's IT-system UUID in KOMBIT's administration module (the index
records it as the one who registered); ``ca`` verifies the index's TLS certificate (default:
the system's trust store); ``attempts`` how often one report is tried on a transport fault
(with backoff from ``backoff_seconds``) before the run leaves it for the next;
``timeout_seconds`` per call. Tokens come from ``[kombit]``; the municipalities' CVR numbers
from ``[nemkonto.authorities]`` (the payments reported went through NemKonto).
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from toekgw.formats.ydelsesindeks import SERVICE_ENTITY_ID
from toekgw.gateway.config import (
    REQUIRED,
    ConfigError,
    CoreSettings,
    Section,
    Table,
    register_section,
)

__all__ = ["YDELSESINDEKS_SECTION", "YdelsesindeksSettings"]


@dataclasses.dataclass(frozen=True, slots=True)
class YdelsesindeksSettings:
    url: str
    system_uuid: str
    service: str = SERVICE_ENTITY_ID
    counterpart: str = "ydelsesindeks"
    ca: Path | None = None
    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0


def _parse(table: Table, core: CoreSettings) -> YdelsesindeksSettings:
    url = table.text("url", REQUIRED)
    system = table.text("system_uuid", REQUIRED)
    try:
        uuid.UUID(str(system))
    except ValueError:
        raise ConfigError(f"{table.where('system_uuid')}: {system!r} is not a UUID") from None
    settings = YdelsesindeksSettings(
        url=str(url),
        system_uuid=str(system),
        service=table.text("service", SERVICE_ENTITY_ID),
        counterpart=table.text("counterpart", "ydelsesindeks"),
        ca=table.path("ca"),
        attempts=table.integer("attempts", 3, 1, 20),
        backoff_seconds=table.seconds("backoff_seconds", 2.0),
        timeout_seconds=table.seconds("timeout_seconds", 30.0),
    )
    table.finish()
    return settings


YDELSESINDEKS_SECTION = register_section(
    Section(
        "ydelsesindeks",
        _parse,
        hint="it names SF1490's benefit index; see docs/kombit.md",
    )
)
