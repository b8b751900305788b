"""The database guards the journal itself (STYLE.md §2.4, django-hordak's ``check_leg``).

* No posting of zero: ``CHECK (amount_fen <> 0)`` on ``postings`` (in the table definition).
* Append-only: any UPDATE or DELETE of ``journal_entries`` or ``postings`` is refused (and a
  TRUNCATE on PostgreSQL).
* Balanced at commit: every entry written in a transaction must, when it commits, have at least
  two postings summing to zero per currency, and exactly the number of postings its row declares
  (``journal_entries.n_postings``, since 0007).
* Complete once posted: a posting beyond that number is refused at once, so no leg can be added
  to an entry later, balanced or not (an addition is an edit of a posted entry).

PostgreSQL checks the rule with a ``DEFERRABLE INITIALLY DEFERRED`` constraint trigger on
``journal_entries`` (once per entry: a posting added to an entry of an earlier transaction is
already refused when it is written). SQLite has no deferred triggers, so a deferred foreign key
does it:
``journal_entries.id`` references ``balanced_entries(id)`` ``DEFERRABLE INITIALLY DEFERRED``
(``orm.py``), and after every posting a trigger removes the entry's ``balanced_entries`` row and
puts it back only if the entry now balances; a row that does not balance is refused by a trigger
on ``balanced_entries`` (so it cannot be faked either). COMMIT then fails with a foreign-key error
for any entry left unbalanced. Either way the failure is an ``IntegrityError`` at commit, which
the unit of work turns into :class:`~loomcredit.domain.errors.UnbalancedEntry`.

:func:`install_ledger_guards` is called by migration 0006 and by tests that build the schema with
``metadata.create_all``; it is idempotent.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

_BALANCES = """
    (SELECT COUNT(*) FROM postings WHERE entry_id = {eid}) >= 2
    AND (SELECT COUNT(*) FROM postings WHERE entry_id = {eid})
        = (SELECT n_postings FROM journal_entries WHERE id = {eid})
    AND NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = {eid}
                    GROUP BY currency HAVING SUM(amount_fen) <> 0)
"""

_SQLITE = (
    f"""
    CREATE TRIGGER IF NOT EXISTS ledger_balanced_only BEFORE INSERT ON balanced_entries
    WHEN NOT ({_BALANCES.format(eid="NEW.id")})
    BEGIN SELECT RAISE(IGNORE); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS ledger_balanced_fixed BEFORE UPDATE ON balanced_entries
    BEGIN SELECT RAISE(ABORT, 'balanced_entries is kept by the ledger triggers'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS ledger_posting_beyond_entry BEFORE INSERT ON postings
    WHEN (SELECT COUNT(*) FROM postings WHERE entry_id = NEW.entry_id)
         >= (SELECT n_postings FROM journal_entries WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'journal entry is complete: no posting can be added to it'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS ledger_posting_balance AFTER INSERT ON postings
    BEGIN
        DELETE FROM balanced_entries WHERE id = NEW.entry_id;
        INSERT INTO balanced_entries (id) VALUES (NEW.entry_id);
    END
    """,
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS ledger_{table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END
        """
        for table in ("journal_entries", "postings")
        for op in ("UPDATE", "DELETE")
    ),
)

_PG_FUNCTIONS = (
    """
    CREATE OR REPLACE FUNCTION ledger_assert_balanced(eid varchar) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        n integer;
        declared integer;
        bad text;
    BEGIN
        SELECT COUNT(p.id), j.n_postings INTO n, declared
        FROM journal_entries j LEFT JOIN postings p ON p.entry_id = j.id
        WHERE j.id = eid GROUP BY j.n_postings;
        IF n < 2 THEN
            RAISE EXCEPTION 'journal entry % has % posting(s); at least 2 are needed', eid, n
                USING ERRCODE = 'check_violation';
        END IF;
        IF n <> declared THEN
            RAISE EXCEPTION 'journal entry % has % posting(s) but declares %', eid, n, declared
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT string_agg(currency || ' ' || total, ', ') INTO bad
        FROM (SELECT currency, SUM(amount_fen) AS total FROM postings WHERE entry_id = eid
              GROUP BY currency HAVING SUM(amount_fen) <> 0) off;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'journal entry % does not balance (off by % fen)', eid, bad
                USING ERRCODE = 'check_violation';
        END IF;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_check_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM ledger_assert_balanced(NEW.id); RETURN NULL; END $$
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_extra_postings() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        bad text;
    BEGIN
        SELECT j.id INTO bad
        FROM (SELECT entry_id, COUNT(*) AS n FROM postings
              WHERE entry_id IN (SELECT entry_id FROM new_postings) GROUP BY entry_id) c
        JOIN journal_entries j ON j.id = c.entry_id
        WHERE c.n > j.n_postings LIMIT 1;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'journal entry % is complete: no posting can be added to it', bad
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
)

#: Dropped and made again by :func:`install_ledger_guards`. ``ledger_posting_balanced`` (a
#: deferred check per posting, before 0007) is only dropped: a posting belongs either to an entry
#: written in the same transaction, which its entry's own deferred check covers at commit, or to
#: an entry already complete, which ``ledger_posting_beyond_entry`` refuses at once.
_PG_TRIGGERS = (
    ("ledger_posting_beyond_entry", "postings"),
    ("ledger_posting_balanced", "postings"),
    ("ledger_entry_balanced", "journal_entries"),
    ("ledger_append_only", "postings"),
    ("ledger_append_only", "journal_entries"),
    ("ledger_no_truncate", "postings"),
    ("ledger_no_truncate", "journal_entries"),
)


def _pg_triggers() -> tuple[str, ...]:
    deferred = "AFTER INSERT ON {t} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
    return (
        "CREATE TRIGGER ledger_posting_beyond_entry AFTER INSERT ON postings "
        "REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT "
        "EXECUTE FUNCTION ledger_refuse_extra_postings()",
        f"CREATE CONSTRAINT TRIGGER ledger_entry_balanced {deferred.format(t='journal_entries')} "
        "EXECUTE FUNCTION ledger_check_entry()",
        *(
            f"CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW "
            "EXECUTE FUNCTION ledger_refuse_change()"
            for t in ("postings", "journal_entries")
        ),
        *(
            f"CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT "
            "EXECUTE FUNCTION ledger_refuse_change()"
            for t in ("postings", "journal_entries")
        ),
    )


def install_ledger_guards(conn: Connection) -> None:
    """Create the journal's triggers on this connection's database (idempotent)."""
    if conn.dialect.name == "sqlite":
        for ddl in _SQLITE:  # dropped first, so an upgrade replaces an older definition
            name = re.search(r"CREATE TRIGGER IF NOT EXISTS (\w+)", ddl)
            if name is None:  # pragma: no cover - every statement above names its trigger
                raise ValueError(f"a ledger guard without a name: {ddl}")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name.group(1)}")
            conn.exec_driver_sql(ddl)
        return
    for ddl in _PG_FUNCTIONS:
        conn.execute(text(ddl))  # text(): psycopg would read the '%' of RAISE as placeholders
    for name, table in _PG_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ledger_check_posting()")  # before 0007
    for ddl in _pg_triggers():
        conn.exec_driver_sql(ddl)


def unbalanced_entries(conn: Connection) -> list[str]:
    """Ids of stored entries that do not balance or have fewer than two postings (checked before
    the guards are installed, when the number each declares may not be filled in yet)."""
    rows = conn.execute(
        text(
            """
            SELECT j.id FROM journal_entries j
            LEFT JOIN postings p ON p.entry_id = j.id
            GROUP BY j.id HAVING COUNT(p.id) < 2
            UNION
            SELECT entry_id FROM postings GROUP BY entry_id, currency HAVING SUM(amount_fen) <> 0
            ORDER BY 1
            """
        )
    )
    return [str(r[0]) for r in rows]


def backfill_balanced_entries(conn: Connection) -> None:
    """Record the stored entries as balanced (SQLite; before the guards are installed), after
    checking that every one of them does balance.

    Raises:
        RuntimeError: naming the entries that do not balance (nothing is recorded).
    """
    bad = unbalanced_entries(conn)
    if bad:
        shown = ", ".join(bad[:20]) + (f" and {len(bad) - 20} more" if len(bad) > 20 else "")
        raise RuntimeError(
            f"{len(bad)} stored journal entries do not balance or have fewer than two postings "
            f"({shown}); fix them with correcting entries before upgrading"
        )
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO balanced_entries (id) SELECT id FROM journal_entries "
            "WHERE id NOT IN (SELECT id FROM balanced_entries)"
        )
