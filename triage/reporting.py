"""The yearly report's figures (Awb 9:12a, Wkkgz), pure: the case rows of a period in, one `Figures`
value out, with the small-number rule every table and chart applies (`shown`, `enough`): a count of
1 to 4 reads "< 5", and a share or median over fewer than 5 cases is not given."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from triage.report_words import themes

SMALL = 5  # a category with fewer cases than this is shown as "< 5"
HIDDEN = "< 5"
OPEN_STATES = ("needs_review", "new", "in_progress")
ENDINGS = ("answered", "resolved", "not_handled", "forwarded", "withdrawn", "question_answered", "not_a_complaint")
TOPICS = ("product", "service", "staff", None)
CLASSES = ("formal", "informal", "question")  # a formal complaint, an informal one, a question
# Handling time in days: (label, lowest day, highest day or None)
BUCKETS = (("binnen 1 week", 0, 7), ("1–2 weken", 8, 14), ("2–4 weken", 15, 28), ("4–6 weken", 29, 42),
           ("6–10 weken", 43, 70), ("meer dan 10 weken", 71, None))


def shown(count: int) -> str:
    """A count as a table or a chart may show it: 0 stays 0, 1 to 4 read '< 5'."""
    if 0 < count < SMALL:
        return HIDDEN
    return f"{count:,}".replace(",", ".")


def enough(cases: int) -> bool:
    """Whether a share or a median over this many cases may be shown."""
    return cases >= SMALL


def percent(part: int, whole: int) -> str:
    """'83%', or '–' over fewer than 5 cases."""
    return f"{round(100 * part / whole)}%" if enough(whole) else "–"


def days(values: Sequence[int]) -> str:
    """The median of handling days ('12 dagen', '12,5 dagen'), or '–' over fewer than 5 cases."""
    if not enough(len(values)):
        return "–"
    median = statistics.median(values)
    text = f"{median:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text} {'dag' if median == 1 else 'dagen'}"


@dataclass(frozen=True)
class Row:
    """One case of the period as the report reads it: labels and dates, never who or what."""

    received: date  # its day in Europe/Amsterdam
    kind: str | None  # complaint, question, None (not classified yet)
    topic: str | None
    formality: str | None
    status: str
    term: str = ""  # "6 weeks"
    due: date | None = None
    done: date | None = None  # answered_on, else ended_on
    on_time: bool | None = None
    extensions: int = 0
    urgent: bool = False
    other_procedure: str | None = None
    anonymised: bool = False
    text: str = ""  # subject and the opening message's own text: for the themes only
    names: tuple[str, ...] = ()  # the complainant's name and address parts: never a theme
    who: str = ""  # the complainant's address: a theme needs 5 different ones (never shown)

    @property
    def klass(self) -> str | None:
        if self.kind == "question":
            return "question"
        if self.kind == "complaint":
            return "formal" if self.formality == "formal" else "informal"
        return None


@dataclass(frozen=True)
class Handling:
    """Handling time of one class of cases (or all): how many ended, the median, the term, on time."""

    klass: str  # formal, informal, question, all
    ended: int
    median: str  # days(...)
    term: str  # the term most of them had, "" if none
    on_time: int
    judged: int  # ended cases whose on-time is known
    share: str  # percent(on_time, judged)


@dataclass(frozen=True)
class Growth:
    topic: str | None
    now: int
    before: int

    @property
    def change(self) -> str:
        """'+40%' when the previous period had enough cases, else ''."""
        return f"{round(100 * (self.now - self.before) / self.before):+d}%" if enough(self.before) else ""


@dataclass(frozen=True)
class Figures:
    start: date
    end: date  # exclusive
    total: int
    complaints: int
    questions: int
    unclassified: int
    by_topic: dict[str | None, dict[str, int]]  # topic -> class -> count
    by_month: list[tuple[date, int, int]]  # first day of the month, complaints, questions
    handling: list[Handling]  # formal, informal, question, all
    buckets: list[tuple[str, int]]
    extended: int
    endings: dict[str, int]
    still_open: int
    urgent: int
    other_procedures: int
    growth: list[Growth] = field(default_factory=list)
    themes: dict[str | None, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.total == 0


def months(start: date, end: date) -> list[date]:
    """The first days of the months the period [start, end) touches."""
    out, day = [], start.replace(day=1)
    while day < end:
        out.append(day)
        day = day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)
    return out


def _handling(rows: Sequence[Row], klass: str) -> Handling:
    ended = [r for r in rows if r.done is not None and (klass == "all" or r.klass == klass)]
    spans = [max(0, (r.done - r.received).days) for r in ended if r.done is not None]
    terms = Counter(r.term for r in ended if r.term)
    judged = [r for r in ended if r.on_time is not None]
    on_time = sum(1 for r in judged if r.on_time)
    return Handling(klass, len(ended), days(spans), terms.most_common(1)[0][0] if terms else "", on_time,
                    len(judged), percent(on_time, len(judged)))


def _bucket(span: int) -> str:
    return next(label for label, low, high in BUCKETS if span >= low and (high is None or span <= high))


def _growth(rows: Sequence[Row], previous: Iterable[Row]) -> list[Growth]:
    now = Counter(r.topic for r in rows if r.kind == "complaint")
    before = Counter(r.topic for r in previous if r.kind == "complaint" and r.status != "merged")
    grown = [Growth(t, now[t], before[t]) for t in TOPICS if now[t] > before[t]]
    return sorted(grown, key=lambda g: (-(g.now - g.before), str(g.topic)))


def figures(rows: Iterable[Row], start: date, end: date, previous: Iterable[Row] = (),
            exclude: frozenset[str] = frozenset()) -> Figures:
    """The report's figures over the cases received in [start, end); `previous` are the cases of the
    period of equal length before it; `exclude`: words never a theme (the organisation's name). A
    merged case counts once: in the case it joined."""
    counted = [r for r in rows if r.status != "merged"]
    by_topic: dict[str | None, dict[str, int]] = {t: dict.fromkeys(CLASSES, 0) for t in TOPICS}
    for r in counted:
        if r.klass is not None:
            by_topic.setdefault(r.topic if r.topic in TOPICS else None, dict.fromkeys(CLASSES, 0))[r.klass] += 1
    per_month = Counter((r.received.replace(day=1), r.kind) for r in counted)
    spans = Counter(_bucket(max(0, (r.done - r.received).days)) for r in counted if r.done is not None)
    status = Counter(r.status for r in counted)
    return Figures(
        start=start, end=end, total=len(counted),
        complaints=sum(1 for r in counted if r.kind == "complaint"),
        questions=sum(1 for r in counted if r.kind == "question"),
        unclassified=sum(1 for r in counted if r.kind not in ("complaint", "question")),
        by_topic=by_topic,
        by_month=[(m, per_month[m, "complaint"], per_month[m, "question"]) for m in months(start, end)],
        handling=[_handling(counted, k) for k in (*CLASSES, "all")],
        buckets=[(label, spans[label]) for label, _low, _high in BUCKETS],
        extended=sum(1 for r in counted if r.extensions > 0),
        endings={s: status[s] for s in ENDINGS},
        still_open=sum(status[s] for s in OPEN_STATES),
        urgent=sum(1 for r in counted if r.urgent),
        other_procedures=sum(1 for r in counted if r.other_procedure),
        growth=_growth(counted, previous),
        themes=themes([(r.topic, r.text, r.who) for r in counted if r.text],
                      {n for r in counted for n in r.names} | exclude),
    )
