"""Reconciliation: match what was sent with what came back, and say which category it lands in.

The categories are the municipality's (see ``docs/glossary.md``):

1. reconciled, no remarks — every item settled, or only øre differences;
2. reconciled for follow-up — the difference is fully specified by known outstanding items
   (rejected payments awaiting handling, answers not yet due);
3. not reconciled — a difference that cannot be specified (an answer for an item never sent,
   an amount that changed on the way, a missing answer to a whole transmission …).

The core knows no counterpart: an adapter says, per item, what was sent and what state it is
in now, and which of its states are final-and-good (settled) and which need follow-up.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from toekgw.formats.findings import mask_cpr_in_text

__all__ = [
    "Answer",
    "Category",
    "Difference",
    "Expected",
    "ItemClass",
    "Reconciliation",
    "Tally",
    "reconcile",
    "reconcile_tallies",
]

ONE_YEAR = dt.timedelta(days=365)
DEFAULT_THRESHOLD_OERE = 100_000  # ±1,000 kr gross needs an action plan
DEFAULT_OERE_TOLERANCE = 99  # "only øre differences" still reconcile in category 1


class Category(enum.IntEnum):
    RECONCILED = 1
    FOLLOW_UP = 2
    NOT_RECONCILED = 3

    @property
    def title(self) -> str:
        return {
            1: "reconciled, no remarks",
            2: "reconciled for follow-up",
            3: "not reconciled",
        }[self.value]


class ItemClass(enum.Enum):
    SETTLED = "settled"  # final and good: nothing more to do
    FOLLOW_UP = "follow-up"  # known and specified, but someone must act or wait


@dataclass(frozen=True, slots=True)
class Expected:
    """An item we sent: its business key, amount in øre and the date it belongs to."""

    key: str
    amount_oere: int
    on: dt.date


@dataclass(frozen=True, slots=True)
class Answer:
    """What the counterpart says about an item now; ``amount_oere`` if the answer carries one."""

    key: str
    state: str
    amount_oere: int | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """``count`` items sent for ``on``, in ``state`` now, summing ``amount_oere``."""

    state: str
    count: int
    amount_oere: int
    on: dt.date


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    reason: str
    amount_oere: int


@dataclass
class Reconciliation:
    """Counts and sums per state, the follow-up split by age, and what cannot be specified."""

    as_of: dt.date
    sent_count: int = 0
    sent_oere: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    oere_by_state: Counter[str] = field(default_factory=Counter)
    settled_count: int = 0
    settled_oere: int = 0
    follow_up_count: int = 0
    follow_up_oere: int = 0
    follow_up_older_oere: int = 0  # items older than one year at ``as_of``
    follow_up_younger_oere: int = 0
    unexplained: list[Difference] = field(default_factory=list)
    threshold_oere: int = DEFAULT_THRESHOLD_OERE
    tolerance_oere: int = DEFAULT_OERE_TOLERANCE

    @property
    def unexplained_oere(self) -> int:
        return sum(abs(d.amount_oere) for d in self.unexplained)

    @property
    def category(self) -> Category:
        if self.unexplained and self.unexplained_oere > self.tolerance_oere:
            return Category.NOT_RECONCILED
        if any(d.amount_oere == 0 for d in self.unexplained):
            # An answer about an item never sent is unexplained even when it carries no money.
            return Category.NOT_RECONCILED
        if self.follow_up_count:
            return Category.FOLLOW_UP
        return Category.RECONCILED

    @property
    def needs_action_plan(self) -> bool:
        """Differences of at least the threshold (gross) need an action plan."""
        return self.follow_up_oere + self.unexplained_oere >= self.threshold_oere

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "category": int(self.category),
            "category_title": self.category.title,
            "needs_action_plan": self.needs_action_plan,
            "sent": {"count": self.sent_count, "oere": self.sent_oere},
            "settled": {"count": self.settled_count, "oere": self.settled_oere},
            "follow_up": {
                "count": self.follow_up_count,
                "oere": self.follow_up_oere,
                "older_than_one_year_oere": self.follow_up_older_oere,
                "younger_than_one_year_oere": self.follow_up_younger_oere,
            },
            "by_state": {
                state: {"count": n, "oere": self.oere_by_state[state]}
                for state, n in sorted(self.by_state.items())
            },
            "unexplained": [
                # a key (a payment's, a claim's) is its sender's: it can hold a CPR number
                {
                    "key": mask_cpr_in_text(d.key),
                    "reason": mask_cpr_in_text(d.reason),
                    "oere": d.amount_oere,
                }
                for d in self.unexplained
            ],
        }


def reconcile(
    expected: Iterable[Expected],
    answers: Iterable[Answer],
    classify: Callable[[str], ItemClass],
    *,
    as_of: dt.date,
    no_answer_state: str = "unanswered",
    threshold_oere: int = DEFAULT_THRESHOLD_OERE,
    tolerance_oere: int = DEFAULT_OERE_TOLERANCE,
) -> Reconciliation:
    """Reconcile one transmission or one period.

    ``answers`` holds the *current* state per item (the last answer wins if a key repeats, as
    a later answer supersedes an earlier one). An item with no answer is in
    ``no_answer_state``, which ``classify`` decides about like any other state.
    """
    result = Reconciliation(
        as_of=as_of, threshold_oere=threshold_oere, tolerance_oere=tolerance_oere
    )
    latest: dict[str, Answer] = {}
    for given in answers:
        latest[given.key] = given
    for item in expected:
        result.sent_count += 1
        result.sent_oere += item.amount_oere
        answer = latest.pop(item.key) if item.key in latest else None
        state = answer.state if answer else no_answer_state
        if answer is not None and answer.amount_oere is not None:
            delta = answer.amount_oere - item.amount_oere
            if delta:
                result.unexplained.append(
                    Difference(item.key, "answered amount differs from the amount sent", delta)
                )
        _tally(result, Tally(state, 1, item.amount_oere, item.on), classify)
    for key, stray in latest.items():
        result.unexplained.append(_never_sent(key, stray.state, stray.amount_oere or 0))
    return result


def _never_sent(key: str, state: str, amount_oere: int) -> Difference:
    return Difference(key, f"answer ({state}) for an item that was never sent", amount_oere)


def _tally(result: Reconciliation, tally: Tally, classify: Callable[[str], ItemClass]) -> None:
    result.by_state[tally.state] += tally.count
    result.oere_by_state[tally.state] += tally.amount_oere
    if classify(tally.state) is ItemClass.SETTLED:
        result.settled_count += tally.count
        result.settled_oere += tally.amount_oere
    else:
        result.follow_up_count += tally.count
        result.follow_up_oere += tally.amount_oere
        if result.as_of - tally.on > ONE_YEAR:
            result.follow_up_older_oere += tally.amount_oere
        else:
            result.follow_up_younger_oere += tally.amount_oere


def reconcile_tallies(
    tallies: Iterable[Tally],
    strays: Iterable[Answer],
    classify: Callable[[str], ItemClass],
    *,
    as_of: dt.date,
    threshold_oere: int = DEFAULT_THRESHOLD_OERE,
    tolerance_oere: int = DEFAULT_OERE_TOLERANCE,
) -> Reconciliation:
    """:func:`reconcile` from totals the store aggregated: per state and date, how many items
    were sent and their sum, where every answer carries no amount of its own. ``strays`` are
    answers about items that were never sent (one difference per key)."""
    result = Reconciliation(
        as_of=as_of, threshold_oere=threshold_oere, tolerance_oere=tolerance_oere
    )
    for tally in tallies:
        result.sent_count += tally.count
        result.sent_oere += tally.amount_oere
        _tally(result, tally, classify)
    latest = {stray.key: stray for stray in strays}
    result.unexplained.extend(
        _never_sent(key, stray.state, stray.amount_oere or 0) for key, stray in latest.items()
    )
    return result
