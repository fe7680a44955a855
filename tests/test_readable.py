"""Mail with nothing readable in it, or nobody to answer, goes to review and is never filed on the
model's word (issue 12, item 13); the classifier is not asked about text it cannot read."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from conftest import deps_for, sessions_for, settings_for, write_config
from sqlalchemy import select

from triage.addresses import OwnAddresses
from triage.demo import example_messages
from triage.domain import Disposition
from triage.mailboxes import open_mailbox
from triage.pipeline import Context, process
from triage.reasons import Code
from triage.services.poll import run_once
from triage.stages.parse import readable_letters
from triage.store.models import Case, Message
from triage.training.model import Classifier
from triage.training.registry import load_for_run

OWN = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example"}))
HEAD = "From: Fatima El Amrani <f.elamrani@example.nl>\r\nTo: klachten@lindendal.example\r\nSubject: {}\r\n"
UNREADABLE = {
    "empty": b"",
    "only a header": b"From: f.elamrani@example.nl\r\n\r\n",
    "binary body": HEAD.format("").encode() + b"\r\n" + bytes(range(256)) * 8,
    "replacement characters": (HEAD.format("=?utf-8?q?=EF=BF=BD=EF=BF=BD?=") + "\r\n" + "\ufffd" * 400).encode(),
    "a subject and no text": (HEAD.format("Klacht") + "\r\n\r\n").encode(),
    "symbols and numbers": (HEAD.format("1234") + "\r\n" + "#### 12-34-56 ** 0612345678 ==== €€€ ----\r\n" * 20)
    .encode(),
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_for_run(None)


def _ctx(classifier: Classifier) -> Context:
    return Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, classifier=classifier)


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_mail_without_readable_text_goes_to_review_unclassified(name: str, classifier: Classifier) -> None:
    outcome = process(UNREADABLE[name], _ctx(classifier))
    assert outcome.disposition is Disposition.REVIEW
    assert outcome.prediction is None
    assert Code.NO_USABLE_TEXT in {r.code for r in outcome.reasons}


def test_mail_with_nobody_to_answer_goes_to_review_however_sure_the_model_is(classifier: Classifier) -> None:
    raw = dict(example_messages())["04-gat-in-fietspad.eml"]
    sure = process(raw, _ctx(classifier))
    assert sure.disposition is Disposition.FILED and sure.prediction is not None and sure.prediction.sure
    head, _, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    anonymous = b"\n".join(line for line in head.splitlines() if not line.lower().startswith(b"from:"))
    outcome = process(anonymous + b"\r\n\r\n" + body, _ctx(classifier))
    assert outcome.disposition is Disposition.REVIEW
    assert outcome.prediction is not None and outcome.prediction.sure  # labels to start from, not a filing
    assert [r.params for r in outcome.reasons if r.code is Code.NOBODY_TO_ANSWER] == [{"cause": "no_sender"}]


def test_readable_letters() -> None:
    assert readable_letters("Lekkage\nHet dak lekt al drie weken, wanneer komt er iemand?") == (47, True)
    assert readable_letters("Klacht\n") == (6, False)
    assert readable_letters("Zie bijlage: 2026-0012 € 1.234,56 / 0612345678 #12") == (10, False)
    assert not readable_letters("x\ufffd\ufffd" * 100)[1]


def test_an_empty_message_is_filed_for_review_by_a_poll(tmp_path: Path, db_url: str,
                                                       classifier: Classifier) -> None:
    settings = settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\n'))
    sessions = sessions_for(settings)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(b"")
    box.add(UNREADABLE["binary body"])
    org = settings.organisations["debrug"]
    with open_mailbox(org) as opened:
        result = run_once(deps_for(settings, sessions, classifier), org, opened)
    assert result.counts == {"review": 2}
    with sessions() as s:
        for message in s.scalars(select(Message)):
            assert message.disposition == "review" and "no readable text" in (message.reason or "")
        assert all(case.kind is None and case.status == "needs_review" for case in s.scalars(select(Case)))
