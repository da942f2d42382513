"""The eIndkomst simulator: deliveries in over MQ, receipts (7100, the error/advice
file) and tax cards out."""

from toekgw.simulators.eindkomst.ledger import Decided, Ledger, Recorded
from toekgw.simulators.eindkomst.simulator import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
    SimulatorStats,
)

__all__ = [
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "Decided",
    "EindkomstSimulator",
    "Ledger",
    "Recorded",
    "SimulatorScript",
    "SimulatorStats",
]
