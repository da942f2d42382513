"""The journal's schema, as numbered migrations applied in order, each exactly once.

A migration is never edited once released: change the schema by appending one. A journal
written by a newer version (a migration number we do not know) is refused rather than guessed at.
"""

from __future__ import annotations

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
)

LATEST = MIGRATIONS[-1][0]
