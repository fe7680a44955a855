"""SQLAlchemy 2 typed tables: raw blobs, messages, cases, reference counters, mailbox state, audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Moments stored in UTC and read back timezone-aware on every database. SQLite keeps no
    offset: without this it would store an aware local time's wall clock and return it naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class RawBlob(Base):
    """The exact bytes of a fetched message, stored once per content hash."""

    __tablename__ = "raw_blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("organisation", "year", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")  # English, for logs and exports
    review_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the codes: [[code, {params}], ...]
    complainant: Mapped[str | None] = mapped_column(String(320), index=True)
    complainant_name: Mapped[str] = mapped_column(String(200), default="")
    forwarded_by: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(20))
    formality: Mapped[str | None] = mapped_column(String(20))
    confidences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model_version: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(index=True)  # the register's default order (migration 0011)
    created_at: Mapped[datetime]
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    term: Mapped[str] = mapped_column(String(60), default="")  # "6 weeks", "10 working days"
    due_is_latest: Mapped[bool] = mapped_column(Boolean, default=False)  # under review: the longest term
    # The procedure (triage.procedure): who handles it, the hearing, the extension, how it ended.
    handler: Mapped[str | None] = mapped_column(String(100), index=True)  # a user name
    extensions: Mapped[int] = mapped_column(Integer, default=0)  # the one extension of Awb 9:11 lid 2
    due_before_extension: Mapped[date | None] = mapped_column(Date)
    consent_date: Mapped[date | None] = mapped_column(Date)  # a further delay the complainant agreed to
    hearing: Mapped[str] = mapped_column(String(20), default="")  # "", planned, held, skipped
    hearing_date: Mapped[date | None] = mapped_column(Date)
    hearing_note: Mapped[str] = mapped_column(Text, default="")
    judgement: Mapped[str] = mapped_column(String(20), default="")  # founded, partly_founded, ...
    answered_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    ending_note: Mapped[str] = mapped_column(Text, default="")
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the answer being written: text, judgement
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    merged_from: Mapped[str | None] = mapped_column(String(20))  # the status before the merge
    unread_since: Mapped[datetime | None]  # new correspondence from the complainant, not yet read
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # reports danger or a threat
    other_procedure: Mapped[str | None] = mapped_column(String(20))  # woo, avg, bezwaar, ingebrekestelling
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic check: a stale form is refused
    # Its personal data removed (triage.store.anonymise): subject, text, addresses, names, letters are
    # gone; reference, dates, labels and ending stay for the yearly figures. By "purge" or "erasure".
    anonymised_at: Mapped[datetime | None] = mapped_column(index=True)
    anonymised_by: Mapped[str | None] = mapped_column(String(20))
    messages: Mapped[list[Message]] = relationship(back_populates="case", foreign_keys="Message.case_id")
    __mapper_args__ = {"version_id_col": version}


class Message(Base):
    """One fetched message: where it came from, what it said, what became of it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        Index("ix_messages_org_sha", "organisation", "sha256"),
        Index("ix_messages_pending", "organisation", "disposition", "moved_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64))
    mailbox: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("raw_blobs.sha256"))
    size: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str | None] = mapped_column(String(320))
    complainant: Mapped[str | None] = mapped_column(String(320))
    forwarded_by: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None]  # the Date header
    received_at: Mapped[datetime]  # arrival in the mailbox (INTERNALDATE), else fetch time
    fetched_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # attachments, headers, forward, notes
    disposition: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # English, for logs and exports
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the codes: [[code, {params}], ...]
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    folder: Mapped[str] = mapped_column(String(300), default="")  # where it goes (or went)
    moved_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None] = mapped_column(index=True)  # raw bytes, text, addresses removed
    case: Mapped[Case | None] = relationship(back_populates="messages", foreign_keys=[case_id])


class Acknowledgement(Base):
    """The outbox: one acknowledgement per case, written with the case, sent by the send job."""

    __tablename__ = "acknowledgements"  # and every other letter we send: answers, notices, digests
    __table_args__ = (
        UniqueConstraint("case_id", "nonce"),
        Index("ix_acknowledgements_due", "status", "next_attempt_at"),
        Index("ix_acknowledgements_recipient", "recipient", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # None: a digest
    kind: Mapped[str] = mapped_column(String(20), default="ack")  # ack, or a letter: answer, extension, ...
    nonce: Mapped[int] = mapped_column(Integer, default=0)  # ack 0: the first; >0: a corrected one; letters 1000+
    status: Mapped[str] = mapped_column(String(20))  # pending, sending, sent, failed, suppressed, bounced
    reason: Mapped[str] = mapped_column(Text, default="")  # why suppressed, the last error, the bounce
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # a suppression's code
    recipient: Mapped[str] = mapped_column(String(320), default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    template: Mapped[str] = mapped_column(String(40), default="")  # nl/formal_complaint, ...
    due_date: Mapped[date | None] = mapped_column(Date)  # the date this acknowledgement states
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    case: Mapped[Case | None] = relationship()


class Digest(Base):
    """One digest mail per recipient per day, written with its outbox row: a second worker's
    attempt on the same day fails on this key and sends nothing."""

    __tablename__ = "digests"
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("acknowledgements.id"))
    cases: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class User(Base):
    """A person who reviews (`staff`) or also manages users and models (`admin`)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # staff, coordinator, admin
    email: Mapped[str | None] = mapped_column(String(320))  # where their daily digest goes
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # in a row; slows the next attempt
    last_failed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Sees every organisation's cases, configured now or later (admins always do); else only those
    # in `memberships`. Accounts older than organisation scoping have it (they saw everything).
    all_organisations: Mapped[bool] = mapped_column(Boolean, default=False)
    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                         order_by="Membership.organisation")


class Membership(Base):
    """A user may see and handle the cases and messages of this organisation."""

    __tablename__ = "user_organisations"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), primary_key=True)


class WebSession(Base):
    """A login to the review UI: the browser's cookie holds a random token, this row only its
    sha256. It ends at `expires_at`, after `idle` without a request, or when revoked (logout, a new
    password, a blocked account)."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """A counter of login attempts for one key (a client address, or an address and an account name,
    stored as a sha256): counted before the password is checked, in one atomic statement that also
    says until when the next attempt must wait."""

    __tablename__ = "login_attempts"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime]
    wait_until: Mapped[datetime]


class Correction(Base):
    """A person confirmed or changed one head of a case (or replayed its message)."""

    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(index=True)
    head: Mapped[str] = mapped_column(String(20))  # kind, topic, formality
    old: Mapped[str | None] = mapped_column(String(20))
    new: Mapped[str] = mapped_column(String(20))  # equal to old: a confirmation


# A job of a kind is active while queued or running; at most one per kind (a partial unique index).
JOB_ACTIVE = text("status IN ('queued', 'running')")


class Job(Base):
    """A long job (retraining): queued by the web UI, claimed and run by a worker (`triage run`)
    under a lease that its heartbeat and progress renew, with the progress a page can show."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ux_jobs_active_kind", "kind", unique=True, sqlite_where=JOB_ACTIVE, postgresql_where=JOB_ACTIVE),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # queued, running, done, failed
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    message: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]  # when it was queued
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # the worker id running it
    claimed_until: Mapped[datetime | None]  # its lease: once past, the worker is gone and the job failed


class AccessLog(Base):
    """Who opened which case page or message, or downloaded which attachment or access export: kept
    for the organisation's retention period, shown to admins per case."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    what: Mapped[str] = mapped_column(String(20))  # case, message, attachment, export
    part: Mapped[str] = mapped_column(String(40), default="", server_default="")  # the attachment's MIME part


class ReferenceCounter(Base):
    """The last case number handed out per organisation and year."""

    __tablename__ = "reference_counters"
    organisation: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class MailboxState(Base):
    __tablename__ = "mailbox_state"
    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[str] = mapped_column(String(255), default="")
    last_poll_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))  # "worker", a user name, ...
    action: Mapped[str] = mapped_column(String(60))
    organisation: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
