"""The labelled corpus: `labels.csv` (file,kind,topic,formality[,language,org_domain,writer]) next
to `.eml` files. `writer` says who wrote the message: a grouped evaluation never puts one writer's
messages on both sides of a split. Without it, the file's first folder is its writer (the corpus
keeps one folder per writer), and a file outside any folder is a writer of its own.

`load(dir)` validates every row against LABELS.md's label sets; `check(dir)` also flags
near-duplicate messages (TF-IDF cosine similarity, or a long run of identical words), because a
corpus that repeats itself teaches the model its own habits instead of real mail.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from triage.addresses import OwnAddresses
from triage.errors import CorpusError
from triage.stages.forwards import resolve
from triage.stages.parse import parse

KINDS = ("complaint", "question", "machine")
TOPICS = ("product", "service", "staff")
FORMALITIES = ("formal", "informal")
REQUIRED = ("file", "kind", "topic", "formality")


@dataclass(frozen=True)
class Example:
    file: Path
    kind: str
    topic: str
    formality: str
    language: str = ""
    org_domain: str = ""
    writer: str = ""

    @property
    def combination(self) -> str:
        return f"{self.kind}/{self.topic}/{self.formality}"


def find_file(root: Path, name: str) -> Path:
    """A labels row's file, relative to the corpus folder or to its `mail/` folder."""
    for candidate in (root / name, root / "mail" / name):
        if candidate.is_file():
            return candidate
    return root / "mail" / name


def writer_of(name: str) -> str:
    """The writer of a file without a `writer` column: its first folder below `mail/`, else itself."""
    parts = [p for p in Path(name).parts if p != "mail"]
    return parts[0] if len(parts) > 1 else name


def _row_problems(row: dict[str, str]) -> list[str]:
    kind, topic, formality = row.get("kind", ""), row.get("topic", ""), row.get("formality", "")
    problems = []
    if kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    elif kind == "machine":
        if topic != "-" or formality != "-":
            problems.append("machine mail has topic and formality '-'")
    else:
        if topic not in TOPICS:
            problems.append(f"topic {topic!r} is not one of {', '.join(TOPICS)}")
        if formality not in FORMALITIES:
            problems.append(f"formality {formality!r} is not one of {', '.join(FORMALITIES)}")
        elif kind == "question" and formality == "formal":
            problems.append("a question is always informal (LABELS.md)")
    return problems


def read_rows(root: Path) -> tuple[list[Example], list[str]]:
    """All rows of `root/labels.csv` with the problems found in them (line-numbered)."""
    labels = root / "labels.csv"
    if not labels.is_file():
        raise CorpusError(f"{labels} not found: a corpus folder holds labels.csv and the .eml files")
    examples: list[Example] = []
    problems: list[str] = []
    with labels.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{labels}: the header lacks {', '.join(missing)} (need {','.join(REQUIRED)})")
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            name = (row.get("file") or "").strip()
            where = f"labels.csv:{line} {name or '(no file)'}"
            if name in seen:
                problems.append(f"{where}: listed again (first on line {seen[name]})")
                continue
            seen[name] = line
            path = find_file(root, name)
            if not name or not path.is_file():
                problems.append(f"{where}: file not found")
                continue
            row_problems = _row_problems(row)
            problems += [f"{where}: {p}" for p in row_problems]
            if not row_problems:
                examples.append(Example(path, row["kind"], row["topic"], row["formality"],
                                        (row.get("language") or "").strip(), (row.get("org_domain") or "").strip(),
                                        (row.get("writer") or "").strip() or writer_of(name)))
    return examples, problems


def load(root: Path) -> list[Example]:
    """The corpus's examples; raises CorpusError listing the first problems when there are any."""
    examples, problems = read_rows(root)
    if problems:
        more = f" (and {len(problems) - 3} more: run `triage corpus check`)" if len(problems) > 3 else ""
        raise CorpusError("; ".join(problems[:3]) + more)
    return examples


def own_words(example: Example) -> tuple[str, str]:
    """What the complainant wrote: (subject, resolved text), forwards unwrapped."""
    mail = parse(example.file.read_bytes())
    own = OwnAddresses(frozenset(), frozenset({example.org_domain} if example.org_domain else set()))
    resolved = resolve(mail, own)
    return resolved.subject, resolved.text


@dataclass
class CheckReport:
    examples: list[Example]
    problems: list[str] = field(default_factory=list)
    near_duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (a, b, why)

    @property
    def clean(self) -> bool:
        return not self.problems and not self.near_duplicates


def _shingles(text: str, n: int) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def near_duplicates(names: list[str], texts: list[str], cosine: float = 0.8,
                    ngram: int = 14) -> list[tuple[str, str, str]]:
    """Pairs whose TF-IDF cosine similarity reaches `cosine`, or that share `ngram` words in a row.

    Fourteen words, because shorter runs are stock phrases real people write ("ik dien hierbij een
    formele klacht in en verzoek u"), while a shared sentence frame runs longer."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 2:
        return []
    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1).fit_transform(texts)
    similarity = (matrix @ matrix.T).tocoo()
    found: dict[tuple[int, int], str] = {}
    for i, j, value in zip(similarity.row, similarity.col, similarity.data, strict=True):
        if i < j and value >= cosine:
            found[(i, j)] = f"cosine {value:.2f}"
    owners: dict[str, int] = {}
    for j, text in enumerate(texts):
        for shingle in _shingles(text, ngram):
            i = owners.setdefault(shingle, j)
            if i != j and (i, j) not in found:
                found[(i, j)] = f"share {ngram} words: “{shingle}”"
    return [(names[i], names[j], why) for (i, j), why in sorted(found.items())]


def check(root: Path, cosine: float = 0.8, ngram: int = 14) -> CheckReport:
    """Validate the labels and flag near-duplicates among the human messages (machine mail, such as
    two Postfix bounces, is identical server text by nature)."""
    examples, problems = read_rows(root)
    report = CheckReport(examples, problems)
    texts, names = [], []
    for example in (e for e in examples if e.kind != "machine"):
        try:
            texts.append("\n".join(own_words(example)))
            names.append(str(example.file.relative_to(root)))
        except Exception as exc:  # an unreadable message is a corpus problem, not a crash
            report.problems.append(f"{example.file.relative_to(root)}: cannot be parsed: {exc}")
    report.near_duplicates = near_duplicates(names, texts, cosine, ngram)
    return report
