"""``toekgw simulate serviceplatform``: a local Serviceplatformen SFTP server with faults."""

from __future__ import annotations

import time
from pathlib import Path

import click

from toekgw.cli.options import AT_LEAST_ONE, LISTEN_PORT, SECONDS, TIMES, masked
from toekgw.cli.simulate._common import party_names
from toekgw.simulators.serviceplatform import Faults, ServiceplatformSimulator, ensure_key


@click.command()
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The platform's directory tree (created if missing).",
)
@click.option(
    "--port", type=LISTEN_PORT, default=2222, show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)  # fmt: skip
@click.option(
    "--party",
    "parties",
    multiple=True,
    default=("ksd", "toek"),
    show_default=True,
    callback=party_names,
    help="An SFTP login with IN/ and OUT/ (repeat for more).",
)
@click.option(
    "--host-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The server's private host key (default: ROOT/ssh_host_ed25519_key, made if missing).",
)
@click.option(
    "--authorized-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Public keys allowed to log in (default: ROOT/client_ed25519.pub, made with "
    "its private key if missing).",
)
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="KEY=PARTY",
    help="Dynamic routing: RecipientAuthority or RecipientIt-system -> party.",
)
@click.option("--refuse-logins", type=TIMES, default=0, help="Fault: refuse the next N logins.")
@click.option(
    "--drop-after-bytes",
    type=AT_LEAST_ONE,
    default=None,
    help="Fault: drop a connection once it has moved N bytes (--drops times).",
)
@click.option(
    "--drops",
    type=AT_LEAST_ONE,
    default=1,
    show_default=True,
    help="How many connections --drop-after-bytes drops.",
)
@click.option("--delay", type=SECONDS, default=0.0, help="Fault: seconds per read/write request.")
@click.option("--deliver-twice", is_flag=True, help="Fault: deliver every file a second time.")
@click.option("--without-metadata", is_flag=True, help="Fault: deliver files without metadata.")
@click.option(
    "--corrupt",
    type=click.Choice(["truncate", "flip"]),
    default=None,
    help="Fault: damage delivered files.",
)
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def serviceplatform(
    root: Path,
    port: int,
    parties: tuple[str, ...],
    host_key: Path | None,
    authorized_keys: Path | None,
    routes: tuple[str, ...],
    refuse_logins: int,
    drop_after_bytes: int | None,
    drops: int,
    delay: float,
    deliver_twice: bool,
    without_metadata: bool,
    corrupt: str | None,
    max_seconds: float | None,
) -> None:
    """Serviceplatformen's SFTP file exchange on 127.0.0.1: triggers, metadata, receipts."""
    root.mkdir(parents=True, exist_ok=True)
    if authorized_keys is None:
        client_key = root / "client_ed25519"
        ensure_key(client_key)
        authorized_keys = Path(f"{client_key}.pub")
        click.echo(f"client key: {masked(client_key)} (authorized for every party)")
    route_map = {}
    for route in routes:
        key, sep, party = route.partition("=")
        if not sep:
            raise click.BadParameter(f"{route!r}: expected KEY=PARTY", param_hint="--route")
        route_map[key] = party
    faults = Faults(
        refuse_logins=refuse_logins,
        drop_after_bytes=drop_after_bytes,
        drops=drops,
        delay=delay,
        deliver_twice=deliver_twice,
        without_metadata=without_metadata,
        corrupt=corrupt,
    )
    sim = ServiceplatformSimulator(
        root,
        parties=parties,
        port=port,
        host_key=host_key,
        authorized_keys=authorized_keys,
        faults=faults,
        routes=route_map,
    )
    with sim:
        click.echo(
            f"serviceplatform simulator on 127.0.0.1:{sim.port}, parties {', '.join(parties)}"
        )
        click.echo(f"host key fingerprint {sim.fingerprint()}")
        click.echo(f"known_hosts line: {sim.known_hosts_line()}")
        click.echo("stop with Ctrl-C", err=True)
        started = time.monotonic()
        try:
            while max_seconds is None or time.monotonic() - started < max_seconds:
                time.sleep(0.2)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
