"""The retention purge with an injected clock: exactly what expired goes (cases ended 25 months ago and
the cases merged into them, machine mail past 30 days, quarantined mail handled 91 days ago, old
access-log rows), an anonymous record stays, a second run does nothing, an interrupted run is
finished by the next; the mailbox is touched only when the config says so; the command, the worker
job and the privacy line of the acknowledgement."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import mailbox
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import deps_for, imap_mailbox, sessions_for, settings_for, write_config
from mails import plain
from sqlalchemy import select

from triage.cli import main
from triage.config import Organisation
from triage.domain import Address, Prediction
from triage.errors import ServerError
from triage.mailboxes import open_mailbox
from triage.services import purge
from triage.services.expunge import Target, expunge
from triage.services.poll import run_once
from triage.stages.acknowledge import Letter, compose, plan
from triage.store import anonymise
from triage.store.models import AccessLog, Acknowledgement, AuditLog, Case, Message, RawBlob

NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # Thursday; 24 months back is 3 December 2024
NAMES = ("ended_25", "ended_23", "open_36", "merged", "machine_31", "machine_29", "handled_91", "handled_89",
         "waiting")
RETENTION_ON = "[organisations.debrug.retention]\ndelete_from_mailbox = true\n"


def machine(n: int) -> bytes:
    return b"Auto-Submitted: auto-replied\r\n" + plain(n, sender=f"Robot {n} <robot{n}@example.net>")


@dataclasses.dataclass
class World:
    config: Path
    deps: Any
    org: Organisation
    ids: dict[str, int]  # name -> message id
    cases: dict[str, int]  # name -> case id

    def session(self) -> Any:
        return self.deps.sessions()


def _poll(deps: Any, org: Organisation) -> None:
    with open_mailbox(org) as box:
        run_once(deps, org, box)


def _build(tmp_path: Path, db_url: str, mailbox_table: str, deliver: Callable[[list[bytes]], None],
           extra: str = "") -> World:
    config = write_config(tmp_path, db_url, mailbox_table, extra=extra)
    settings = settings_for(config)
    deps = dataclasses.replace(deps_for(settings, sessions_for(settings)), clock=lambda: NOW)
    org = settings.organisations["debrug"]
    raws = [plain(1), plain(2), plain(3), plain(4), machine(5), machine(6), machine(7), machine(8), machine(9)]
    deliver(raws)
    _poll(deps, org)
    deliver([plain(2)])  # a duplicate of the case ended 23 months ago, 31 days old
    _poll(deps, org)
    world = World(config, deps, org, {}, {})
    with deps.sessions.begin() as s:
        msgs = list(s.scalars(select(Message).order_by(Message.id)))
        assert len(msgs) == 10
        world.ids = {name: m.id for name, m in zip((*NAMES, "dup_31"), msgs, strict=True)}
        _age(s, world, {m.id: m for m in msgs})
    return world


def _age(s: Any, world: World, msgs: dict[int, Message]) -> None:
    """Make the freshly polled mail as old as each test case needs."""
    by = {name: msgs[i] for name, i in world.ids.items()}
    for name in ("ended_25", "ended_23", "open_36", "merged"):
        assert by[name].case_id is not None
        world.cases[name] = by[name].case_id
    cases = {name: s.get(Case, i) for name, i in world.cases.items()}
    for name, ended in (("ended_25", date(2024, 11, 3)), ("ended_23", date(2025, 1, 3))):
        cases[name].status, cases[name].ended_on, cases[name].kind = "answered", ended, "complaint"
        arrived = datetime.combine(ended, datetime.min.time(), UTC) - timedelta(days=40)
        by[name].received_at = cases[name].received_at = arrived
    cases["open_36"].status, cases["open_36"].received_at = "in_progress", NOW - timedelta(days=3 * 365)
    by["open_36"].received_at = NOW - timedelta(days=3 * 365)
    cases["merged"].status, cases["merged"].merged_from = "merged", "new"
    cases["merged"].merged_into = cases["ended_25"].id
    for name, days in (("machine_31", 31), ("machine_29", 29), ("dup_31", 31)):
        by[name].received_at = NOW - timedelta(days=days)
    for name, days in (("handled_91", 91), ("handled_89", 89)):
        by[name].received_at = NOW - timedelta(days=200)
        s.add(AuditLog(at=NOW - timedelta(days=days), actor="worker", action="message.retried",
                       organisation="debrug", message_id=by[name].id, detail={"disposition": "ignored"}))
    by["waiting"].disposition, by["waiting"].attempts = "quarantined", 3
    by["waiting"].received_at = NOW - timedelta(days=300)
    s.add(AuditLog(at=NOW - timedelta(days=200), actor="worker", action="message.retried", organisation="debrug",
                   message_id=by["waiting"].id, detail={"disposition": "quarantined"}))
    for days in (25 * 31, 23 * 30):
        s.add(AccessLog(at=NOW - timedelta(days=days), user="marie", organisation="debrug",
                        case_id=cases["ended_23"].id, what="case"))


def maildir_world(tmp_path: Path, db_url: str, extra: str = "") -> tuple[World, Path]:
    root = tmp_path / "mail"
    box = mailbox.Maildir(str(root), create=True)
    return _build(tmp_path, db_url, f'type = "maildir"\npath = "{root}"\n',
                  lambda raws: [box.add(raw) for raw in raws] and None, extra), root


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> World:
    return maildir_world(tmp_path, db_url)[0]


@pytest.fixture
def sqlite_world(tmp_path: Path, sqlite_url: str) -> World:
    return maildir_world(tmp_path, sqlite_url)[0]


def snapshot(w: World) -> list[tuple[Any, ...]]:
    """Every row the purge could change."""
    with w.session() as s:
        rows: list[tuple[Any, ...]] = []
        for model, cols in ((Case, ("id", "subject", "complainant", "anonymised_at", "status", "version")),
                            (Message, ("id", "subject", "sender", "text", "message_id", "purged_at")),
                            (RawBlob, ("sha256", "size", "data")), (AccessLog, ("id", "at")),
                            (Acknowledgement, ("id", "status", "recipient", "raw")),
                            (AuditLog, ("id", "action", "detail"))):
            rows += [tuple(getattr(r, c) for c in cols) for r in s.scalars(select(model).order_by(cols[0]))]
        return rows


def purged(w: World) -> set[str]:
    with w.session() as s:
        return {name for name, i in w.ids.items() if s.get(Message, i).purged_at is not None}


def anonymised(w: World) -> set[str]:
    with w.session() as s:
        return {name for name, i in w.cases.items() if s.get(Case, i).anonymised_at is not None}


EXPIRED_MESSAGES = {"ended_25", "merged", "machine_31", "handled_91", "dup_31"}


def test_a_dry_run_lists_exactly_what_expired_and_changes_nothing(world: World) -> None:
    before = snapshot(world)
    found = purge.plan(world.deps)
    (p,) = found.organisations
    with world.session() as s:
        refs = {n: s.get(Case, i).reference for n, i in world.cases.items()}
    assert found.today == date(2026, 12, 3) and p.cutoffs.ended_before == date(2024, 12, 3)
    assert [(c.reference, c.joined) for c in p.cases] == [(refs["ended_25"], ""), (refs["merged"], refs["ended_25"])]
    named = {world.ids[n]: n for n in world.ids}
    assert {named[m.id]: m.rule for m in p.messages} == {"machine_31": "machine", "dup_31": "machine",
                                                         "handled_91": "quarantine"}
    assert p.access_rows == 1
    assert snapshot(world) == before


def test_a_run_anonymises_exactly_what_expired_and_keeps_an_anonymous_record(world: World) -> None:
    with world.session() as s:
        old = s.get(Case, world.cases["ended_25"])
        kept = (old.reference, old.received_at, old.ended_on, old.kind, old.status, old.term, old.due_date)
        sha = s.get(Message, world.ids["ended_25"]).sha256
        assert s.get(RawBlob, sha).size > 0 and old.subject and old.complainant
    result = purge.run(world.deps)
    (out,) = result.organisations
    assert len(out.cases) == 2 and out.messages == 3 and out.access_rows == 1 and out.left == 0
    assert anonymised(world) == {"ended_25", "merged"}
    assert purged(world) == EXPIRED_MESSAGES
    with world.session() as s:
        case = s.get(Case, world.cases["ended_25"])
        assert (case.reference, case.received_at, case.ended_on, case.kind, case.status, case.term,
                case.due_date) == kept
        assert case.subject == "" and case.complainant is None and case.complainant_name == ""
        assert case.anonymised_by == "purge" and case.anonymised_at == NOW
        msg = s.get(Message, world.ids["ended_25"])
        assert (msg.subject, msg.text, msg.sender, msg.complainant, msg.message_id) == ("", "", None, None, "")
        assert s.get(RawBlob, sha).data == b""
        acks = s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case.id)).all()
        assert acks and all(a.raw is None and a.recipient == "" and a.status != "pending" for a in acks)
        young = s.get(Case, world.cases["ended_23"])
        assert young.subject and young.complainant and young.anonymised_at is None
        assert s.get(RawBlob, s.get(Message, world.ids["ended_23"]).sha256).size > 0  # the duplicate's, too
        assert s.get(Case, world.cases["open_36"]).complainant is not None
        assert [a.at for a in s.scalars(select(AccessLog))] == [NOW - timedelta(days=23 * 30)]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "privacy.purged")).all()
        assert [(a.organisation, a.detail["cases"], a.detail["messages"]) for a in audit] == [("debrug", 2, 3)]
        assert set(audit[0].detail) == {"cases", "case_messages", "messages", "access_rows", "mailbox_deleted", "left"}


def test_a_second_run_changes_nothing_but_its_audit_row(world: World) -> None:
    purge.run(world.deps)
    before = [row for row in snapshot(world) if "privacy.purged" not in row]
    (out,) = purge.run(world.deps).organisations
    assert (out.cases, out.messages, out.case_messages, out.access_rows) == ([], 0, 0, 0)
    after = [row for row in snapshot(world) if "privacy.purged" not in row]
    assert after == before
    assert purge.plan(world.deps).organisations[0].empty


def test_an_interrupted_purge_leaves_each_case_whole_or_anonymised_and_the_next_run_finishes(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = anonymise.anonymise_case, []

    def failing(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(anonymise, "anonymise_case", failing)
    with pytest.raises(RuntimeError):
        purge.run(world.deps)
    assert anonymised(world) == {"ended_25"}
    assert purged(world) == {"ended_25"}  # the merged case and the loose mail wait, whole
    with world.session() as s:
        merged = s.get(Case, world.cases["merged"])
        assert merged.subject and merged.complainant and s.get(Message, world.ids["merged"]).text
    monkeypatch.undo()
    (out,) = purge.run(world.deps).organisations
    assert len(out.cases) == 1 and out.messages == 3
    assert anonymised(world) == {"ended_25", "merged"} and purged(world) == EXPIRED_MESSAGES


def test_a_case_reopened_after_the_plan_is_not_anonymised(sqlite_world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    world = sqlite_world
    real = purge.plan

    def plan_then_reopen(*args: Any, **kwargs: Any) -> purge.Plan:
        found = real(*args, **kwargs)
        with world.deps.sessions.begin() as s:
            s.get(Case, world.cases["ended_25"]).status = "in_progress"
        return found

    monkeypatch.setattr(purge, "plan", plan_then_reopen)
    purge.run(world.deps)
    assert anonymised(world) == set()


def test_the_dry_run_command_prints_the_rules_and_references(sqlite_world: World,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    world = sqlite_world
    import triage.cli.purge as command

    def fixed_clock(*args: Any, **kwargs: Any) -> Any:
        return dataclasses.replace(deps_for_cli(*args, **kwargs), clock=lambda: NOW)

    deps_for_cli = command.deps_for
    monkeypatch.setattr(command, "deps_for", fixed_clock)
    before = snapshot(world)
    result = CliRunner().invoke(main, ["purge", "--config", str(world.config), "--dry-run"])
    assert result.exit_code == 0, result.output
    with world.session() as s:
        refs = [s.get(Case, world.cases[n]).reference for n in ("ended_25", "merged")]
    assert f"{refs[0]}, {refs[1]} (merged into {refs[0]})" in result.output
    for line in ("cases ended before 2024-12-03 (24 months): 2 cases",
                 "received before 2026-11-03 (30 days): 2 messages",
                 "handled before 2026-09-04 (90 days): 1 message", "access log rows before 2024-12-03: 1",
                 "mailbox: left alone"):
        assert line in result.output
    assert snapshot(world) == before
    result = CliRunner().invoke(main, ["purge", "--config", str(world.config), "--organisation", "debrug"])
    assert result.exit_code == 0 and "anonymised 2 cases" in result.output and "mailbox left alone" in result.output
    assert anonymised(world) == {"ended_25", "merged"}


def test_an_unknown_organisation_is_one_line_and_exit_2(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url, f'type = "maildir"\npath = "{tmp_path / "m"}"\n')
    result = CliRunner().invoke(main, ["purge", "--config", str(config), "--dry-run", "--organisation", "x"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == "triage: error: unknown organisation 'x': configured are debrug"
    assert "Traceback" not in result.output


def _maildir_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)).split(":")[0]: p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.parent.name in ("cur", "new")}


def _expired_raws(w: World) -> list[bytes]:
    return [plain(1), plain(4), machine(5), machine(7)]  # dup_31's bytes are plain(2): the open case keeps them


def test_with_delete_from_mailbox_only_the_expired_messages_leave_the_maildir(tmp_path: Path, sqlite_url: str) -> None:
    w, root = maildir_world(tmp_path, sqlite_url, RETENTION_ON)
    before = _maildir_files(root)
    (out,) = purge.run(w.deps).organisations
    after = _maildir_files(root)
    gone = {v for k, v in before.items() if k not in after}
    assert sorted(gone) == sorted(_expired_raws(w)) and out.mailbox_deleted == 4
    assert all(after[k] == v for k, v in before.items() if k in after)
    assert sum(raw == plain(2) for raw in after.values()) == 2  # the case ended 23 months ago and its duplicate
    assert purged(w) == EXPIRED_MESSAGES


def test_by_default_the_maildir_is_left_alone(tmp_path: Path, sqlite_url: str) -> None:
    w, root = maildir_world(tmp_path, sqlite_url)
    opened: list[Organisation] = []

    def spy(org: Organisation) -> Any:
        opened.append(org)
        return open_mailbox(org)

    before = _maildir_files(root)
    purge.run(dataclasses.replace(w.deps, mailbox=spy))
    assert _maildir_files(root) == before and opened == []
    assert purged(w) == EXPIRED_MESSAGES


def test_an_unreachable_mailbox_leaves_those_items_for_the_next_run(tmp_path: Path, sqlite_url: str) -> None:
    w, root = maildir_world(tmp_path, sqlite_url, RETENTION_ON)

    def unreachable(org: Organisation) -> Any:
        raise ServerError("IMAP server mail.example:993 is unreachable: timed out")

    (out,) = purge.run(dataclasses.replace(w.deps, mailbox=unreachable)).organisations
    assert out.left == 5 and "unreachable" in out.error  # two cases and three messages
    assert anonymised(w) == set() and purged(w) == set() and out.access_rows == 1
    (out,) = purge.run(w.deps).organisations
    assert out.left == 0 and anonymised(w) == {"ended_25", "merged"} and purged(w) == EXPIRED_MESSAGES


def _imap_files(server: Any, user: str) -> list[bytes]:
    found = []
    with server.client(user) as c:
        for folder in ("INBOX", "Triage/Filed", "Triage/Review", "Triage/Ignored", "Triage/Quarantine"):
            if c.folder_exists(folder):
                c.select_folder(folder, readonly=True)
                uids = c.search(["NOT", "DELETED"])
                found += [bytes(v[b"BODY[]"]) for v in c.fetch(uids, ["BODY.PEEK[]"]).values()] if uids else []
    return sorted(found)


@pytest.mark.parametrize("delete", [True, False])
def test_with_dovecot_only_the_expired_messages_are_expunged_when_config_says_so(
        tmp_path: Path, sqlite_url: str, dovecot: Any, delete: bool) -> None:
    user = dovecot.new_user()
    w = _build(tmp_path, sqlite_url, imap_mailbox(dovecot, user), lambda raws: dovecot.append(user, raws),
               RETENTION_ON if delete else "")
    before = _imap_files(dovecot, user)
    purge.run(w.deps)
    after = _imap_files(dovecot, user)
    expected = sorted(before)
    if delete:
        for raw in _expired_raws(w):
            expected.remove(raw)
    assert after == expected and purged(w) == EXPIRED_MESSAGES


def test_expunge_finds_a_message_without_message_id_on_imap_by_its_day(tmp_path: Path, dovecot: Any) -> None:
    user = dovecot.new_user()
    bare = plain(1).replace(b"Message-ID: <melding-1@example.net>\r\n", b"")
    assert b"Message-ID" not in bare
    dovecot.append(user, [bare, plain(2)])
    settings = settings_for(write_config(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", imap_mailbox(dovecot, user)))
    deps, org = deps_for(settings, None), settings.organisations["debrug"]
    sha = hashlib.sha256(bare).hexdigest()
    assert expunge(deps, org, [Target("", sha, date(2020, 1, 1))]) == 0  # not of that day: not searched
    assert expunge(deps, org, [Target("<melding-2@example.net>", sha)]) == 0  # that Message-ID has other bytes
    assert expunge(deps, org, [Target("", sha, datetime.now(UTC).date())]) == 1  # appended today
    assert _imap_files(dovecot, user) == [plain(2)]


def test_the_worker_schedules_the_daily_purge(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    import triage.worker as worker

    made: list[BackgroundScheduler] = []
    started = threading.Event()

    class Recording(BackgroundScheduler):  # type: ignore[misc]
        def start(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().start(*args, **kwargs)
            started.set()

    monkeypatch.setattr(worker, "BackgroundScheduler", Recording)
    settings = settings_for(write_config(tmp_path, sqlite_url, f'type = "maildir"\npath = "{tmp_path / "m"}"\n'))
    deps = deps_for(settings, sessions_for(settings))
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(deps, stop), daemon=True)
    thread.start()
    assert started.wait(30)
    job = made[0].get_job("purge")
    stop.set()
    thread.join(30)
    assert job is not None and job.coalesce and job.max_instances == 1
    assert str(job.trigger).startswith("cron[") and "hour='3'" in str(job.trigger) and "minute='30'" in str(job.trigger)
    assert str(job.trigger.timezone) == "Europe/Amsterdam"


def test_a_failing_purge_is_logged_and_the_worker_goes_on(tmp_path: Path, sqlite_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.worker import Purger

    def broken(deps: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(purge, "run", broken)
    settings = settings_for(write_config(tmp_path, sqlite_url, f'type = "maildir"\npath = "{tmp_path / "m"}"\n'))
    assert Purger(deps_for(settings, None)).run() is None


def _ack(privacy_url: str, language: str) -> tuple[str, str]:
    org = Organisation.model_validate({
        "id": "lindendal", "name": "Gemeente Lindendal", "addresses": ["klachten@lindendal.example"],
        "mailbox": {"type": "maildir", "path": "/tmp/x"}, "acknowledge": {"privacy_url": privacy_url}})
    received = datetime(2026, 3, 24, 9, 12, tzinfo=UTC)
    letter = Letter("KL-2026-000042", Address("jan@example.nl", "Jan de Vries"), "Klacht", received)
    guess = Prediction(kind="complaint", topic="staff", formality="formal", language=language, unsure=(), sure=True)
    parsed = email.message_from_bytes(compose(org, letter, plan(org, guess, received), received).as_bytes(),
                                      policy=email.policy.default)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))  # type: ignore[attr-defined]
    return text.get_content(), html.get_content()


@pytest.mark.parametrize(("language", "words"), [("nl", "Hoe wij met uw gegevens omgaan"),
                                                 ("en", "How we handle your personal data")])
def test_the_acknowledgement_links_the_privacy_statement_when_configured(language: str, words: str) -> None:
    url = "https://www.lindendal.example/privacy?a=1&b=2"
    text, html = _ack(url, language)
    assert f"\n\n{words}: {url}\n\n" in text.replace("\r\n", "\n")
    assert f'{words}: <a href="https://www.lindendal.example/privacy?a=1&amp;b=2"' in html
    bare_text, bare_html = _ack("", language)
    assert words not in bare_text and words not in bare_html and "privacy" not in bare_html


def test_each_organisation_is_purged_with_its_own_retention(tmp_path: Path, db_url: str) -> None:
    orgs = {"debrug": "", "lindendal": "[organisations.lindendal.retention]\npersonal_data_months = 36\n"}
    config = tmp_path / "triage.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n' + "".join(f"""
[organisations.{org}]
name = "Organisatie {org}"
reference_prefix = "{org[:2].upper()}"
addresses = ["klachten@{org}.example"]
[organisations.{org}.mailbox]
type = "maildir"
path = "{tmp_path / org}"
{retention}""" for org, retention in orgs.items()), encoding="utf-8")
    settings = settings_for(config)
    deps = dataclasses.replace(deps_for(settings, sessions_for(settings)), clock=lambda: NOW)
    for org in settings.organisations.values():
        mailbox.Maildir(str(tmp_path / org.id), create=True).add(plain(1))
        _poll(deps, org)
    with deps.sessions.begin() as s:
        for case in s.scalars(select(Case)):
            case.status, case.ended_on = "answered", date(2024, 11, 3)  # 25 months ago
    found = {p.organisation: p for p in purge.plan(deps).organisations}
    assert found["lindendal"].cutoffs.ended_before == date(2023, 12, 3) and not found["lindendal"].cases
    assert len(found["debrug"].cases) == 1
    purge.run(deps)
    with deps.sessions() as s:
        assert {c.organisation: c.anonymised_at for c in s.scalars(select(Case))} == {"debrug": NOW, "lindendal": None}
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "privacy.purged")).all()
        assert sorted((a.organisation, a.detail["cases"]) for a in audit) == [("debrug", 1), ("lindendal", 0)]
