"""Pure codecs: bytes <-> typed records. No I/O, no state, no transport.

``formats`` imports nothing of the project but ``xsd``.
"""
