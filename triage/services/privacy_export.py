"""The access export's archive (AVG art. 15): an index in Dutch (index.html, self-contained and
escaped, and index.txt), a note of what it holds and leaves out (LEESMIJ.txt), and per case a
folder with case.json, case.txt, its messages (the raw .eml and their text) and the letters we
sent (.eml). Written file by file into an open ZIP: one message's bytes in memory at a time."""

from __future__ import annotations

import html
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from triage.procedure_text import HEARING, STATES
from triage.store.models import Acknowledgement, Case, Message
from triage.store.privacy import Found

LABELS = {"complaint": "klacht", "question": "vraag", "product": "product", "service": "dienstverlening",
          "staff": "medewerker", "formal": "formeel", "informal": "informeel"}
LETTERS = {"ack": "ontvangstbevestiging", "answer": "antwoord", "extension": "verlenging", "consent": "uitstel",
           "not_handled": "niet in behandeling", "forwarded": "doorgezonden"}
BATCH_BYTES = 32 * 1024 * 1024  # raw message bytes read per query
Blobs = Callable[[Iterable[str]], Iterable[tuple[str, bytes]]]


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d-%m-%Y %H:%M") if isinstance(value, datetime) else value.strftime("%d-%m-%Y")


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def folder(case: Case) -> str:
    return f"cases/{case.reference}/"


def case_record(case: Case, org_name: str, found: Found) -> dict[str, Any]:
    """A case's data in case.json: an anonymised case only its reference, labels and dates."""
    record: dict[str, Any] = {
        "reference": case.reference, "organisation": org_name, "status": case.status,
        "status_nl": STATES.get(case.status, case.status), "kind": case.kind, "topic": case.topic,
        "formality": case.formality, "received": _iso(case.received_at), "due": _iso(case.due_date),
        "term": case.term, "answered_on": _iso(case.answered_on), "ended_on": _iso(case.ended_on),
        "on_time": case.on_time, "anonymised": case.anonymised_at is not None}
    if case.anonymised_at is not None:
        return record
    draft = dict(case.draft or {})
    record.update({
        "complainant": case.complainant, "complainant_name": case.complainant_name, "subject": case.subject,
        "procedure": {"hearing": case.hearing, "hearing_nl": HEARING.get(case.hearing, case.hearing),
                      "hearing_date": _iso(case.hearing_date), "hearing_note": case.hearing_note,
                      "extensions": case.extensions, "due_before_extension": _iso(case.due_before_extension),
                      "consent_date": _iso(case.consent_date), "judgement": case.judgement,
                      "ending_note": case.ending_note, "answer_draft": str(draft.get("text") or "")},
        "corrections": [{"at": _iso(c.at), "head": c.head, "old": c.old, "new": c.new}
                        for c in found.corrections.get(case.id, [])],
        "history": [{"at": _iso(e.at), "by": e.actor, "action": e.action, "detail": e.detail}
                    for e in found.history.get(case.id, [])],
        "messages": [{"received": _iso(m.received_at), "from": m.sender, "subject": m.subject}
                     for m in found.messages_of(case.id)],
        "letters": [{"kind": a.kind, "status": a.status, "to": a.recipient, "subject": a.subject,
                     "created": _iso(a.created_at), "sent": _iso(a.sent_at)} for a in found.letters_of(case.id)],
    })
    return record


def case_text(record: dict[str, Any]) -> str:
    label = " / ".join(LABELS.get(str(record.get(h)), "") for h in ("kind", "topic", "formality")).strip(" /")
    lines = [f"Zaak {record['reference']} ({record['organisation']})", f"Status: {record['status_nl']}",
             f"Soort: {label or 'onbekend'}", f"Ontvangen: {record['received']}", f"Uiterlijk: {record['due'] or '-'}",
             f"Afgerond op: {record['ended_on'] or '-'}"]
    if record["anonymised"]:
        return "\n".join([*lines, "", "De persoonsgegevens van deze zaak zijn eerder verwijderd."]) + "\n"
    proc = record["procedure"]
    lines += [f"Indiener: {record['complainant_name']} <{record['complainant']}>", f"Onderwerp: {record['subject']}",
              f"Horen: {proc['hearing_nl']} {proc['hearing_date'] or ''}".rstrip()]
    for title, text in (("Verslag van het horen", proc["hearing_note"]), ("Toelichting bij de afronding",
                        proc["ending_note"]), ("Concept-antwoord", proc["answer_draft"])):
        if text:
            lines += ["", f"{title}:", text]
    lines += ["", "Verloop:"] + [f"  {e['at']}  {e['action']}" for e in record["history"]]
    return "\n".join(lines) + "\n"


def _message_text(msg: Message) -> str:
    return (f"Van: {msg.sender or ''}\nOnderwerp: {msg.subject}\nOntvangen: {_iso(msg.received_at)}\n\n"
            f"{msg.text}\n")


def _write_messages(archive: zipfile.ZipFile, where: str, messages: list[Message], raw: dict[str, bytes]) -> None:
    for n, msg in enumerate(messages, 1):
        name = f"{where}messages/{n:02d}-{msg.id}"
        if msg.purged_at is not None:  # its content was removed before (retention): nothing left to show
            continue
        if msg.sha256 in raw:
            archive.writestr(f"{name}.eml", raw[msg.sha256])
        archive.writestr(f"{name}.txt", _message_text(msg))


def batches(found: Found, limit: int = BATCH_BYTES) -> Iterator[list[Case]]:
    """The cases in runs whose messages hold at most about `limit` bytes: one query for their raw
    bytes per run, and never every message in memory at once."""
    run: list[Case] = []
    size = 0
    for case in found.cases:
        run.append(case)
        size += sum(m.size for m in found.messages_of(case.id))
        if size >= limit:
            yield run
            run, size = [], 0
    if run:
        yield run


def _write_letters(archive: zipfile.ZipFile, where: str, letters: list[Acknowledgement]) -> None:
    for n, row in enumerate(letters, 1):
        if row.raw:
            archive.writestr(f"{where}letters/{n:02d}-{row.kind}.eml", row.raw)


def write(archive: zipfile.ZipFile, found: Found, org_names: dict[str, str], blobs: Blobs, made: datetime) -> None:
    """Every file of the export into `archive`."""
    records = []
    for run in batches(found):
        wanted = [m.sha256 for c in run if c.anonymised_at is None for m in found.messages_of(c.id)]
        raw = dict(blobs(wanted))
        for case in run:
            record = case_record(case, org_names.get(case.organisation, case.organisation), found)
            records.append(record)
            where = folder(case)
            archive.writestr(where + "case.json", json.dumps(record, ensure_ascii=False, indent=2, default=str))
            archive.writestr(where + "case.txt", case_text(record))
            if case.anonymised_at is None:
                _write_messages(archive, where, found.messages_of(case.id), raw)
                _write_letters(archive, where, found.letters_of(case.id))
    loose = found.loose_messages()
    _write_messages(archive, "other/", loose, dict(blobs(m.sha256 for m in loose if m.purged_at is None)))
    _write_letters(archive, "other/", found.loose_letters())
    archive.writestr("index.html", index_html(found, records, made))
    archive.writestr("index.txt", index_text(found, records, made))
    archive.writestr("LEESMIJ.txt", readme(found, made))


def _counts(found: Found, case: Case) -> tuple[int, int]:
    return len(found.messages_of(case.id)), len(found.letters_of(case.id))


def index_text(found: Found, records: list[dict[str, Any]], made: datetime) -> str:
    lines = [f"Inzage in de gegevens over {found.address}", f"Gemaakt op {_day(made)} (UTC)", "",
             f"Zaken: {len(found.cases)}, berichten: {len(found.messages)}, brieven: {len(found.letters)}", ""]
    for case, record in zip(found.cases, records, strict=True):
        messages, letters = _counts(found, case)
        lines.append(f"{case.reference}  {_day(case.received_at)}  {record['status_nl']}  "
                     f"{record.get('subject', '(verwijderd)')}  [{messages} berichten, {letters} brieven]  "
                     f"{folder(case)}")
    loose = found.loose_messages()
    if loose:
        lines += ["", "Berichten buiten deze zaken (map other/):"]
        lines += [f"  {_day(m.received_at)}  {m.subject}" for m in loose]
    return "\n".join(lines) + "\n"


def index_html(found: Found, records: list[dict[str, Any]], made: datetime) -> str:
    esc = html.escape
    rows = []
    for case, record in zip(found.cases, records, strict=True):
        messages, letters = _counts(found, case)
        rows.append(f'<tr><td><a href="{esc(folder(case))}case.txt">{esc(case.reference)}</a></td>'
                    f"<td>{esc(_day(case.received_at))}</td><td>{esc(record['status_nl'])}</td>"
                    f"<td>{esc(record.get('subject', '(verwijderd)'))}</td><td>{messages}</td><td>{letters}</td></tr>")
    loose = "".join(f"<li>{esc(_day(m.received_at))}: {esc(m.subject or '(geen onderwerp)')}</li>"
                    for m in found.loose_messages())
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Inzage {esc(found.address)}</title>
<style>body{{font:15px/1.5 sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
table{{border-collapse:collapse;width:100%}}th,td{{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left}}
</style></head><body>
<h1>Inzage in de gegevens over {esc(found.address)}</h1>
<p>Gemaakt op {esc(_day(made))} (UTC). {len(found.cases)} zaken, {len(found.messages)} berichten,
{len(found.letters)} brieven. Zie LEESMIJ.txt voor wat dit bestand bevat en wat niet.</p>
<table id="cases"><thead><tr><th>Zaak</th><th>Ontvangen</th><th>Status</th><th>Onderwerp</th><th>Berichten</th>
<th>Brieven</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
{f"<h2>Berichten buiten deze zaken</h2><ul>{loose}</ul>" if loose else ""}
</body></html>
"""


def readme(found: Found, made: datetime) -> str:
    anonymised = sum(1 for c in found.cases if c.anonymised_at is not None)
    return f"""Inzageverzoek (AVG artikel 15): {found.address}
Gemaakt op {_day(made)} (UTC).

Dit bestand bevat alles wat de klachtenregistratie over dit e-mailadres bewaart:
- index.html en index.txt: een overzicht van alle zaken;
- cases/<zaaknummer>/case.json en case.txt: de gegevens van de zaak (indeling, data, status, de
  procedure: horen, verlenging, afronding, het concept-antwoord) en het verloop;
- cases/<zaaknummer>/messages/: de ontvangen berichten zoals ze binnenkwamen (.eml) en hun tekst (.txt);
- cases/<zaaknummer>/letters/: de brieven die wij stuurden (ontvangstbevestiging, antwoord, ...) als .eml;
- other/: berichten en brieven buiten deze zaken (bijvoorbeeld automatisch genegeerde mail).

Niet opgenomen:
- de namen van medewerkers in het verloop staan erin, hun interne aantekeningen buiten de zaak niet;
- van zaken waarvan de persoonsgegevens eerder zijn verwijderd ({anonymised}) alleen het zaaknummer,
  de indeling en de data;
- kopieën in de mailbox van de organisatie en back-ups vallen buiten deze registratie.
"""
