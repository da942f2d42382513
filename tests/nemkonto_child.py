"""``python -m tests.nemkonto_child send|receive[:N] JOURNAL QUEUE_DB``: one step of the
NemKonto flow in a process of its own, for the SIGKILL tests (``TOEKGW_CRASH_AT`` picks the
point; ``receive:N`` journals up to N answers per commit)."""

from __future__ import annotations

import json
import sys

from tests.nemkonto_flow_data import SETTINGS
from toekgw.adapters.nemkonto import receive_answers, send_bundles
from toekgw.adapters.nemkonto.answers import ANSWERS_PER_COMMIT
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.mq import SqliteQueue


def main(argv: list[str]) -> int:
    step, journal_path, queue_path = argv
    journal = open_journal(journal_path)
    queue = SqliteQueue(queue_path)
    try:
        if step == "send":
            sent = send_bundles(journal, queue, SETTINGS)
            print(json.dumps([s.bundle_id for s in sent]))
        else:
            per_commit = int(step.partition(":")[2] or ANSWERS_PER_COMMIT)
            summary = receive_answers(journal, queue, SETTINGS, per_commit=per_commit)
            print(json.dumps(summary.as_dict()))
    finally:
        queue.close()
        journal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
