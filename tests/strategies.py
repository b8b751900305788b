"""Hypothesis strategies shared by the property tests (immoney style).

``monies()``, ``rates()``, ``dates()``, ``currencies()``, ``postings()``, ``entries()`` and
``unpaid_due_dates()``. Keep amounts bounded so tests stay fast and exact.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from loomcredit.domain.money import CNY, Money, Rate

MAX_FEN = 10**12  # ten billion yuan: far above any SME loan, still exact in int
CURRENCIES = ("CNY", "USD", "HKD")


def currencies() -> st.SearchStrategy[str]:
    """One of a few ISO currency codes."""
    return st.sampled_from(CURRENCIES)


def fen(*, min_fen: int = -MAX_FEN, max_fen: int = MAX_FEN) -> st.SearchStrategy[int]:
    """An integer count of fen in a range."""
    return st.integers(min_value=min_fen, max_value=max_fen)


def monies(
    *,
    currency: str | None = CNY,
    min_fen: int = -MAX_FEN,
    max_fen: int = MAX_FEN,
) -> st.SearchStrategy[Money]:
    """Money in one currency (or any of CURRENCIES when ``currency`` is None)."""
    cur = st.just(currency) if currency is not None else currencies()
    return st.builds(Money, fen(min_fen=min_fen, max_fen=max_fen), cur)


def positive_monies(*, currency: str = CNY, max_fen: int = MAX_FEN) -> st.SearchStrategy[Money]:
    """Strictly positive money."""
    return monies(currency=currency, min_fen=1, max_fen=max_fen)


def rates(*, min_bp: int = 1, max_bp: int = 2400) -> st.SearchStrategy[Rate]:
    """Annual rates between ``min_bp`` and ``max_bp`` basis points, with up to 2 extra decimals."""
    return st.integers(min_value=min_bp * 100, max_value=max_bp * 100).map(
        lambda n: Rate(Decimal(n) / Decimal(1_000_000))
    )


def dates(
    *, min_value: date = date(2015, 1, 1), max_value: date = date(2035, 12, 31)
) -> st.SearchStrategy[date]:
    """Business dates in a plausible lending range."""
    return st.dates(min_value=min_value, max_value=max_value)


def unpaid_due_dates(as_of: date, *, max_items: int = 12) -> st.SearchStrategy[list[date]]:
    """Due dates up to 3 years either side of ``as_of``."""
    return st.lists(
        st.integers(min_value=-1100, max_value=1100).map(lambda d: as_of + timedelta(days=d)),
        max_size=max_items,
    )


@st.composite
def balanced_amounts(draw: st.DrawFn, *, currency: str = CNY, max_legs: int = 6) -> list[Money]:
    """Non-zero amounts in one currency that sum to zero (the legs of a balanced entry)."""
    n = draw(st.integers(min_value=1, max_value=max_legs - 1))
    legs = [
        Money(
            draw(st.integers(min_value=1, max_value=10**10)) * draw(st.sampled_from([1, -1])),
            currency,
        )
        for _ in range(n)
    ]
    rest = -sum(m.minor for m in legs)
    if rest == 0:
        legs.append(Money(draw(st.integers(min_value=1, max_value=10**10)), currency))
        legs.append(Money(-legs[-1].minor, currency))
    else:
        legs.append(Money(rest, currency))
    return legs


def postings() -> st.SearchStrategy[object]:
    """A single non-zero posting on any account (imported lazily: the ledger may be absent)."""
    from loomcredit.domain.ledger import Account, Posting

    return st.builds(
        Posting,
        st.sampled_from(list(Account)),
        monies(min_fen=-(10**10), max_fen=10**10).filter(lambda m: not m.is_zero()),
    )


@st.composite
def entries(draw: st.DrawFn, *, entry_id: str | None = None) -> object:
    """A balanced :class:`~loomcredit.domain.ledger.JournalEntry` (one or two currencies)."""
    from loomcredit.domain.ledger import Account, JournalEntry, Posting

    legs = draw(balanced_amounts())
    if draw(st.booleans()):
        legs += draw(balanced_amounts(currency="USD"))
    accounts = st.sampled_from(list(Account))
    postings_ = tuple(Posting(draw(accounts), leg) for leg in legs)
    return JournalEntry(
        entry_id=entry_id or draw(st.uuids()).hex,
        booked_on=draw(dates()),
        description="generated",
        postings=postings_,
    )
