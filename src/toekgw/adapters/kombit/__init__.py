"""KOMBIT's shared municipal access control: security tokens (SF1514) and access tokens (SF1516).

``[kombit]`` in the configuration (:data:`KOMBIT_SECTION`, :class:`KombitSettings`) names the
STS, the token exchange and the gateway's certificate and key (:func:`load_credentials`);
:class:`TokenClient` fetches, caches (by what each token says, one fetch per key however many
callers) and renews tokens for any KOMBIT service, and retries a call once with a fresh token
when the counterpart refuses one (:class:`TokenRejected`). See docs/kombit.md.
"""

from toekgw.adapters.kombit.settings import (
    KOMBIT_SECTION,
    Credentials,
    KombitSettings,
    load_credentials,
)
from toekgw.adapters.kombit.tokens import StsUnavailable, TokenClient, TokenError, TokenRejected

__all__ = [
    "KOMBIT_SECTION",
    "Credentials",
    "KombitSettings",
    "StsUnavailable",
    "TokenClient",
    "TokenError",
    "TokenRejected",
    "load_credentials",
]
