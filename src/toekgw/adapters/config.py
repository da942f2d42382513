"""The configuration file with every built-in adapter's section known.

:func:`toekgw.gateway.config.load_settings` reads ``[journal]``, ``[staging]`` and whatever
sections are registered; importing this module registers the built-in ones (in the order their
tables are read): ``[serviceplatform]``, ``[receive.*]``, ``[eindkomst]``, ``[nemkonto]``,
``[kombit]``, ``[beskedfordeler]``, ``[debitor]``, ``[payments]``, ``[oir]``, ``[tok]``,
``[ydelsesindeks]``, the service's ``[run]``, ``[roles]`` and ``[retention]``.
An embedding application with an adapter of its own registers its section
(:func:`toekgw.gateway.config.register_section`) before it loads the file.
"""

from __future__ import annotations

from pathlib import Path

from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION
from toekgw.adapters.debitor.settings import DEBITOR_SECTION
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.adapters.kombit.settings import KOMBIT_SECTION
from toekgw.adapters.nemkonto.settings import NEMKONTO_SECTION
from toekgw.adapters.oir.settings import OIR_SECTION
from toekgw.adapters.payments.settings import PAYMENTS_SECTION
from toekgw.adapters.serviceplatform.settings import RECEIVE, SERVICEPLATFORM_SECTION
from toekgw.adapters.tok.settings import TOK_SECTION
from toekgw.adapters.ydelsesindeks.settings import YDELSESINDEKS_SECTION
from toekgw.gateway.config import ConfigError, Settings
from toekgw.gateway.config import load_settings as _load
from toekgw.gateway.retention_config import RETENTION_SECTION
from toekgw.gateway.roles import ROLES_SECTION
from toekgw.gateway.service_config import RUN_SECTION

__all__ = ["BUILTIN_SECTIONS", "ConfigError", "Settings", "load_settings"]

BUILTIN_SECTIONS = (
    SERVICEPLATFORM_SECTION,
    RECEIVE,
    EINDKOMST_SECTION,
    NEMKONTO_SECTION,
    KOMBIT_SECTION,
    BESKEDFORDELER_SECTION,
    DEBITOR_SECTION,
    PAYMENTS_SECTION,
    OIR_SECTION,
    TOK_SECTION,
    YDELSESINDEKS_SECTION,
    RUN_SECTION,
    ROLES_SECTION,
    RETENTION_SECTION,
)


def load_settings(path: str | Path | None = None) -> Settings:
    """``path`` (else ``$TOEKGW_CONFIG``, else ``./toekgw.toml``) with every registered
    section: the built-in adapters' and any an application registered."""
    return _load(path)
