"""The journal's schema, as numbered migrations applied in order, each exactly once.

A migration is never edited once released: change the schema by appending one. A journal
written by a newer version (a migration number we do not know) is refused rather than guessed at.

One list serves both stores. Each migration is written in SQLite's dialect; PostgreSQL runs the
same text through :func:`toekgw.gateway.journal._postgres_schema.postgres_migration`, which
translates the types mechanically, and takes from :data:`POSTGRES` what cannot be translated
(the append-only triggers, the JSON of migration 9). A new migration whose SQL the translation
does not cover adds its PostgreSQL text here, beside the SQLite one. Data that neither store's
SQL computes alike (a digest) is computed in Python by :data:`FILLS`, after the migration's
statements and in its transaction, on either store.
"""

from __future__ import annotations

from collections.abc import Callable

from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal._item_rows import lookup_key
from toekgw.gateway.journal._postgres_references import set_wise_references
from toekgw.gateway.journal._sql import Database

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "transmissions, items, events, error list",
        """
        CREATE TABLE kinds (
            name        TEXT PRIMARY KEY,
            direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            definition  TEXT NOT NULL            -- JSON: the transmission and item lifecycles
        );

        CREATE TABLE transmissions (
            id            INTEGER PRIMARY KEY,
            ref           TEXT NOT NULL UNIQUE,  -- our stable id (SendersFileId, bundle id)
            counterpart   TEXT NOT NULL,
            kind          TEXT NOT NULL REFERENCES kinds(name),
            direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            state         TEXT NOT NULL,
            file_name     TEXT,
            size          INTEGER CHECK (size IS NULL OR size >= 0),
            sha256        TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
            transfer_id   TEXT,                  -- the remote side's id (FileTransferUUID)
            delivery_key  TEXT,                  -- the counterpart's delivery id
            remote_path   TEXT,
            local_path    TEXT,
            meta          TEXT NOT NULL DEFAULT '{}',
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
        );
        -- Idempotency lives in constraints, so that two processes cannot both win.
        CREATE UNIQUE INDEX transmissions_sha256
            ON transmissions(direction, sha256) WHERE sha256 IS NOT NULL;
        CREATE UNIQUE INDEX transmissions_transfer_id
            ON transmissions(transfer_id) WHERE transfer_id IS NOT NULL;
        CREATE UNIQUE INDEX transmissions_delivery
            ON transmissions(counterpart, delivery_key) WHERE delivery_key IS NOT NULL;
        CREATE INDEX transmissions_state ON transmissions(counterpart, state);

        CREATE TABLE items (
            id              INTEGER PRIMARY KEY,
            transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
            counterpart     TEXT NOT NULL,
            business_key    TEXT NOT NULL,
            amount_ore      INTEGER NOT NULL,
            seq             INTEGER,
            fingerprint     TEXT,
            state           TEXT NOT NULL,
            created_event   INTEGER NOT NULL REFERENCES events(id),
            updated_at      TEXT NOT NULL,
            UNIQUE (counterpart, business_key)
        );
        CREATE INDEX items_transmission ON items(transmission_id, state);
        CREATE INDEX items_fingerprint ON items(counterpart, fingerprint)
            WHERE fingerprint IS NOT NULL;

        -- The audit trail. scope 'items' is one move of all items of a transmission that were
        -- in from_state (count says how many): a bundle of 100,000 payments moves in one line.
        CREATE TABLE events (
            id              INTEGER PRIMARY KEY,
            at              TEXT NOT NULL,
            transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
            item_id         INTEGER REFERENCES items(id),
            scope           TEXT NOT NULL CHECK (scope IN ('transmission', 'item', 'items')),
            from_state      TEXT,
            to_state        TEXT,
            count           INTEGER,
            reason          TEXT NOT NULL
        );
        CREATE INDEX events_transmission ON events(transmission_id, id);
        CREATE INDEX events_item ON events(item_id) WHERE item_id IS NOT NULL;
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

        CREATE TABLE error_entries (
            id              INTEGER PRIMARY KEY,
            at              TEXT NOT NULL,
            counterpart     TEXT NOT NULL,
            transmission_id INTEGER REFERENCES transmissions(id),
            file_name       TEXT,
            subject         TEXT NOT NULL,       -- 'delivery', 'record', 'file', ...
            business_key    TEXT,
            state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
            resolution      TEXT,
            resolved_at     TEXT
        );
        CREATE INDEX error_entries_state ON error_entries(state, id);

        CREATE TABLE error_findings (
            id        INTEGER PRIMARY KEY,
            entry_id  INTEGER NOT NULL REFERENCES error_entries(id),
            code      TEXT NOT NULL,
            severity  TEXT NOT NULL,
            message   TEXT NOT NULL,
            line      INTEGER,
            columns   TEXT,
            field     TEXT,
            expected  TEXT,
            found     TEXT,
            path      TEXT
        );
        CREATE INDEX error_findings_entry ON error_findings(entry_id);
        """,
    ),
    (
        2,
        "item payload: what an adapter needs to act on an item later",
        """
        -- JSON, adapter-defined (e.g. a G68 payment's recipient, dates and texts, so that a
        -- NemKonto bundle can be built from the journal alone). Personal data at rest: the
        -- journal file is as sensitive as the files it came from.
        ALTER TABLE items ADD COLUMN data TEXT;
        """,
    ),
    (
        3,
        "item lookup key: find earlier items by an adapter-defined key",
        """
        -- Adapter-defined and not unique (e.g. company, person and month of an income line),
        -- so that rules over earlier items (a correction may not make a monthly total
        -- negative) read a handful of rows instead of the whole journal.
        ALTER TABLE items ADD COLUMN lookup TEXT;
        CREATE INDEX items_lookup ON items(counterpart, lookup) WHERE lookup IS NOT NULL;
        """,
    ),
    (
        4,
        "members: the items an outbound transmission carries that came in under another",
        """
        -- A NemKonto bundle carries payments journaled under G68 deliveries: the bundle is a
        -- transmission, its members are those items. member_key is the id the counterpart
        -- knows the item by (answers name it). An item may be a member of several
        -- transmissions over time (a bundle answered 0 returns its payments for a new one).
        CREATE TABLE transmission_members (
            transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
            item_id         INTEGER NOT NULL REFERENCES items(id),
            seq             INTEGER NOT NULL,
            member_key      TEXT NOT NULL,
            PRIMARY KEY (transmission_id, item_id),
            UNIQUE (transmission_id, member_key)
        );
        CREATE INDEX transmission_members_item ON transmission_members(item_id, transmission_id);
        """,
    ),
    (
        5,
        "books: a classification replica, booking events, vouchers, postings, batches",
        """
        -- Additive: new tables only. A classification (an SF7002 sortiment, say) is kept as
        -- whole versions: a delta delivery is stored as the full set it makes, so any version
        -- reads alone and two versions compare row by row.
        CREATE TABLE class_versions (
            id              INTEGER PRIMARY KEY,
            scheme          TEXT NOT NULL,       -- the classification's id (sortiment UUID)
            version         INTEGER NOT NULL,
            delivery        TEXT NOT NULL,       -- the counterpart's word: full or delta
            name            TEXT NOT NULL,
            valid_from      TEXT NOT NULL,
            received_at     TEXT NOT NULL,
            transmission_id INTEGER REFERENCES transmissions(id),
            UNIQUE (scheme, version)
        );
        CREATE TABLE class_members (
            version_id  INTEGER NOT NULL REFERENCES class_versions(id),
            class_id    TEXT NOT NULL,
            code        TEXT NOT NULL,
            title       TEXT NOT NULL,
            valid_from  TEXT NOT NULL,
            valid_to    TEXT,
            PRIMARY KEY (version_id, class_id)
        );
        CREATE INDEX class_members_code ON class_members(version_id, code);

        -- One row per journaled item and bookable event (journaled, effectuated, ...): the
        -- unique pair is what makes booking exactly once.
        CREATE TABLE booking_events (
            id           INTEGER PRIMARY KEY,
            item_id      INTEGER NOT NULL REFERENCES items(id),
            event        TEXT NOT NULL,
            grp          TEXT NOT NULL,          -- who books it (the municipality)
            day          TEXT NOT NULL,          -- the posting date
            amount_ore   INTEGER NOT NULL CHECK (amount_ore > 0),
            business_key TEXT NOT NULL,
            category     TEXT,                   -- what decides the expense account
            bundle_ref   TEXT,
            member_key   TEXT,
            voucher_row  INTEGER REFERENCES vouchers(id),
            UNIQUE (item_id, event)
        );
        CREATE INDEX booking_events_open ON booking_events(grp, day, event, id)
            WHERE voucher_row IS NULL;

        CREATE TABLE vouchers (
            id          INTEGER PRIMARY KEY,
            voucher_id  TEXT NOT NULL UNIQUE,    -- stable: a re-send is recognised by it
            grp         TEXT NOT NULL,
            day         TEXT NOT NULL,
            kind        TEXT NOT NULL,
            state       TEXT NOT NULL,
            batch_id    TEXT REFERENCES voucher_batches(batch_id),
            replaces    INTEGER REFERENCES vouchers(id),
            reason      TEXT,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );
        CREATE INDEX vouchers_state ON vouchers(state, grp, id);
        CREATE TABLE voucher_postings (
            id           INTEGER PRIMARY KEY,
            voucher_row  INTEGER NOT NULL REFERENCES vouchers(id),
            seq          INTEGER NOT NULL,
            side         TEXT NOT NULL CHECK (side IN ('D', 'K')),
            amount_ore   INTEGER NOT NULL CHECK (amount_ore > 0),
            account      TEXT NOT NULL,
            class_id     TEXT,
            text         TEXT,
            bundle_ref   TEXT,
            member_key   TEXT,
            business_key TEXT,
            event_row    INTEGER REFERENCES booking_events(id),
            UNIQUE (voucher_row, seq)
        );
        CREATE INDEX voucher_postings_account ON voucher_postings(account, business_key);
        CREATE TABLE voucher_batches (
            batch_id        TEXT PRIMARY KEY,
            grp             TEXT NOT NULL,
            state           TEXT NOT NULL,
            file_name       TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL,
            transmission_id INTEGER REFERENCES transmissions(id)
        );
        -- Received files applied to the books (an answer, a sortiment): each applied once.
        CREATE TABLE applied_files (
            transmission_id INTEGER PRIMARY KEY REFERENCES transmissions(id),
            at              TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        "status outbox: the last state of each item told to whoever asked for status",
        """
        -- An item whose state differs from its published_state has a status to publish.
        -- sequence counts the statuses published for the item: the next one's event id is
        -- (item, sequence + 1), the same again if a crash comes between publish and this row,
        -- so the receiver drops the second copy by its id.
        CREATE TABLE status_outbox (
            item_id         INTEGER PRIMARY KEY REFERENCES items(id),
            published_state TEXT NOT NULL,
            sequence        INTEGER NOT NULL CHECK (sequence > 0),
            published_at    TEXT NOT NULL
        );
        CREATE INDEX transmissions_kind ON transmissions(kind, id);
        """,
    ),
    (
        7,
        "the reconciliation's action plan",
        """
        -- One entry per difference that needs an action plan (>= 1,000 kr gross), raised in a
        -- month (YYYY-MM) and kept on every later month's report until it is done; who made
        -- each change is recorded (the acting identity).
        CREATE TABLE action_plan (
            id           INTEGER PRIMARY KEY,
            month        TEXT NOT NULL CHECK (length(month) = 7),
            difference   TEXT NOT NULL,
            amount_oere  INTEGER NOT NULL,
            cause        TEXT NOT NULL,
            owner        TEXT NOT NULL,
            deadline     TEXT NOT NULL,
            status       TEXT NOT NULL CHECK (status IN ('open', 'in-progress', 'done')),
            created_at   TEXT NOT NULL,
            created_by   TEXT NOT NULL,
            updated_at   TEXT NOT NULL,
            updated_by   TEXT NOT NULL
        );
        CREATE INDEX action_plan_month ON action_plan(month, status);
        """,
    ),
    (
        8,
        "who: the acting identity on every event",
        """
        -- The OS user or $TOEKGW_USER, or the service's identity ([run] identity) for what
        -- toekgw run does; NULL on events written before this migration.
        ALTER TABLE events ADD COLUMN actor TEXT;
        """,
    ),
    (
        9,
        "typed item columns: municipality, disposition date, the carrying transmission",
        """
        -- What the flows filter, group and sum on, as typed and indexed columns instead of
        -- fields of the JSON payload: a release groups pending payments by municipality and
        -- disposition date, an answer moves the payments its bundle carries, and status sums
        -- per bundle and per date, all in set-based statements over an index.
        ALTER TABLE items ADD COLUMN municipality TEXT;
        ALTER TABLE items ADD COLUMN disposition_date TEXT   -- ISO 8601 date
            CHECK (disposition_date IS NULL OR date(disposition_date) = disposition_date);
        -- The transmission that carries the item now: its latest membership (an item returned
        -- by an answer 0 keeps it until a new bundle carries it).
        ALTER TABLE items ADD COLUMN carrier_id INTEGER REFERENCES transmissions(id);
        -- Payments journaled before this migration have both in their payload.
        UPDATE items SET municipality = json_extract(data, '$.municipality'),
                         disposition_date = json_extract(data, '$.disposition_date')
            WHERE json_valid(data) AND json_type(data, '$.municipality') = 'text';
        UPDATE items SET carrier_id = (SELECT max(m.transmission_id) FROM transmission_members m
                                       WHERE m.item_id = items.id)
            WHERE id IN (SELECT item_id FROM transmission_members);
        CREATE INDEX items_state ON items(counterpart, state, municipality, disposition_date);
        CREATE INDEX items_carrier ON items(carrier_id, state) WHERE carrier_id IS NOT NULL;
        """,
    ),
    (
        10,
        "each transmission's item count and sum kept with it; the carrier index covers amounts",
        """
        -- A transmission's items are its own and its members. Items and memberships are only
        -- ever added (and an item's amount never changes), so the count and the sum are kept
        -- as they are added, in the same transaction, instead of summed at every read.
        ALTER TABLE transmissions ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE transmissions ADD COLUMN total_ore INTEGER NOT NULL DEFAULT 0;
        UPDATE transmissions SET
            item_count = (SELECT count(*) FROM items i WHERE i.transmission_id = transmissions.id)
                + (SELECT count(*) FROM transmission_members m
                   WHERE m.transmission_id = transmissions.id),
            total_ore = (SELECT coalesce(sum(i.amount_ore), 0) FROM items i
                         WHERE i.transmission_id = transmissions.id)
                + (SELECT coalesce(sum(i.amount_ore), 0) FROM transmission_members m
                   JOIN items i ON i.id = m.item_id WHERE m.transmission_id = transmissions.id);
        -- Per bundle and state, count and sum from the index alone (status, reconciliation).
        DROP INDEX items_carrier;
        CREATE INDEX items_carrier ON items(carrier_id, state, amount_ore)
            WHERE carrier_id IS NOT NULL;
        """,
    ),
    (
        11,
        "books: a class removed from its classification stays known",
        """
        -- A class taken out of a classification (an SF7002 sortiment delta removing it, or a
        -- full delivery no longer listing it) is kept in every later version, marked with the
        -- version that removed it: postings made on it stay explained, new ones are refused.
        -- NULL: in the classification. Versions stored before this migration never kept one.
        ALTER TABLE class_members ADD COLUMN removed_in INTEGER;
        """,
    ),
    (
        12,
        "the duplicate-payment control's key for payments journaled before it existed",
        """
        -- The payment controls find earlier payments with the same paying unit, beneficiary,
        -- amount and disposition date by the item's lookup key, which the receivers journal
        -- since the control exists: 'paying unit|ident code|beneficiary|amount in øre|date'
        -- (unit and date empty when absent). Payments journaled before have it in their
        -- payload; recalls and follow-up payments get none (they are no duplicates).
        UPDATE items SET lookup =
                coalesce(json_extract(data, '$.paying_unit'), '') || '|'
                || json_extract(data, '$.ident_code') || '|'
                || json_extract(data, '$.beneficiary') || '|'
                || json_extract(data, '$.amount_ore') || '|'
                || coalesce(json_extract(data, '$.disposition_date'), '')
            WHERE lookup IS NULL AND json_valid(data)
              AND json_type(data, '$.payment_ident') = 'text'
              AND json_type(data, '$.ident_code') = 'text'
              AND json_type(data, '$.beneficiary') = 'text'
              AND json_type(data, '$.amount_ore') = 'integer'
              AND json_type(data, '$.recall') = 'false'
              AND coalesce(json_type(data, '$.follows'), 'null') = 'null';
        """,
    ),
    (
        13,
        "the read log: who looked up which citizen's data",
        """
        -- One row per read of personal data (an item's history, a payment search or view, the
        -- error list): who, when, which command and what it asked for (CPR numbers masked).
        -- read_subjects names the citizens whose data was shown: the CPR number, replaced by
        -- its keyed pseudonym when retention passes the read's period. Append-only.
        CREATE TABLE reads (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            actor     TEXT NOT NULL,
            action    TEXT NOT NULL,
            what      TEXT NOT NULL,
            subjects  INTEGER NOT NULL CHECK (subjects >= 0)
        );
        CREATE INDEX reads_at ON reads(at);
        CREATE TABLE read_subjects (
            read_id  INTEGER NOT NULL REFERENCES reads(id),
            subject  TEXT NOT NULL,
            PRIMARY KEY (read_id, subject)
        );
        CREATE INDEX read_subjects_subject ON read_subjects(subject, read_id);
        CREATE TRIGGER reads_no_update BEFORE UPDATE ON reads
            BEGIN SELECT RAISE(ABORT, 'the read log is append-only'); END;
        CREATE TRIGGER reads_no_delete BEFORE DELETE ON reads
            BEGIN SELECT RAISE(ABORT, 'the read log is append-only'); END;
        """,
    ),
    (
        14,
        "the hash chain over events, items and reads",
        """
        -- One link per commit: the SHA-256 of the previous link's hash and of every event,
        -- item (its fixed columns) and read the commit added, up to the ids named here
        -- (toekgw.gateway.journal._sqlite_chain). The journal's existing rows get their first
        -- link when this migration is applied. Append-only.
        CREATE TABLE chain (
            seq         INTEGER PRIMARY KEY,
            at          TEXT NOT NULL,
            last_event  INTEGER NOT NULL,
            last_item   INTEGER NOT NULL,
            last_read   INTEGER NOT NULL,
            prev_hash   TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash        TEXT NOT NULL CHECK (length(hash) = 64)
        );
        CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain
            BEGIN SELECT RAISE(ABORT, 'the hash chain is append-only'); END;
        CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
            BEGIN SELECT RAISE(ABORT, 'the hash chain is append-only'); END;
        """,
    ),
    (
        15,
        "retention: when an item's personal data was replaced by pseudonyms",
        """
        -- Set by the retention run (toekgw.gateway.retention) when it replaced the item's
        -- personal data (in data, lookup and fingerprint) by keyed pseudonyms; NULL: in clear.
        ALTER TABLE items ADD COLUMN pseudonymised_at TEXT;
        """,
    ),
    (
        16,
        "staged bodies: the bytes an outbound transmission was built as, until it has left",
        """
        -- Written with the transmission (in the same transaction) by a flow that builds and
        -- validates what it will send, so that the send reads these bytes (checked against the
        -- transmission's SHA-256) instead of building them again; deleted once sent. A cache:
        -- a transmission without its row is built again from the journal.
        CREATE TABLE staged_bodies (
            transmission_id INTEGER PRIMARY KEY REFERENCES transmissions(id),
            body            BLOB NOT NULL
        );
        """,
    ),
    (
        17,
        "item moves leave the indexes: items_state dropped, a transmission's waiting items apart",
        """
        -- items_state (counterpart, state, municipality, disposition_date) was made for the
        -- release's pending payments by municipality and date; no reader plans on it now. The
        -- transmission index keeps the transmission alone, and the items waiting in the journal
        -- (the states the flows look for by transmission and state; NemKonto's sent and
        -- answered states are not among them) have their own partial index, so that a move
        -- between other states (three per payment in the month's NemKonto answers alone)
        -- rewrites the row and the carrier index only. A reader that names one of these states
        -- names it as a literal too (toekgw.gateway.journal._sqlite_items.WAITING_STATES), which
        -- is what lets SQLite's planner pick a partial index.
        DROP INDEX items_state;
        DROP INDEX items_transmission;
        CREATE INDEX items_transmission ON items(transmission_id);
        CREATE INDEX items_waiting ON items(transmission_id, state)
            WHERE state = 'pending' OR state = 'blocked' OR state = 'recall-requested'
               OR state = 'held' OR state = 'suspected-duplicate' OR state = 'over-limit'
               OR state = 'awaiting-approval' OR state = 'fail-requested'
               OR state = 'journaled' OR state = 'claimed';
        """,
    ),
    (
        18,
        "a membership records when it began, so a carrier's set-wise moves can be replayed",
        """
        -- The newest event when the membership was made: the carrier's moves of all its
        -- members in a state are one event each (toekgw.gateway.journal._carried), and a
        -- reader tells which items such an event moved by the memberships begun before it.
        -- NULL: made before this migration, so before any such event.
        ALTER TABLE transmission_members ADD COLUMN since_event INTEGER;
        """,
    ),
    (
        19,
        "an item's look-up key also as a 64-bit digest",
        """
        -- The digest the look-up key is indexed by from migration 20 on
        -- (toekgw.gateway.journal._item_rows.lookup_key: BLAKE2b's first 8 bytes, signed).
        -- Computed for the items journaled before by FILLS[19], after this statement; NULL:
        -- no look-up key.
        ALTER TABLE items ADD COLUMN lookup_key INTEGER;
        """,
    ),
    (
        20,
        "items found by look-up key through the digest's index, not the text's",
        """
        -- The text's index held each key whole (about 50 bytes for G68's duplicate-payment
        -- control key) in the text's order, for G68 the beneficiary's: a delivery's inserts
        -- touched every page of an index as large as the month, and the commit wrote them
        -- all. The digest's index is less than half its size (19.7 MB for 892,000 G68
        -- payments; the text's took 56 MB for 980,000). Readers match the digest and the
        -- counterpart, then the text (the digest is not unique; the text stays the key). The
        -- counterpart is in the index so that SQLite's planner, without statistics, takes it
        -- for a list of keys (lookup_key IN (...)) over the business key's index.
        DROP INDEX items_lookup;
        CREATE INDEX items_lookup_key ON items(lookup_key, counterpart)
            WHERE lookup_key IS NOT NULL;
        """,
    ),
    (
        21,
        "PostgreSQL checks the busiest references once per statement",
        """
        -- No statement in SQLite, which checks its foreign keys at an index look-up per row.
        -- PostgreSQL runs POSTGRES_ONLY[21] instead: the foreign keys of the references every
        -- payment, intake message and bundle member makes (items' transmission and creating
        -- event, events' transmission, transmissions' kind, members' transmission and item)
        -- become triggers that check a statement's rows at once
        -- (toekgw.gateway.journal._postgres_references), with the same errors and locks.
        """,
    ),
    (
        22,
        "retention: when a transmission's personal metadata was replaced by pseudonyms",
        """
        -- Set by the retention run (toekgw.gateway.retention) when it went through the
        -- personal fields of a finished transmission's meta (those its adapter describes:
        -- toekgw.gateway.privacy.PersonalData.meta_fields) and replaced them by keyed
        -- pseudonyms; NULL: not yet, so in clear. The hash chain does not cover it.
        ALTER TABLE transmissions ADD COLUMN meta_pseudonymised_at TEXT;
        """,
    ),
)

LATEST = MIGRATIONS[-1][0]

#: Rows a migration's fill reads and writes at a time.
FILL_BATCH = 10_000


def fill_lookup_keys(db: Database) -> None:
    """Migration 19's data: each item's :func:`~toekgw.gateway.journal._item_rows.lookup_key`
    from its look-up key, a batch of :data:`FILL_BATCH` at a time, in id order."""
    last = 0
    while rows := db.execute(
        "SELECT id, lookup FROM items WHERE id > ? AND lookup IS NOT NULL ORDER BY id LIMIT ?",
        (last, FILL_BATCH),
    ).fetchall():
        db.executemany(
            "UPDATE items SET lookup_key = ? WHERE id = ?",
            [(lookup_key(lookup), item_id) for item_id, lookup in rows],
        )
        last = rows[-1][0]


#: What a migration computes in Python (both back ends), run after its statements, in its
#: transaction: data the SQL of either store cannot compute alike.
FILLS: dict[int, Callable[[Database], None]] = {19: fill_lookup_keys}


def fill(version: int, db: Database) -> None:
    """Migration ``version``'s :data:`FILLS`, if it has one, on ``db``: run by either store
    after the migration's statements, in its transaction."""
    if version in FILLS:
        FILLS[version](db)
        crash_point("journal.migrate.filled")  # filled, not committed


def _append_only(table: str, what: str, *, truncate: bool = False) -> dict[str, str]:
    """PostgreSQL's text for a table's two SQLite triggers ``<table>_no_update`` and
    ``<table>_no_delete``: one function that refuses, run before every update and delete (and
    ``TRUNCATE`` where ``truncate``)."""
    function = f"{table}_append_only"
    refuse = f"""
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{what} is append-only'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$;
        CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()"""
    if truncate:
        refuse += f""";
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()"""
    return {
        f"CREATE TRIGGER {table}_no_update": refuse,
        f"CREATE TRIGGER {table}_no_delete": f"""
        CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
    }


#: PostgreSQL's statements of a migration that has none in SQLite, run after its own.
POSTGRES_ONLY: dict[int, list[str]] = {21: set_wise_references()}

# PostgreSQL's text for the statements the translation cannot carry over, per migration: the
# SQLite statement (named by its first words) is replaced in place by this text ("" drops it).
POSTGRES: dict[int, dict[str, str]] = {
    1: _append_only("events", "the event log", truncate=True),
    9: {
        "ALTER TABLE items ADD COLUMN disposition_date": """
            ALTER TABLE items ADD COLUMN disposition_date TEXT COLLATE "C"
                CHECK (disposition_date IS NULL OR to_char(to_date(disposition_date,
                       'YYYY-MM-DD'), 'YYYY-MM-DD') = disposition_date)
            """,
        "UPDATE items SET municipality": """
            UPDATE items SET municipality = data::jsonb ->> 'municipality',
                             disposition_date = data::jsonb ->> 'disposition_date'
                WHERE data IS NOT NULL AND jsonb_typeof(data::jsonb -> 'municipality') = 'string'
            """,
    },
    12: {
        "UPDATE items SET lookup": """
            UPDATE items SET lookup =
                    coalesce(data::jsonb ->> 'paying_unit', '') || '|'
                    || (data::jsonb ->> 'ident_code') || '|'
                    || (data::jsonb ->> 'beneficiary') || '|'
                    || (data::jsonb ->> 'amount_ore') || '|'
                    || coalesce(data::jsonb ->> 'disposition_date', '')
                WHERE lookup IS NULL AND data IS NOT NULL
                  AND jsonb_typeof(data::jsonb -> 'payment_ident') = 'string'
                  AND jsonb_typeof(data::jsonb -> 'ident_code') = 'string'
                  AND jsonb_typeof(data::jsonb -> 'beneficiary') = 'string'
                  AND jsonb_typeof(data::jsonb -> 'amount_ore') = 'number'
                  AND data::jsonb -> 'recall' = 'false'::jsonb
                  AND coalesce(jsonb_typeof(data::jsonb -> 'follows'), 'null') = 'null'
            """,
    },
    13: _append_only("reads", "the read log"),
    14: _append_only("chain", "the hash chain"),
    16: {
        "CREATE TABLE staged_bodies": """
            CREATE TABLE staged_bodies (
                transmission_id BIGINT PRIMARY KEY
                    REFERENCES transmissions(id) DEFERRABLE,
                body            BYTEA NOT NULL
            )
            """,
    },
}
