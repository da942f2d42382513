"""Serviceplatformen: KOMBIT's SFTP file exchange, as the gateway's file-exchange protocol.

Files come to us in ``IN/`` with a ``.metadata`` description; our uploads to ``OUT/`` are
handed over with a ``.trigger`` and answered by a ``.sftpreceipt`` technical receipt. This
adapter gives the core's pipelines that protocol (:data:`SERVICEPLATFORM`), reads
``[serviceplatform]`` and the ``[receive.<name>]`` profiles, and opens the configured transport.

Receiving: :func:`receive_pipeline` (an :class:`~toekgw.gateway.inbound.InboundPipeline` over
Serviceplatformen); sending: :func:`send_file`.
"""

from __future__ import annotations

from toekgw.adapters.serviceplatform.exchange import SERVICEPLATFORM, ServiceplatformExchange
from toekgw.adapters.serviceplatform.pipelines import receive_pipeline, send_file
from toekgw.adapters.serviceplatform.settings import (
    RECEIVE,
    SERVICEPLATFORM_SECTION,
    ReceiveSettings,
    ServiceplatformSettings,
    no_own_options,
    open_transport,
    receive_profile,
    register_receive_options,
    serviceplatform_settings,
)

__all__ = [
    "RECEIVE",
    "SERVICEPLATFORM",
    "SERVICEPLATFORM_SECTION",
    "ReceiveSettings",
    "ServiceplatformExchange",
    "ServiceplatformSettings",
    "no_own_options",
    "open_transport",
    "receive_pipeline",
    "receive_profile",
    "register_receive_options",
    "send_file",
    "serviceplatform_settings",
]
