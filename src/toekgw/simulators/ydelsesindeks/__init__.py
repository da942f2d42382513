"""SF1490's benefit index, locally: takes effectuation reports as KOMBIT's index would."""

from toekgw.simulators.ydelsesindeks.app import INDEX_PATH, IndexFaults, IndexSimulator
from toekgw.simulators.ydelsesindeks.ledger import IndexLedger, Reported

__all__ = ["INDEX_PATH", "IndexFaults", "IndexLedger", "IndexSimulator", "Reported"]
