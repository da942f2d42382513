"""The eIndkomst simulator: deliveries in over MQ or as files over Serviceplatformen (SF0770_B),
receipts (7100, the error/advice file) and tax cards out."""

from toekgw.simulators.eindkomst.files import ANSWER_NAMES, CardsTo, EindkomstFileSimulator
from toekgw.simulators.eindkomst.ledger import Decided, Ledger, Recorded
from toekgw.simulators.eindkomst.simulator import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
    SimulatorStats,
)

__all__ = [
    "ANSWER_NAMES",
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "CardsTo",
    "Decided",
    "EindkomstFileSimulator",
    "EindkomstSimulator",
    "Ledger",
    "Recorded",
    "SimulatorScript",
    "SimulatorStats",
]
