"""KOMBIT's shared security and messaging formats: WS-Security signatures, the SF1514 security
token service (OIO WS-Trust) and its SAML 2.0 holder-of-key assertions.

Pure codecs: they build and read bytes, sign and verify with keys they are given, and never do
I/O. See docs/kombit.md for which parts are confirmed, public-impl or ours.
"""
