"""The flow of one message, on one screen:

    raw ─parse─▶ Mail ─forwards─▶ Resolved ─screen─▶ (machine? ignored)
        ─thread─▶ (reply of the complainant to a known case? joined)
        ─classify─▶ (until a model exists: review) ─file─▶ case + move to the disposition's folder

`process(raw, ctx)` runs the pure stages (`process_many` for a batch, classified in one call);
`run_once(...)` polls one mailbox: commit, then move.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Organisation, Settings
from triage.domain import Disposition, Mail, Outcome, OwnAddresses, Prediction, Resolved, Screening
from triage.errors import StageError
from triage.mailboxes.base import Fetched, Mailbox
from triage.stages.classify import classify, classify_many, doubts
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import bounced_acks, screen
from triage.stages.thread import CaseFinder, thread
from triage.store import acks, filing, repo
from triage.training.model import Classifier

log = logging.getLogger("triage.pipeline")
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What the stages need to know of the organisation and the store."""

    own: OwnAddresses
    reference_prefix: str
    find_case: CaseFinder
    max_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 200_000
    classifier: Classifier | None = None


def _stage(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except (StageError, SQLAlchemyError):  # a database fault is not the message's fault: abort the poll
        raise
    except Exception as exc:  # bad input (incl. RecursionError, MemoryError) must not crash the batch
        raise StageError(name, f"{type(exc).__name__}: {exc}") from exc


@dataclass
class _Draft:
    """A message through the stages before classification, waiting for its prediction."""

    mail: Mail
    resolved: Resolved
    screening: Screening
    thread_note: str


def _prepare(raw: bytes, ctx: Context) -> Outcome | _Draft:
    """Parse, resolve forwards, screen and thread: a final outcome, or a draft to classify."""
    try:
        mail = _stage("parse", parse, raw, max_bytes=ctx.max_bytes, max_text_chars=ctx.max_text_chars)
        resolved: Resolved = _stage("forwards", resolve, mail, ctx.own)
        screening = _stage("screen", screen, resolved)
        if screening.machine:
            return Outcome(Disposition.IGNORED, screening.reason, resolved, screening,
                           bounce_of=bounced_acks(raw, screening))
        match, thread_note = _stage("thread", thread, resolved, ctx.reference_prefix, ctx.find_case)
        if match:
            return Outcome(Disposition.JOINED, f"reply in {match.reference} ({match.how})", resolved,
                           screening, match)
    except StageError as exc:
        return Outcome(Disposition.QUARANTINED, f"{exc.stage} failed", error=str(exc))
    return _Draft(mail, resolved, screening, thread_note)


def _predict(drafts: list[_Draft], classifier: Classifier) -> list[Prediction | StageError]:
    """Predictions for all drafts in one call; should that fail, one by one, so that only the
    message that cannot be classified is quarantined."""
    try:
        return list(_stage("classify", classify_many, [d.resolved for d in drafts], classifier))
    except StageError:
        if len(drafts) == 1:
            raise
    out: list[Prediction | StageError] = []
    for draft in drafts:
        try:
            out.append(_stage("classify", classify, draft.resolved, classifier))
        except StageError as exc:
            out.append(exc)
    return out


def _decide(draft: _Draft, prediction: Prediction | None, classifier: Classifier | None) -> Outcome:
    mail, resolved = draft.mail, draft.resolved
    reasons = []
    if classifier is None:
        reasons.append("no classification model")
    elif prediction is not None:
        unsure = doubts(prediction, classifier.thresholds)
        if unsure:
            reasons.append("unsure: " + ", ".join(unsure))
    if resolved.complainant is None:
        reasons.append(f"nobody to answer: {resolved.note}")
    elif resolved.note:
        reasons.append(resolved.note)
    if mail.truncated:
        reasons.append(f"message of {mail.size} bytes is over the size limit; only its head was read")
    if draft.thread_note:
        reasons.append(draft.thread_note)
    needs_person = prediction is None or not prediction.sure or mail.truncated
    if not needs_person:
        assert prediction is not None
        label = f"{prediction.kind}/{prediction.topic}/{prediction.formality}"
        reasons.insert(0, f"{label} (model {prediction.model_version})")
        return Outcome(Disposition.FILED, "; ".join(reasons), resolved, draft.screening, prediction=prediction)
    return Outcome(Disposition.REVIEW, "; ".join(reasons), resolved, draft.screening, prediction=prediction)


def process_many(raws: list[bytes], ctx: Context) -> list[Outcome]:
    """Decide what to do with each raw message, classifying them together. Never raises for
    bad input: a message that fails a stage is quarantined, the others go on."""
    prepared = [_prepare(raw, ctx) for raw in raws]
    drafts = [p for p in prepared if isinstance(p, _Draft)]
    predictions: dict[int, Prediction | StageError] = {}
    if drafts and ctx.classifier is not None:
        try:
            predicted = _predict(drafts, ctx.classifier)
        except StageError as exc:
            predicted = [exc]
        predictions = {id(d): p for d, p in zip(drafts, predicted, strict=True)}
    out = []
    for item in prepared:
        if isinstance(item, Outcome):
            out.append(item)
            continue
        prediction = predictions.get(id(item))
        if isinstance(prediction, StageError):
            out.append(Outcome(Disposition.QUARANTINED, f"{prediction.stage} failed", error=str(prediction)))
        else:
            out.append(_decide(item, prediction, ctx.classifier))
    return out


def process(raw: bytes, ctx: Context) -> Outcome:
    """Decide what to do with one raw message. Never raises for bad input: it quarantines."""
    return process_many([raw], ctx)[0]


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass
class PollResult:
    organisation: str
    counts: Counter[str] = field(default_factory=Counter)
    rows: list[filing.Filed] = field(default_factory=list)
    moved: int = 0
    stopped: bool = False
    busy: bool = False  # another worker was polling this mailbox
    answered: int = 0  # records that got a case (filed or review): the send job has work
    keep_rows: bool = True  # False in the daemon: a 20 000-message backlog need not stay in memory

    def add(self, filed: filing.Filed, label: str) -> None:
        self.counts[label] += 1
        self.answered += filed.disposition in (Disposition.FILED, Disposition.REVIEW)
        if self.keep_rows:
            self.rows.append(filed)


def context_for(org: Organisation, settings: Settings, session: Session,
                classifier: Classifier | None = None) -> Context:
    def find_case(reference: str) -> tuple[int, str | None] | None:
        case = repo.case_by_reference(session, org.id, reference)
        return (case.id, case.complainant) if case else None

    return Context(own=org.own(), reference_prefix=org.reference_prefix, find_case=find_case,
                   max_bytes=settings.parsing.max_message_bytes,
                   max_text_chars=settings.parsing.max_text_chars, classifier=classifier)


def mailbox_key(org: Organisation, box: Mailbox) -> str:
    return f"{org.id}/{box.source_folder}"


def run_once(org: Organisation, box: Mailbox, sessions: sessionmaker[Session], settings: Settings,
             stop: threading.Event | None = None, classifier: Classifier | None = None,
             renew: Callable[[], bool] | None = None, keep_rows: bool = True) -> PollResult:
    """One poll of an opened mailbox: finish unfinished moves, retry quarantined messages,
    then fetch, process, commit and move new mail batch by batch."""
    result = PollResult(org.id, keep_rows=keep_rows)
    folder, key = box.source_folder, mailbox_key(org, box)
    uidvalidity = box.uidvalidity(folder)
    uids = box.uids(folder)
    with sessions.begin() as session:
        previous = repo.record_poll(session, key, org.id, uidvalidity, uids[-1] if uids else "")
        known = {uid: (m.id, m.folder) for uid, m in repo.known_uids(session, key, uidvalidity, uids).items()}
        confirmed = len(repo.confirm_moves(session, org.id, key, uidvalidity, set(uids)))
    if confirmed:
        log.info("event=moves_confirmed mailbox=%s count=%d (moved before a stop, recorded now)", key, confirmed)
    if previous is not None:
        log.warning("event=uidvalidity_changed mailbox=%s old=%s new=%s (matching by content hash)",
                    key, previous, uidvalidity)
    pending: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for uid, (message_id, target) in known.items():  # committed before, not yet moved
        pending[target].append((uid, message_id))
    result.moved += _move(box, sessions, folder, pending)
    retry_quarantined(org, box, sessions, settings, result, classifier)
    new = [u for u in uids if u not in known]
    for start in range(0, len(new), box.batch_size):
        batch = new[start : start + box.batch_size]
        pending = defaultdict(list)
        fetched_batch = list(box.fetch(folder, batch))
        with sessions() as session:  # reads only: thread lookups, the rate limit's counts
            outcomes = process_many([f.raw for f in fetched_batch], context_for(org, settings, session, classifier))
            recent = acks.recent_counts(session, acks.recipients(outcomes), repo.now())
        for fetched, outcome in zip(fetched_batch, outcomes, strict=True):
            filed = handle(org, key, uidvalidity, fetched, sessions, settings, classifier, outcome, recent)
            result.add(filed, filed.label)
            pending[filed.folder].append((fetched.uid, filed.message_id))
            if stop is not None and stop.is_set():
                break
        result.moved += _move(box, sessions, folder, pending)
        if stop is not None and stop.is_set():
            result.stopped = True
            break
        if renew is not None and not renew():  # another worker took the mailbox over: leave it to them
            log.warning("event=lease_lost mailbox=%s (stopping this poll)", key)
            result.stopped = True
            break
    return result


def handle(org: Organisation, key: str, uidvalidity: int, fetched: Fetched,
           sessions: sessionmaker[Session], settings: Settings, classifier: Classifier | None = None,
           outcome: Outcome | None = None, recent: dict[str, int] | None = None) -> filing.Filed:
    """Commit the record of one fetched message (one transaction), processing it unless its
    `outcome` was decided with its batch."""
    digest = sha256(fetched.raw)
    with sessions.begin() as session:
        first = repo.first_by_sha(session, org.id, digest)
        if first is not None and first.moved_at is None and (first.mailbox, first.uidvalidity) != (key, uidvalidity):
            filed = filing.reidentify(session, first, key, uidvalidity, fetched.uid)
        elif first is not None:
            filed = filing.file_duplicate(session, org, key, uidvalidity, fetched, digest, first)
        else:
            if outcome is None:
                outcome = process(fetched.raw, context_for(org, settings, session, classifier))
            filed = filing.file_new(session, org, key, uidvalidity, fetched, digest, outcome, recent)
    filed.log(log)
    return filed


def retry_quarantined(org: Organisation, box: Mailbox, sessions: sessionmaker[Session], settings: Settings,
                      result: PollResult, classifier: Classifier | None = None) -> None:
    """Process quarantined messages again from their stored bytes, up to the attempt limit;
    move the ones that now succeed out of the quarantine folder."""
    with sessions() as session:
        ids = [m.id for m in repo.retryable(session, org.id, settings.processing.max_attempts)]
    recovered: dict[str, list[tuple[str, int]]] = defaultdict(list)  # sha256 -> [(target, message id)]
    for message_id in ids:
        with sessions.begin() as session:
            ctx = context_for(org, settings, session, classifier)
            filed = filing.retry(session, org, message_id, functools.partial(process, ctx=ctx))
        filed.log(log)
        result.add(filed, f"retried-{filed.disposition}")
        if filed.disposition != Disposition.QUARANTINED:
            recovered[filed.sha256].append((filed.folder, filed.message_id))
    if not recovered:
        return
    quarantine = org.folders.quarantine
    pending: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for fetched in box.fetch(quarantine, box.uids(quarantine)):
        targets = recovered.get(sha256(fetched.raw))
        if targets:
            target, message_id = targets.pop()
            pending[target].append((fetched.uid, message_id))
    _move(box, sessions, quarantine, pending)


def _move(box: Mailbox, sessions: sessionmaker[Session], folder: str,
          pending: dict[str, list[tuple[str, int]]]) -> int:
    moved = 0
    for target, items in pending.items():
        if not items:
            continue
        box.move(folder, [uid for uid, _ in items], target)
        with sessions.begin() as session:
            repo.mark_moved(session, [mid for _, mid in items if mid])
        moved += len(items)
    return moved
