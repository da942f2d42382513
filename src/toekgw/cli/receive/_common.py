"""The shared body of every ``toekgw receive <kind>`` over Serviceplatformen.

A receive command for a format is a processor factory plus this::

    from toekgw.cli.receive._common import receive_command
    g68 = receive_command("g68", G68Processor, "Receive G68 payment deliveries from KSD.")

``G68Processor(profile)`` gets the ``[receive.g68]`` table (senders, counterpart, options) and
returns an :class:`~toekgw.gateway.inbound.InboundProcessor`.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.serviceplatform import (
    ReceiveSettings,
    open_transport,
    receive_pipeline,
    receive_profile,
    serviceplatform_settings,
)
from toekgw.cli.options import config_option
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.config import Settings
from toekgw.gateway.inbound import InboundProcessor, Outcome
from toekgw.gateway.journal import open_journal

__all__ = ["ProcessorFactory", "exit_code", "receive_command", "receive_once"]

ProcessorFactory = Callable[[ReceiveSettings], InboundProcessor]

_PROBLEMS = ("rejected", "duplicate", "refused")


def receive_once(settings: Settings, profile: str, factory: ProcessorFactory) -> list[Outcome]:
    """One poll of IN/ for the ``[receive.<profile>]`` files."""
    chosen = receive_profile(settings, profile)
    processor = factory(chosen)
    sp = serviceplatform_settings(settings)
    journal = open_journal(settings.journal, verify=True)
    try:
        with open_transport(sp) as transport:
            pipeline = receive_pipeline(
                journal,
                transport,
                processor,
                party=sp.party,
                senders=chosen.senders,
                staging=settings.staging,
                in_dir=sp.in_dir,
                after_receive=sp.after_receive,
                archive_dir=sp.archive_dir,
            )
            return pipeline.poll_once()
    finally:
        journal.close()


def exit_code(outcomes: list[Outcome]) -> int:
    """1 when a file was not received, or a received one had records with errors (on the
    error list, not journaled); warnings alone are no problem."""
    return 1 if any(o.status in _PROBLEMS or o.errors for o in outcomes) else 0


def receive_command(
    name: str,
    factory: Callable[..., InboundProcessor],
    help_text: str,
    *,
    options: Sequence[Callable[[Callable[..., Any]], Callable[..., Any]]] = (),
) -> click.Command:
    """``options``: the format's own click options; their values are passed to ``factory``
    as keyword arguments after the profile (``--today`` -> ``factory(profile, today=...)``)."""

    def command(config_path: Path | None, watch: bool, as_json: bool, **extra: Any) -> None:
        settings = load_settings(config_path)
        make = functools.partial(factory, **extra) if extra else factory
        code = 0
        while True:
            outcomes = receive_once(settings, name, make)
            for outcome in outcomes:
                if as_json:
                    click.echo(
                        json.dumps(
                            {
                                "file": mask_cpr_in_text(outcome.name),
                                "status": outcome.status,
                                "message": mask_cpr_in_text(outcome.message),
                                "transmission": outcome.transmission_id,
                                "errors": outcome.errors,
                                "warnings": outcome.warnings,
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    click.echo(str(outcome))  # the outcome's line masks what it quotes
            code = max(code, exit_code(outcomes))
            if not watch:
                break
            time.sleep(serviceplatform_settings(settings).poll_interval)
        raise SystemExit(code)

    decorated: Callable[..., Any] = command
    for option in reversed(options):
        decorated = option(decorated)
    decorated = click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")(
        decorated
    )
    decorated = click.option(
        "--watch", is_flag=True, help="Keep polling every poll_interval seconds."
    )(decorated)
    decorated = config_option(decorated)
    return click.command(name=name, help=help_text)(decorated)
