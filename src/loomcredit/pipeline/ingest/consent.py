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

Arrival (:mod:`loomcredit.pipeline.arrival`): a row is pulled under the *earliest-granted* consent
that covers it, and that is the ``consent_id`` it records. A row a feed sends without
``obtained_on`` gets ``max(available_on, that consent's grant day)`` (for an invoice, the earlier
of its two sides), so the rows of a consent's lapse, covered only by its renewal, are obtained on
the renewal day. A supplied ``obtained_on`` before any covering grant is held back as
``consent:<source>``: the bank could not have held the row then.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from loomcredit.pipeline.arrival import LAGS, OBTAINED
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


def consent_spans_sql(consents_relation: str, as_of: date, purposes: tuple[str, ...]) -> str:
    """SELECT ``uscc, source, consent_id, granted_at, valid_until``: one row per consent × scope.

    ``consents_relation`` is a SQL relation with the cleaned consents columns. Only consents
    granted by the end of ``as_of`` whose purposes meet ``purposes`` count; ``valid_until`` is the
    consent's end (expiry, or revocation when earlier).
    """
    end_of_day = f"TIMESTAMPTZ '{as_of.isoformat()} 23:59:59.999999+00'"
    wanted = ", ".join(f"'{p}'" for p in purposes)
    return (
        "SELECT uscc, scope AS source, consent_id, granted_at, valid_until FROM ("
        "SELECT uscc, consent_id, granted_at, unnest(string_split(scopes, ';')) AS scope, "
        "string_split(purposes, ';') AS purpose_list, "
        "least(expires_at, coalesce(revoked_at, expires_at)) AS valid_until "
        f"FROM ({consents_relation}) WHERE granted_at <= {end_of_day}) "
        f"WHERE len(list_intersect(purpose_list, [{wanted}])) > 0"
    )


def row_day_sql(source: str, table_alias: str) -> str:
    """SQL for the day a (normalised) row describes (the tax period's first day for tax)."""
    if source == "tax":
        return f"CAST({table_alias}.period || '-01' AS DATE)"
    return f"CAST({table_alias}.{q(ROW_DATE[source])} AS DATE)"


def available_sql(source: str, day: str) -> str:
    """SQL for the agreed publication day of a row of ``source`` describing ``day``."""
    lag = LAGS[source]
    if lag.publish_day is None:
        return f"(CAST({day} AS DATE) + {lag.days})"
    return (
        f"(CAST(date_trunc('month', {day}) + INTERVAL {lag.months_after} MONTH AS DATE) "
        f"+ {lag.publish_day - 1})"
    )


def first_grant_join(source: str, party: str, day: str, alias: str) -> str:
    """A LEFT JOIN LATERAL giving ``alias.consent_id`` and ``alias.granted_on``: the earliest
    consent of the enterprise ``party`` (an SQL expression) for ``source`` that covers a row
    describing ``day`` (NULLs when none does). Expects the table ``consent_span``."""
    return (
        f"LEFT JOIN LATERAL (SELECT first(s.consent_id ORDER BY s.granted_at, s.consent_id) "
        f"AS consent_id, CAST(min(s.granted_at) AS DATE) AS granted_on FROM consent_span AS s "
        f"WHERE s.source = '{source}' AND s.uscc = {party} "
        f"AND CAST({day} AS TIMESTAMPTZ) < s.valid_until) AS {alias} ON TRUE"
    )


def side_known_sql(source: str, day: str, grant: str) -> str:
    """SQL: when one party's side of a row is held, ``max(available, grant)``; NULL without a
    grant."""
    return f"CASE WHEN {grant} IS NOT NULL THEN greatest({available_sql(source, day)}, {grant}) END"


class Gate(NamedTuple):
    """SQL pieces gating a source (see :func:`consent_join`)."""

    join: str
    ids: str
    reason: str
    obtained: str | None


def consent_join(source: str, table_alias: str) -> Gate:
    """SQL pieces gating ``source``: join clause, consent-id select list, reason expression and
    the filled ``obtained_on`` (``None`` for consents, which have none).

    A row is covered when its enterprise has a consent for the source that was still valid
    (not expired, not revoked) on the day the row describes: data collected while a consent was
    live stays usable after it ends (PIPL art. 15), later data is held back. For a two-party
    source (invoices) either party's consent covers the row. The select list names the columns
    of :func:`consent_columns`. Expects a table ``consent_span`` (:func:`consent_spans_sql`).
    """
    supplied = f"{table_alias}.{OBTAINED}"
    day = row_day_sql(source, table_alias)
    column = subject_column(source)
    if column is None:
        obtained = None if source == "consents" else available_sql(source, day)
        return Gate(
            "",
            "CAST(NULL AS VARCHAR) AS consent_id",
            "CAST(NULL AS VARCHAR)",
            None if obtained is None else f"coalesce({supplied}, {obtained})",
        )
    join = first_grant_join(source, f"{table_alias}.{q(column)}", day, "lc")
    ids = "lc.consent_id AS consent_id"
    covered = "lc.consent_id IS NOT NULL"
    subject_known = f"{table_alias}.{q(column)} IS NOT NULL"
    grant = "lc.granted_on"
    obtained = side_known_sql(source, day, "lc.granted_on")
    second = SECOND_PARTY.get(source)
    if second is not None:
        other, other_id = second
        join += " " + first_grant_join(source, f"{table_alias}.{q(other)}", day, "lc2")
        ids += f", lc2.consent_id AS {other_id}"
        covered += " OR lc2.consent_id IS NOT NULL"
        grant = "least(lc.granted_on, lc2.granted_on)"
        obtained = f"least({obtained}, {side_known_sql(source, day, 'lc2.granted_on')})"
    too_early = f"{supplied} < {grant}"
    reason = (
        f"CASE WHEN {subject_known} AND (NOT ({covered}) OR coalesce({too_early}, false)) "
        f"THEN 'consent:{source}' END"
    )
    return Gate(join, ids, reason, f"coalesce({supplied}, {obtained})")
