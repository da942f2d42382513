"""Fixtures shared by the transport, inbound and crash tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crashkit import Rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A Serviceplatformen simulator on 127.0.0.1 and a configuration for us (party toek)."""
    started = Rig(tmp_path).start()
    try:
        yield started
    finally:
        started.stop()
