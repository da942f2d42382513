"""What the MQ simulators' commands share: their common options and the serving loop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import click
from cryptography import x509

from toekgw.cli import clock
from toekgw.cli.options import SECONDS, checked_cpr, masked
from toekgw.formats.findings import mask_cpr
from toekgw.formats.idents import cvr_problem
from toekgw.gateway.httpserver import TlsFiles
from toekgw.gateway.transport.mq import DEFAULT_BACKOUT_THRESHOLD, SqliteQueue

__all__ = [
    "cpr_numbers",
    "cvr_numbers",
    "delay_option",
    "duplicate_answers_option",
    "party_names",
    "pem_certificates",
    "queue_options",
    "recipient_ids",
    "run_options",
    "serve",
    "tls_files",
]

_Command = TypeVar("_Command", bound=Callable[..., Any])


def party_names(
    ctx: click.Context, param: click.Parameter, value: str | tuple[str, ...]
) -> str | tuple[str, ...]:
    """A party's login name (or several): a directory name under the platform's root, so no
    ``/`` and no leading ``.`` (``../../x`` would write outside it)."""
    for party in (value,) if isinstance(value, str) else value:
        if not party or "/" in party or party.startswith("."):
            raise click.BadParameter(
                f"{party!r}: expected a login name (no '/', not starting with '.')", ctx, param
            )
    return value


def cvr_numbers(
    ctx: click.Context, param: click.Parameter, value: str | tuple[str, ...]
) -> str | tuple[str, ...]:
    """A municipality's CVR number (or several), as the gateway checks one: 8 digits, mod 11.
    A typo would make the simulator refuse every call, or none."""
    for number in (value,) if isinstance(value, str) else value:
        problem = cvr_problem(number)
        if problem is not None:
            raise click.BadParameter(
                f"{number!r}: expected the municipality's CVR number, e.g. 29189846 ({problem})",
                ctx,
                param,
            )
    return value


def cpr_numbers(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """A repeatable CPR option's numbers, dashes dropped: a typo would never match, and the
    fault the tester asked for would silently not happen. The message masks the value."""
    option = param.opts[0] if param.opts else f"--{param.name}"
    return tuple(checked_cpr(option, text, clock.today()) for text in value)


def recipient_ids(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """NemKonto recipient ids: a CPR or P-number (10 digits) or a CVR/SE number (8), dashes
    dropped, as the bundle names them."""
    numbers = []
    for text in value:
        number = text.replace("-", "")
        if not (number.isascii() and number.isdigit() and len(number) in (8, 10)):
            shown = mask_cpr(text) if len(number) >= 6 else text
            raise click.BadParameter(
                f"{shown!r}: expected a CPR or P-number (10 digits) or a CVR/SE number (8)",
                ctx,
                param,
            )
        numbers.append(number)
    return tuple(numbers)


def pem_certificates(paths: Iterable[Path], option: str) -> list[x509.Certificate]:
    """The certificates in the PEM files ``paths`` (a file may hold several), or a usage
    error naming ``option`` and the file that holds none."""
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except ValueError:
            raise click.BadParameter(
                f"{path}: expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
                param_hint=option,
            ) from None
    return certificates


def tls_files(certificate: Path | None, key: Path | None) -> TlsFiles | None:
    """``--tls-cert`` and ``--tls-key`` as the server will load them: both or neither (one
    alone would serve plain HTTP), a PEM certificate and its key, else a usage error."""
    if (certificate is None) != (key is None):
        raise click.UsageError("give --tls-cert and --tls-key together")
    if certificate is None or key is None:
        return None
    tls = TlsFiles(certificate, key)
    problem = tls.pair_problem()
    if problem is not None:
        raise click.UsageError(f"--tls-cert {certificate}, --tls-key {key}: {problem}")
    return tls


def queue_options(
    *, ledger_holds: str, ledger_suffix: str, request_queue: str, reply_queue: str
) -> Callable[[_Command], _Command]:
    """``--queue-db``, ``--ledger-db``, ``--request-queue`` and ``--reply-queue``."""

    def add(command: _Command) -> _Command:
        for option in reversed(
            [
                click.option(
                    "--queue-db",
                    type=click.Path(dir_okay=False, path_type=Path),
                    required=True,
                    help="The SQLite queue file shared with the gateway.",
                ),
                click.option(
                    "--ledger-db",
                    type=click.Path(dir_okay=False, path_type=Path),
                    help=f"The simulator's ledger of {ledger_holds} "
                    f"[default: <queue-db>{ledger_suffix}].",
                ),
                click.option("--request-queue", default=request_queue, show_default=True),
                click.option("--reply-queue", default=reply_queue, show_default=True),
            ]
        ):
            command = option(command)
        return command

    return add


delay_option = click.option(
    "--delay", type=SECONDS, default=0.0, help="Fault: seconds before answering."
)
duplicate_answers_option = click.option(
    "--duplicate-answers", is_flag=True, help="Fault: put every answer twice."
)


def run_options(command: _Command) -> _Command:
    """``--backout-threshold`` and ``--max-seconds``."""
    command = click.option("--max-seconds", type=SECONDS, help="Stop after this many seconds.")(
        command
    )
    return click.option(
        "--backout-threshold",
        type=click.IntRange(1, 99),
        default=DEFAULT_BACKOUT_THRESHOLD,
        show_default=True,
    )(command)


class _Closable(Protocol):
    def close(self) -> None: ...


class Served(Protocol):
    """What :func:`serve` needs of a simulator."""

    @property
    def ledger(self) -> _Closable: ...

    def run(
        self, *, max_seconds: float | None = None, stop: threading.Event | None = None
    ) -> None: ...


_Sim = TypeVar("_Sim", bound=Served)


def serve(
    name: str,
    *,
    queue_db: Path,
    ledger_db: Path | None,
    ledger_suffix: str,
    request_queue: str,
    reply_queue: str,
    backout_threshold: int,
    max_seconds: float | None,
    start: Callable[[SqliteQueue, Path], _Sim],
    report: Callable[[_Sim], str],
) -> None:
    """Run the simulator ``start`` makes until Ctrl-C, SIGTERM or ``max_seconds``, close its
    ledger, then print ``report`` of it."""
    ledger = ledger_db or queue_db.with_name(queue_db.name + ledger_suffix)
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with SqliteQueue(queue_db, backout_threshold=backout_threshold) as queue:
            sim = start(queue, ledger)
            click.echo(
                f"{name} simulator: {masked(request_queue)} -> {masked(reply_queue)} "
                f"on {masked(queue_db)}",
                err=True,
            )
            try:
                sim.run(max_seconds=max_seconds, stop=stop)
            except KeyboardInterrupt:
                pass
            finally:
                sim.ledger.close()
            click.echo(report(sim))
    finally:
        signal.signal(signal.SIGTERM, previous)
