"""The journal's busiest references on PostgreSQL, checked once per statement, not per row.

A foreign key in PostgreSQL checks every inserted row with a query of its own: for a COPY of
300,000 payments into ``items`` its two keys (the transmission, the creating event) took 2.5
s of the 4.5 s the COPY took, more than a bare COPY of the same rows into an equal table
without them. Every row of such a statement names the same transmission and the same event,
so here the check is made once per statement, over the distinct values of its rows (a
trigger with the statement's new rows as a transition table), with the same outcome as the
foreign key's:

- an insert naming a parent that does not exist fails with ``foreign_key_violation``
  (SQLSTATE 23503), the constraint's usual name and a ``Key (...)=(...) is not present``
  detail; the parents it names are locked ``FOR KEY SHARE`` as the foreign key locks them,
  so a parent deleted at the same time cannot leave the rows orphaned;
- an update that changes the column is checked the same way, row by row (the journal never
  changes these columns);
- deleting a parent, or changing its key, while a row still refers to it fails with
  ``foreign_key_violation`` after the delete waited for the inserting transaction (a row
  trigger after the delete, as the foreign key's own check runs); ``TRUNCATE`` of a parent
  is refused.

The trigger functions plan with ``enable_seqscan`` off, so that they find parents by their
key's index whatever the tables' statistics: PL/pgSQL keeps a session's plans, and one made
while ``transmissions`` was small read the whole table for every statement once it had grown
(TØK's intake took twice as long).

SQLite checks its foreign keys in C at an index look-up per row, cheap enough to keep them
there as declared. Migration 21 replaces these references' foreign keys on PostgreSQL
(:func:`set_wise_references`). The copy of a SQLite journal (``toekgw journal migrate-to``)
fills a parent before the tables that refer to it so (:func:`parents`), since these checks,
unlike the foreign keys, cannot be deferred to the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["SET_WISE", "Reference", "parents", "set_wise_references", "triggers"]


class Reference(NamedTuple):
    """``table.column`` refers to ``parent.key``, whose PostgreSQL type is ``type``."""

    table: str
    column: str
    parent: str
    key: str
    type: str

    @property
    def constraint(self) -> str:
        """The name PostgreSQL gave the foreign key this replaces (and its errors keep)."""
        return f"{self.table}_{self.column}_fkey"


#: The references checked per statement: those every journaled payment, intake message and
#: bundle member makes.
SET_WISE: tuple[Reference, ...] = (
    Reference("transmissions", "kind", "kinds", "name", "text"),
    Reference("items", "transmission_id", "transmissions", "id", "bigint"),
    Reference("items", "created_event", "events", "id", "bigint"),
    Reference("events", "transmission_id", "transmissions", "id", "bigint"),
    Reference("transmission_members", "transmission_id", "transmissions", "id", "bigint"),
    Reference("transmission_members", "item_id", "items", "id", "bigint"),
)


def parents(table: str) -> set[str]:
    """The tables ``table``'s set-wise references name."""
    return {r.parent for r in SET_WISE if r.table == table}


# The triggers' names (each row trigger's function has its trigger's name), spelled here
# alone: by the statements that make them and by triggers(), which doctor checks against.


def _inserted_name(table: str) -> str:
    return f"{table}_references_inserted"


def _changed_name(ref: Reference) -> str:
    return f"{ref.constraint}_changed"


def _referenced_name(parent: str) -> str:
    return f"{parent}_referenced"


def _truncate_name(parent: str) -> str:
    return f"{parent}_no_truncate_referenced"


def triggers() -> set[tuple[str, str]]:
    """``(table, trigger)`` of every trigger :func:`set_wise_references` makes: what
    ``toekgw doctor`` looks for (a reference whose trigger is gone is no longer checked)."""
    made = {(r.table, _inserted_name(r.table)) for r in SET_WISE}
    made |= {(r.table, _changed_name(r)) for r in SET_WISE}
    made |= {(r.parent, _referenced_name(r.parent)) for r in SET_WISE}
    return made | {(r.parent, _truncate_name(r.parent)) for r in SET_WISE}


def set_wise_references() -> list[str]:
    """PostgreSQL's statements of migration 21: the foreign keys of :data:`SET_WISE` dropped,
    their checks made by triggers."""
    statements = [f"ALTER TABLE {r.table} DROP CONSTRAINT {r.constraint}" for r in SET_WISE]
    for table in dict.fromkeys(r.table for r in SET_WISE):
        statements += _inserted(table, [r for r in SET_WISE if r.table == table])
    for ref in SET_WISE:
        statements += _changed(ref)
    for parent in dict.fromkeys(r.parent for r in SET_WISE):
        statements += _referenced(parent, [r for r in SET_WISE if r.parent == parent])
    return statements


def _missing(ref: Reference, value: str) -> str:
    """PL/pgSQL raising the foreign key's error for ``value`` absent from the parent."""
    return (
        f'RAISE EXCEPTION \'insert or update on table "{ref.table}" violates foreign key '
        f"constraint \"{ref.constraint}\"' USING ERRCODE = 'foreign_key_violation', "
        f"DETAIL = format('Key ({ref.column})=(%s) is not present in table \"{ref.parent}\".', "
        f"{value}), TABLE = '{ref.table}', COLUMN = '{ref.column}', "
        f"CONSTRAINT = '{ref.constraint}';"
    )


def _inserted(table: str, refs: Iterable[Reference]) -> list[str]:
    """The statement trigger that checks an insert's rows: each reference's distinct values,
    their parents locked, a value without one refused."""
    declare, body = [], []
    for n, ref in enumerate(refs):
        declare.append(f"wanted_{n} {ref.type}[]; missing_{n} {ref.type};")
        body.append(
            f"""
            SELECT array_agg(DISTINCT {ref.column}) INTO wanted_{n}
                FROM new_rows WHERE {ref.column} IS NOT NULL;
            IF wanted_{n} IS NOT NULL THEN
                PERFORM FROM {ref.parent} WHERE {ref.key} = ANY (wanted_{n}) FOR KEY SHARE;
                GET DIAGNOSTICS present = ROW_COUNT;
                IF present < cardinality(wanted_{n}) THEN
                    SELECT w INTO missing_{n} FROM unnest(wanted_{n}) w
                        WHERE NOT EXISTS (SELECT FROM {ref.parent} p WHERE p.{ref.key} = w)
                        LIMIT 1;
                    {_missing(ref, f"missing_{n}")}
                END IF;
            END IF;"""  # noqa: S608 (names from SET_WISE)
        )
    function = _inserted_name(table)
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        DECLARE present bigint; {" ".join(declare)}
        BEGIN{"".join(body)}
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER {function} AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]


def _changed(ref: Reference) -> list[str]:
    """The row trigger that checks an update changing the referring column."""
    function = _changed_name(ref)
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        BEGIN
            PERFORM FROM {ref.parent} WHERE {ref.key} = NEW.{ref.column} FOR KEY SHARE;
            IF NOT FOUND THEN
                {_missing(ref, f"NEW.{ref.column}")}
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER {function} AFTER UPDATE OF {ref.column} ON {ref.table} FOR EACH ROW
            WHEN (NEW.{ref.column} IS DISTINCT FROM OLD.{ref.column}
                  AND NEW.{ref.column} IS NOT NULL)
            EXECUTE FUNCTION {function}()""",
    ]


def _referenced(parent: str, refs: list[Reference]) -> list[str]:
    """The row trigger that refuses deleting (or re-keying) a parent still referred to, and
    the statement trigger that refuses ``TRUNCATE``."""
    key = refs[0].key
    checks = "".join(
        f"""
            IF EXISTS (SELECT FROM {r.table} WHERE {r.column} = OLD.{key}) THEN
                RAISE EXCEPTION 'update or delete on table "{parent}" violates foreign key '
                    'constraint "{r.constraint}" on table "{r.table}"'
                    USING ERRCODE = 'foreign_key_violation',
                    DETAIL = format('Key ({key})=(%s) is still referenced from table '
                                    '"{r.table}".', OLD.{key}),
                    TABLE = '{r.table}', CONSTRAINT = '{r.constraint}';
            END IF;"""  # noqa: S608 (names from SET_WISE)
        for r in refs
    )
    tables = ", ".join(dict.fromkeys(r.table for r in refs))
    function = _referenced_name(parent)
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                RAISE EXCEPTION 'cannot truncate table "{parent}": {tables} refer to it'
                    USING ERRCODE = 'feature_not_supported';
            END IF;
            IF TG_OP = 'UPDATE' AND NEW.{key} IS NOT DISTINCT FROM OLD.{key} THEN
                RETURN NULL;
            END IF;{checks}
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER {function} AFTER DELETE OR UPDATE OF {key} ON {parent}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER {_truncate_name(parent)} BEFORE TRUNCATE ON {parent}
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]
