"""A queued answer that breaks the reader is listed, moved aside by the queue, and the answers
behind it are taken in the same run (issue 11, case 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

import toekgw.adapters.nemkonto.answers as answers
from tests.nemkonto_flow_data import SETTINGS, new_journal
from toekgw.adapters.nemkonto.answers import receive_answers
from toekgw.gateway.refusals import FAILED_MESSAGE
from toekgw.gateway.transport.mq import SqliteQueue, backout_queue_name

POISON = b"<NKSAnswer>poison</NKSAnswer>"


@pytest.fixture
def poison_breaks_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers' reader raises (a bug this one message triggers) on :data:`POISON`."""
    real = answers.read_answer

    def breaks_on_poison(body: bytes, **options: bool):  # type: ignore[no-untyped-def]
        if body == POISON:
            raise TypeError("a reader bug this message triggers")
        return real(body, **options)

    monkeypatch.setattr(answers, "read_answer", breaks_on_poison)


def test_a_message_that_breaks_the_reader_is_listed_and_the_rest_goes_on(
    tmp_path: Path, poison_breaks_the_reader: None
) -> None:
    journal = new_journal(tmp_path / "journal.sqlite")
    with SqliteQueue(tmp_path / "q.sqlite", backout_threshold=3) as queue:
        poison_id = queue.put(SETTINGS.reply_queue, POISON)
        queue.put(SETTINGS.reply_queue, b"not xml at all")
        queue.commit()
        summary = receive_answers(journal, queue, SETTINGS)
        moved = queue.browse(backout_queue_name(SETTINGS.reply_queue))
        left = queue.depth(SETTINGS.reply_queue)

    assert summary.failed == 3 and summary.unusable == 1  # the other answer was taken
    assert poison_id in [m.msg_id for m in moved] and left == 0  # moved aside by the queue
    listed = [e for e in journal.errors() if any(f.code == FAILED_MESSAGE for f in e.findings)]
    assert len(listed) == 1 and poison_id.hex() in (listed[0].file_name or "")
    assert "TypeError" in listed[0].findings[0].message


def test_a_message_that_breaks_its_batch_is_set_aside_alone(
    tmp_path: Path, poison_breaks_the_reader: None
) -> None:
    """The answers journaled before it in its batch are undone with it, and journaled again one
    at a time: each once, none lost, the breaking one moved aside by the queue."""
    journal = new_journal(tmp_path / "journal.sqlite")
    with SqliteQueue(tmp_path / "q.sqlite", backout_threshold=3) as queue:
        before = queue.put(SETTINGS.reply_queue, b"not xml at all")
        poison_id = queue.put(SETTINGS.reply_queue, POISON)
        after = queue.put(SETTINGS.reply_queue, b"<neither/>")
        queue.commit()
        summary = receive_answers(journal, queue, SETTINGS)
        moved = queue.browse(backout_queue_name(SETTINGS.reply_queue))
        left = queue.depth(SETTINGS.reply_queue)

    # three attempts of the poison: its batch, then alone until the queue's threshold
    assert (summary.messages, summary.failed, summary.unusable) == (5, 3, 2)
    assert sorted(m.msg_id for m in moved) == sorted([before, poison_id, after]) and left == 0
    unusable = [e.file_name for e in journal.errors() if e.subject == "answer"]
    assert sorted(unusable) == sorted(f"MsgId {i.hex()}" for i in (before, after))
    listed = [e for e in journal.errors() if any(f.code == FAILED_MESSAGE for f in e.findings)]
    assert len(listed) == 1 and poison_id.hex() in (listed[0].file_name or "")


def test_answers_per_commit_below_one_is_refused(tmp_path: Path) -> None:
    journal = new_journal(tmp_path / "journal.sqlite")
    with SqliteQueue(tmp_path / "q.sqlite") as queue:
        queue.put(SETTINGS.reply_queue, b"not xml at all")
        queue.commit()
        with pytest.raises(ValueError, match="per_commit"):
            receive_answers(journal, queue, SETTINGS, per_commit=0)
        assert queue.depth(SETTINGS.reply_queue) == 1  # nothing got
