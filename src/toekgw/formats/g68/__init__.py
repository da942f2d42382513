"""G68: payment transactions from KSD to KMD Udbetaling (Z300, G68 floating/fast, SLUTD).

Layouts live in :mod:`toekgw.formats.g68.layouts` (the one place to change when the official
layout turns up), typed records in :mod:`toekgw.formats.g68.records`, reading and writing in
:mod:`toekgw.formats.g68.codec`, the rules in :mod:`toekgw.formats.g68.rules`, and the streaming
scan of a whole delivery in :mod:`toekgw.formats.g68.delivery`.
"""

from toekgw.formats.g68.codec import (
    FAST,
    FLOATING,
    G68DecodeError,
    decode_delivery,
    decode_header,
    decode_trailer,
    encode_delivery,
    encode_header,
    encode_trailer,
    payment_codec,
)
from toekgw.formats.g68.delivery import DeliveryScan, G68Validation, PaymentEntry
from toekgw.formats.g68.layouts import MAX_PAYMENTS
from toekgw.formats.g68.records import G68Delivery, G68Form, G68Header, G68Payment, G68Trailer
from toekgw.formats.g68.rules import G68Config, PaymentKey

__all__ = [
    "FAST",
    "FLOATING",
    "MAX_PAYMENTS",
    "DeliveryScan",
    "G68Config",
    "G68DecodeError",
    "G68Delivery",
    "G68Form",
    "G68Header",
    "G68Payment",
    "G68Trailer",
    "G68Validation",
    "PaymentEntry",
    "PaymentKey",
    "decode_delivery",
    "decode_header",
    "decode_trailer",
    "encode_delivery",
    "encode_header",
    "encode_trailer",
    "payment_codec",
]
