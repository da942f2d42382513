"""The core: validate, chunk, journal, send/receive, reconcile. Knows no concrete counterpart."""
