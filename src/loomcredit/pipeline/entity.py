"""Entity resolution: link a company named in news or bank flows to its USCC.

People name a Keqiao firm in many ways: the full registered name (绍兴柯桥永通纺织有限公司), without
the region prefix or the legal form (永通纺织有限公司, 柯桥永通纺织), or by its core name (永通). An
:class:`EntityResolver` builds an alias index from the registry's names (every name a firm has had)
by stripping region prefixes, legal-form suffixes and industry words, and resolves a name by
looking its forms up from the most specific to the least. An alias shared by two enterprises is
ambiguous: a name whose most specific known form is ambiguous resolves to nothing rather than to a
guess.

Point in time: a name pair may carry the day the bank first held it (the registry row's or the
bank statement's ``obtained_on``). :meth:`EntityResolver.resolve` with ``on`` then answers with the
names known on that day only, so a row is linked as it would have been when it arrived, and a name
learned later neither links nor makes ambiguous an earlier row. :meth:`EntityResolver.spans` gives
a name's answer day by day as intervals, for joins.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

REGION_PREFIXES = (
    "中国",
    "浙江省",
    "浙江",
    "绍兴市",
    "绍兴县",
    "绍兴",
    "柯桥区",
    "柯桥",
    "越城区",
    "越城",
    "上虞区",
    "上虞市",
    "上虞",
    "诸暨市",
    "诸暨",
    "嵊州市",
    "嵊州",
    "新昌县",
    "新昌",
    "钱清",
    "杨汛桥",
    "齐贤",
    "马鞍",
    "福全",
    "华舍",
    "安昌",
    "兰亭",
    "平水",
    "漓渚",
    "湖塘",
    "夏履",
    "稽东",
    "王坛",
)
# Township names are also common core names (华舍纺织): they are stripped only when a core remains.
_TOWNSHIPS = frozenset(REGION_PREFIXES[19:])
LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "分公司",
    "公司",
    "集团",
    "厂",
    "商行",
    "经营部",
    "工作室",
    "合作社",
)
INDUSTRY_WORDS = (
    "化学纤维",
    "化学",
    "纤维",
    "化纤",
    "布艺",
    "女装",
    "纺织品",
    "纺织",
    "轻纺",
    "家纺",
    "家用纺织",
    "针纺",
    "针织",
    "经编",
    "织造",
    "织物",
    "染整",
    "印染",
    "染织",
    "数码印花",
    "印花",
    "丝绸",
    "面料",
    "布业",
    "服饰",
    "服装",
    "制衣",
    "织带",
    "新材料",
    "材料",
    "实业",
    "贸易",
    "商贸",
    "进出口",
    "科技",
    "控股",
    "发展",
    "制造",
    "有限",
)
_PARENS = re.compile(r"[(（][^()（）]*[)）]")
_NOISE = re.compile(r"[\s·・.,，、\"'“”‘’《》<>]+")
MIN_CORE = 2


def clean(name: str) -> str:
    """NFKC, no whitespace or punctuation noise, parenthesised parts (e.g. (绍兴)) removed."""
    text = unicodedata.normalize("NFKC", name)
    text = _PARENS.sub("", text)
    return _NOISE.sub("", text).upper()


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in REGION_PREFIXES:
            rest = text[len(prefix) :]
            if text.startswith(prefix) and len(rest) >= MIN_CORE:
                if prefix in _TOWNSHIPS and _core_length(rest) < MIN_CORE:
                    continue
                text = rest
                changed = True
                break
    return text


def _core_length(text: str) -> int:
    """Length left once every legal-form suffix and industry word is gone (no minimum kept)."""
    words = LEGAL_SUFFIXES + INDUSTRY_WORDS
    changed = True
    while changed and text:
        changed = False
        for word in words:
            if text.endswith(word):
                text = text[: -len(word)]
                changed = True
                break
    return len(text)


def _strip_suffixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= MIN_CORE:
                text = text[: -len(suffix)]
                changed = True
                break
    return text


def _strip_industry(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for word in INDUSTRY_WORDS:
            if text.endswith(word) and len(text) - len(word) >= MIN_CORE:
                text = text[: -len(word)]
                changed = True
                break
    return text


def name_forms(name: str) -> list[str]:
    """The forms of a name, most specific first (duplicates removed).

    >>> name_forms("绍兴柯桥永通纺织印染有限公司")[2:]
    ['永通纺织印染有限公司', '永通纺织印染', '永通纺织', '永通']
    """
    full = clean(name)
    if not full:
        return []
    no_suffix = _strip_suffixes(full)
    bare = _strip_prefixes(full)
    bare_no_suffix = _strip_suffixes(bare)
    core = _strip_industry(bare_no_suffix)
    forms = [full, no_suffix, bare, bare_no_suffix]
    # core plus the leading industry words people keep ("永通纺织" for 永通纺织印染)
    tail = bare_no_suffix[len(core) :]
    for word in INDUSTRY_WORDS:
        if tail.startswith(word) and len(tail) > len(word):
            forms.append(core + word)
            break
    if len(tail) > 2:  # two-character abbreviations of the trade words: 恒达印染, 恒达纺织
        forms += [core + tail[:2], core + tail[-2:]]
    forms.append(core)
    seen: set[str] = set()
    return [f for f in forms if len(f) >= MIN_CORE and not (f in seen or seen.add(f))]


NamePair = tuple[str, str] | tuple[str, str, date | None]


class EntityResolver:
    """An alias index over registry names; :meth:`resolve` maps a name to one USCC or ``None``.

    Args:
        names: ``(uscc, name)`` pairs: every name each enterprise has been registered under; or
            ``(uscc, name, known_on)``, the day the pair was first held (``None``: always).
    """

    def __init__(self, names: Iterable[NamePair]) -> None:
        index: dict[str, dict[str, date]] = defaultdict(dict)
        aliases: dict[str, set[str]] = defaultdict(set)
        for pair in names:
            uscc, name = pair[0], pair[1]
            if not uscc or not name:
                continue
            known = (pair[2] if len(pair) > 2 else None) or date.min  # type: ignore[misc]
            for form in name_forms(name):
                held = index[form]
                held[uscc] = min(known, held.get(uscc, date.max))
                aliases[uscc].add(form)
        self._index = dict(index)
        self._aliases = aliases

    def __len__(self) -> int:
        return len(self._index)

    def candidates(self, alias: str) -> frozenset[str]:
        """Every enterprise an alias (in :func:`clean` form) points to."""
        return frozenset(self._index.get(alias, ()))

    def is_ambiguous(self, alias: str) -> bool:
        """True when an alias is shared by two or more enterprises."""
        return len(self._index.get(alias, ())) > 1

    def aliases(self, uscc: str) -> list[str]:
        """The unambiguous aliases of an enterprise (sorted, longest first)."""
        own = (a for a in self._aliases.get(uscc, ()) if not self.is_ambiguous(a))
        return sorted(own, key=lambda a: (-len(a), a))

    def resolve(self, name: str | None, on: date | None = None) -> str | None:
        """The USCC a name refers to, or ``None`` when unknown or ambiguous (with the names known
        on ``on`` only, when given)."""
        if not name:
            return None
        day = on or date.max
        for form in name_forms(name):
            hits = [u for u, known in self._index.get(form, {}).items() if known <= day]
            if hits:
                return hits[0] if len(hits) == 1 else None
        return None

    def resolve_many(self, names: Iterable[str | None]) -> dict[str, str | None]:
        """:meth:`resolve` over distinct names."""
        return {n: self.resolve(n) for n in set(names) if n}

    def spans(self, name: str) -> list[tuple[date, date | None, str]]:
        """A name's links over time: ``(from, until, uscc)`` (``until`` exclusive, ``None``: open),
        covering the days on which :meth:`resolve` with ``on`` gives a USCC."""
        days = sorted(
            {known for form in name_forms(name) for known in self._index.get(form, {}).values()}
        )
        out: list[tuple[date, date | None, str]] = []
        for i, day in enumerate(days):
            uscc = self.resolve(name, on=day)
            if uscc is None:
                continue
            until = days[i + 1] if i + 1 < len(days) else None
            if out and out[-1][2] == uscc and out[-1][1] == day:
                out[-1] = (out[-1][0], until, uscc)
            else:
                out.append((day, until, uscc))
        return out


def precision_recall(
    predicted: dict[str, str | None], truth: dict[str, str | None]
) -> dict[str, float]:
    """Precision and recall of resolved USCCs against labels keyed by the same item id.

    Precision is correct links over links made; recall is correct links over items whose label
    names an enterprise.
    """
    made = [k for k, v in predicted.items() if v is not None and k in truth]
    correct = sum(1 for k in made if predicted[k] == truth[k])
    labelled = sum(1 for v in truth.values() if v is not None)
    return {
        "precision": correct / len(made) if made else 0.0,
        "recall": correct / labelled if labelled else 0.0,
        "linked": float(len(made)),
        "labelled": float(labelled),
    }
