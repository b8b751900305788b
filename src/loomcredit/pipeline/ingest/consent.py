"""The consent gate (DOMAIN.md §12): data from a consented source is usable only under a live
consent of that enterprise whose scopes name the source and whose purposes cover the use.

A consent is live on ``as_of`` when it was granted by the end of that day, has not expired and has
not been revoked by then. Rows without one are held back (quarantined with ``consent:<source>``);
accepted rows record the ``consent_id`` they were taken under.
"""

from __future__ import annotations

from datetime import date

from loomcredit.pipeline.ingest.normalise import q
from loomcredit.pipeline.schemas import CONSENTED_SOURCES

DEFAULT_PURPOSES = ("pre_loan", "post_loan")

# The column naming the enterprise whose consent a row needs.
SUBJECT_COLUMN = {"invoices": "seller_uscc"}


def subject_column(source: str) -> str | None:
    """The enterprise column a source's rows are gated on (``None`` for public sources)."""
    if source not in CONSENTED_SOURCES:
        return None
    return SUBJECT_COLUMN.get(source, "uscc")


def live_consents_sql(consents_relation: str, as_of: date, purposes: tuple[str, ...]) -> str:
    """SELECT ``uscc, source, consent_id`` for every (enterprise, source) covered on ``as_of``.

    ``consents_relation`` is a SQL relation with the cleaned consents columns.
    """
    end_of_day = f"TIMESTAMPTZ '{as_of.isoformat()} 23:59:59.999999+00'"
    wanted = ", ".join(f"'{p}'" for p in purposes)
    return (
        "SELECT uscc, scope AS source, min(consent_id) AS consent_id FROM ("
        "SELECT uscc, consent_id, unnest(string_split(scopes, ';')) AS scope, "
        "string_split(purposes, ';') AS purpose_list "
        f"FROM ({consents_relation}) "
        f"WHERE granted_at <= {end_of_day} AND expires_at > {end_of_day} "
        f"AND (revoked_at IS NULL OR revoked_at > {end_of_day})) "
        f"WHERE len(list_intersect(purpose_list, [{wanted}])) > 0 "
        "GROUP BY uscc, scope"
    )


def consent_join(source: str, table_alias: str) -> tuple[str, str, str]:
    """SQL pieces gating ``source``: (join clause, consent_id expression, reason expression).

    Expects a table ``live_consent(uscc, source, consent_id)`` in the connection.
    """
    column = subject_column(source)
    if column is None:
        return "", "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
    join = (
        f"LEFT JOIN (SELECT uscc, consent_id FROM live_consent WHERE source = '{source}') AS lc "
        f"ON lc.uscc = {table_alias}.{q(column)}"
    )
    reason = (
        f"CASE WHEN {table_alias}.{q(column)} IS NOT NULL AND lc.consent_id IS NULL "
        f"THEN 'consent:{source}' END"
    )
    return join, "lc.consent_id", reason
