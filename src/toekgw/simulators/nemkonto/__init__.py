"""The NemKonto simulator: payment bundles in over MQ, Kvitteringssvar and Retursvar out."""

from toekgw.simulators.nemkonto.ledger import Decision, Ledger, PaymentOutcome, RecordedBundle
from toekgw.simulators.nemkonto.simulator import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    NO_ACCOUNT_ACTIONS,
    NemKontoSimulator,
    PoisonMessage,
    SimulatorScript,
    SimulatorStats,
)

__all__ = [
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "NO_ACCOUNT_ACTIONS",
    "Decision",
    "Ledger",
    "NemKontoSimulator",
    "PaymentOutcome",
    "PoisonMessage",
    "RecordedBundle",
    "SimulatorScript",
    "SimulatorStats",
]
