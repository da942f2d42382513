"""Item claims: a claimed item is skipped by every other claimer until released, and a claim
dies with its holder's process (SIGKILL included)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import PostgresServer
from toekgw.gateway.journal import JournalUrl
from toekgw.gateway.journal.claims import DatabaseClaims, LocalClaims, open_claims

HOLDER = """
import sys, time
from toekgw.gateway.journal.claims import DatabaseClaims
claims = DatabaseClaims(sys.argv[1], 7)
print(sorted(claims.claim([1, 2, 3])), flush=True)
time.sleep(120)
"""


def test_local_claims_are_all_this_process(tmp_path: Path) -> None:
    claims = open_claims(tmp_path / "journal.sqlite", 1)
    assert isinstance(claims, LocalClaims)
    assert claims.claim([3, 1]) == {1, 3}


def test_a_claim_is_one_workers_until_released_or_its_holder_dies(
    postgresql: PostgresServer,
) -> None:
    url = postgresql.fresh(migrated=False)
    one, other = open_claims(JournalUrl(url), 7), DatabaseClaims(url, 7)
    elsewhere = DatabaseClaims(url, 8)  # another namespace: other items
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert one.claim([10, 11, 12]) == {10, 11, 12}
        assert one.claim([10, 13]) == {10, 13}  # its own again, and a free one
        assert other.claim([10, 11, 12, 13, 14]) == {14}
        assert elsewhere.claim([10, 11]) == {10, 11}
        one.release()
        assert other.claim([10, 11, 12, 13]) == {10, 11, 12, 13}
        assert holder.stdout is not None and holder.stdout.readline().strip() == "[1, 2, 3]"
        assert one.claim([1, 2, 3, 4]) == {4}
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (taken := one.claim([1, 2, 3])) != {1, 2, 3} and time.monotonic() < deadline:
            time.sleep(0.1)  # the server notices the closed connection at once, or nearly
        assert taken == {1, 2, 3}
    finally:
        holder.kill()
        holder.wait(timeout=10)
        for claims in (one, other, elsewhere):
            claims.close()
        postgresql.drop(url)
