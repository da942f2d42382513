"""A simulator of KOMBIT's security token service (SF1514) and token exchange (SF1516)."""

from toekgw.simulators.sts.app import EXCHANGE_PATH, STS_PATH, StsSimulator

__all__ = ["EXCHANGE_PATH", "STS_PATH", "StsSimulator"]
