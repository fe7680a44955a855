"""End to end with the committed model against Dovecot: confident messages are filed with their
three labels and the model version; unsure ones go to review with the doubtful heads named."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, deps_for, imap_mailbox, sessions_for, settings_for, write_config
from sqlalchemy import select

from triage.mailboxes import open_mailbox
from triage.services.poll import run_once
from triage.store.models import Case
from triage.training import registry


def test_demo_mail_is_filed_or_sent_to_review_by_the_model(dovecot, tmp_path: Path, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    classifier = registry.load(ROOT / "models")
    user = dovecot.new_user()
    settings = settings_for(write_config(tmp_path, sqlite_url, imap_mailbox(dovecot, user)))
    sessions = sessions_for(settings)
    dovecot.append(user, [p.read_bytes() for p in sorted((ROOT / "triage/demo/mail").glob("*.eml"))])
    org = settings.organisations["debrug"]
    with open_mailbox(org) as box:
        result = run_once(deps_for(settings, sessions, classifier), org, box)
    assert result.counts["filed"] > 0 and result.counts["review"] > 0
    with sessions() as s:
        cases = s.scalars(select(Case)).all()
    filed = [c for c in cases if c.status == "new"]
    review = [c for c in cases if c.status == "needs_review"]
    for case in filed:
        assert case.kind in ("complaint", "question") and case.topic in ("product", "service", "staff")
        assert case.formality in ("formal", "informal") and case.model_version == classifier.version
        assert all(case.confidences[h] >= classifier.thresholds[h] for h in ("kind", "topic", "formality"))
    assert any("unsure:" in c.review_reason for c in review)
    assert all(c.model_version == classifier.version for c in review if c.kind)
    assert len(dovecot.uids(user, "Triage/Filed")) == len(filed)
    assert len(dovecot.uids(user, "Triage/Review")) == len(review)
