"""Payment operations: failed payments handled, the payment controls, payments outside
NemKonto, and the reconciliation of original and follow-up payments (``toekgw payments``).

::

    desk = PaymentDesk(journal, flow, payments_settings(settings), acting_identity(), now)
    desk.resend("12345678:000000000000004711", "the recipient has a NemKonto account now")
    release(journal, flow, today, controls=PaymentControls(payments_settings(settings), now))

See ``docs/operators.md`` (the commands) and ``docs/developers.md``.
"""

from toekgw.adapters.payments.actions import ActionRefused, PaymentDesk
from toekgw.adapters.payments.controls import CONTROL_SUBJECT, PaymentControls
from toekgw.adapters.payments.query import PaymentQuery, find_payments, follow_ups, records_of
from toekgw.adapters.payments.reconcile import PaymentsReconciliation, reconcile_payments
from toekgw.adapters.payments.records import FOLLOW_UP_KIND, RECORDS_KIND, Record, records
from toekgw.adapters.payments.report import (
    control_runs,
    duplicate_scan,
    outside_nemkonto,
    sign_off,
)
from toekgw.adapters.payments.settings import (
    PAYMENTS_SECTION,
    BenefitType,
    MunicipalityPolicy,
    PaymentsSettings,
    payments_settings,
)

__all__ = [
    "CONTROL_SUBJECT",
    "FOLLOW_UP_KIND",
    "PAYMENTS_SECTION",
    "RECORDS_KIND",
    "ActionRefused",
    "BenefitType",
    "MunicipalityPolicy",
    "PaymentControls",
    "PaymentDesk",
    "PaymentQuery",
    "PaymentsReconciliation",
    "PaymentsSettings",
    "Record",
    "control_runs",
    "duplicate_scan",
    "find_payments",
    "follow_ups",
    "outside_nemkonto",
    "payments_settings",
    "reconcile_payments",
    "records",
    "records_of",
    "sign_off",
]
