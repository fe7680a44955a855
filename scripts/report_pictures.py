"""Render the yearly report of demo-like data and photograph its pages, for docs/report and the README.
Usage:

    .venv/bin/python scripts/report_pictures.py [--out docs/report] [--year 2026]

Runs `triage demo` in a temporary folder (the 36 example messages, filed by the committed model), then
replays each of the demo's cases 6 times over the year and 4 times over the year before (same labels,
subject and text; other made-up complainants; dates, endings and handling times drawn from a seeded
random generator), so that the report has a year of figures. Writes report.pdf and report-page-N.png.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2
from sqlalchemy import select

from triage import config
from triage.services import report
from triage.services.deps import build
from triage.services.setup import open_sessions
from triage.store.models import Case, Message
from triage.store.scope import EVERYTHING

ROOT = Path(__file__).resolve().parent.parent
ENDINGS = {"formal": ["answered"] * 8 + ["resolved", "withdrawn", "not_handled"],
           "informal": ["answered"] * 3 + ["resolved"] * 5 + ["forwarded", "withdrawn"],
           "question": ["question_answered"] * 9 + ["not_a_complaint"]}
TERM_DAYS = {"formal": 42, "informal": 14, "question": 7}


@dataclass(frozen=True)
class Source:
    kind: str
    topic: str | None
    formality: str | None
    subject: str
    text: str
    sha256: str
    term: str


def _demo(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "triage.cli", "demo", "--dir", str(folder)], check=True,
                   capture_output=True, cwd=ROOT)
    return folder / "triage.toml"


def _sources(session: object) -> list[Source]:
    out = []
    for case in session.scalars(select(Case).where(Case.kind.is_not(None)).order_by(Case.id)):  # type: ignore[attr-defined]
        first = min(case.messages, key=lambda m: m.id)
        out.append(Source(case.kind, case.topic, case.formality, case.subject, first.new_text, first.sha256,
                          case.term))
    return out


def _replay(session: object, source: Source, seq: int, received: datetime, rng: random.Random) -> None:
    klass = "question" if source.kind == "question" else (source.formality or "informal")
    ending = rng.choice(ENDINGS[klass])
    term = TERM_DAYS[klass]
    spent = max(1, round(rng.triangular(1, term * 1.6, term * 0.6)))
    extended = klass == "formal" and spent > term and rng.random() < 0.6
    done = received.date() + timedelta(days=spent)
    still_open = done >= date(2026, 12, 3)
    case = Case(organisation="lindendal", reference=f"KL-{received.year}-{900000 + seq}", year=received.year,
                seq=900000 + seq, status="in_progress" if still_open else ending, subject=source.subject,
                complainant=f"burger{seq}@example.nl", complainant_name=f"Burger {seq}", kind=source.kind,
                topic=source.topic, formality=source.formality, received_at=received, created_at=received,
                term=source.term, extensions=int(extended),
                answered_on=None if still_open or ending not in ("answered", "question_answered") else done,
                ended_on=None if still_open or ending in ("answered", "question_answered") else done,
                on_time=None if still_open else spent <= term + (28 if extended else 0))
    session.add(case)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    session.add(Message(organisation="lindendal", mailbox="replay", uidvalidity=1, uid=str(seq),  # type: ignore[attr-defined]
                        sha256=source.sha256, size=1, subject=source.subject, received_at=received,
                        fetched_at=received, text=source.text, new_text=source.text, disposition="filed",
                        case_id=case.id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report")
    parser.add_argument("--year", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        settings = config.load(_demo(Path(tmp) / "demo"))
        sessions, _created = open_sessions(settings)
        seq = 0
        with sessions.begin() as session:
            sources = _sources(session)
            for year, copies in ((args.year - 1, 4), (args.year, 6)):
                last = min(date(year, 12, 31), date(args.year, 11, 30))
                span = (last - date(year, 1, 1)).days
                for source in sources:
                    for _ in range(copies if source.topic != "staff" or year == args.year else 2):
                        seq += 1
                        day = date(year, 1, 1) + timedelta(days=rng.randrange(span))
                        _replay(session, source, seq, datetime(day.year, day.month, day.day, 10, tzinfo=UTC), rng)
        deps = build(settings, sessions, clock=lambda: datetime(args.year, 12, 3, 9, tzinfo=UTC))
        built = report.build(deps, EVERYTHING, report.Period.year(args.year), "lindendal")
        data, pages = report.pdf(built)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.pdf").write_bytes(data)
    document = pypdfium2.PdfDocument(data)
    for n in range(len(document)):
        document[n].render(scale=1.5).to_pil().save(args.out / f"report-page-{n + 1}.png", optimize=True)
    print(f"wrote {args.out}/report.pdf ({pages} pages, {built.figures.total} cases) and its pages as PNG")


if __name__ == "__main__":
    main()
