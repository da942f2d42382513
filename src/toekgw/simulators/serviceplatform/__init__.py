"""A local Serviceplatformen: SFTP file exchange with triggers, metadata, receipts and faults."""

from __future__ import annotations

from toekgw.simulators.serviceplatform.platform import Delivery, Faults, Platform
from toekgw.simulators.serviceplatform.server import ServiceplatformSimulator, ensure_key

__all__ = ["Delivery", "Faults", "Platform", "ServiceplatformSimulator", "ensure_key"]
