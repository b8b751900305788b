"""De-duplication by natural key (``schemas.NATURAL_KEYS``): within a run and against the lake.

Among the clean rows of a run, the first occurrence of a key (by file order, then row number)
is kept; later ones, and any whose key is already in the integrated zone, are quarantined as
``duplicate``. Keys compare NULL-safely.
"""

from __future__ import annotations

from loomcredit.pipeline.ingest.normalise import q
from loomcredit.pipeline.schemas import NATURAL_KEYS


def rank_sql(source: str, relation: str) -> str:
    """``relation`` plus ``_rank``: 1 for the first clean row of a key, NULL for rejected rows.

    Duplicates are rare, so keys seen more than once are found with a hash aggregate first and
    only their rows are ranked (a window over every row would sort the whole table).
    """
    keys = NATURAL_KEYS[source]
    cols = ", ".join(q(k) for k in keys)
    t_cols = ", ".join(f"t.{q(k)}" for k in keys)
    cond = " AND ".join(f"d.{q(k)} IS NOT DISTINCT FROM t.{q(k)}" for k in keys)
    repeated = (
        f"SELECT {cols} FROM {relation} WHERE len(_reasons) = 0 GROUP BY {cols} HAVING count(*) > 1"
    )
    ranked = (
        f"SELECT t._file_idx, t._row, row_number() OVER (PARTITION BY {t_cols} "
        f"ORDER BY t._file_idx, t._row) AS _rank FROM {relation} AS t "
        f"JOIN ({repeated}) AS d ON {cond} WHERE len(t._reasons) = 0"
    )
    return (
        "SELECT t.*, CASE WHEN len(t._reasons) = 0 THEN coalesce(r._rank, 1) END AS _rank "
        f"FROM {relation} AS t LEFT JOIN ({ranked}) AS r "
        "ON r._file_idx = t._file_idx AND r._row = t._row"
    )


def existing_join(source: str, table_alias: str, existing: str | None) -> tuple[str, str]:
    """(join clause, SQL that is TRUE when the key is already in the lake) for ``existing``.

    ``existing`` is a SQL relation over the integrated table (or ``None`` when it is empty).
    """
    if existing is None:
        return "", "FALSE"
    keys = NATURAL_KEYS[source]
    cols = ", ".join(q(k) for k in keys)
    cond = " AND ".join(f"ex.{q(k)} IS NOT DISTINCT FROM {table_alias}.{q(k)}" for k in keys)
    join = f"LEFT JOIN (SELECT DISTINCT {cols}, TRUE AS _seen FROM {existing}) AS ex ON {cond}"
    return join, "coalesce(ex._seen, FALSE)"


def duplicate_reason(table_alias: str, seen: str) -> str:
    """The ``duplicate`` reason for a clean row that is not its key's first, or already seen."""
    return (
        f"CASE WHEN len({table_alias}._reasons) = 0 AND ({table_alias}._rank > 1 OR {seen}) "
        "THEN 'duplicate' END"
    )
