"""The procedure after intake in the web UI (issue 13) through Flask's test client, on a site filled
by the real pipeline: every new form needs its CSRF token, another organisation's case is a 404,
staff cannot reopen, a stale form changes nothing, and a formal complaint goes from assignment
through the hearing and the extension to the answer, with its letters queued and its log in Dutch;
the worklists show each case where it belongs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_web import _login, _token
from web_site import Site, build

from triage.store import users
from triage.store.models import Acknowledgement, Case, User
from triage.web import create_app

HANDLER = ("anouk", "anouk-wachtwoord-1")
COORDINATOR = ("coordinator", "coordinator-wachtwoord-1")
OUTSIDER = ("buiten", "buiten-wachtwoord-1")
ROUTES = ("assign", "contact", "plan_hearing", "hold_hearing", "skip_hearing", "extend", "extend_with_consent",
          "close", "reopen", "merge", "split")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        site = build(tmp_path_factory.mktemp("web-procedure"), monkeypatch)
        with site.sessions.begin() as s:
            users.add(s, HANDLER[0], HANDLER[1], "staff", ["lindendal"])
            users.add(s, COORDINATOR[0], COORDINATOR[1], "staff", ["lindendal"])
            users.add(s, OUTSIDER[0], OUTSIDER[1], "staff", ["elders"])
            coordinator = s.scalars(select(User).where(User.name == COORDINATOR[0])).one()
            coordinator.role = "coordinator"  # the accounts store does not offer this role yet
        yield site


@pytest.fixture
def app(site: Site) -> Flask:
    return create_app(site.settings, site.sessions, models=site.models, testing=True)


def _client(app: Flask, who: tuple[str, str]) -> FlaskClient:
    return _login(app.test_client(), who)


def _case(site: Site, **where: object) -> Case:
    with site.sessions() as s:
        q = select(Case).where(Case.complainant.is_not(None))
        for key, value in where.items():
            q = q.where(getattr(Case, key) == value)
        found = s.scalars(q.order_by(Case.id)).first()
        assert found is not None, where
        s.expunge(found)
        return found


def _fresh(site: Site, case_id: int) -> Case:
    with site.sessions() as s:
        found = s.get(Case, case_id)
        assert found is not None
        s.expunge(found)
        return found


def _post(client: FlaskClient, site: Site, case_id: int, action: str, **form: str) -> str:
    """Post a procedure form as the case page offers it (its token and version); the page after."""
    token = _token(client, f"/case/{case_id}")
    data = {"csrf_token": token, "version": str(_fresh(site, case_id).version), **form}
    response = client.post(f"/case/{case_id}/procedure/{action}", data=data, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _letters(site: Site, case_id: int) -> list[str]:
    with site.sessions() as s:
        return list(s.scalars(select(Acknowledgement.kind).where(Acknowledgement.case_id == case_id,
                                                                  Acknowledgement.kind != "ack")
                              .order_by(Acknowledgement.id)))


def test_every_procedure_form_refuses_a_post_without_its_csrf_token(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    case = _case(site, status="new", kind="complaint")
    paths = [f"/case/{case.id}/procedure/{action}" for action in ROUTES]
    paths += [f"/case/{case.id}/read", f"/case/{case.id}/answer", f"/case/{case.id}/notice/extend"]
    for path in paths:
        response = client.post(path, data={"version": str(case.version), "me": "1", "note": "x", "text": "x",
                                           "op": "send", "judgement": "founded"})
        assert response.status_code == 400 and "Formulier verlopen" in response.get_data(as_text=True), path
    after = _fresh(site, case.id)
    assert (after.version, after.status, after.handler) == (case.version, case.status, case.handler)


def test_another_organisations_case_is_not_found(app: Flask, site: Site) -> None:
    outsider = _client(app, OUTSIDER)
    case = _case(site, status="new")
    for path in (f"/case/{case.id}", f"/case/{case.id}/answer"):
        assert outsider.get(path).status_code == 404, path
    token = _token(outsider, "/queue")
    for action in ("assign", "close"):
        response = outsider.post(f"/case/{case.id}/procedure/{action}", data={"csrf_token": token, "me": "1"})
        assert response.status_code == 404
    assert outsider.post(f"/case/{case.id}/read", data={"csrf_token": token}).status_code == 404
    assert outsider.post(f"/case/{case.id}/answer", data={"csrf_token": token, "op": "preview"}).status_code == 404
    assert _fresh(site, case.id).handler is None


def test_staff_cannot_reopen_a_closed_case_but_a_coordinator_can(app: Flask, site: Site) -> None:
    staff, coordinator = _client(app, HANDLER), _client(app, COORDINATOR)
    case = _case(site, status="new", kind="question")
    page = _post(staff, site, case.id, "close", ending="question_answered", note="Telefonisch beantwoord.")
    assert "afgesloten" in page and _fresh(site, case.id).status == "question_answered"
    assert 'id="reopen-box"' not in staff.get(f"/case/{case.id}").get_data(as_text=True)
    page = _post(staff, site, case.id, "reopen", note="Toch niet beantwoord.")
    assert "Dat mag uw rol (staff) niet" in page
    assert _fresh(site, case.id).status == "question_answered"
    assert 'id="reopen-box"' in coordinator.get(f"/case/{case.id}").get_data(as_text=True)
    page = _post(coordinator, site, case.id, "reopen", note="Toch niet beantwoord.")
    assert "heropend" in page and _fresh(site, case.id).status == "new"
    assert "Zaak heropend" in page and "reden: Toch niet beantwoord." in page


def test_a_stale_form_is_refused_and_changes_nothing(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    case = _case(site, status="new", kind="complaint", formality="informal")
    token = _token(client, f"/case/{case.id}")
    old = str(case.version)
    first = client.post(f"/case/{case.id}/procedure/assign", data={"csrf_token": token, "version": old,
                                                                  "handler": COORDINATOR[0]})
    assert first.status_code == 302 and _fresh(site, case.id).handler == COORDINATOR[0]
    second = client.post(f"/case/{case.id}/procedure/assign", data={"csrf_token": token, "version": old, "me": "1"},
                         follow_redirects=True)
    assert "intussen gewijzigd" in html.unescape(second.get_data(as_text=True))
    assert _fresh(site, case.id).handler == COORDINATOR[0]


def test_a_form_without_the_cases_version_is_refused_too(app: Flask, site: Site) -> None:
    """A hand-made POST that leaves the version out does not write unchecked."""
    client = _client(app, HANDLER)
    case = _case(site, status="new", kind="complaint", formality="informal")
    token = _token(client, f"/case/{case.id}")
    sent = client.post(f"/case/{case.id}/procedure/contact", data={"csrf_token": token, "note": "Gebeld."},
                       follow_redirects=True)
    assert "intussen gewijzigd" in html.unescape(sent.get_data(as_text=True))
    assert _fresh(site, case.id).version == case.version


def test_only_the_actions_of_the_cases_state_and_kind_are_offered(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    question = client.get(f"/case/{_case(site, status='new', kind='question').id}").get_data(as_text=True)
    assert 'id="assign-form"' in question and 'id="close-box"' in question
    assert 'id="extend-box"' not in question and 'id="hearing-box"' not in question
    review = client.get(f"/case/{_case(site, status='needs_review').id}").get_data(as_text=True)
    assert 'id="assign-form"' not in review and 'id="write-answer"' not in review


def _formal(site: Site) -> Case:
    return _case(site, status="new", kind="complaint", formality="formal", handler=None)


def test_a_formal_complaint_from_assignment_to_answer(app: Flask, site: Site) -> None:
    coordinator, handler = _client(app, COORDINATOR), _client(app, HANDLER)
    case = _formal(site)
    page = _post(coordinator, site, case.id, "assign", handler=HANDLER[0])
    assert f"Toegewezen aan {HANDLER[0]}" in page and _fresh(site, case.id).status == "in_progress"
    assert case.reference in handler.get("/queue?view=mine").get_data(as_text=True)
    _post(handler, site, case.id, "plan_hearing", on=date.today().isoformat())
    page = _post(handler, site, case.id, "hold_hearing", text="De klager is telefonisch gehoord.")
    assert "Klager gehoord" in page and "verslag: De klager is telefonisch gehoord." in page
    shown = re.search(r'id="extended-to">([^<]+)<', page)
    assert shown is not None
    token = _token(handler, f"/case/{case.id}")
    notice = handler.post(f"/case/{case.id}/notice/extend", data={"csrf_token": token, "note": "Wij wachten.",
                                                                 "version": str(_fresh(site, case.id).version)})
    assert shown.group(1) in html.unescape(notice.get_data(as_text=True)) and _letters(site, case.id) == []
    page = _post(handler, site, case.id, "extend", note="Wij wachten op informatie.")
    extended = _fresh(site, case.id)
    assert extended.due_date is not None and case.due_date is not None and extended.due_date > case.due_date
    assert f"Termijn verlengd tot {shown.group(1)}" in page and "Wacht op verzending" in page
    assert _letters(site, case.id) == ["extension"]
    _answer(handler, site, case.id)


def _answer(client: FlaskClient, site: Site, case_id: int) -> None:
    token = _token(client, f"/case/{case_id}/answer")
    version = str(_fresh(site, case_id).version)
    form = {"csrf_token": token, "version": version, "text": "Wij hebben uw klacht <b>onderzocht</b>.",
            "judgement": "partly_founded"}
    preview = client.post(f"/case/{case_id}/answer", data={**form, "op": "preview"}).get_data(as_text=True)
    shown = html.unescape(re.search(r'id="letter-preview">(.*?)</pre>', preview, re.S).group(1))  # type: ignore[union-attr]
    assert "Wij hebben uw klacht <b>onderzocht</b>." in shown and "ombudsman" in shown
    assert "&lt;b&gt;onderzocht" in preview  # the text as text, never markup
    assert _fresh(site, case_id).status == "in_progress"  # a preview sends nothing
    sent = client.post(f"/case/{case_id}/answer", data={**form, "op": "send"}, follow_redirects=True)
    page = html.unescape(sent.get_data(as_text=True))
    assert _fresh(site, case_id).status == "answered" and _letters(site, case_id) == ["extension", "answer"]
    assert "Antwoord verstuurd (op tijd)" in page and "oordeel: deels gegrond" in page
    assert "Antwoord klaargezet" in page and "Brieven aan de klager (2)" in page


def test_a_draft_is_kept_and_a_formal_answer_waits_for_the_hearing(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    case = _formal(site)
    token = _token(client, f"/case/{case.id}/answer")
    data = {"csrf_token": token, "version": str(case.version), "text": "Concepttekst", "judgement": "founded"}
    client.post(f"/case/{case.id}/answer", data={**data, "op": "save"})
    assert "Concepttekst" in client.get(f"/case/{case.id}/answer").get_data(as_text=True)
    data["version"] = str(_fresh(site, case.id).version)
    refused = client.post(f"/case/{case.id}/answer", data={**data, "op": "send"}).get_data(as_text=True)
    assert "nog niet gehoord" in html.unescape(refused) and _fresh(site, case.id).status == "new"


def test_a_98_notice_is_previewed_before_it_is_sent(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    case = _case(site, status="new", kind="complaint", draft={})
    token = _token(client, f"/case/{case.id}")
    form = {"csrf_token": token, "version": str(case.version), "ending": "not_handled", "ground": "over_a_year",
            "note": ""}
    preview = html.unescape(client.post(f"/case/{case.id}/notice/close", data=form).get_data(as_text=True))
    assert "langer dan een jaar" in preview and _fresh(site, case.id).status == "new"
    confirm = re.search(r'<form method="post" action="([^"]+)"', preview.split('id="letter-preview"')[1])
    assert confirm is not None
    page = html.unescape(client.post(confirm.group(1), data=form, follow_redirects=True).get_data(as_text=True))
    assert _fresh(site, case.id).status == "not_handled" and _letters(site, case.id)[-1:] == ["not_handled"]
    assert "Afgesloten: Niet in behandeling nemen (Awb 9:8)" in page and "grond: Langer dan een jaar" in page


def test_the_worklists_show_overdue_and_unassigned_cases_with_their_days(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    late = _case(site, status="new", kind="complaint", formality="informal", handler=None)
    with site.sessions.begin() as s:
        row = s.get(Case, late.id)
        assert row is not None
        row.due_date = date.today() - timedelta(days=3)
    overdue = client.get("/queue?view=overdue").get_data(as_text=True)
    assert late.reference in overdue and "3 dagen te laat" in overdue and "Te laat" in overdue
    unassigned = client.get("/queue?view=unassigned").get_data(as_text=True)
    assert late.reference in unassigned and "Nieuw" in unassigned
    assert "Ingedeeld" not in client.get("/queue?view=all").get_data(as_text=True)


def test_a_case_that_reports_danger_leads_its_worklist(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    first = _case(site, status="new", kind="complaint", formality="informal", handler=None)
    urgent = _case(site, status="new", kind="complaint", formality="informal", handler=None)
    with site.sessions.begin() as s:
        row = s.get(Case, urgent.id)
        assert row is not None
        row.urgent, row.due_date = True, date.today() + timedelta(days=300)  # due last, yet first
    page = client.get("/queue?view=unassigned").get_data(as_text=True)
    rows = re.findall(r'data-reference="([^"]+)"', page)
    assert rows[0] == urgent.reference and first.reference in rows
    urgent_row = page.split(f'data-reference="{urgent.reference}"')[1].split("</tr>")[0]
    assert "Spoed" in urgent_row


def test_a_handler_with_cases_starts_at_mine(app: Flask, site: Site) -> None:
    coordinator = _client(app, COORDINATOR)
    case = _case(site, status="new", kind="question", handler=None)
    _post(coordinator, site, case.id, "assign", me="1")
    fresh = _client(app, COORDINATOR)
    page = fresh.get("/queue").get_data(as_text=True)
    assert "<h1>Mijn zaken</h1>" in page and case.reference in page
    assert "<h1>Mijn zaken</h1>" not in _client(app, OUTSIDER).get("/queue").get_data(as_text=True)


def test_new_correspondence_is_marked_new_until_someone_reads_it(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    case = _case(site, status="new", kind="question")
    with site.sessions.begin() as s:
        row = s.get(Case, case.id)
        assert row is not None
        row.unread_since = datetime.now(UTC)
    page = client.get(f"/case/{case.id}").get_data(as_text=True)
    assert 'id="unread"' in page and "Nieuw" in page
    assert "Nieuwe post" in client.get("/queue?view=all").get_data(as_text=True)
    token = _token(client, f"/case/{case.id}")
    page = html.unescape(client.post(f"/case/{case.id}/read", data={"csrf_token": token},
                                     follow_redirects=True).get_data(as_text=True))
    assert 'id="unread"' not in page and "Nieuwe post gelezen" in page
    assert _fresh(site, case.id).unread_since is None


ACTIONS = {  # every audit action of the procedure, with details as the services record them
    "case.assigned": {"handler": "anouk", "previous": None, "status": "in_progress"},
    "case.unassigned": {"previous": "anouk", "status": "new"},
    "case.contact": {"note": "Gebeld"}, "case.hearing_planned": {"on": "2026-12-10", "note": ""},
    "case.hearing_held": {"on": "2026-12-10", "report": "Gehoord"},
    "case.hearing_skipped": {"ground": "waived", "note": ""},
    "case.extended": {"from": "2026-12-10", "to": "2027-01-07", "note": ""},
    "case.extended_with_consent": {"from": "2027-01-07", "to": "2027-02-01", "consent": "2026-12-20"},
    "case.answered": {"on_time": False, "judgement": "unfounded"},
    "case.closed": {"ending": "forwarded", "to": "Waterschap Rijnland", "note": ""},
    "case.reopened": {"reason": "Vergissing", "was": "resolved"}, "case.merged": {"into": "KL-2026-000001"},
    "case.split": {"note": ""}, "case.draft_saved": {}, "case.draft_discarded": {}, "case.read": {},
    "letter.pending": {"kind": "consent", "recipient": "a@example.nl"},
    "letter.sent": {"kind": "answer", "recipient": "a@example.nl"},
    "letter.failed": {"kind": "not_handled", "error": "550 no such user", "attempts": 5},
}


def test_every_procedure_action_reads_as_a_dutch_line_with_its_details() -> None:
    from triage.services.rows import LogRow
    from triage.web import history

    at = datetime(2026, 12, 3, 10, tzinfo=UTC)
    lines = {action: history.lines([LogRow(at, "anouk", action, detail)], [], [])[0]
             for action, detail in ACTIONS.items()}
    for action, line in lines.items():
        raw = {f"{key}: {value}" for key, value in ACTIONS[action].items()}  # what an unknown key would show
        assert line.action != action and not raw & set(line.details), (action, line)
    assert lines["case.assigned"].action == "Toegewezen aan anouk"
    assert lines["case.extended"].action == "Termijn verlengd tot donderdag 7 januari 2027"
    assert lines["case.answered"].action == "Antwoord verstuurd (te laat)"
    assert "oordeel: ongegrond" in lines["case.answered"].details
    assert lines["case.closed"].details == ["doorgezonden aan Waterschap Rijnland"]
    assert lines["case.hearing_skipped"].details == ["reden: de klager wil niet worden gehoord"]
    assert lines["case.reopened"].details == ["reden: Vergissing", "was informeel opgelost"]
    assert (lines["letter.sent"].action, lines["letter.failed"].action) == ("Antwoord verzonden",
                                                                           "Bericht niet in behandeling (9:8) mislukt")


def test_a_later_case_of_the_same_complainant_is_merged_and_split_again(app: Flask, site: Site) -> None:
    client = _client(app, HANDLER)
    with site.sessions.begin() as s:
        found = list(s.scalars(select(Case).where(Case.status == "new", Case.complainant.is_not(None))
                               .order_by(Case.received_at, Case.id)))
        earlier, later = found[0], found[-1]
        later.complainant = earlier.complainant  # the same person wrote twice
        ids, into = (earlier.id, later.id), earlier.reference
    page = _post(client, site, ids[1], "merge", into=into.lower())
    assert f"samengevoegd met {into}." in page and _fresh(site, ids[1]).status == "merged"
    assert 'id="split"' in page and 'id="assign-form"' not in page and f"bij zaak {into}" in page
    assert _fresh(site, ids[1]).reference in client.get(f"/case/{ids[0]}").get_data(as_text=True)
    page = _post(client, site, ids[1], "split")
    assert _fresh(site, ids[1]).status == "new" and "Weer losgemaakt" in page
    refused = _post(client, site, ids[0], "merge", into=_fresh(site, ids[1]).reference)
    assert "niet bij de nieuwere" in refused and _fresh(site, ids[0]).status == "new"
