"""A simulator of the municipality's debtor system behind SF1590_B (``toekgw simulate debitor``)."""

from toekgw.simulators.debitor.app import (
    INDBETALING_PATH,
    REGISTRERING_PATH,
    DebitorSimulator,
    Faults,
    ScriptStep,
    Signer,
)
from toekgw.simulators.debitor.system import Claim, DebtorSystem, Refusal

__all__ = [
    "INDBETALING_PATH",
    "REGISTRERING_PATH",
    "Claim",
    "DebitorSimulator",
    "DebtorSystem",
    "Faults",
    "Refusal",
    "ScriptStep",
    "Signer",
]
