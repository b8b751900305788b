"""The consent gate (DOMAIN.md §12): data from a consented source is usable only under a live
consent of that enterprise whose scopes name the source and whose purposes cover the use.

A consent counts when it was granted by the end of ``as_of``; it covers the rows describing days
before it expired or was revoked (history is pulled when the consent is granted; data collected
under a consent stays usable after it ends, PIPL art. 15). Rows without such a consent are held
back (quarantined with ``consent:<source>``); accepted rows record the ``consent_id`` they were
taken under.

An invoice is evidence about two enterprises: the seller's sales and the buyer's purchases (a bank
pulls both under one firm's tax authorisation, 销项 and 进项). It is kept when either party has a
live ``invoices`` consent on its issue day and is held back only when neither has. It records both
consents: ``consent_id`` is the seller's (null when the seller has none) and ``buyer_consent_id``
the buyer's. Each side may be used only for its consenting party: the derived tables (sales,
purchases, the two ends of ``supply_edges``) count a side only under that party's consent, so an
enterprise without consent still contributes nothing about itself.
"""

from __future__ import annotations

from datetime import date

from loomcredit.pipeline.ingest.normalise import q
from loomcredit.pipeline.schemas import CONSENTED_SOURCES, ROW_DATE

DEFAULT_PURPOSES = ("pre_loan", "post_loan")

# The column naming the enterprise whose consent a row needs.
SUBJECT_COLUMN = {"invoices": "seller_uscc"}
# Sources whose rows are also about a second enterprise, who may consent instead (column, the
# column recording that party's consent).
SECOND_PARTY = {"invoices": ("buyer_uscc", "buyer_consent_id")}


def consent_columns(source: str) -> tuple[str, ...]:
    """The consent-id columns an accepted row of ``source`` carries in the integrated zone."""
    second = SECOND_PARTY.get(source)
    return ("consent_id",) if second is None else ("consent_id", second[1])


def subject_column(source: str) -> str | None:
    """The enterprise column a source's rows are gated on (``None`` for public sources)."""
    if source not in CONSENTED_SOURCES:
        return None
    return SUBJECT_COLUMN.get(source, "uscc")


def live_consents_sql(consents_relation: str, as_of: date, purposes: tuple[str, ...]) -> str:
    """SELECT ``uscc, source, consent_id, valid_until`` per (enterprise, source) on ``as_of``.

    ``consents_relation`` is a SQL relation with the cleaned consents columns. Only consents
    granted by the end of ``as_of`` whose purposes meet ``purposes`` count; ``valid_until`` is the
    latest end (expiry or revocation) among them and ``consent_id`` the consent that gives it.
    """
    end_of_day = f"TIMESTAMPTZ '{as_of.isoformat()} 23:59:59.999999+00'"
    wanted = ", ".join(f"'{p}'" for p in purposes)
    return (
        "SELECT uscc, scope AS source, arg_max(consent_id, valid_until) AS consent_id, "
        "max(valid_until) AS valid_until FROM ("
        "SELECT uscc, consent_id, unnest(string_split(scopes, ';')) AS scope, "
        "string_split(purposes, ';') AS purpose_list, "
        "least(expires_at, coalesce(revoked_at, expires_at)) AS valid_until "
        f"FROM ({consents_relation}) WHERE granted_at <= {end_of_day}) "
        f"WHERE len(list_intersect(purpose_list, [{wanted}])) > 0 "
        "GROUP BY uscc, scope"
    )


def row_day_sql(source: str, table_alias: str) -> str:
    """SQL for the day a (normalised) row describes (the tax period's first day for tax)."""
    if source == "tax":
        return f"CAST({table_alias}.period || '-01' AS DATE)"
    return f"CAST({table_alias}.{q(ROW_DATE[source])} AS DATE)"


def _live_join(source: str, table_alias: str, column: str, alias: str) -> str:
    day = row_day_sql(source, table_alias)
    return (
        "LEFT JOIN (SELECT uscc, consent_id, valid_until FROM live_consent "
        f"WHERE source = '{source}') AS {alias} ON {alias}.uscc = {table_alias}.{q(column)} "
        f"AND CAST({day} AS TIMESTAMPTZ) < {alias}.valid_until"
    )


def consent_join(source: str, table_alias: str) -> tuple[str, str, str]:
    """SQL pieces gating ``source``: (join clause, consent-id select list, reason expression).

    A row is covered when its enterprise has a consent for the source that was still valid
    (not expired, not revoked) on the day the row describes: data collected while a consent was
    live stays usable after it ends (PIPL art. 15), later data is held back. For a two-party
    source (invoices) either party's consent covers the row. The select list names the columns
    of :func:`consent_columns`. Expects a table ``live_consent(uscc, source, consent_id,
    valid_until)`` in the connection.
    """
    column = subject_column(source)
    if column is None:
        return "", "CAST(NULL AS VARCHAR) AS consent_id", "CAST(NULL AS VARCHAR)"
    join = _live_join(source, table_alias, column, "lc")
    ids = "lc.consent_id AS consent_id"
    covered = "lc.consent_id IS NOT NULL"
    subject_known = f"{table_alias}.{q(column)} IS NOT NULL"
    second = SECOND_PARTY.get(source)
    if second is not None:
        other, other_id = second
        join += " " + _live_join(source, table_alias, other, "lc2")
        ids += f", lc2.consent_id AS {other_id}"
        covered += " OR lc2.consent_id IS NOT NULL"
    reason = f"CASE WHEN {subject_known} AND NOT ({covered}) THEN 'consent:{source}' END"
    return join, ids, reason
