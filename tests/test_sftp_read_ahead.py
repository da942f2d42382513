"""paramiko's read-ahead thread, when the connection drops under it, prints no traceback
(``toekgw.gateway.transport._read_ahead``); every other thread's exception still reaches the
hook that was there before."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import paramiko
import pytest

from toekgw.gateway.transport._read_ahead import quiet_read_ahead

#: paramiko's read-ahead function itself (private: not in paramiko's type stubs).
READ_AHEAD: Callable[..., None] = vars(paramiko.SFTPFile)["_prefetch_thread"]


class _DroppedSftp:
    """The SFTP client after the connection dropped: every request fails as paramiko's does."""

    def _async_request(self, *args: object) -> int:
        raise OSError("Socket is closed")


class _File:
    """What ``SFTPFile._prefetch_thread`` uses of its file."""

    def __init__(self) -> None:
        self.sftp = _DroppedSftp()
        self.handle = b"handle"
        self._prefetch_lock = threading.Lock()
        self._prefetch_extents: dict[int, tuple[int, int]] = {}


def _run(target: Callable[..., object], *args: object) -> None:
    thread = threading.Thread(target=target, args=args)
    thread.start()
    thread.join()


@pytest.fixture
def before() -> Iterator[list[BaseException | None]]:
    """The hook in place before :func:`quiet_read_ahead`: it records what it is given."""
    seen: list[BaseException | None] = []
    saved = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)
    try:
        yield seen
    finally:
        threading.excepthook = saved


def test_the_read_ahead_thread_losing_its_connection_reaches_no_hook(
    before: list[BaseException | None], caplog: pytest.LogCaptureFixture
) -> None:
    quiet_read_ahead()
    caplog.set_level("DEBUG", logger="toekgw.gateway.transport._read_ahead")
    # paramiko's own read-ahead function, its connection gone
    _run(READ_AHEAD, _File(), [(0, 32768)], None)
    assert before == []
    assert "SFTP read-ahead stopped: Socket is closed" in caplog.text
    assert "in _prefetch_thread" in caplog.text  # its traceback, for --debug


def test_another_thread_s_exception_goes_to_the_hook_before(
    before: list[BaseException | None],
) -> None:
    quiet_read_ahead()

    def _prefetch_thread() -> None:  # the same name, not paramiko's function
        raise OSError("Socket is closed")

    def fails() -> None:
        raise ValueError("a bug")

    _run(_prefetch_thread)
    _run(fails)
    assert [type(e) for e in before] == [OSError, ValueError]


def test_a_bug_in_the_read_ahead_thread_goes_to_the_hook_before(
    before: list[BaseException | None],
) -> None:
    quiet_read_ahead()
    broken = _File()
    del broken.sftp  # not a lost connection: an AttributeError
    _run(READ_AHEAD, broken, [(0, 32768)], None)
    assert [type(e) for e in before] == [AttributeError]


def test_the_hook_is_wrapped_once(before: list[BaseException | None]) -> None:
    quiet_read_ahead()
    wrapped = threading.excepthook
    quiet_read_ahead()
    assert threading.excepthook is wrapped
