"""``toekgw``: the root command group, error handling and ``--debug``.

Every failure an operator can meet is one line on stderr saying where and what, and an exit
code: 0 done, 1 done but the input has errors, 2 could not run. A traceback only with --debug,
and the same exit code. Whatever the line or the traceback quotes (a value the operator
typed, a path, an exception's text) passes :func:`~toekgw.formats.findings.mask_cpr_in_text`
on the way out: no CPR number leaves in clear, wherever its bytes were.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
import warnings
from typing import Any

import click

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway import logsafe
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.jsonlog import JsonFormatter

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2

#: Third-party loggers that stay silent unless --debug.
QUIET_LIBRARIES = ("paramiko", "asyncssh", "pika", "zeep", "urllib3")


class ToekGroup(click.Group):
    """Turns exceptions into one masked line and an exit code, unless ``--debug``."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            raise _masked(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as exc:
            # Click's own (a value it could not convert, an unknown command) quote what the
            # operator typed.
            raise _masked(exc) from None
        except GatewayError as exc:
            if _debug(ctx):
                _traceback(exc)
            else:
                click.echo(f"toekgw: error: {mask_cpr_in_text(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader went away (``toekgw validate ... | head``): stop quietly, like any
            # Unix tool, and keep Python from complaining when it flushes stdout at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_FINDINGS)
        except Terminated:
            click.echo("toekgw: terminated (SIGTERM): stopped where Ctrl-C would", err=True)
            ctx.exit(128 + signal.SIGTERM)
        except KeyboardInterrupt:
            click.echo("toekgw: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if _debug(ctx):
                _traceback(exc)
                ctx.exit(EXIT_CANNOT_RUN)
            text = mask_cpr_in_text(str(exc))
            click.echo(
                f"toekgw: internal error: {type(exc).__name__}: {text} "
                "(run again with --debug for the traceback, and please report it)",
                err=True,
            )
            ctx.exit(EXIT_CANNOT_RUN)


def _masked(exc: click.ClickException) -> click.ClickException:
    # Click types ``message`` as final; the exception is Click's to show, with this text.
    setattr(exc, "message", mask_cpr_in_text(exc.message))  # noqa: B010
    return exc


def _traceback(exc: BaseException) -> None:
    """``--debug``'s traceback, as Python prints one, with its texts masked."""
    click.echo(mask_cpr_in_text("".join(traceback.format_exception(exc))).rstrip(), err=True)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.obj and root.obj.get("debug"))


@click.group(cls=ToekGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="toek-gateway", prog_name="toekgw")
@click.option(
    "--debug",
    is_flag=True,
    envvar="TOEKGW_DEBUG",
    show_envvar=True,
    help="Show tracebacks and debug logging (CPR numbers stay masked).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="TOEKGW_LOG_FORMAT",
    show_envvar=True,
    show_default=True,
    help="Log lines on stderr as text, or as one JSON object per line for central logging.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str) -> None:
    """toek-gateway: move municipal benefit payments between KSD/KY/KP/TØK and the state's
    and the municipality's economy systems, without losing, doubling or altering one.

    Exit codes: 0 done; 1 the input has errors or was refused (findings, a duplicate, a
    refused action, a missing role; each command's help says which); 2 could not run (bad
    usage, a missing file, a bad configuration, an unreachable counterpart); 130 stopped by
    Ctrl-C, 143 by SIGTERM (an open journal step rolled back: run the command again). A
    server (run, serve, a simulator) stopped by either finishes what it holds, exit 0.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logsafe.MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
    if not debug:
        # The SSH libraries log a failed handshake from their own threads, traceback and all;
        # the command says what failed in one line, so theirs is only for --debug.
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    logsafe.install()


def _quiet_library_warnings() -> None:
    """The libraries' own warnings (asyncssh on cryptography 51: "DSA is deprecated", at
    import) are for their maintainers: like their loggers, they stay off an operator's
    stderr, where every failure is one line. ``python -W`` or ``PYTHONWARNINGS``, when
    given, decide instead."""
    if sys.warnoptions:
        return
    for name in QUIET_LIBRARIES:
        warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")


def _register() -> None:
    # Each command group lives in its own module; importing it attaches it to ``cli``.
    from toekgw.cli import commands

    commands.register(cli)


_quiet_library_warnings()  # before the commands import the libraries
_register()


class Terminated(KeyboardInterrupt):
    """SIGTERM to a one-shot command: it stops as for Ctrl-C (an open journal transaction is
    rolled back, a claimed step resumes on the next run), with its own line and exit 143.
    ``toekgw run`` sets its own handler: there SIGTERM lets the running step finish."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    cli(
        prog_name="toekgw",
        auto_envvar_prefix="TOEKGW",
        obj={"debug": bool(os.environ.get("TOEKGW_DEBUG"))},
    )
