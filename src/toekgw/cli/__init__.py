"""The ``toekgw`` command for operators and testers."""
