"""G68 from KSD: payment deliveries read, validated and received into the journal.

KSD sends municipal benefit payments as G68 deliveries (a Z300 start record, one G68 record per
payment in the floating or the fast form, a SLUTD end record with control totals) over
Serviceplatformen's SFTP. This adapter gives three things:

- :func:`read_delivery` / :class:`G68Reader`: read and validate a whole delivery from a file or a
  stream, with every finding, in flat memory (``toekgw validate g68``);
- :class:`G68Processor`: the inbound pipeline's processor that journals the clean payments of a
  delivery (``toekgw receive g68``; see :func:`toekgw.adapters.serviceplatform.receive_pipeline`);
- :class:`PaymentInstruction` and :data:`PAYMENT_ITEM`: a payment as the journal keeps it, and
  the states it moves through until NemKonto has paid it.

The codec itself (layouts, records, rules) is :mod:`toekgw.formats.g68`.
"""

from toekgw.adapters.g68.inbound import (
    G68_DELIVERY,
    PEEK_BYTES,
    G68Processor,
    ProgressFactory,
    delivery_key,
    looks_straks,
)
from toekgw.adapters.g68.payments import FINAL_STATES, PAYMENT_ITEM, PaymentInstruction
from toekgw.adapters.g68.reader import (
    G68Config,
    G68Reader,
    G68Validation,
    PaymentEntry,
    read_delivery,
)

__all__ = [
    "FINAL_STATES",
    "G68_DELIVERY",
    "PAYMENT_ITEM",
    "PEEK_BYTES",
    "G68Config",
    "G68Processor",
    "G68Reader",
    "G68Validation",
    "PaymentEntry",
    "PaymentInstruction",
    "ProgressFactory",
    "delivery_key",
    "looks_straks",
    "read_delivery",
]
