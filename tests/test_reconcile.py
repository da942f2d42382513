"""The generic reconciliation: categories 1/2/3, ageing, the action-plan threshold."""

from __future__ import annotations

import datetime as dt

from toekgw.gateway.reconcile import Answer, Category, Expected, ItemClass, reconcile

TODAY = dt.date(2026, 11, 30)


def classify(state: str) -> ItemClass:
    return ItemClass.SETTLED if state in {"accepted", "at_bank"} else ItemClass.FOLLOW_UP


def sent(*amounts: int, on: dt.date = TODAY) -> list[Expected]:
    return [Expected(f"p{i}", a, on) for i, a in enumerate(amounts)]


def test_all_settled_is_category_1() -> None:
    r = reconcile(
        sent(100, 200), [Answer("p0", "accepted"), Answer("p1", "at_bank")], classify, as_of=TODAY
    )
    assert r.category is Category.RECONCILED
    assert (r.sent_count, r.sent_oere, r.settled_count, r.settled_oere) == (2, 300, 2, 300)
    assert not r.needs_action_plan


def test_known_outstanding_items_are_category_2_split_by_age() -> None:
    items = [*sent(100_000, on=dt.date(2025, 6, 1)), Expected("young", 5_000, TODAY)]
    r = reconcile(items, [Answer("p0", "rejected")], classify, as_of=TODAY)
    assert r.category is Category.FOLLOW_UP
    assert r.by_state == {"rejected": 1, "unanswered": 1}
    assert r.follow_up_older_oere == 100_000 and r.follow_up_younger_oere == 5_000
    assert r.needs_action_plan  # 1,050 kr outstanding


def test_answer_for_unknown_item_is_category_3() -> None:
    r = reconcile(
        sent(100),
        [Answer("p0", "accepted"), Answer("ghost", "accepted", 700)],
        classify,
        as_of=TODAY,
    )
    assert r.category is Category.NOT_RECONCILED
    assert r.unexplained[0].key == "ghost" and r.unexplained_oere == 700


def test_changed_amount_is_category_3_but_ore_differences_are_tolerated() -> None:
    changed = reconcile(sent(10_000), [Answer("p0", "accepted", 9_000)], classify, as_of=TODAY)
    assert changed.category is Category.NOT_RECONCILED
    ore = reconcile(sent(10_000), [Answer("p0", "accepted", 9_999)], classify, as_of=TODAY)
    assert ore.category is Category.RECONCILED


def test_later_answer_supersedes_earlier() -> None:
    answers = [Answer("p0", "accepted"), Answer("p0", "at_bank")]
    r = reconcile(sent(100), answers, classify, as_of=TODAY)
    assert r.by_state == {"at_bank": 1}
    assert r.as_dict()["category"] == 1


def test_kroner_formats_ore_without_floats() -> None:
    from toekgw.gateway.money import kroner

    assert [kroner(v) for v in (0, 1, -1, 123456, -100, 10**11 + 5)] == [
        "0.00",
        "0.01",
        "-0.01",
        "1,234.56",
        "-1.00",
        "1,000,000,000.05",
    ]
