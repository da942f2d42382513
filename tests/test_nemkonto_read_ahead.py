"""NemKonto's answers are read ahead: the next answer is parsed, checked and decoded on a
thread of its own while this one is journaled, and the answers are still journaled one after
the other, in the order they were got."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import toekgw.adapters.nemkonto.answers as answers
from tests.nemkonto_flow_data import SETTINGS, new_journal
from toekgw.adapters.nemkonto.answers import receive_answers
from toekgw.gateway.transport.mq import SqliteQueue

BODIES = [f"<not-an-answer n='{n}'/>".encode() for n in range(5)]


def test_the_next_answer_is_read_while_this_one_is_journaled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read, real_journal = answers.read_answer, answers._journal_answer
    reading: dict[bytes, threading.Event] = {body: threading.Event() for body in BODIES}
    readers: set[str] = set()
    journaled: list[bytes] = []
    read_ahead: list[bool] = []  # per answer but the last: was the next read before it went in

    def read(body: bytes, **options: bool):  # type: ignore[no-untyped-def]
        readers.add(threading.current_thread().name)
        reading[body].set()
        return real_read(body, **options)

    def journal_answer(journal, settings, message, *rest):  # type: ignore[no-untyped-def]
        n = BODIES.index(message.body)
        if n + 1 < len(BODIES):
            read_ahead.append(reading[BODIES[n + 1]].wait(timeout=2))
        journaled.append(message.body)
        return real_journal(journal, settings, message, *rest)

    monkeypatch.setattr(answers, "read_answer", read)
    monkeypatch.setattr(answers, "_journal_answer", journal_answer)
    journal = new_journal(tmp_path / "journal.sqlite")
    with SqliteQueue(tmp_path / "q.sqlite") as queue:
        for body in BODIES:
            queue.put(SETTINGS.reply_queue, body)
        queue.commit()
        summary = receive_answers(journal, queue, SETTINGS)
        left = queue.depth(SETTINGS.reply_queue)

    assert read_ahead == [True] * (len(BODIES) - 1)
    assert journaled == BODIES  # in the order got, each once
    assert (summary.messages, summary.unusable, summary.failed, left) == (5, 5, 0, 0)
    assert readers and threading.current_thread().name not in readers


def test_a_batch_reads_no_further_than_its_room(tmp_path: Path) -> None:
    """With ``max_messages`` the run gets no answer beyond it, not even to read ahead: the
    rest stay on the queue, untouched (no backout counted)."""
    journal = new_journal(tmp_path / "journal.sqlite")
    with SqliteQueue(tmp_path / "q.sqlite") as queue:
        for body in BODIES:
            queue.put(SETTINGS.reply_queue, body)
        queue.commit()
        summary = receive_answers(journal, queue, SETTINGS, max_messages=2)
        rest = queue.browse(SETTINGS.reply_queue)

    assert summary.messages == 2
    assert [m.body for m in rest] == BODIES[2:]
    assert all(m.backout_count == 0 for m in rest)
