"""``[receive.g68]``'s own options, read once for the receiver and for the configuration's check.

``max_age_days`` (default 60: how many days in the past a payment date may be),
``dagpenge_units`` (paying units that pay dagpenge, four digits each; default 5110, 5120) and
``straks_marker`` (default ``"STRAKS"``: a file whose name holds it is taken first). Besides
``senders`` and ``counterpart`` no other key is known. :func:`g68_options` reads them;
importing this module registers it with the ``[receive.*]`` table, so a wrong one is refused
when the configuration is loaded (``toekgw doctor``, ``toekgw run``, every command), with the
same message ``toekgw receive g68`` gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toekgw.adapters.serviceplatform.settings import (
    ReceiveSettings,
    refuse_unknown_options,
    register_receive_options,
)
from toekgw.formats.g68.rules import DEFAULT_DAGPENGE_UNITS, DEFAULT_MAX_AGE_DAYS, is_paying_unit
from toekgw.formats.g68.rules import MAX_AGE_DAYS_LIMIT as LIMIT
from toekgw.gateway.config import ConfigError

__all__ = ["PROFILE", "G68Options", "g68_options"]

#: The ``[receive.<name>]`` profile G68 deliveries are received by.
PROFILE = "g68"
_OPTIONS = ("max_age_days", "dagpenge_units", "straks_marker")


@dataclass(frozen=True, slots=True)
class G68Options:
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    dagpenge_units: frozenset[str] = DEFAULT_DAGPENGE_UNITS
    straks_marker: str = "STRAKS"


def g68_options(profile: ReceiveSettings) -> G68Options:
    """The profile's G68 options; a :class:`ConfigError` naming the file and key of the first
    one that is unknown or wrong."""
    refuse_unknown_options(profile, _OPTIONS)
    options = dict(profile.options)
    marker = options.get("straks_marker", "STRAKS")
    if not isinstance(marker, str):
        raise ConfigError(f"{profile.where('straks_marker')}: expected a string, found {marker!r}")
    return G68Options(_max_age(profile, options), _units(profile, options), marker.upper())


def _max_age(profile: ReceiveSettings, options: Mapping[str, Any]) -> int:
    value = options.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= LIMIT:
        raise ConfigError(
            f"{profile.where('max_age_days')}: expected an integer from 0 to {LIMIT}, "
            f"found {value!r}"
        )
    return value


def _units(profile: ReceiveSettings, options: Mapping[str, Any]) -> frozenset[str]:
    value = options.get("dagpenge_units")
    if value is None:
        return DEFAULT_DAGPENGE_UNITS
    if not isinstance(value, list) or not all(
        isinstance(v, str) and is_paying_unit(v) for v in value
    ):
        raise ConfigError(
            f"{profile.where('dagpenge_units')}: expected a list of 4-digit paying units, "
            f"found {value!r}"
        )
    return frozenset(value)


register_receive_options(PROFILE, g68_options)
