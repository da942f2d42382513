"""``[run]``: the service's own settings (``toekgw run``), and one table per job.

::

    [run]
    metrics_port = 9464          # /healthz and /metrics on 127.0.0.1 (0: none)
    metrics_host = "127.0.0.1"
    backoff_base = 30            # seconds after the first failure, doubling per failure ...
    backoff_max = 3600           # ... up to this
    overdue_after = 3            # a job with no success for this many intervals is overdue
    stop_grace = 60              # seconds to let a running step finish on SIGTERM

    [run.jobs.nemkonto-send]
    interval = 300               # seconds between runs
    timeout = 600                # a step running longer is abandoned (and retried later)
    enabled = true

Which jobs exist is decided by the adapters from the tables present (``[receive.g68]``,
``[nemkonto]``, ``[eindkomst]``); a ``[run.jobs.<name>]`` table only changes a job's defaults.
The table is optional: without it every job runs on its default schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section

__all__ = ["RUN_SECTION", "JobSettings", "RunSettings"]

DAY = 86_400


@dataclass(frozen=True, slots=True)
class JobSettings:
    interval: float | None = None
    timeout: float | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class RunSettings:
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    backoff_base: float = 30.0
    backoff_max: float = 3600.0
    overdue_after: int = 3
    stop_grace: float = 60.0
    jobs: Mapping[str, JobSettings] = field(default_factory=dict)


def _job(table: Table) -> JobSettings:
    interval = table.seconds("interval", 0) if "interval" in table.data else None
    timeout = table.seconds("timeout", 0) if "timeout" in table.data else None
    enabled = table.flag("enabled", True)
    table.finish()
    return JobSettings(interval, timeout, enabled)


def _run(table: Table, core: CoreSettings) -> RunSettings:
    settings = RunSettings(
        metrics_host=table.text("metrics_host", "127.0.0.1"),
        metrics_port=table.integer("metrics_port", 9464, 0, 65535),
        backoff_base=table.seconds("backoff_base", 30.0),
        backoff_max=table.seconds("backoff_max", 3600.0),
        overdue_after=table.integer("overdue_after", 3, 1, 1000),
        stop_grace=table.seconds("stop_grace", 60.0),
        jobs={name: _job(sub) for name, sub in _subtables(table)},
    )
    table.finish()
    if settings.backoff_max < settings.backoff_base:
        raise ConfigError(f"{table.where('backoff_max')}: must be at least backoff_base")
    return settings


def _subtables(table: Table) -> list[tuple[str, Table]]:
    jobs = table.table("jobs")
    return list(jobs.subtables()) if jobs is not None else []


RUN_SECTION = register_section(Section("run", _run, hint="see docs/operations.md (the service)"))
