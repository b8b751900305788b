"""Chinese news risk-event extraction: jieba segmentation, a lexicon by category, negation.

The lexicon (``pipeline/data/risk_lexicon.yaml``) lists per category its polarity, severity and
trigger words. Text is cut into clauses at Chinese and ASCII punctuation and segmented with
jieba (its dictionary ships inside the package; the triggers are added with ``add_word``). A
trigger is negated when a negation cue (「未」「并未」「否认」「不存在」…) stands within a
few tokens before it in the same clause, or a denial (「不实」「谣言」) follows it in that
clause: 「未发生停产」 is not a halt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

log = logging.getLogger(__name__)

_CLAUSE = re.compile(r"[。！？；;!?\n，,：:]")


@dataclass(frozen=True)
class Category:
    """One kind of event in the lexicon."""

    kind: str
    zh: str
    polarity: str  # negative | positive
    severity: int  # 1 low … 3 high
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Categories, trigger → kind map and negation cues."""

    categories: dict[str, Category]
    trigger_kind: dict[str, str]
    negations: frozenset[str]
    post_negations: tuple[str, ...]
    window: int


@dataclass(frozen=True)
class Event:
    """A risk (or positive) event found in a text."""

    kind: str
    severity: int
    polarity: str
    negated: bool
    trigger: str
    evidence: str  # the clause it was found in


def _parse(data: dict[str, Any]) -> Lexicon:
    cats: dict[str, Category] = {}
    trigger_kind: dict[str, str] = {}
    for kind, body in data["categories"].items():
        triggers = tuple(str(t) for t in body["triggers"])
        cats[kind] = Category(
            kind, str(body["zh"]), str(body["polarity"]), int(body["severity"]), triggers
        )
        for trigger in triggers:
            trigger_kind.setdefault(trigger, kind)
    return Lexicon(
        cats,
        trigger_kind,
        frozenset(str(n) for n in data["negations"]),
        tuple(str(n) for n in data["post_negations"]),
        int(data.get("negation_window", 4)),
    )


@cache
def load_lexicon() -> Lexicon:
    """The packaged lexicon (read once)."""
    text = (
        resources.files("loomcredit.pipeline").joinpath("data/risk_lexicon.yaml").read_text("utf-8")
    )
    return _parse(yaml.safe_load(text))


@cache
def _tokenizer() -> Any:
    import jieba  # imported lazily: building its prefix dictionary takes a second

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    lexicon = load_lexicon()
    for word in [*lexicon.trigger_kind, *lexicon.negations, *lexicon.post_negations]:
        tokenizer.add_word(word, freq=200000)
    return tokenizer


def segment(text: str) -> list[str]:
    """jieba tokens of a text (with the lexicon's words kept whole)."""
    return [t for t in _tokenizer().lcut(text) if t.strip()]


def _clause_events(clause: str, lexicon: Lexicon) -> list[Event]:
    tokens = segment(clause)
    events: list[Event] = []
    for i, token in enumerate(tokens):
        kind = lexicon.trigger_kind.get(token)
        if kind is None:
            continue
        before = tokens[max(0, i - lexicon.window) : i]
        after = "".join(tokens[i + 1 :])
        negated = any(t in lexicon.negations for t in before) or any(
            cue in after for cue in lexicon.post_negations
        )
        cat = lexicon.categories[kind]
        events.append(Event(kind, cat.severity, cat.polarity, negated, token, clause.strip()))
    return events


def extract(text: str | None, lexicon: Lexicon | None = None) -> list[Event]:
    """Every trigger hit in a text, in order, each with its negation flag."""
    if not text:
        return []
    lexicon = lexicon or load_lexicon()
    events: list[Event] = []
    for clause in _CLAUSE.split(text):
        if clause.strip():
            events.extend(_clause_events(clause, lexicon))
    return events


def classify(title: str | None, body: str | None) -> tuple[str, bool, int, str]:
    """The main event of a news item: ``(kind, negated, severity, evidence)``.

    The title's most severe event names the story (headlines carry it), else the body's. The
    event is negated when the item denies that kind anywhere (a title 「回应停产传闻」 over a
    body 「未发生停产」 reports no halt). ``("none", False, 0, "")`` when nothing matched.
    """
    head = extract(title)
    found = extract(body)
    events = head or found
    if not events:
        return "none", False, 0, ""
    live = [e for e in events if not e.negated] or events
    main = max(live, key=lambda e: e.severity)  # max keeps the first of equal severity
    same = [e for e in head + found if e.kind == main.kind]
    negated = any(e.negated for e in same)
    return main.kind, negated, main.severity, main.evidence


def negative_kinds() -> frozenset[str]:
    """Kinds whose polarity is negative (what ``news_negative_12m`` counts)."""
    return frozenset(k for k, c in load_lexicon().categories.items() if c.polarity == "negative")
