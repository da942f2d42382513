"""SF1490 Ydelsesindeks: effectuated payments as KOMBIT's benefit index reads them.

The schemas are KOMBIT's own (public: ``xsd/ydelsesindeks/``, from
``kombit/kosdy_infrastructureSamplesYdelse-java``); see docs/kombit.md.
"""

from toekgw.formats.ydelsesindeks.effektuering import (
    ACTION_IMPORT,
    NS,
    OPERATIONS_XSD,
    SERVICE_ENTITY_ID,
    WSDL,
    Effektuering,
    IndexAnswer,
    NotAnImport,
    build_answer,
    build_fault,
    effektuering_id,
    kroner,
    read_answer,
    read_import,
    to_zeep,
)

__all__ = [
    "ACTION_IMPORT",
    "NS",
    "OPERATIONS_XSD",
    "SERVICE_ENTITY_ID",
    "WSDL",
    "Effektuering",
    "IndexAnswer",
    "NotAnImport",
    "build_answer",
    "build_fault",
    "effektuering_id",
    "kroner",
    "read_answer",
    "read_import",
    "to_zeep",
]
