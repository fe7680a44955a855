"""The classify service: files go through the daemon's pipeline for one organisation, without a
database; machine mail is reported, not labelled; the organisation must be known."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, TRUSTED_STAFF, write_config
from sqlalchemy.orm import sessionmaker

from triage import config
from triage.errors import ConfigError
from triage.services.classify import NO_LABELS, classify_files
from triage.services.deps import Deps, build
from triage.training import registry
from triage.training.model import Classifier

FORWARD = Path(__file__).parent / "fixtures" / "cli" / "staff-forward.eml"
AUTO_REPLY = ROOT / "triage" / "demo" / "mail" / "13-automatisch-antwoord.eml"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return registry.load(ROOT / "models")


def _deps(tmp_path: Path, classifier: Classifier | None, top: str = "") -> Deps:
    settings = config.load(write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n',
                                                 extra=TRUSTED_STAFF, top=top))
    return build(settings, sessionmaker(), models=ROOT / "models", classifier=lambda: classifier, worker_id="test")


def test_a_staff_forward_is_classified_for_its_original_sender(tmp_path: Path, classifier: Classifier) -> None:
    [row] = classify_files(_deps(tmp_path, classifier), None, [FORWARD])
    assert row.complainant == "sanne.devries@ziggo.example" and "forwarded by j.bakker@debrug.example" in row.reason
    assert row.labels.kind == "complaint" and row.model_version == classifier.version
    assert row.disposition in ("filed", "review") and row.review == (row.disposition == "review")


def test_machine_mail_is_reported_without_labels(tmp_path: Path, classifier: Classifier) -> None:
    [row] = classify_files(_deps(tmp_path, classifier), "debrug", [AUTO_REPLY])
    assert row.labels == NO_LABELS and row.review and row.model_version is None and row.confidence == {}
    assert row.disposition == "ignored" and "auto-submitted" in row.reason


def test_the_organisation_must_be_known_and_unambiguous(tmp_path: Path, classifier: Classifier) -> None:
    with pytest.raises(ConfigError, match="no organisation 'elders'.*there are: debrug"):
        classify_files(_deps(tmp_path, classifier), "elders", [FORWARD])
    other = '[organisations.anders]\nname = "Anders"\nreference_prefix = "AN"\naddresses = ["a@anders.example"]\n' \
            '[organisations.anders.mailbox]\ntype = "maildir"\npath = "m"\n'
    with pytest.raises(ConfigError, match=r"several organisations \(anders, debrug\)"):
        classify_files(_deps(tmp_path, classifier, top=other), None, [FORWARD])


def test_without_a_model_it_says_to_train_one(tmp_path: Path) -> None:
    with pytest.raises(registry.ModelError, match="run `triage train`"):
        classify_files(_deps(tmp_path, None), None, [FORWARD])
