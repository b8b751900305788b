"""Ingest and the day each row was obtained (``obtained_on``): filled from the lags and the
consents when a feed leaves it out, checked when a feed supplies it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.ingest import LakePaths, ingest

from . import ingest_fixtures as fx

pytestmark = pytest.mark.integration
KEY = bytes(range(32))


def _lapsed_consents() -> list[dict[str, object]]:
    """A's consent ends on 31 January and is renewed on 1 March (a lapse in February)."""
    first, renewal = fx.consents()[0], dict(fx.consents()[0])
    first["expires_at"] = fx._ts(date(2024, 1, 31))
    renewal.update(consent_id="CS-RENEW", granted_at=fx._ts(date(2024, 3, 1)))
    return [first, renewal]


def _flows(**extra: object) -> list[dict[str, object]]:
    base = {"uscc": fx.A, "direction": "in", "amount_fen": 100, "counterparty_uscc": None}
    return [
        {**base, "booked_on": date(2024, 1, 5), "counterparty_name": "甲", **extra},
        {**base, "booked_on": date(2024, 2, 5), "counterparty_name": "乙", **extra},
    ]


def _ingest(tmp_path: Path, flows: list[dict[str, object]], *, drop: bool) -> LakePaths:
    feed = fx.write_feed(
        tmp_path / "feed",
        sources={"consents": _lapsed_consents(), "registry": fx.registry(), "bank_flows": flows},
    )
    if drop:  # a feed that does not know the column at all
        part = feed / "raw" / "bank_flows" / "part-00000.parquet"
        pq.write_table(pq.read_table(part).drop(["obtained_on"]), part)
    lake = LakePaths(tmp_path / "home")
    ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    return lake


def _accepted(lake: LakePaths) -> dict[date, tuple[date, str]]:
    rows = duckdb.sql(
        f"SELECT booked_on, obtained_on, consent_id "
        f"FROM read_parquet('{lake.table('bank_flows')}/*.parquet')"
    ).fetchall()
    return {booked: (obtained, consent) for booked, obtained, consent in rows}


def _reasons(lake: LakePaths) -> list[str]:
    return [
        r
        for (r,) in duckdb.sql(
            f"SELECT reasons FROM read_parquet('{lake.table('quarantine')}/*.parquet') "
            "WHERE source = 'bank_flows'"
        ).fetchall()
    ]


@pytest.mark.parametrize("drop", [True, False], ids=["column-absent", "column-null"])
def test_a_lapse_is_obtained_on_the_renewal_day(tmp_path: Path, drop: bool) -> None:
    """Without ``obtained_on``, a flow of 5 January is obtained the next day under the first
    consent, and a flow of 5 February (the lapse) on the renewal day, under the renewal."""
    lake = _ingest(tmp_path, _flows(), drop=drop)
    assert _accepted(lake) == {
        date(2024, 1, 5): (date(2024, 1, 6), "CS-" + fx.A[-4:]),
        date(2024, 2, 5): (date(2024, 3, 1), "CS-RENEW"),
    }


def test_a_supplied_day_is_kept(tmp_path: Path) -> None:
    """A feed's own ``obtained_on`` (on or after the grant and the row's day) is kept as sent."""
    lake = _ingest(tmp_path, _flows(obtained_on=date(2024, 3, 20)), drop=False)
    assert {o for o, _c in _accepted(lake).values()} == {date(2024, 3, 20)}


@pytest.mark.parametrize(
    ("obtained", "reason"),
    [
        (date(2024, 4, 1), "future_date:obtained_on"),  # after as_of: not held yet
        (date(2024, 1, 1), "range:obtained_on"),  # before the day the row describes
    ],
)
def test_an_impossible_supplied_day_is_quarantined(
    tmp_path: Path, obtained: date, reason: str
) -> None:
    """A supplied ``obtained_on`` after the run's as_of, or before the row's own day, is a fault."""
    lake = _ingest(tmp_path, _flows(obtained_on=obtained), drop=False)
    assert _accepted(lake) == {}
    assert len(_reasons(lake)) == 2
    assert all(reason in r.split(";") for r in _reasons(lake))


def test_a_supplied_day_before_any_covering_grant_is_held_back(tmp_path: Path) -> None:
    """The lapse's flow claimed as obtained on 10 February, before the renewal of 1 March that
    alone covers it, cannot have been held then: ``consent:bank_flows``. The January flow, under
    the first consent, is fine."""
    flows = _flows(obtained_on=date(2024, 2, 10))
    lake = _ingest(tmp_path, flows, drop=False)
    assert set(_accepted(lake)) == {date(2024, 1, 5)}
    assert _reasons(lake) == ["consent:bank_flows"]


def test_news_is_linked_with_the_names_known_when_it_arrived(tmp_path: Path) -> None:
    """B's registry row reached the bank on 10 March: a 1 March article naming 永盛化纤 stays
    unlinked (no risk event for B), one of 20 March links to B."""
    registry = fx.registry()
    registry[1]["obtained_on"] = date(2024, 3, 10)
    news = fx.news()[:1]
    news.append({**news[0], "doc_id": "N9", "published_on": date(2024, 3, 20)})
    feed = fx.write_feed(
        tmp_path / "feed", sources={"consents": fx.consents(), "registry": registry, "news": news}
    )
    lake = LakePaths(tmp_path / "home")
    ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    linked = dict(
        duckdb.sql(
            f"SELECT doc_id, uscc FROM read_parquet('{lake.table('news')}/*.parquet')"
        ).fetchall()
    )
    assert linked == {"N1": None, "N9": fx.B}


@pytest.mark.parametrize(("extra", "filled"), [({}, 2), ({"obtained_on": date(2024, 3, 20)}, 0)])
def test_the_report_counts_the_arrival_days_ingest_worked_out(
    tmp_path: Path, extra: dict[str, object], filled: int
) -> None:
    """The run's summary and quality report say how many accepted rows came without a day."""
    feed = fx.write_feed(
        tmp_path / "feed",
        sources={
            "consents": _lapsed_consents(),
            "registry": fx.registry(),
            "bank_flows": _flows(**extra),
        },
    )
    summary = ingest(feed, LakePaths(tmp_path / "home"), pii_key=KEY, as_of=fx.AS_OF)
    assert summary.sources["bank_flows"].obtained_filled == filled
    assert summary.report_json is not None
    report = json.loads(summary.report_json.read_text(encoding="utf-8"))
    assert report["this_run"]["sources"]["bank_flows"]["obtained_filled"] == filled


def test_the_summary_gives_the_earliest_day_a_taken_row_was_obtained(tmp_path: Path) -> None:
    """A later run of two flows — one obtained on 20 March, one claiming a day before its own
    (quarantined) — records 20 March: the quarantined row's day does not count."""
    _ingest(tmp_path, [], drop=False)
    january, february = _flows()
    feed = fx.write_feed(
        tmp_path / "later",
        sources={"bank_flows": [{**february, "obtained_on": date(2024, 3, 20)},
                                {**january, "obtained_on": date(2024, 1, 1)}]},
    )  # fmt: skip
    summary = ingest(feed, LakePaths(tmp_path / "home"), pii_key=KEY, as_of=fx.AS_OF)
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert summary.earliest_obtained == date(2024, 3, 20)
