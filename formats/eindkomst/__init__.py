"""eIndkomst: income reports to SKAT, receipts and tax cards (pure codecs and rules, no I/O).

``layouts`` holds every record layout and ``fieldnumbers`` the field-number table: the only
places where positions and numbers live. See ``docs/eindkomst.md``.
"""
