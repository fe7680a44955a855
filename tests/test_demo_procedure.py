"""The demo's promise after its poll: the account it prints logs in as a coordinator of Lindendal,
takes one of the demo's formal complaints to its answer through the procedure services the web UI
calls, and `triage send --once` writes the extension notice and the answer into the demo's outbox."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from conftest import deps_for, sessions_for, settings_for
from sqlalchemy import select
from test_cli import triage

from triage.procedure import Action
from triage.services import accounts
from triage.services.cases import Actor, Request, perform
from triage.store.models import Case


def test_the_printed_demo_account_answers_a_formal_complaint_and_send_writes_the_letters(tmp_path: Path) -> None:
    result = triage("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = re.search(r"log in as (\S+) / (\S+)", result.stdout)
    assert found is not None, result.stdout
    assert "triage serve --config demo/triage.toml" in result.stdout
    assert "triage send --once --config demo/triage.toml" in result.stdout
    settings = settings_for(tmp_path / "demo" / "triage.toml")
    assert settings.organisations["lindendal"].procedure.coordinator == "klachtencoordinator@lindendal.example"
    deps = deps_for(settings, sessions_for(settings))
    login = accounts.login(deps, found[1], found[2], "127.0.0.1")
    assert login.user is not None and login.user.role == "coordinator"
    assert accounts.account(deps, found[1]) is not None
    actor = Actor(login.user.name, login.user.role, login.user.scope)
    with deps.sessions() as s:
        reference = s.scalars(select(Case.reference).where(Case.status == "new", Case.formality == "formal")
                              .order_by(Case.id)).first()
    assert reference is not None, "the demo mail holds a formal complaint that needs no review"

    perform(deps, reference, actor, Request(Action.ASSIGN, handler=actor.name))
    perform(deps, reference, actor, Request(Action.SKIP_HEARING, ground="waived"))
    extended = perform(deps, reference, actor, Request(Action.EXTEND))
    answered = perform(deps, reference, actor, Request(Action.ANSWER, judgement="founded",
                                                       text="U heeft gelijk; wij passen onze werkwijze aan."))
    assert (extended.letter, answered.letter, answered.status) == ("extension", "answer", "answered")

    outbox = tmp_path / "demo" / "outbox"
    before = set(outbox.glob("*.eml"))
    sent = triage("send", "--once", "--config", "demo/triage.toml", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    letters = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in sorted(set(outbox.glob("*.eml")) - before)]
    assert len(letters) == 2 and all(f"[{reference}]" in str(m["Subject"]) for m in letters)
    texts = " ".join(m.get_body(("plain",)).get_content() for m in letters)  # type: ignore[union-attr]
    assert "U krijgt onze reactie nu uiterlijk" in texts and "wij passen onze werkwijze aan" in texts
