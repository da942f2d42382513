"""One TOML file -> typed settings. Every mistake is named by file, table and key.

The core reads only what it needs itself: ``[journal]`` and ``[staging]``. Every other top-level
table belongs to the adapter that registered it (:func:`register_section`): ``[serviceplatform]``
and ``[receive.*]`` to Serviceplatformen, ``[nemkonto]`` to NemKonto, ``[eindkomst]`` to
eIndkomst, and so on. A table nobody registered is refused like an unknown key, with a
suggestion. :func:`toekgw.adapters.config.load_settings` loads a file with every built-in
adapter's section registered.

The reference, with an example, is ``docs/configuration.md`` (and ``examples/toekgw.toml``).
Relative paths are relative to the directory of the configuration file, so that a
configuration and its keys and journal can move together.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from toekgw.gateway.errors import UsageError, os_problem
from toekgw.gateway.journal.location import SCHEMES, JournalLocation, JournalUrl

__all__ = [
    "DEFAULT_CONFIG",
    "REQUIRED",
    "ConfigError",
    "CoreSettings",
    "Section",
    "Settings",
    "Table",
    "did_you_mean",
    "find_config",
    "load_settings",
    "register_section",
    "registered_sections",
]

DEFAULT_CONFIG = "toekgw.toml"

T = TypeVar("T")


class ConfigError(UsageError):
    """The configuration file is missing, unreadable or says something that cannot work."""


#: The default of a key that must be given.
REQUIRED: Any = object()


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` naming the one of ``known`` closest to a mistyped ``word``,
    or nothing when none is close: the end of a message refusing ``word``."""
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Table:
    """One TOML table, read key by key; unknown keys are refused with a suggestion.

    An adapter's section parser reads its table with these methods, then calls
    :meth:`finish`, so that a misspelt key is one clear line naming the file and key.
    """

    def __init__(self, file: Path, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: [{name}] must be a table")
        self.file, self.name, self.data = file, name, data
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        """``<file>: [<table>] <key>``: the start of every message about ``key``."""
        return f"{self.file}: [{self.name}] {key}"

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is REQUIRED:
                raise ConfigError(f"{self.where(key)}: missing (required)")
            return default
        return self.data[key]

    def text(self, key: str, default: Any = None) -> Any:
        value = self._get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{self.where(key)}: expected a non-empty string, found {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> Any:
        value = self.text(key, default)
        if value not in choices:
            raise ConfigError(
                f"{self.where(key)}: expected one of {', '.join(choices)}, found {value!r}"
            )
        return value

    def integer(self, key: str, default: Any, low: int, high: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{self.where(key)}: expected an integer from {low} to {high}, found {value!r}"
            )
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(
                f"{self.where(key)}: expected a number of seconds > 0, found {value!r}"
            )
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where(key)}: expected true or false, found {value!r}")
        return value

    def path(self, key: str, default: Any = None) -> Path | None:
        value = self.text(key, default)
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.file.parent / path)

    def required_path(self, key: str) -> Path:
        path = self.path(key, REQUIRED)
        assert path is not None
        return path

    def digits(self, key: str, low: int, high: int) -> str:
        """A required string of ``low`` to ``high`` digits (an account, an agreement number)."""
        value = self.text(key, REQUIRED)
        if not value.isdigit() or not low <= len(value) <= high:
            width = f"{low}" if low == high else f"{low} to {high}"
            raise ConfigError(f"{self.where(key)}: expected {width} digits, found {value!r}")
        return str(value)

    def names(self, key: str) -> tuple[str, ...]:
        value = self._get(key, REQUIRED)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise ConfigError(
                f"{self.where(key)}: expected a non-empty list of names, found {value!r}"
            )
        return tuple(value)

    def dates(self, key: str) -> tuple[dt.date, ...]:
        """A list of TOML dates (``[2026-11-23]``), empty when the key is absent."""
        value = self._get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in value
        ):
            raise ConfigError(
                f"{self.where(key)}: expected a list of dates (YYYY-MM-DD, unquoted), "
                f"found {value!r}"
            )
        return tuple(value)

    def table(self, key: str, *, required: bool = False) -> Table | None:
        self.used.add(key)
        full = f"{self.name}.{key}" if self.name else key
        if key not in self.data:
            if required:
                raise ConfigError(f"{self.file}: [{full}] missing (required)")
            return None
        return Table(self.file, full, self.data[key])

    def required_table(self, key: str) -> Table:
        table = self.table(key, required=True)
        assert table is not None
        return table

    def subtables(self) -> Iterable[tuple[str, Table]]:
        """Every key of this table as a table of its own (``[receive.<name>]``)."""
        for key in list(self.data):
            yield key, self.required_table(key)

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                where = f"[{self.name}]" if self.name else "the top level"
                raise ConfigError(
                    f"{self.file}: unknown key {key!r} in {where}{did_you_mean(key, self.used)}"
                )

    def rest(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in self.used}


@dataclass(frozen=True, slots=True)
class CoreSettings:
    """What the core itself reads: the configuration file, the journal and staging."""

    path: Path
    journal: JournalLocation
    staging: Path


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """An adapter's top-level table: its name, its parser, and what to say when it is missing.

    ``parse(table, core)`` reads the table (and calls ``table.finish()``) into the adapter's own
    typed settings; ``core`` gives the configuration's own path, journal and staging.
    """

    name: str
    parse: Callable[[Table, CoreSettings], T]
    required: bool = False
    hint: str = "see docs/configuration.md"


@dataclass(frozen=True, slots=True)
class Settings:
    """A loaded configuration: the core's settings and each present section's parsed value."""

    path: Path
    journal: JournalLocation
    staging: Path
    sections: Mapping[str, object] = field(default_factory=dict)

    def section(self, spec: Section[T]) -> T | None:
        """The section's settings, or None when the file has no such table."""
        value = self.sections.get(spec.name)
        return value  # type: ignore[return-value]  # stored by the section's own parser

    def require(self, spec: Section[T]) -> T:
        """The section's settings; a :class:`ConfigError` naming the table when it is absent."""
        value = self.section(spec)
        if value is None:
            raise ConfigError(f"{self.path}: no [{spec.name}] table", hint=spec.hint)
        return value


_REGISTRY: dict[str, Section[Any]] = {}


def register_section(section: Section[T]) -> Section[T]:
    """Make ``[section.name]`` known to :func:`load_settings`. Returns the section, so an
    adapter writes ``NEMKONTO = register_section(Section("nemkonto", _parse))``."""
    known = _REGISTRY.get(section.name)
    if known is not None and known is not section:
        raise ValueError(f"two adapters claim the configuration table [{section.name}]")
    _REGISTRY[section.name] = section
    return section


def registered_sections() -> tuple[Section[Any], ...]:
    return tuple(_REGISTRY.values())


def _journal(table: Table) -> JournalLocation:
    """``[journal] path`` (a SQLite file) or ``[journal] url`` (PostgreSQL), exactly one."""
    url = table.text("url")
    if url is not None and "path" in table.data:
        raise ConfigError(f"{table.where('url')}: give either path or url, not both")
    if url is None:
        path = table.required_path("path")
        table.finish()
        return path
    table.finish()
    if not url.startswith(SCHEMES):
        raise ConfigError(
            f"{table.where('url')}: expected a PostgreSQL URL (postgresql://user@host/db), "
            f"found one starting {url.split(':', 1)[0]!r}"
        )
    return JournalUrl(url)


def find_config(path: str | Path | None) -> Path:
    """``path``, else ``$TOEKGW_CONFIG``, else ``./toekgw.toml``."""
    chosen = Path(path or os.environ.get("TOEKGW_CONFIG") or DEFAULT_CONFIG)
    if not chosen.is_file():
        raise ConfigError(
            f"no configuration file {chosen}",
            hint="pass --config FILE or set TOEKGW_CONFIG; see docs/configuration.md",
        )
    return chosen


def load_settings(
    path: str | Path | None = None, *, sections: Iterable[Section[Any]] | None = None
) -> Settings:
    """Read the file; parse ``[journal]``, ``[staging]`` and every registered section
    (or exactly ``sections``). Any table or key nobody reads is an error."""
    file = find_config(path).resolve()
    try:
        raw = file.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not a text file in UTF-8 (byte 0x{raw[exc.start]:02X} at offset "
            f"{exc.start}); the configuration is TOML"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {os_problem(file, exc)}") from exc
    top = Table(file, "", data)

    journal_path = _journal(top.required_table("journal"))
    staging = top.required_table("staging")
    staging_dir = staging.required_path("dir")
    staging.finish()
    core = CoreSettings(file, journal_path, staging_dir)

    parsed: dict[str, object] = {}
    for section in registered_sections() if sections is None else sections:
        table = top.table(section.name, required=section.required)
        if table is not None:
            parsed[section.name] = section.parse(table, core)
    top.finish()
    return Settings(file, journal_path, staging_dir, parsed)
