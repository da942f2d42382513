"""Transports: small protocols with a real implementation and a local twin each."""
