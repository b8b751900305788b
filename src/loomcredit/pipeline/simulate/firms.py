"""The enterprises of the cluster: codes, names and the names people use, industries, ages, sizes,
legal representatives.

Industries follow the Keqiao chain (DOMAIN.md §4): chemical fibre (tier 0) → weavers (1) → dyers
(2) → garment makers and wholesalers (3). Sizes are log-normal (mostly micro and small).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from loomcredit.domain.identity import generate_resident_id, generate_uscc
from loomcredit.pipeline.simulate.config import EPOCH, Timeline

# code, tier, share of firms, name words (first is the registered word), energy kWh per fen,
# steam t per fen (dyers only)
INDUSTRIES: tuple[tuple[str, int, float, tuple[str, ...], float, float], ...] = (
    ("C2822", 0, 0.05, ("化纤", "化学纤维"), 0.0009, 0.0),
    ("C1751", 1, 0.28, ("纺织", "织造"), 0.0011, 0.0),
    ("C1712", 1, 0.05, ("织造", "纺织"), 0.0010, 0.0),
    ("C1761", 1, 0.06, ("针织", "经编"), 0.0009, 0.0),
    ("C1752", 2, 0.16, ("纺织印染", "印染", "染整"), 0.0008, 4e-6),
    ("C1713", 2, 0.04, ("印染", "纺织印染"), 0.0008, 4e-6),
    ("C1762", 2, 0.03, ("针织印染", "染整"), 0.0008, 3.5e-6),
    ("C1819", 3, 0.08, ("服饰", "服装"), 0.00015, 0.0),
    ("C1820", 3, 0.04, ("针织服饰", "服饰"), 0.00015, 0.0),
    ("C1773", 3, 0.04, ("家纺", "布艺"), 0.0002, 0.0),
    ("F5131", 3, 0.15, ("纺织品", "轻纺", "纺织贸易"), 0.00003, 0.0),
    ("F5132", 3, 0.02, ("服装贸易", "服饰贸易"), 0.00003, 0.0),
)
INDUSTRY_CODES = tuple(row[0] for row in INDUSTRIES)
DYER_CODES = frozenset({"C1752", "C1713", "C1762"})

BRAND_CHARS = (
    "恒达永盛华鑫隆兴锦绣天宇金鼎富润嘉宏新晨瑞祥丰泰佳美凯越海辰明星东方远航诚信和宝昌龙"
    "凤翔光大中正益源顺欣雅舒博通春秋江南亚"
)
SURNAMES = "陈王张徐金孙沈钱傅俞屠鲁李周吴赵胡何朱杨黄马高林罗郑谢宋许韩冯邓曹彭蒋蔡丁"
GIVEN_CHARS = "建国伟明华军平勇杰强磊洋涛斌超波辉刚健红英芳丽娟敏静霞燕萍月兰琴文立新志海林峰"
# Registration areas: mostly 柯桥 330603, historic 绍兴县 330621 for old firms, a few elsewhere.
OTHER_REGIONS = ("330602", "330604", "330681", "330683")
PERSON_REGIONS = ("330603", "330602", "330604", "330681", "330683", "330624", "330621", "330682")
HISTORIC_CUTOFF = date(2013, 10, 1)  # 绍兴县 became 柯桥区


@dataclass
class Firms:
    """Per-enterprise attributes (arrays are indexed by enterprise)."""

    uscc: list[str]
    name: list[str]  # current registered name
    old_name: list[str | None]  # name before a 绍兴县 → 柯桥 rename, if any
    renamed_on: np.ndarray  # days since epoch of that rename (or -1)
    aliases: list[list[str]]  # unambiguous variants: abbreviations and informal names
    industry: np.ndarray  # index into INDUSTRIES
    tier: np.ndarray
    region: list[str]  # region code as issued (may be historic 330621)
    established: np.ndarray  # days since epoch
    established_t: np.ndarray  # simulation month index of establishment (may be negative)
    size: np.ndarray  # base monthly own demand in fen
    capital_fen: np.ndarray
    rep_name: list[str]
    rep_id: list[str]
    kwh_per_fen: np.ndarray
    steam_per_fen: np.ndarray

    def __len__(self) -> int:
        """Number of enterprises."""
        return len(self.uscc)

    def industry_code(self, i: int) -> str:
        """GB/T 4754 class of enterprise ``i``."""
        return INDUSTRIES[int(self.industry[i])][0]


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _unique_usccs(regions: list[str], rng: random.Random) -> list[str]:
    seen: set[str] = set()
    out = []
    for region in regions:
        code = generate_uscc(region, rng)
        while code in seen:
            code = generate_uscc(region, rng)
        seen.add(code)
        out.append(code)
    return out


def _names(
    n: int, industry: np.ndarray, historic: np.ndarray, rng: random.Random
) -> tuple[list[str], list[str | None], list[str], list[tuple[str, ...]]]:
    """Registered names, pre-rename names, brands and the words of each name."""
    taken: set[str] = set()
    names, old_names, brands, words_of = [], [], [], []
    for i in range(n):
        words = INDUSTRIES[int(industry[i])][3]
        word = words[0] if rng.random() < 0.7 else rng.choice(words)
        prefix = rng.choice(("绍兴柯桥", "绍兴柯桥", "绍兴", "浙江"))
        length = 2
        while True:
            brand = "".join(rng.choice(BRAND_CHARS) for _ in range(length))
            name = f"{prefix}{brand}{word}有限公司"
            keys = {brand + word[-2:], brand + word[:2]}
            if not keys & taken and brand[0] != brand[1]:
                break
            length = 3 if rng.random() < 0.3 else length
        taken |= keys
        old = None
        if historic[i] and prefix == "绍兴柯桥":
            old = f"绍兴县{brand}{word}有限公司"
        names.append(name)
        old_names.append(old)
        brands.append(brand)
        words_of.append((word, *[w for w in words if w != word]))
    return names, old_names, brands, words_of


def _aliases(
    names: list[str], brands: list[str], words_of: list[tuple[str, ...]]
) -> list[list[str]]:
    """Abbreviations and variants, keeping only those that point to one enterprise."""
    candidates: list[list[str]] = []
    owners: Counter[str] = Counter(names)
    for name, brand, words in zip(names, brands, words_of, strict=True):
        word = words[0]
        bare = name.removeprefix("绍兴柯桥").removeprefix("绍兴").removeprefix("浙江")
        cands = [f"{brand}{word[-2:]}"]  # 恒达印染
        if len(word) > 2:
            cands.append(f"{brand}{word[:2]}")  # 恒达纺织
        cands += [
            bare,
            f"柯桥{bare.removesuffix('有限公司')}",
            name.replace("有限公司", "有限责任公司"),
            name.replace("有限公司", "（有限公司）"),
        ]
        cands = list(dict.fromkeys(c for c in cands if c != name))
        candidates.append(cands)
        owners.update(cands)
    # a variant that is also someone's registered name, or shared by two firms, is ambiguous
    return [[c for c in cands if owners[c] == 1] for cands in candidates]


def build_firms(n: int, timeline: Timeline, seed: int) -> Firms:
    """Draw ``n`` enterprises of the cluster (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, 1])
    prng = random.Random(seed * 1_000_003 + 11)
    shares = np.array([row[2] for row in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), size=n, p=shares / shares.sum())
    tier = np.array([INDUSTRIES[k][1] for k in industry], dtype=np.int8)

    # Ages: months to decades, some under two years, a few founded during the simulated window.
    start_day = timeline.start_day
    age_days = np.exp(rng.normal(np.log(8 * 365), 0.9, size=n)).clip(30, 40 * 365)
    young = rng.random(n) < 0.04
    age_days[young] = -rng.uniform(0, max(30, (timeline.total - 13) * 30.4), size=young.sum())
    established = (start_day - age_days).astype(np.int64)
    first_day = timeline.first_day
    established_t = np.searchsorted(first_day, established, side="right") - 1

    est_dates = [EPOCH + timedelta(days=int(d)) for d in established]
    historic = np.array([d < HISTORIC_CUTOFF for d in est_dates]) & (rng.random(n) < 0.55)
    other = rng.random(n) < 0.06
    regions = [
        "330621" if historic[i] else OTHER_REGIONS[i % 4] if other[i] else "330603"
        for i in range(n)
    ]
    uscc = _unique_usccs(regions, prng)
    names, old_names, brands, words_of = _names(n, industry, historic, prng)
    renamed_on = np.full(n, -1, dtype=np.int64)
    for i, old in enumerate(old_names):
        if old is not None:
            renamed_on[i] = (date(2014, 1, 1) - EPOCH).days + int(rng.integers(0, 900))
    aliases = _aliases(names, brands, words_of)

    tier_scale = np.array([3.0, 1.0, 1.4, 1.1])[tier]
    size = np.exp(rng.normal(np.log(3.5e7), 1.0, size=n)) * tier_scale
    size *= np.clip(np.sqrt(np.maximum(age_days, 60) / 1500), 0.35, 1.6)
    capital = (np.round(size * rng.uniform(1.5, 8, size=n) / 1e8) * 1e8).astype(np.int64)
    capital = np.maximum(capital, 10_000_000)  # at least 10万元

    rep_name, rep_id = [], []
    for _ in range(n):
        born = date(1958, 1, 1) + timedelta(days=int(rng.integers(0, 40 * 365)))
        area = PERSON_REGIONS[int(rng.integers(0, len(PERSON_REGIONS)))]
        rep_name.append(_person_name(prng))
        rep_id.append(generate_resident_id(area, born, prng))

    kwh = np.array([INDUSTRIES[k][4] for k in industry]) * rng.lognormal(0, 0.25, size=n)
    steam = np.array([INDUSTRIES[k][5] for k in industry]) * rng.lognormal(0, 0.25, size=n)
    return Firms(
        uscc=uscc,
        name=names,
        old_name=old_names,
        renamed_on=renamed_on,
        aliases=aliases,
        industry=industry,
        tier=tier,
        region=regions,
        established=established,
        established_t=established_t,
        size=size,
        capital_fen=capital,
        rep_name=rep_name,
        rep_id=rep_id,
        kwh_per_fen=kwh,
        steam_per_fen=steam,
    )


@dataclass
class Outsiders:
    """Enterprises outside the cluster that buy from or sell to it (with USCCs and names)."""

    uscc: list[str]
    name: list[str]


OUTSIDE_AREAS = (
    ("320509", "苏州吴江", ("丝绸", "纺织", "服饰")),
    ("440106", "广州", ("服装", "服饰", "贸易")),
    ("330106", "杭州", ("服饰", "女装", "贸易")),
    ("310115", "上海", ("国际贸易", "服饰", "实业")),
    ("350582", "晋江", ("鞋服", "体育用品", "纺织")),
    ("330206", "宁波", ("石化", "化工", "国际贸易")),
    ("320214", "无锡", ("化纤", "纺织")),
)


def build_outsiders(n_firms: int, seed: int) -> Outsiders:
    """A pool of outside buyers and suppliers sized to the cluster."""
    prng = random.Random(seed * 7919 + 5)
    n = max(50, n_firms // 10)
    regions, names = [], []
    taken: set[str] = set()
    for _ in range(n):
        code, place, words = OUTSIDE_AREAS[prng.randrange(len(OUTSIDE_AREAS))]
        while True:
            brand = "".join(prng.choice(BRAND_CHARS) for _ in range(prng.choice((2, 3))))
            name = f"{place}{brand}{prng.choice(words)}有限公司"
            if name not in taken:
                break
        taken.add(name)
        regions.append(code)
        names.append(name)
    return Outsiders(uscc=_unique_usccs(regions, prng), name=names)
