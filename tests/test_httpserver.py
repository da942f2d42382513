"""The gateway's uvicorn server: ``run(max_seconds)`` stops it after that time, and a server
stopped sooner (an operator's Ctrl-C) leaves no timer behind to hold the process open."""

from __future__ import annotations

import threading
import time

from starlette.applications import Starlette

from toekgw.gateway.httpserver import AsgiServer


def test_run_stops_after_max_seconds() -> None:
    server = AsgiServer(Starlette())
    began = time.monotonic()
    server.run(max_seconds=0.5)
    assert 0.4 < time.monotonic() - began < 10


def test_a_server_stopped_sooner_leaves_no_timer_running() -> None:
    server = AsgiServer(Starlette())
    runner = threading.Thread(target=server.run, kwargs={"max_seconds": 600})
    runner.start()
    while not server.server.started:
        time.sleep(0.01)
    before = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    server.server.should_exit = True
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert len(before) == 1
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
