"""ØiR (KOMBIT's economy interfaces): SF1590_A finance vouchers and the ERP's answers, and
SF7002 sortiment deliveries. Typed records, streaming writers, validated readers. No public
schema exists for any of them: the schemas in ``xsd/oir`` are ours (see ``docs/oir.md``)."""

from toekgw.formats.oir._xml import OirDocumentError, format_amount, parse_amount
from toekgw.formats.oir.model import (
    Account,
    AccountCodeError,
    Delivery,
    Klasse,
    OirFormatError,
    Party,
    Posting,
    RemovedKlasse,
    Side,
    SortimentDelivery,
    UnbalancedVoucher,
    Voucher,
    VoucherAnswer,
    VoucherError,
    VoucherStatus,
)
from toekgw.formats.oir.sortiment import build_sortiment, read_sortiment
from toekgw.formats.oir.status import BatchAnswer, build_status, read_status
from toekgw.formats.oir.vouchers import (
    BATCH_TAIL,
    BatchHeader,
    batch_head,
    read_batch,
    read_batch_header,
    validate_batch,
    voucher_xml,
)

__all__ = [
    "BATCH_TAIL",
    "Account",
    "AccountCodeError",
    "BatchAnswer",
    "BatchHeader",
    "Delivery",
    "Klasse",
    "OirDocumentError",
    "OirFormatError",
    "Party",
    "Posting",
    "RemovedKlasse",
    "Side",
    "SortimentDelivery",
    "UnbalancedVoucher",
    "Voucher",
    "VoucherAnswer",
    "VoucherError",
    "VoucherStatus",
    "batch_head",
    "build_sortiment",
    "build_status",
    "format_amount",
    "parse_amount",
    "read_batch",
    "read_batch_header",
    "read_sortiment",
    "read_status",
    "validate_batch",
    "voucher_xml",
]
