"""The ØiR flows as one call each, from a loaded configuration: what ``toekgw oir ...``,
``toekgw sortiment receive`` and ``toekgw run`` run, each under its own single-flight lock on a
journal that passes its integrity check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

from toekgw.adapters.oir.intake import (
    SORTIMENT_KIND,
    STATUS_KIND,
    Intake,
    SortimentProcessor,
    StatusProcessor,
)
from toekgw.adapters.oir.intake import apply_received as _apply
from toekgw.adapters.oir.send import SentBatch, send_batches
from toekgw.adapters.oir.settings import oir_settings
from toekgw.adapters.oir.vouchers import BuildSummary, build_vouchers
from toekgw.adapters.serviceplatform import (
    no_own_options,
    open_transport,
    receive_pipeline,
    receive_profile,
    register_receive_options,
    serviceplatform_settings,
)
from toekgw.gateway.config import Settings
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.inbound import Outcome
from toekgw.gateway.journal import SqliteJournal, open_journal

__all__ = ["PROFILES", "Received", "build", "flow_name", "receive", "send"]

#: ``[receive.<name>]`` profile -> the processor of its files and the kind they are journaled as.
_PROFILES = {
    "erp": (StatusProcessor, STATUS_KIND),
    "sortiment": (SortimentProcessor, SORTIMENT_KIND),
}
#: The profiles the ØiR receivers read: ``senders`` and ``counterpart`` only, any other key is
#: refused when the configuration is loaded.
PROFILES = tuple(_PROFILES)
for _name in PROFILES:
    register_receive_options(_name, no_own_options)


#: A lock several commands share, named by all of them in its refusal.
_SHARED = {"oir-build": "oir build, regenerate or manual"}


def flow_name(flow: str) -> str:
    """The lock ``flow`` as the operator knows it, for "another ... is running"."""
    return _SHARED.get(flow, flow.replace("-", " "))


@contextmanager
def _flow(settings: Settings, flow: str) -> Iterator[SqliteJournal]:
    with (
        flow_lock(lock_path(settings.staging, flow), flow_name(flow), journal=settings.journal),
        closing(open_journal(settings.journal, verify=True)) as journal,
    ):
        yield journal


def build(settings: Settings) -> BuildSummary:
    """Book every payment event not yet on a voucher (``toekgw oir build``)."""
    with _flow(settings, "oir-build") as journal:
        return build_vouchers(journal, oir_settings(settings))


def send(settings: Settings, *, retry_failed: bool = False) -> list[SentBatch]:
    """Send the built vouchers in batches (``toekgw oir send``)."""
    sp = serviceplatform_settings(settings)
    with _flow(settings, "oir-send") as journal, open_transport(sp) as transport:
        return send_batches(
            journal,
            transport,
            oir_settings(settings),
            sp,
            settings.staging / "erp" / "outgoing",
            retry_failed=retry_failed,
        )


@dataclass(frozen=True, slots=True)
class Received:
    outcomes: list[Outcome]
    intake: Intake


def receive(settings: Settings, profile_name: str) -> Received:
    """One poll of the ``[receive.erp]`` (status) or ``[receive.sortiment]`` files, then every
    received file applied to the books (``toekgw oir receive``, ``toekgw sortiment receive``)."""
    processor, kind = _PROFILES[profile_name]
    profile = receive_profile(settings, profile_name)
    sp = serviceplatform_settings(settings)
    with _flow(settings, f"receive-{profile_name}") as journal:
        with open_transport(sp) as transport:
            outcomes = receive_pipeline(
                journal,
                transport,
                processor(profile),
                party=sp.party,
                senders=profile.senders,
                staging=settings.staging,
                in_dir=sp.in_dir,
                after_receive=sp.after_receive,
                archive_dir=sp.archive_dir,
            ).poll_once()
        return Received(outcomes, _apply(journal, kind, profile.counterpart))
