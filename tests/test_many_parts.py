"""A message of very many MIME parts is read up to [parsing] max_parts (issue 12, attack F7): the
150 000 tiny attachments of the attack took 13 s and 450 MB to parse whole; now parsing stops
after the limit, the rest stays unread (the raw message is stored whole as always) and the message
goes to review, however sure the model is of its text."""

from __future__ import annotations

import email
import hashlib
import time
from pathlib import Path

import pytest

from triage import config
from triage.addresses import OwnAddresses
from triage.demo import example_messages
from triage.domain import Disposition
from triage.pipeline import Context, process
from triage.reasons import Code
from triage.stages import attachments as files
from triage.training.model import Classifier
from triage.training.registry import load_for_run

OWN = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example"}))
BOUND = 3.0  # seconds, on two busy cores; it takes about 0.15 s there (the whole parse took 4-5 s)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_for_run(None)


def _fietspad(copies: int) -> bytes:
    """The demo complaint about a hole in the cycle path with `copies` tiny files attached."""
    raw = dict(example_messages())["04-gat-in-fietspad.eml"].replace(b"\r\n", b"\n")
    boundary = b"--_004_DB9PR02MB7291B3E5C1A8F0D6E44C2A19C1442DB9PR02MB7291eurp_"
    head, text, _photo, _end = raw.split(boundary)
    tiny = b"\nContent-Type: image/png\nContent-Disposition: attachment; filename=\"gat-%d.png\"\n" \
           b"Content-Transfer-Encoding: base64\n\niVBORw0K\n"
    return head + boundary + text + b"".join(boundary + tiny % i for i in range(copies)) + boundary + b"--\n"


def _ctx(classifier: Classifier | None, **kwargs: int) -> Context:
    return Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None, classifier=classifier,
                   **kwargs)  # type: ignore[arg-type]


def test_fifty_thousand_attachments_are_read_up_to_the_limit_in_bounded_time_and_go_to_review(
        classifier: Classifier) -> None:
    whole = process(_fietspad(3), _ctx(classifier))
    assert whole.disposition is Disposition.FILED  # the text alone is one the model files
    raw = _fietspad(50_000)
    started = time.perf_counter()
    outcome = process(raw, _ctx(classifier))
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND, f"{elapsed:.1f} s"
    assert outcome.disposition is Disposition.REVIEW
    assert [r.params for r in outcome.reasons if r.code is Code.TOO_MANY_PARTS] == [{"limit": 1000}]
    assert outcome.resolved is not None
    mail = outcome.resolved.mail
    assert "Molenweg" in mail.text and mail.parts_cut and not mail.truncated and mail.size == len(raw)
    assert len(mail.attachments) == files.MAX_FILES
    assert outcome.prediction is not None and outcome.prediction.kind == "complaint"  # labels to start from


def test_the_limit_is_the_configured_number_of_parts(classifier: Classifier) -> None:
    raw = _fietspad(40)
    assert Code.TOO_MANY_PARTS not in {r.code for r in process(raw, _ctx(classifier)).reasons}
    outcome = process(raw, _ctx(classifier, max_parts=20))
    assert outcome.disposition is Disposition.REVIEW
    assert [r.params for r in outcome.reasons if r.code is Code.TOO_MANY_PARTS] == [{"limit": 20}]
    assert outcome.resolved is not None and 20 <= len(outcome.resolved.mail.attachments) < 40


def test_below_the_limit_the_tree_is_the_stdlib_parse_and_past_it_the_files_listed_are_served(
        tmp_path: Path) -> None:
    for path in sorted(FIXTURES.rglob("*.eml")):
        raw = path.read_bytes()
        message, cut = files.read(raw)
        assert not cut and message.as_bytes() == email.message_from_bytes(raw).as_bytes(), path.name
    raw = _fietspad(5000)
    listed = files.walk(files.load(raw))
    assert len(listed) == files.MAX_FILES and files.read(raw)[1]
    for file in (listed[0], listed[-1]):  # the download reads the same cut tree as the intake
        found = files.extract(files.load(raw), file.path)
        assert found is not None and hashlib.sha256(found[1]).hexdigest() == file.sha256
    org = '[organisations.a]\nname = "A"\naddresses = ["k@a.example"]\n[organisations.a.mailbox]\ntype = "maildir"\n'
    settings = config.parse(f'[parsing]\nmax_parts = 250\n{org}path = "m"\n', tmp_path / "t.toml")
    assert settings.parsing.max_parts == 250
    assert config.parse(f'{org}path = "m"\n', tmp_path / "t.toml").parsing.max_parts == 1000
