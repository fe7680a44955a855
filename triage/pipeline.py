"""The flow of one message, on one screen: pure, values in and values out.

    raw ─parse─▶ Mail ─forwards─▶ Resolved ─screen─▶ (machine? ignored)
        ─thread─▶ (reply of the complainant to a known case? joined)
        ─classify─▶ Prediction ─decide─▶ Outcome: the case plan (labels, status, term, due date)
                                          and the acknowledgement plan (recipient, template, sent or why not)
        ─acknowledge─▶ (once the store has numbered the case) the rendered letter

`process_many(raws, ctx)` decides a batch (classified in one call); `acknowledge(...)` renders
the letter of a numbered case. The service layer (`triage.services.poll`) fetches, commits and
moves; the store writes what these functions decided.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from triage.addresses import OwnAddresses, rate_key
from triage.config import Organisation
from triage.domain import (
    AckPlan,
    CasePlan,
    CaseStatus,
    Disposition,
    Mail,
    Outcome,
    Prediction,
    Rendered,
    Resolved,
    Screening,
)
from triage.errors import StageError
from triage.reasons import Code, Reason, reason
from triage.stages import acknowledge as ack_stage
from triage.stages.budget import Deadline
from triage.stages.classify import classify, classify_many, unfamiliar
from triage.stages.forwards import resolve
from triage.stages.parse import decode_header_value, one_line, parse, readable_letters
from triage.stages.screen import bounced_acks, screen
from triage.stages.special import Special, detect
from triage.stages.thread import CaseFinder, answered, find_thread
from triage.training.model import Classifier

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Context:
    """What the stages need to know: the organisation, the store's answers, the clock."""

    own: OwnAddresses
    reference_prefix: str
    find_case: CaseFinder
    max_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 200_000
    time_budget: float = 5.0  # seconds per message through parse, forwards, screen and thread
    max_parts: int = 1000  # MIME parts read per message
    classifier: Classifier | None = None
    org: Organisation | None = None  # without it no case or acknowledgement is planned (stage tests)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The store's count of acknowledgements in the last 24 hours per rate key of these recipients
    # (`addresses.rate_key`), and of the organisation's in the last hour; asked once per batch.
    count_recent: Callable[[set[str], frozenset[str]], Mapping[str, int]] = lambda addresses, machines: {}
    # The domains of these recipients that the rate limit counts as one machine each: one of their
    # addresses answered our mail to another (`store.acks.machine_domains`).
    machine_domains: Callable[[set[str]], frozenset[str]] = lambda addresses: frozenset()
    count_hour: Callable[[], int] = lambda: 0


def _stage(name: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)`, typed as the stage is; any exception but a database fault becomes a
    StageError naming the stage."""
    try:
        return fn(*args, **kwargs)
    except (StageError, SQLAlchemyError):  # a database fault is not the message's fault: abort the poll
        raise
    except Exception as exc:  # bad input (incl. RecursionError, MemoryError) must not crash the batch
        raise StageError(name, f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class _Draft:
    """A message through the stages before classification, waiting for its prediction."""

    mail: Mail
    resolved: Resolved
    screening: Screening
    thread_notes: tuple[Reason, ...]
    received: datetime
    held: tuple[Reason, ...] = ()  # why it must go to review whatever the model says
    special: Special = Special()  # another procedure, danger: a person decides, whatever the model says

    @property
    def readable(self) -> bool:
        return all(r.code != Code.NO_USABLE_TEXT for r in self.held)


def _quarantined(stage: str, error: str, raw: bytes) -> Outcome:
    return Outcome(Disposition.QUARANTINED, (reason(Code.STAGE_FAILED, stage=stage),), error=error, peek=peek(raw))


def _late(stage: str, deadline: Deadline, ctx: Context) -> Reason | None:
    """Why the message is read no further: the time budget ran out during `stage`."""
    return reason(Code.TIME_BUDGET, stage=stage, seconds=ctx.time_budget) if deadline.passed() else None


def _unreadable(resolved: Resolved) -> Reason | None:
    """Why the message cannot be classified: no text a person or the model could read."""
    letters, readable = readable_letters(f"{resolved.subject}\n{resolved.text}")
    return None if readable else reason(Code.NO_USABLE_TEXT, letters=letters)


def _prepare(raw: bytes, received: datetime, ctx: Context) -> Outcome | _Draft:
    """Parse, resolve forwards, screen and thread: a final outcome, or a draft to classify. Past
    the time budget the stages skip what is left to refine and the draft is held for review."""
    deadline = Deadline.after(ctx.time_budget)
    try:
        mail: Mail = _stage("parse", parse, raw, max_bytes=ctx.max_bytes, max_text_chars=ctx.max_text_chars,
                            max_parts=ctx.max_parts, deadline=deadline)
        late = _late("parse", deadline, ctx)
        resolved: Resolved = _stage("forwards", resolve, mail, ctx.own, deadline)
        late = late or _late("forwards", deadline, ctx)
        screening: Screening = _stage("screen", screen, resolved)
        if screening.machine:
            why = (screening.why,) if screening.why else ()
            return Outcome(Disposition.IGNORED, why, resolved, screening, bounce_of=bounced_acks(raw, screening))
        match, notes = _stage("thread", find_thread, resolved, ctx.reference_prefix, ctx.find_case)
        special: Special = _stage("special", detect, resolved.subject, resolved.text)
        if match:  # a reply that reports danger makes its case urgent (no procedure: the case has one);
            # only from the sender itself: a Reply-To (anyone may write one) must not flag another's case
            by_reply_to = resolved.why is not None and resolved.why.code == Code.REPLY_TO
            danger = [] if by_reply_to else _special_reasons(
                Special(danger=special.danger, danger_words=special.danger_words), None, received)
            return Outcome(Disposition.JOINED, (reason(Code.JOINED, reference=match.reference, how=match.how),
                                                *danger), resolved, screening, match)
    except StageError as exc:
        return _quarantined(exc.stage, str(exc), raw)
    cut = reason(Code.TOO_MANY_PARTS, limit=ctx.max_parts) if mail.parts_cut else None
    unreadable = _unreadable(resolved)
    strange = None if ctx.classifier is None or unreadable else \
        unfamiliar(resolved.subject, resolved.text, ctx.classifier.words())
    held = tuple(r for r in (late, cut, unreadable, strange) if r)
    return _Draft(mail, resolved, screening, notes, received, held, special)


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


def _special_reasons(special: Special, org: Organisation | None, received: datetime) -> list[Reason]:
    """Danger first (the queue shows it on top), then the other procedure with its term and due date."""
    reasons = []
    if special.danger is not None:
        reasons.append(reason(Code.DANGER, danger=special.danger.value, words=special.danger_words))
    if special.procedure is not None:
        term, due = ack_stage.procedure_term(org, special.procedure.value, received)
        reasons.append(reason(Code.OTHER_PROCEDURE, procedure=special.procedure.value, words=special.procedure_words,
                              term=str(term), due=due.isoformat()))
    return reasons


def _review_reasons(draft: _Draft, prediction: Prediction | None, ctx: Context) -> list[Reason]:
    mail, resolved, classifier = draft.mail, draft.resolved, ctx.classifier
    reasons = _special_reasons(draft.special, ctx.org, draft.received)
    if classifier is None:
        reasons.append(reason(Code.NO_MODEL))
    elif prediction is not None and prediction.unsure:
        heads = [[h, prediction.confidence.get(h, 0.0), classifier.threshold(h)] for h in prediction.unsure]
        reasons.append(reason(Code.UNSURE, heads=heads))
    if resolved.complainant is None:
        cause = resolved.why.code if resolved.why else Code.NO_SENDER
        reasons.append(reason(Code.NOBODY_TO_ANSWER, cause=cause.value))
    elif resolved.why:
        reasons.append(resolved.why)
    if mail.truncated:
        reasons.append(reason(Code.TOO_LARGE, size=mail.size))
    return reasons + list(draft.held) + list(draft.thread_notes)


def _may_file(draft: _Draft) -> bool:
    """Whether the model's being sure is enough: the message was read whole, in time, has text
    and someone to answer."""
    return not draft.mail.truncated and not draft.held and draft.resolved.complainant is not None


@dataclass
class _Sent:
    """What the rate limits count: the store's counts plus what this batch queues."""

    by_key: dict[str, int]  # per rate key, 24 hours
    hour: int  # the organisation's, one hour
    machines: frozenset[str] = frozenset()  # domains counted as one machine (`addresses.rate_key`)


def _decide(draft: _Draft, prediction: Prediction | None, ctx: Context, sent: _Sent) -> Outcome:
    """FILED when the model is sure of all three heads, else REVIEW; with the case and
    acknowledgement plans when the organisation is known."""
    reasons = _review_reasons(draft, prediction, ctx)
    answers = answered(draft.thread_notes)  # a reply to our mail: never acknowledged, a person decides
    doubt = answers or draft.resolved.needs_review or bool(draft.special)
    sure = prediction is not None and prediction.sure and _may_file(draft) and not doubt
    if sure:
        assert prediction is not None
        reasons.insert(0, reason(Code.LABELS, kind=prediction.kind, topic=prediction.topic,
                                 formality=prediction.formality, model=prediction.model_version))
    disposition = Disposition.FILED if sure else Disposition.REVIEW
    case = ack = None
    if ctx.org is not None:
        ack = _ack_plan(draft, prediction, ctx, sent, answers)
        case = CasePlan(status=CaseStatus.NEW if sure else CaseStatus.NEEDS_REVIEW,
                        review=() if sure else tuple(reasons), term=str(ack.plan.term), due=ack.due,
                        due_is_latest=ack.plan.due_is_latest, kind=prediction.kind if prediction else None,
                        topic=prediction.topic if prediction else None,
                        formality=prediction.formality if prediction else None,
                        confidences=dict(prediction.confidence) if prediction else {},
                        model_version=prediction.model_version if prediction else None,
                        urgent=draft.special.danger is not None,
                        procedure=draft.special.procedure.value if draft.special.procedure else None)
    return Outcome(disposition, tuple(reasons), draft.resolved, draft.screening, prediction=prediction,
                   case=case, ack=ack)


def _ack_plan(draft: _Draft, prediction: Prediction | None, ctx: Context, sent: _Sent, answers: str) -> AckPlan:
    """The acknowledgement plan; one that will go out counts towards the batch's rate limits."""
    assert ctx.org is not None
    key = rate_key(draft.resolved.complainant.addr[:320], sent.machines) if draft.resolved.complainant else ""
    standing = ack_stage.Standing(sent.by_key.get(key, 0), sent.hour, answers)
    plan = ack_stage.decide(ctx.org, draft.resolved, prediction, draft.received, ctx.now, standing, draft.special)
    if plan.suppressed is None and plan.held is None:
        sent.by_key[key] = sent.by_key.get(key, 0) + 1
        sent.hour += 1
    return plan


def process_many(raws: Sequence[bytes], ctx: Context, received: Sequence[datetime] | None = None) -> list[Outcome]:
    """Decide what to do with each raw message (arrived at `received`, default: now), classifying
    them together. Never raises for bad input: a message that fails a stage is quarantined."""
    arrivals = list(received) if received is not None else [ctx.now] * len(raws)
    prepared = [_prepare(raw, at, ctx) for raw, at in zip(raws, arrivals, strict=True)]
    drafts = [p for p in prepared if isinstance(p, _Draft)]
    readable = [d for d in drafts if d.readable]  # the model is not asked about text it cannot read
    predictions: dict[int, Prediction | StageError] = {}
    if readable and ctx.classifier is not None:
        try:
            predicted = _predict(readable, ctx.classifier)
        except StageError as exc:
            predicted = [exc]
        predictions = {id(d): p for d, p in zip(readable, predicted, strict=True)}
    recipients = {d.resolved.complainant.addr[:320] for d in drafts if d.resolved.complainant}
    machines = ctx.machine_domains(recipients) if recipients else frozenset()
    sent = _Sent(dict(ctx.count_recent(recipients, machines)), ctx.count_hour() if drafts else 0, machines)
    out = []
    for raw, item in zip(raws, prepared, strict=True):
        prediction = predictions.get(id(item))
        if isinstance(item, Outcome):
            out.append(item)
        elif isinstance(prediction, StageError):
            out.append(_quarantined(prediction.stage, str(prediction), raw))
        else:
            out.append(_decide(item, prediction, ctx, sent))
    return out


def process(raw: bytes, ctx: Context, received: datetime | None = None) -> Outcome:
    """Decide what to do with one raw message. Never raises for bad input: it quarantines."""
    return process_many([raw], ctx, [received or ctx.now])[0]


def acknowledge(org: Organisation, ack: AckPlan, reference: str, now: datetime, nonce: int = 0) -> Rendered:
    """The letter of a numbered case, rendered; or why it could not be (a failed acknowledgement)."""
    return ack_stage.render(org, ack, reference, now, nonce)


def peek(raw: bytes) -> tuple[str, str | None]:
    """Subject and sender of a message no stage could read, from its headers alone, for the
    review queue. Never raises."""
    try:
        head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:200_000])
        sender = email.utils.parseaddr(one_line(str(head.get("from", ""))))[1].lower()
        return decode_header_value(head.get("subject", ""))[:2000], (sender[:320] or None)
    except Exception:  # the message is broken enough to be quarantined: show what we can
        return "", None
