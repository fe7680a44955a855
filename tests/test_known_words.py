"""The model may file a message on its own only when its text is language the model knows (issue
12, attack F8): random letters, "test test test", "x x x", Lorem ipsum and spam were classified
sure (0.99) and filed. Now a text needs enough distinct words, and enough of them in the model's
vocabulary; otherwise it goes to review with its labels to start from and is acknowledged as any
review case is. Genuine mail, short Dutch complaints included, is not held back."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from conftest import ROOT, deps_for, sessions_for, settings_for, write_config
from sklearn.base import clone
from sklearn.model_selection import KFold
from sqlalchemy import select

from triage.addresses import OwnAddresses
from triage.demo import example_messages
from triage.domain import Disposition
from triage.mailboxes import open_mailbox
from triage.pipeline import Context, process
from triage.reasons import Code
from triage.services.poll import run_once
from triage.stages.classify import MIN_KNOWN, MIN_WORDS, known_words, unfamiliar
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.store.models import Acknowledgement, Case
from triage.training import corpus
from triage.training.model import Classifier
from triage.training.registry import load_for_run

GARBAGE = sorted((Path(__file__).parent / "fixtures" / "garbage").glob("*.eml"))
OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}))
SHORT_COMPLAINTS = {  # each filed by the model on its own (its joint gate), before this check and after
    "Onbeschoft behandeld": "De medewerker aan de balie was vanochtend erg onbeschoft tegen mij. Dat vond ik niet "
                            "prettig.",
    "Factuur klopt niet": "Ik heb twee keer betaald voor dezelfde factuur. Wanneer krijg ik mijn geld terug?",
    "Geen reactie": "Ik heb drie weken geleden een brief gestuurd en nog steeds niets gehoord.",
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    found = load_for_run(None)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def human_corpus() -> list[tuple[str, str, str]]:
    """(file, subject, text) of every message of the corpus a person wrote."""
    examples = [e for e in corpus.load(ROOT / "models" / "corpus") if e.kind != "machine"]
    return [(e.file.name, *corpus.own_words(e)) for e in examples]


def _ctx(classifier: Classifier) -> Context:
    return Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, classifier=classifier)


@pytest.mark.parametrize("path", GARBAGE, ids=[p.name for p in GARBAGE])
def test_garbage_goes_to_review_with_its_labels_whatever_the_model_says(path: Path, classifier: Classifier) -> None:
    outcome = process(path.read_bytes(), _ctx(classifier))
    assert outcome.disposition is Disposition.REVIEW
    why = [r.params for r in outcome.reasons if r.code is Code.UNKNOWN_WORDS]
    assert len(why) == 1 and (why[0]["words"] < MIN_WORDS or why[0]["known"] < MIN_KNOWN * why[0]["words"])
    assert outcome.prediction is not None  # labels for the person to start from


def test_short_dutch_complaints_are_still_filed_by_the_model(classifier: Classifier) -> None:
    for n, (subject, text) in enumerate(SHORT_COMPLAINTS.items()):
        raw = (f"From: Bewoner {n} <bewoner{n}@example.nl>\r\nTo: klachten@debrug.example\r\nSubject: {subject}\r\n"
               f"Message-ID: <kort-{n}@example.nl>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n")
        outcome = process(raw.encode(), _ctx(classifier))
        assert outcome.disposition is Disposition.FILED, (subject, outcome.reasons)


def test_the_words_counted_are_the_model_s_words(classifier: Classifier) -> None:
    words = classifier.words()
    assert known_words("Lekkage", "Het dak lekt al 3 weken, het dak!", words) == (6, 6)  # no numbers, no doubles
    assert known_words("xkcd", "qwpo szyc dpyopu zgdpamnt", words) == (5, 0)
    assert unfamiliar("test", "test test test", words) is not None
    assert unfamiliar("Lekkage", "Het dak lekt al drie weken, wanneer komt er iemand?", words) is None


def test_no_message_of_the_corpus_or_the_demo_is_held_back(classifier: Classifier,
                                                          human_corpus: list[tuple[str, str, str]]) -> None:
    words = classifier.words()
    flagged = [name for name, subject, text in human_corpus if unfamiliar(subject, text, words)]
    assert flagged == []
    own = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example"}))
    for name, raw in example_messages():
        resolved = resolve(parse(raw), own)
        assert unfamiliar(resolved.subject, resolved.text, words) is None, name


def test_no_corpus_message_is_held_back_by_a_vocabulary_that_never_saw_it(
        classifier: Classifier, human_corpus: list[tuple[str, str, str]]) -> None:
    """How new mail fares: each fifth of the corpus against the words learnt from the rest."""
    texts = [f"{subject}\n{text}" for _name, subject, text in human_corpus]
    flagged = []
    for train, test in KFold(5, shuffle=True, random_state=20261203).split(texts):
        words = clone(classifier.words()).fit([texts[i] for i in train])
        flagged += [human_corpus[i][0] for i in test if unfamiliar(human_corpus[i][1], human_corpus[i][2], words)]
    assert flagged == []


def test_garbage_is_filed_for_review_and_acknowledged_as_review_cases_are(tmp_path: Path, db_url: str,
                                                                         classifier: Classifier) -> None:
    settings = settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\n'))
    sessions = sessions_for(settings)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add((Path(__file__).parent / "fixtures" / "garbage" / "test-test.eml").read_bytes())
    subject, text = next(iter(SHORT_COMPLAINTS.items()))
    box.add(f"From: Els Visser <els.visser@example.nl>\r\nTo: klachten@debrug.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <kort@example.nl>\r\n\r\n{text}\r\n".encode())
    org = settings.organisations["debrug"]
    with open_mailbox(org) as opened:
        result = run_once(deps_for(settings, sessions, classifier), org, opened)
    assert result.counts == {"review": 1, "filed": 1}
    with sessions() as s:
        cases = {c.complainant: c for c in s.scalars(select(Case))}
        garbage, genuine = cases["fb.test@example.org"], cases["els.visser@example.nl"]
        assert garbage.status == "needs_review" and garbage.kind is not None
        assert Code.UNKNOWN_WORDS.value in [r[0] for r in garbage.review_reasons]
        assert genuine.status == "new"
        acks = {a.case_id: a for a in s.scalars(select(Acknowledgement))}
        assert acks[garbage.id].status == acks[genuine.id].status == "pending"
        assert acks[garbage.id].recipient == "fb.test@example.org"
