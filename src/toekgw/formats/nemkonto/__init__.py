"""NemKonto payment bundles (NKSBetaling) and answers (Kvitteringssvar 0/1, Retursvar
2/5/7/8/9 in their 2006 ``nks``/``ebms``/``swift`` documents): typed records, builders, parsers
and validation. What each schema holds is marked confirmed / public-impl / ours in its header
(see ``xsd/nemkonto``)."""

from toekgw.formats.nemkonto.answer import build_answer, parse_answer, read_answer
from toekgw.formats.nemkonto.bundle import (
    build_bundle,
    bundle_overhead,
    format_amount,
    parse_amount,
    parse_bundle,
    payment_findings,
    payment_fragment,
    read_bundle,
    validate_bundle,
)
from toekgw.formats.nemkonto.errors import NemKontoFormatError
from toekgw.formats.nemkonto.model import (
    Account,
    Address,
    AnswerType,
    BundleAnswer,
    OriginalTransaction,
    PaymentBundle,
    PaymentOrder,
    PaymentState,
    PaymentStatus,
    PaymentStatuses,
    RecipientId,
    RecipientKind,
)
from toekgw.formats.nemkonto.stop import StopRequest, build_stop, is_stop, read_stop

__all__ = [
    "Account",
    "Address",
    "AnswerType",
    "BundleAnswer",
    "NemKontoFormatError",
    "OriginalTransaction",
    "PaymentBundle",
    "PaymentOrder",
    "PaymentState",
    "PaymentStatus",
    "PaymentStatuses",
    "RecipientId",
    "RecipientKind",
    "StopRequest",
    "build_answer",
    "build_bundle",
    "build_stop",
    "bundle_overhead",
    "format_amount",
    "is_stop",
    "parse_amount",
    "parse_answer",
    "parse_bundle",
    "payment_findings",
    "payment_fragment",
    "read_answer",
    "read_bundle",
    "read_stop",
    "validate_bundle",
]
