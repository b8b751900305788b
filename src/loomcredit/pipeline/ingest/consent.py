"""The consent gate (DOMAIN.md §12): data from a consented source is usable only under a live
consent of that enterprise whose scopes name the source and whose purposes cover the use.

A consent counts when it was granted by the end of ``as_of``; it covers the rows describing days
before it expired or was revoked (history is pulled when the consent is granted; data collected
under a consent stays usable after it ends, PIPL art. 15). Rows without such a consent are held
back (quarantined with ``consent:<source>``); accepted rows record the ``consent_id`` they were
taken under.
"""

from __future__ import annotations

from datetime import date

from loomcredit.pipeline.ingest.normalise import q
from loomcredit.pipeline.schemas import CONSENTED_SOURCES, ROW_DATE

DEFAULT_PURPOSES = ("pre_loan", "post_loan")

# The column naming the enterprise whose consent a row needs.
SUBJECT_COLUMN = {"invoices": "seller_uscc"}


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


def consent_join(source: str, table_alias: str) -> tuple[str, str, str]:
    """SQL pieces gating ``source``: (join clause, consent_id expression, reason expression).

    A row is covered when its enterprise has a consent for the source that was still valid
    (not expired, not revoked) on the day the row describes: data collected while a consent was
    live stays usable after it ends (PIPL art. 15), later data is held back. Expects a table
    ``live_consent(uscc, source, consent_id, valid_until)`` in the connection.
    """
    column = subject_column(source)
    if column is None:
        return "", "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
    day = row_day_sql(source, table_alias)
    join = (
        "LEFT JOIN (SELECT uscc, consent_id, valid_until FROM live_consent "
        f"WHERE source = '{source}') AS lc ON lc.uscc = {table_alias}.{q(column)} "
        f"AND CAST({day} AS TIMESTAMPTZ) < lc.valid_until"
    )
    reason = (
        f"CASE WHEN {table_alias}.{q(column)} IS NOT NULL AND lc.consent_id IS NULL "
        f"THEN 'consent:{source}' END"
    )
    return join, "lc.consent_id", reason
