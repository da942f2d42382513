"""``python -m tests.nemkonto_child send|receive JOURNAL QUEUE_DB``: one step of the NemKonto
flow in a process of its own, for the SIGKILL tests (``TOEKGW_CRASH_AT`` picks the point)."""

from __future__ import annotations

import json
import sys

from tests.nemkonto_flow_data import SETTINGS
from toekgw.adapters.nemkonto import receive_answers, send_bundles
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
            print(json.dumps(receive_answers(journal, queue, SETTINGS).as_dict()))
    finally:
        queue.close()
        journal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
