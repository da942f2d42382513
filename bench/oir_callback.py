"""Bench: TØK's SF1590_B callback endpoint against a bare uvicorn echo endpoint, same run.

    .venv/bin/python bench/oir_callback.py [--messages 1000] [--clients 4]
    .venv/bin/python bench/oir_callback.py --messages 300 --profile callback.prof

Both run under uvicorn with TLS on 127.0.0.1 and are driven by the same clients (keep-alive
``requests`` sessions, ``--clients`` threads). The echo endpoint reads the body and sends it
back; the callback endpoint does its whole work per message: bounded read, safe parse, schema
validation, the SAML token's signature and conditions, the message's signature by the token's
holder, one durable (``synchronous=FULL``) journal commit, the answer. Every callback answer
must be ``StatusKode`` 20 and the journal must hold exactly the messages sent. The figure is
callback messages/s as a ratio to echo requests/s (goal: at least 0.3).

Writes ``bench/results/oir_callback.json``. ``--profile FILE`` instead calls the callback
application directly in this thread (no HTTP, one message at a time) under ``cProfile``, writes
the statistics to FILE and prints where the time goes (the journal's committer thread shows as
the wait for its commit).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import platform
import pstats
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pki import identity  # noqa: E402
from toekgw.adapters.debitor.callback import (  # noqa: E402
    CALLBACK_PATH,
    CallbackService,
    CallbackSettings,
)
from toekgw.formats.debitor.daekning import DaekningBesked, Registrering, build_request  # noqa: E402
from toekgw.formats.kombit.saml import build_assertion  # noqa: E402
from toekgw.gateway.httpserver import AsgiServer, TlsFiles, read_body  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402

ISSUER, AUDIENCE, CVR = "https://sts.bench", "urn:bench:callback", "29189846"


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = await read_body(receive, 1024 * 1024)
    headers = [(b"content-type", b"text/xml"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bodies(n: int) -> list[bytes]:
    now = dt.datetime.now(dt.UTC)
    sts, holder = identity("bench-sts"), identity("bench-debtor")
    token = build_assertion(
        issuer=ISSUER,
        audience=AUDIENCE,
        cvr=CVR,
        holder=holder.certificate,
        not_before=now - dt.timedelta(minutes=1),
        not_on_or_after=now + dt.timedelta(hours=8),
        key=sts.key,
        certificate=sts.certificate,
    )
    return [
        build_request(
            DaekningBesked(
                str(uuid.uuid4()),
                CVR,
                (
                    Registrering(
                        str(uuid.uuid4()),
                        f"F-{i % 97}",
                        "DAEKNING",
                        10_000 + i,
                        dt.date(2026, 12, 3),
                    ),
                ),
            ),
            token,
            holder.key,
            holder.certificate,
            created=now,
        )
        for i in range(n)
    ]


def drive(url: str, payloads: list[bytes], clients: int, verify: str) -> tuple[float, list[int]]:
    sessions = [requests.Session() for _ in range(clients)]

    def one(i: int) -> int:
        answer = sessions[i % clients].post(url, data=payloads[i], verify=verify, timeout=60)
        ok = answer.status_code == 200 and (
            b"StatusKode>20<" in answer.content or answer.content == payloads[i]
        )
        return 1 if ok else 0

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(len(payloads))))
    return time.perf_counter() - start, results


def profile(service: CallbackService, payloads: list[bytes], out: str) -> None:
    """Each message through the ASGI application in this thread, under cProfile."""

    async def one(body: bytes) -> None:
        answers: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            answers.append(message)

        await service({"type": "http", "path": CALLBACK_PATH, "method": "POST"}, receive, send)
        assert answers[0]["status"] == 200, answers

    async def run(bodies: list[bytes]) -> None:
        for body in bodies:
            await one(body)

    asyncio.run(run(payloads[:5]))  # warm-up: the schema, the token's first verification
    profiler = cProfile.Profile()
    profiler.runcall(asyncio.run, run(payloads[5:]))
    profiler.dump_stats(out)
    pstats.Stats(out).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--profile", metavar="FILE", help="profile in-process, write pstats")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-callback-"))
    cert, key = identity("localhost").write_pem(work / "tls", "server")
    tls = TlsFiles(cert, key)
    payloads = bodies(args.messages)
    settings = CallbackSettings(
        trusted=[identity("bench-sts").certificate], issuer=ISSUER, audience=AUDIENCE
    )
    if args.profile:
        service = CallbackService(work / "journal.sqlite", settings)
        profile(service, payloads, args.profile)
        service.close()
        return

    with AsgiServer(echo, tls=tls) as server:
        url = server.url.replace("127.0.0.1", "localhost") + "/echo"
        drive(url, payloads[:50], args.clients, str(cert))  # warm-up
        echo_seconds, echo_ok = drive(url, payloads, args.clients, str(cert))

    service = CallbackService(work / "journal.sqlite", settings)
    with AsgiServer(service, tls=tls) as server:
        url = server.url.replace("127.0.0.1", "localhost") + CALLBACK_PATH
        callback_seconds, callback_ok = drive(url, payloads, args.clients, str(cert))
    service.close()
    journal = open_journal(work / "journal.sqlite")
    journaled = len(journal.transmissions(counterpart="debitor"))
    journal.close()

    echo_rate = args.messages / echo_seconds
    callback_rate = args.messages / callback_seconds
    result = {
        "messages": args.messages,
        "clients": args.clients,
        "echo_per_s": round(echo_rate, 1),
        "callback_per_s": round(callback_rate, 1),
        "ratio": round(callback_rate / echo_rate, 3),
        "goal": 0.3,
        "echo_ok": sum(echo_ok),
        "callback_ok": sum(callback_ok),
        "journaled": journaled,
        "python": platform.python_version(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    assert sum(echo_ok) == sum(callback_ok) == journaled == args.messages, result
    out = ROOT / "bench" / "results" / "oir_callback.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"callback: {callback_rate:.0f} messages/s journaled durably; echo: {echo_rate:.0f}/s; "
        f"ratio {result['ratio']} (goal >= 0.3); {journaled} journaled, all answered 20"
    )


if __name__ == "__main__":
    main()
