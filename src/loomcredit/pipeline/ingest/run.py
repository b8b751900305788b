"""One ingest run: feed files → validated, normalised, de-duplicated, consent-gated tables.

The run works in a staging folder next to the integrated zone (``lake/_staging/run-N``) with a
DuckDB database on disk; only when every file of the run has been processed are the new Parquet
files moved into ``integrated/<table>/`` (same-filesystem renames) and the manifest replaced. A bad
path, a corrupt file or any error before that point leaves the lake exactly as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import time as clock_time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb

from loomcredit.pipeline.arrival import OBTAINED
from loomcredit.pipeline.entity import EntityResolver
from loomcredit.pipeline.ingest import codes, integrate, manifest, quality, reach
from loomcredit.pipeline.ingest.consent import (
    DEFAULT_PURPOSES,
    consent_columns,
    consent_join,
    consent_spans_sql,
)
from loomcredit.pipeline.ingest.dedupe import duplicate_reason, existing_join, rank_sql
from loomcredit.pipeline.ingest.model import (
    FileCount,
    IngestError,
    IngestSummary,
    Progress,
    SourceCount,
)
from loomcredit.pipeline.ingest.normalise import code_map, q
from loomcredit.pipeline.ingest.pii import encrypt, join_hash
from loomcredit.pipeline.ingest.readers import (
    FeedFile,
    check_columns,
    discover,
    file_types,
    reader_sql,
)
from loomcredit.pipeline.ingest.validate import (
    MAP_KINDS,
    SPECS,
    check_sql,
    resident_id_or_none,
    uscc_or_none,
)
from loomcredit.pipeline.schemas import RAW_SCHEMAS, ROW_DATE, LakePaths

log = logging.getLogger(__name__)

# Consents gate the others and the registry feeds entity resolution, so they go first.
ORDER = ("consents", "registry", *[s for s in RAW_SCHEMAS if s not in ("consents", "registry")])


def parquet_list(folder: Path) -> list[str]:
    """Parquet files of a table folder, sorted (empty if missing)."""
    return sorted(str(p) for p in folder.glob("*.parquet")) if folder.is_dir() else []


def relation(files: list[str]) -> str | None:
    """A DuckDB relation over Parquet files (``None`` when there are none)."""
    if not files:
        return None
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listed}], union_by_name = true)"


def name_sources(registry: str | None, bank_flows: str | None, *, dated: bool = False) -> list[str]:
    """SELECTs of ``(uscc, name)`` pairs for entity resolution from integrated tables (with
    ``dated``: ``(uscc, name, obtained_on)``, the day the bank held the pair)."""
    day = f", {OBTAINED}" if dated else ""
    parts = [f"SELECT uscc, name{day} FROM {registry}"] if registry else []
    if bank_flows:
        parts.append(
            f"SELECT counterparty_uscc, counterparty_name{day} FROM {bank_flows} "
            "WHERE counterparty_uscc IS NOT NULL AND counterparty_name IS NOT NULL"
        )
    return parts


class _Run:
    """State of one run (kept private: :func:`ingest` is the API)."""

    def __init__(
        self,
        lake: LakePaths,
        pii_key: bytes,
        as_of: date,
        ingested_at: datetime,
        purposes: tuple[str, ...],
        progress: Progress | None,
        run_id: int,
        memory_limit: str = "2GB",
    ) -> None:
        self.lake = lake
        self.pii_key = pii_key
        self.as_of = as_of
        self.ingested_at = ingested_at
        self.purposes = purposes
        self.progress = progress or (lambda _stage, _done, _total: None)
        self.run_id = run_id
        self.staging = lake.home / "lake" / "_staging" / f"run-{run_id:05d}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        self.con = duckdb.connect(str(self.staging / "work.duckdb"))
        self.sql("SET TimeZone = 'UTC'")
        self.sql("SET enable_progress_bar = false")
        self.sql(f"SET memory_limit = '{memory_limit}'")
        self.sql("SET preserve_insertion_order = true")
        self.sql(f"SET temp_directory = '{self.staging / 'tmp'}'")
        self._maps: dict[str, dict[str, str | None]] = {k: {} for k in MAP_KINDS}
        self.new_files: dict[str, list[str]] = {}  # table → staged files
        self.replaced: dict[str, list[str]] = {}  # table → staged files replacing same name

    def sql(self, statement: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Run a statement to completion on the run's connection; returns its rows."""
        began = clock_time.perf_counter()
        rows = self.con.execute(statement, params or []).fetchall()
        log.debug("%.2f s: %s", clock_time.perf_counter() - began, statement[:90])
        return rows

    # -- look-up tables for codes checked in Python -------------------------------------------
    def _mapper(self, kind: str) -> Callable[[str], str | None]:
        if kind == "uscc":
            return uscc_or_none
        if kind == "rid":
            return lambda raw: resident_id_or_none(raw, on=self.as_of)
        if kind == "region":
            return codes.current_region
        return codes.normalise_industry

    def register_maps(self, feed: FeedFile) -> None:
        """Check the distinct code values of a file and register the look-up tables."""
        reader = reader_sql(feed)
        for kind, table in MAP_KINDS.items():
            cols = [c for c, spec in SPECS[feed.source].items() if spec.kind == kind]
            cache = self._maps[kind]
            if cols:
                union = " UNION ".join(f"SELECT CAST({q(c)} AS VARCHAR) AS v FROM r" for c in cols)
                rows = self.con.sql(f"WITH r AS ({reader}) {union}").fetchall()
                mapper = self._mapper(kind)
                for (value,) in rows:
                    if value is not None and value not in cache:
                        cache[value] = mapper(value)
            self.con.register(table, code_map(cache, lambda v, c=cache: c[v]))

    # -- per source ---------------------------------------------------------------------------
    def check_source(self, source: str, feeds: list[FeedFile], first_idx: int) -> None:
        """Validate every new file of a source into table ``chk_<source>``."""
        for offset, feed in enumerate(feeds):
            self.register_maps(feed)
            types = file_types(self.con, feed)
            sql = check_sql(source, reader_sql(feed), self.as_of, types)
            verb = "CREATE TABLE" if offset == 0 else "INSERT INTO"
            tail = "AS" if offset == 0 else ""
            try:
                self.sql(
                    f"{verb} chk_{source} {tail} SELECT {first_idx + offset} AS _file_idx, * "
                    f"FROM ({sql})"
                )
            except duckdb.Error as exc:
                raise IngestError(
                    f"cannot read {feed.fmt} file: {str(exc).splitlines()[0]}", path=feed.path
                ) from exc

    def finalise_source(self, source: str) -> None:
        """``fin_<source>``: the checked rows with duplicate and consent reasons added."""
        existing = relation(parquet_list(self.lake.table(source)))
        ex_join, seen = existing_join(source, "c", existing)
        gate = consent_join(source, "c")
        c_join, c_ids, c_reason = gate.join, gate.ids, gate.reason
        dup = duplicate_reason("c", seen)
        filled = "" if gate.obtained is None else f" REPLACE ({gate.obtained} AS {OBTAINED})"
        # whether ingest worked out the arrival day (the feed left it out): counted in the report
        was_filled = "false" if gate.obtained is None else f"c.{OBTAINED} IS NULL"
        self.sql(
            f"CREATE TABLE fin_{source} AS SELECT c.*{filled}, {was_filled} AS _filled, {c_ids}, "
            f"list_filter(list_concat(c._reasons, [{dup}, "
            f"CASE WHEN len(c._reasons) = 0 THEN {c_reason} END]), lambda x: x IS NOT NULL) "
            f"AS _all "
            f"FROM ({rank_sql(source, f'chk_{source}')}) AS c {ex_join} {c_join}"
        )

    def build_live_consents(self) -> None:
        """Table ``consent_span`` (one row per consent and scope): consents in the lake plus the
        ones accepted in this run, granted by ``as_of`` for the run's purposes."""
        parts = [
            f"SELECT {', '.join(q(c) for c in RAW_SCHEMAS['consents'].names)} FROM {r}"
            for r in [relation(parquet_list(self.lake.table("consents")))]
            if r
        ]
        if self._has_table("fin_consents"):
            cols = ", ".join(q(c) for c in RAW_SCHEMAS["consents"].names)
            parts.append(f"SELECT {cols} FROM fin_consents WHERE len(_all) = 0")
        if not parts:
            self.sql(
                "CREATE TABLE consent_span (uscc VARCHAR, source VARCHAR, consent_id VARCHAR, "
                "granted_at TIMESTAMPTZ, valid_until TIMESTAMPTZ)"
            )
        else:
            rel = " UNION ALL ".join(parts)
            spans = consent_spans_sql(rel, self.as_of, self.purposes)
            self.sql(f"CREATE TABLE consent_span AS {spans}")

    def _has_table(self, name: str) -> bool:
        rows = self.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        )
        return bool(rows[0][0])

    def resolver(self) -> EntityResolver:
        """Alias index over the lake's and this run's registry names, plus the names bank
        statements gave together with a (valid) counterparty USCC, each dated by the day the
        bank held it."""
        parts = name_sources(
            relation(parquet_list(self.lake.table("registry"))),
            relation(parquet_list(self.lake.table("bank_flows"))),
            dated=True,
        )
        if self._has_table("fin_registry"):
            parts.append(f"SELECT uscc, name, {OBTAINED} FROM fin_registry WHERE len(_all) = 0")
        if self._has_table("fin_bank_flows"):
            parts.append(
                f"SELECT counterparty_uscc, counterparty_name, {OBTAINED} FROM fin_bank_flows "
                "WHERE len(_all) = 0 AND counterparty_uscc IS NOT NULL "
                "AND counterparty_name IS NOT NULL"
            )
        if not parts:
            return EntityResolver([])
        rows = self.con.sql(" UNION ".join(parts)).fetchall()
        return EntityResolver((str(u), str(n), d) for u, n, d in rows)  # type: ignore[misc]

    def write_accepted(self, source: str, resolver: EntityResolver | None) -> None:
        """Copy the accepted rows of a source to a staged Parquet file."""
        names = RAW_SCHEMAS[source].names
        cols = [f"f.{q(c)}" for c in names]
        joins = ""
        if source == "registry":
            self._register_pii()
            cols = [c for c in cols if c != 'f."legal_rep_id"']
            cols.insert(4, "p.enc AS legal_rep_id_enc, p.hash AS legal_rep_id_hash")
            joins = "LEFT JOIN pii_map AS p ON p.raw = f.legal_rep_id"
        if source in ("news", "bank_flows") and resolver is not None:
            name_col, uscc_col = (
                ("mentioned_name", "uscc")
                if source == "news"
                else ("counterparty_name", "counterparty_uscc")
            )
            names_seen = self.con.sql(
                f"SELECT DISTINCT {name_col} FROM fin_{source} WHERE {uscc_col} IS NULL "
                f"AND len(_all) = 0"
            ).fetchall()
            # each row linked with the names known on the day it was obtained
            self.con.register("er_map", _spans_table(resolver, (n for (n,) in names_seen)))
            joins = (
                f"LEFT JOIN er_map AS er ON er.raw = f.{name_col} AND f.{OBTAINED} >= er.since "
                f"AND (er.until IS NULL OR f.{OBTAINED} < er.until)"
            )
            cols = [
                f"coalesce(f.{uscc_col}, er.code) AS {uscc_col}" if c == f"f.{q(uscc_col)}" else c
                for c in cols
            ]
        stamp = f"TIMESTAMPTZ '{self.ingested_at.isoformat()}'"
        out = self._stage_path(source, f"part-r{self.run_id:05d}.parquet")
        consent_ids = ", ".join(f"f.{c}" for c in consent_columns(source))
        self.sql(
            f"COPY (SELECT {', '.join(cols)}, {stamp} AS ingested_at, {consent_ids} "
            f"FROM fin_{source} AS f {joins} WHERE len(f._all) = 0) TO '{out}' (FORMAT parquet)"
        )

    def _register_pii(self) -> None:
        rows = self.con.sql(
            "SELECT DISTINCT legal_rep_id FROM fin_registry WHERE len(_all) = 0"
        ).fetchall()
        ids = [str(r[0]) for r in rows]
        import pyarrow as pa

        table = pa.table(
            {
                "raw": pa.array(ids, pa.string()),
                "enc": pa.array([encrypt(i, self.pii_key) for i in ids], pa.binary()),
                "hash": pa.array([join_hash(i, self.pii_key) for i in ids], pa.string()),
            }
        )
        self.con.register("pii_map", table)

    def write_quarantine(self, sources: list[str], file_names: dict[int, str]) -> None:
        """All rejected rows of the run in one staged quarantine file."""
        self.con.register(
            "file_names",
            code_map({str(k): v for k, v in file_names.items()}, lambda k: file_names[int(k)]),
        )
        stamp = f"TIMESTAMPTZ '{self.ingested_at.isoformat()}'"
        parts = []
        for source in sources:
            fields = []
            for col in RAW_SCHEMAS[source].names:
                value = f"CAST(f.{q(col)} AS VARCHAR)"
                if col == "legal_rep_id":
                    value = "'***'"
                fields.append(f"{q(col)} := {value}")
            parts.append(
                f"SELECT '{source}' AS source, n.code AS file, f._row AS row_number, "
                f"coalesce(f._raw, to_json(struct_pack({', '.join(fields)}))) AS row, "
                f"array_to_string(f._all, ';') AS reasons, {stamp} AS ingested_at "
                f"FROM fin_{source} AS f JOIN file_names AS n ON n.raw = CAST(f._file_idx AS "
                f"VARCHAR) WHERE len(f._all) > 0"
            )
        out = self._stage_path("quarantine", f"part-r{self.run_id:05d}.parquet")
        self.sql(
            f"COPY (SELECT source, file, row_number, CAST(row AS VARCHAR) AS row, reasons, "
            f"ingested_at FROM ({' UNION ALL '.join(parts)})) "
            f"TO '{out}' (FORMAT parquet)"
        )

    def _stage_path(self, table: str, name: str, *, replaces: bool = False) -> Path:
        folder = self.staging / "out" / table
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        (self.replaced if replaces else self.new_files).setdefault(table, []).append(str(path))
        return path

    def stage_derived(self, table: str, name: str) -> Path:
        """A staged file that replaces ``integrated/<table>/<name>`` (derived tables)."""
        return self._stage_path(table, name, replaces=True)

    def staged(self, table: str) -> list[str]:
        """Files of a table as they will be after the run: lake files plus staged ones."""
        staged = self.new_files.get(table, []) + self.replaced.get(table, [])
        names = {Path(p).name for p in staged}
        kept = [p for p in parquet_list(self.lake.table(table)) if Path(p).name not in names]
        return sorted(kept + staged)

    def commit(self) -> None:
        """Move staged files into the integrated zone (renames on the same filesystem)."""
        for mapping in (self.new_files, self.replaced):
            for table, files in mapping.items():
                target = self.lake.table(table)
                target.mkdir(parents=True, exist_ok=True)
                for path in files:
                    os.replace(path, target / Path(path).name)

    def close(self) -> None:
        """Drop the staging area."""
        self.con.close()
        shutil.rmtree(self.staging, ignore_errors=True)
        parent = self.staging.parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()


def _spans_table(resolver: EntityResolver, names: Iterable[object]) -> object:
    """``raw, since, until, code``: each name's USCC over the days it links to one."""
    import pyarrow as pa

    rows = [
        (str(n), since, until, uscc)
        for n in names
        if n
        for since, until, uscc in resolver.spans(str(n))
    ]
    cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    return pa.table(
        {
            "raw": pa.array(list(cols[0]), pa.string()),
            "since": pa.array(list(cols[1]), pa.date32()),
            "until": pa.array(list(cols[2]), pa.date32()),
            "code": pa.array(list(cols[3]), pa.string()),
        }
    )


def infer_as_of(con: duckdb.DuckDBPyConnection, feeds: list[FeedFile]) -> date:
    """The feed's own date when none is given: the end of the second month after its newest
    market month (payments for the last periods arrive in the following weeks), else the newest
    row date in the feed."""
    market = [f for f in feeds if f.source == "market"]
    candidates = market or feeds
    best: date | None = None
    for feed in candidates:
        col = q(ROW_DATE[feed.source])
        expr = (
            f"TRY_CAST({col} || '-01' AS DATE)"
            if feed.source == "tax"
            else f"TRY_CAST(CAST({col} AS VARCHAR)[:10] AS DATE)"
        )
        try:
            ((value,),) = con.sql(f"SELECT max({expr}) FROM ({reader_sql(feed)})").fetchall()
        except duckdb.Error as exc:
            raise IngestError(f"cannot read {feed.fmt} file: {exc}", path=feed.path) from exc
        if value is not None and (best is None or value > best):
            best = value
    if best is None:
        raise IngestError("cannot tell the feed's date: give as_of")
    if market:
        months = best.year * 12 + best.month - 1 + 3  # the first day of the third month after
        nxt = date(months // 12, months % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return best


def ingest(
    source: Path,
    lake: LakePaths,
    *,
    pii_key: bytes,
    as_of: date | None = None,
    progress: Progress | None = None,
    truth: Path | None = None,
    clock: Callable[[], datetime] | None = None,
    purposes: tuple[str, ...] = DEFAULT_PURPOSES,
    memory_limit: str = "2GB",
    refuse_unconsented: bool = False,
    report: bool = True,
) -> IngestSummary:
    """Ingest a feed into the lake's integrated zone (see the package docstring).

    Args:
        source: a folder with ``raw/<source>/`` files, or the ``raw`` folder itself.
        lake: where the lake lives.
        pii_key: 32-byte key for AES-GCM encryption and HMAC of personal identifiers.
        as_of: no row may describe a later day; consents must be live on it. Default: the feed's
            own date (see :func:`infer_as_of`).
        progress: ``progress(stage, done, total)`` callback.
        truth: a simulator ``truth`` folder: entity-resolution and news metrics are measured.
        clock: gives ``ingested_at``; default midnight UTC of ``as_of`` (reproducible runs).
        purposes: uses a consent must cover (any of them).
        memory_limit: DuckDB's memory cap for the run (it spills to the staging folder beyond).
        refuse_unconsented: a row no live consent covers refuses the whole run (nothing is
            stored) instead of going to quarantine — for batches sent for a purpose, such as
            post-loan monitoring, that the enterprise must have consented to.
        report: write the data-quality report (a small batch leaves the last full ingest's
            report in place).

    Returns:
        Counts per source and file, quarantine reasons, report paths and metrics.
    """
    feeds = discover(source)
    book = manifest.load(lake.integrated)
    hashes = {f.path: f.sha256() for f in feeds}
    new = [f for f in feeds if not book.has(hashes[f.path])]
    probe = duckdb.connect()
    probe.execute("SET enable_progress_bar = false")
    try:
        for feed in new:
            check_columns(probe, feed)
        when = as_of or infer_as_of(probe, feeds)
    finally:
        probe.close()
    summary = IngestSummary(run_id=None, as_of=when.isoformat())
    for feed in feeds:
        if feed not in new:
            summary.files.append(
                FileCount(feed.source, str(feed.path), hashes[feed.path], skipped=True)
            )
            summary.sources.setdefault(feed.source, SourceCount(feed.source)).files_skipped += 1
    if new:
        stamp = clock() if clock else datetime.combine(when, time(0), tzinfo=UTC)
        run = _Run(lake, pii_key, when, stamp, purposes, progress, book.next_run, memory_limit)
        try:
            _process(run, new, hashes, summary)
            if refuse_unconsented:
                _refuse_unconsented(run, list(summary.sources), purposes)
            summary.touched = reach.touched(run, list(summary.sources))
            summary.earliest_obtained = reach.earliest_obtained(run, list(summary.sources))
            run.commit()
            for count in summary.files:
                if not count.skipped:
                    book.files[count.sha256] = {
                        "source": count.source,
                        "file": count.file,
                        "run_id": run.run_id,
                        "rows_in": count.rows_in,
                        "accepted": count.accepted,
                        "quarantined": count.quarantined,
                    }
            book.runs.append(
                {
                    "run_id": run.run_id,
                    "as_of": summary.as_of,
                    "ingested_at": stamp.isoformat(),
                    "files": len(new),
                }
            )
            manifest.save(lake.integrated, book)
            summary.run_id = run.run_id
        finally:
            run.close()
    if truth is not None:
        from loomcredit.pipeline.ingest.evaluate import evaluate

        summary.metrics = evaluate(lake, truth)
    if report:
        html, js = quality.write_report(lake, summary)
        summary.report_html, summary.report_json = html, js
    return summary


def _process(
    run: _Run, new: list[FeedFile], hashes: dict[Path, str], summary: IngestSummary
) -> None:
    by_source: dict[str, list[FeedFile]] = {}
    for feed in new:
        by_source.setdefault(feed.source, []).append(feed)
    index: dict[int, FeedFile] = {}
    idx = 0
    done_sources: list[str] = []
    steps = len(by_source) + 3
    resolver: EntityResolver | None = None
    for step, source in enumerate([s for s in ORDER if s in by_source]):
        run.progress(f"checking {source}", step, steps)
        feeds = by_source[source]
        for feed in feeds:
            index[len(index)] = feed
        run.check_source(source, feeds, idx)
        idx += len(feeds)
        if source == "consents":
            run.finalise_source(source)
            run.build_live_consents()
        else:
            if not run._has_table("consent_span"):
                run.build_live_consents()
            run.finalise_source(source)
        if source in ("news", "bank_flows") and resolver is None:
            resolver = run.resolver()
        run.write_accepted(source, resolver)
        done_sources.append(source)
    file_names = {i: str(f.path) for i, f in index.items()}
    run.write_quarantine(done_sources, file_names)
    _count(run, done_sources, index, hashes, summary)
    run.progress("integrating", steps - 2, steps)
    integrate.build(run, done_sources)
    run.progress("committing", steps - 1, steps)


def _refuse_unconsented(run: _Run, sources: list[str], purposes: tuple[str, ...]) -> None:
    """Raise (so that nothing is stored) when a row of the run has no live consent."""
    for source in sources:
        if not run._has_table(f"fin_{source}"):
            continue
        rows = run.sql(
            f"SELECT count(*), list(DISTINCT r) FROM (SELECT unnest(_all) AS r FROM fin_{source}) "
            "WHERE starts_with(r, 'consent')"
        )
        n, reasons = rows[0]
        if n:
            raise IngestError(
                f"{n} row(s) of {source} have no live consent for {' or '.join(purposes)} "
                f"({'; '.join(sorted(str(r) for r in reasons or [])[:3])}); nothing was stored"
            )


def _count(
    run: _Run,
    sources: list[str],
    index: dict[int, FeedFile],
    hashes: dict[Path, str],
    summary: IngestSummary,
) -> None:
    per_file: dict[int, tuple[int, int]] = {}
    filled: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for source in sources:
        for idx, total, good, guessed in run.con.sql(
            f"SELECT _file_idx, count(*), count(*) FILTER (WHERE len(_all) = 0), "
            f"count(*) FILTER (WHERE len(_all) = 0 AND _filled) "
            f"FROM fin_{source} GROUP BY _file_idx"
        ).fetchall():
            per_file[int(idx)] = (int(total), int(good))
            filled[source] = filled.get(source, 0) + int(guessed)
        for reason, n in run.con.sql(
            f"SELECT split_part(r, ':', 1), count(*) FROM (SELECT unnest(_all) AS r "
            f"FROM fin_{source}) GROUP BY 1"
        ).fetchall():
            reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
    for idx, feed in index.items():
        total, good = per_file.get(idx, (0, 0))
        count = FileCount(feed.source, str(feed.path), hashes[feed.path], total, good, total - good)
        summary.files.append(count)
        agg = summary.sources.setdefault(feed.source, SourceCount(feed.source))
        agg.files += 1
        agg.rows_in += total
        agg.accepted += good
        agg.quarantined += total - good
    for source, n in filled.items():
        summary.sources.setdefault(source, SourceCount(source)).obtained_filled += n
    summary.quarantine_reasons = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))
