"""`triage corpus check`: label validation and near-duplicate flags on small corpora written here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from triage.training.corpus import CorpusError, check, load, near_duplicates

BODIES = {
    "a.eml": ("Lekkage", "Het dak lekt al sinds de storm van vorige week en niemand komt kijken."),
    "b.eml": ("Openingstijden", "Is het gemeentehuis op zaterdagochtend open voor een paspoortaanvraag?"),
    "c.eml": ("Medewerker", "De man aan de balie schreeuwde tegen mijn moeder dat ze moest opschieten."),
}


def _corpus(root: Path, rows: list[str], bodies: dict[str, tuple[str, str]] = BODIES) -> Path:
    (root / "mail").mkdir(parents=True)
    for name, (subject, body) in bodies.items():
        (root / "mail" / name).write_text(
            f"From: iemand@example.net\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n")
    (root / "labels.csv").write_text("file,kind,topic,formality,language\n" + "\n".join(rows) + "\n")
    return root


GOOD = ["a.eml,complaint,product,informal,nl", "b.eml,question,service,informal,nl",
        "c.eml,complaint,staff,informal,nl"]


def test_clean_corpus(tmp_path: Path) -> None:
    report = check(_corpus(tmp_path, GOOD))
    assert report.clean and len(report.examples) == 3
    assert [e.combination for e in load(tmp_path)][0] == "complaint/product/informal"


@pytest.mark.parametrize(
    ("row", "problem"),
    [("b.eml,question,service,formal,nl", "a question is always informal"),
     ("b.eml,klacht,service,informal,nl", "kind 'klacht'"),
     ("b.eml,question,prijs,informal,nl", "topic 'prijs'"),
     ("b.eml,machine,service,informal,nl", "machine mail has topic and formality '-'"),
     ("zz.eml,question,service,informal,nl", "file not found"),
     ("a.eml,question,service,informal,nl", "listed again")],
)
def test_label_problems_are_named_with_their_line(tmp_path: Path, row: str, problem: str) -> None:
    rows = [GOOD[0], row] if "listed again" in problem else [row]
    report = check(_corpus(tmp_path, rows))
    assert any(problem in p and "labels.csv:" in p for p in report.problems), report.problems
    with pytest.raises(CorpusError):
        load(tmp_path)


def test_near_duplicates_are_flagged() -> None:
    texts = [
        "Mijn pakket is al drie weken onderweg en de bezorger zegt steeds dat hij morgen komt maar er komt niemand",
        "Mijn pakket is al drie weken onderweg en de bezorger zegt steeds dat hij morgen komt, echt belachelijk",
        "Kunt u mij vertellen of de bibliotheek in de kerstvakantie open is voor kinderen?",
    ]
    pairs = near_duplicates(["x", "y", "z"], texts, cosine=0.95, ngram=10)
    assert [(a, b) for a, b, _ in pairs] == [("x", "y")]
    assert "share 10 words" in pairs[0][2] or "cosine" in pairs[0][2]


def test_cli_exit_codes(tmp_path: Path) -> None:
    clean = subprocess.run([sys.executable, "-m", "triage.cli", "corpus", "check", "--corpus",
                            str(_corpus(tmp_path / "ok", GOOD))], capture_output=True, text=True)
    assert clean.returncode == 0 and "clean" in clean.stdout and "complaint/staff/informal" in clean.stdout
    bad = subprocess.run([sys.executable, "-m", "triage.cli", "corpus", "check", "--corpus",
                          str(_corpus(tmp_path / "bad", ["b.eml,question,service,formal,nl"]))],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "always informal" in bad.stdout
    missing = subprocess.run([sys.executable, "-m", "triage.cli", "corpus", "check", "--corpus",
                              str(tmp_path / "nothing")], capture_output=True, text=True)
    assert missing.returncode == 2 and "labels.csv not found" in missing.stderr


def test_each_message_has_a_writer_from_its_column_or_its_folder(tmp_path: Path) -> None:
    from triage.training.corpus import writer_of

    root = _corpus(tmp_path / "c", GOOD)
    examples = load(root)
    assert [e.writer for e in examples] == ["a.eml", "b.eml", "c.eml"]  # outside any folder: a writer each
    (root / "labels.csv").write_text("file,kind,topic,formality,language,writer\n"
                                     "a.eml,complaint,product,informal,nl,anna\nb.eml,question,service,informal,nl,\n")
    assert [e.writer for e in load(root)] == ["anna", "b.eml"]
    assert writer_of("g-gemeente/004-x.eml") == writer_of("mail/g-gemeente/005-y.eml") == "g-gemeente"


def test_the_shipped_corpus_and_held_out_set_share_no_writer() -> None:
    models = Path(__file__).parent.parent / "models"
    corpus, heldout = load(models / "corpus"), load(models / "heldout")
    assert len(heldout) >= 200 and len({e.writer for e in corpus}) >= 10
    assert not {e.writer for e in corpus} & {e.writer for e in heldout}
    texts = {e.file.read_bytes() for e in corpus}
    assert not any(e.file.read_bytes() in texts for e in heldout)  # no message in both
