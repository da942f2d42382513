"""The eIndkomst simulator on its own: strict validation with its history, scripted faults."""

from __future__ import annotations

import io
from pathlib import Path

from tests.eik_flow_helpers import NOW, income
from tests.eik_helpers import builder, cpr
from toekgw.formats.eindkomst import decode_receipts
from toekgw.formats.eindkomst.receipts import Receipts
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
)


def _deliver(q: SqliteQueue, *bodies: bytes) -> None:
    for body in bodies:
        q.put(DEFAULT_REQUEST_QUEUE, body)
    q.commit()


def _answers(q: SqliteQueue) -> list[bytes]:
    return [m.body for m in q.browse(DEFAULT_REPLY_QUEUE)]


def _decoded(q: SqliteQueue) -> list[Receipts]:
    """Every answer read: per delivery its 7100 sum receipts, then its error/advice file."""
    return [decode_receipts(io.BytesIO(a)) for a in _answers(q)]


def _build(*reports: object) -> bytes:
    bodies = [d.to_bytes() for d in builder().deliveries(list(reports))]  # type: ignore[arg-type]
    assert len(bodies) == 1
    return bodies[0]


def test_a_correction_that_makes_a_total_negative_is_rejected_by_skat(tmp_path: Path) -> None:
    # The gateway would refuse this; a delivery from elsewhere reaches SKAT, which rejects it.
    person = cpr(1)
    with SqliteQueue(tmp_path / "q.sqlite") as q:
        sim = EindkomstSimulator(q, tmp_path / "ledger.sqlite", clock=lambda: NOW)
        _deliver(
            q,
            _build(income({person: {"0014": 100_000}})),
            _build(income({person: {"0014": -150_000}}, key="corr")),
        )
        assert sim.drain() == 2
        first, second, second_errors = _decoded(q)
        assert [s.status for s in first.sums] == ["G"] and first.errors == []
        assert [s.status for s in second.sums] == ["A"]
        (error,) = second_errors.errors  # SKAT's error/advice file, a message of its own
        assert error.error_code == "001001" and "negative_total" in (error.text or "")
        assert error.is_error and error.se is not None
        sim.ledger.close()
        # After a restart the history is rebuilt from the ledger: the same rule holds.
        again = EindkomstSimulator(q, tmp_path / "ledger.sqlite", clock=lambda: NOW)
        _deliver(q, _build(income({person: {"0014": -150_000}}, key="corr-2")))
        again.drain()
        assert [s.status for s in _decoded(q)[-2].sums] == ["A"]  # then its error file
        _deliver(q, _build(income({person: {"0014": -100_000}}, key="corr-3")))
        again.drain()
        assert [s.status for s in _decoded(q)[-1].sums] == ["G"]
        again.ledger.close()


def test_random_share_is_seeded_and_advice_keeps_a_report_accepted(tmp_path: Path) -> None:
    people = {cpr(i): {"0014": 10_000} for i in range(40)}
    advised = cpr(41)
    decisions = []
    for run in range(2):
        with SqliteQueue(tmp_path / f"q{run}.sqlite") as q:
            script = SimulatorScript(reject_share=0.1, seed=7, advice_cprs=frozenset({advised}))
            sim = EindkomstSimulator(q, tmp_path / f"ledger{run}.sqlite", script, clock=lambda: NOW)
            _deliver(q, _build(income(people)), _build(income({advised: {"0014": 5}}, key="x")))
            sim.drain()
            rejected, rejected_errors, advised_sums, advice = _decoded(q)
            decisions.append([e.line_number for e in rejected_errors.errors])
            assert all(e.error_code == "002002" for e in rejected_errors.errors)
            assert all(e.cpr is not None for e in rejected_errors.errors)
            assert [s.status for s in rejected.sums] == ["A"]
            assert [s.status for s in advised_sums.sums] == ["G"]
            assert [(e.error_code, e.is_error, e.cpr) for e in advice.errors] == [
                ("003001", False, advised)
            ]
            sim.ledger.close()
    assert decisions[0] == decisions[1] and 0 < len(decisions[0]) < 40


def test_duplicate_answers_and_garbage(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.sqlite") as q:
        script = SimulatorScript(duplicate_answers=True)
        sim = EindkomstSimulator(q, tmp_path / "ledger.sqlite", script, clock=lambda: NOW)
        _deliver(q, _build(income({cpr(1): {"0014": 1}})), b"not a delivery\r\n")
        assert sim.drain() == 2
        answers = _answers(q)
        assert len(answers) == 4 and answers[0] == answers[1]
        garbage = decode_receipts(io.BytesIO(answers[2]))
        assert not garbage.findings and garbage.sums == []
        assert {e.error_code for e in garbage.errors} == {"001001"}
        assert sim.stats.deliveries == 2 and sim.stats.answers == 4
        sim.ledger.close()
