"""Typed settings read from a TOML file; secrets come from environment variables named in it.

`load(path)` returns a `Settings` or raises `ConfigError` with one line that names the key.
Relative paths in the file are taken relative to the file's own folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from triage.config.organisation import Acknowledge, Folders, Organisation, Procedure, Retention, Terms
from triage.config.servers import Database, ImapMailbox, MaildirMailbox, Smtp, _Strict, tls_context
from triage.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "Acknowledge", "Database", "Folders", "ImapMailbox", "Logging", "MaildirMailbox",
           "Model", "Organisation", "Outbox", "Parsing", "Procedure", "Processing", "Retention", "Settings", "Smtp",
           "Terms", "Web",
           "check_secrets", "check_templates", "load", "parse", "tls_context"]

DEFAULT_CONFIG = "triage.toml"


class Parsing(_Strict):
    max_message_bytes: Annotated[int, Field(strict=True, ge=1024)] = 25 * 1024 * 1024
    max_text_chars: Annotated[int, Field(strict=True, ge=1000)] = 200_000
    # Seconds a message may take through parse, forwards, screen and thread; past it, it is filed
    # as read so far (the whole text, no reply splitting or forward unwrapping) and goes to review.
    time_budget: Annotated[float, Field(strict=True, gt=0, le=600)] = 5.0
    # MIME parts read of one message at most; a message with more is read up to there (its raw
    # bytes are kept whole) and goes to review.
    max_parts: Annotated[int, Field(strict=True, ge=10, le=100_000)] = 1000


class Processing(_Strict):
    max_attempts: Annotated[int, Field(strict=True, ge=1, le=20)] = 3
    # A worker polling a mailbox holds a lease on it for this long, renewed after every batch; a
    # worker that dies loses it when it runs out and another worker takes the mailbox over.
    lease_seconds: Annotated[float, Field(strict=True, ge=5, le=3600)] = 300.0


class Model(_Strict):
    # The models folder (versions + CURRENT). Unset: ./models, else the one beside the package.
    directory: Path | None = None
    # Cross-validation folds of a retraining from the web UI or `triage retrain` (fewer: faster, the
    # comparison with the current version rests on fewer and smaller fits).
    folds: Annotated[int, Field(strict=True, ge=2, le=10)] = 5


class Outbox(_Strict):
    interval: Annotated[float, Field(strict=True, ge=0.1)] = 10.0  # seconds between send runs (new rows also wake it)
    max_attempts: Annotated[int, Field(strict=True, ge=1, le=50)] = 8
    backoff: Annotated[float, Field(strict=True, gt=0)] = 60.0  # seconds before the first retry; doubles each time
    lease: Annotated[float, Field(strict=True, ge=10)] = 300.0  # seconds a claimed row is held by one sender
    batch: Annotated[int, Field(strict=True, ge=1, le=5000)] = 100
    # Write acknowledgements as .eml files here instead of sending them (the demo; testing a set-up).
    pickup_directory: Path | None = None


class Web(_Strict):
    """The review UI (`triage serve`)."""

    # Environment variable with the key that signs session cookies. Unset: a random key is made
    # once and kept in a file beside the config (.triage-web-secret, readable by the owner only).
    secret_key_env: str = "TRIAGE_WEB_SECRET"
    # The address people open the review UI at, e.g. "https://klachten.example.nl". With https,
    # session cookies are Secure (sent over TLS only) unless secure_cookies says otherwise.
    public_url: str | None = None
    session_hours: Annotated[float, Field(strict=True, gt=0, le=24 * 30)] = 8.0  # a session ends this long after login
    # ... or this long after its last request
    session_idle_minutes: Annotated[float, Field(strict=True, gt=0, le=24 * 60)] = 60.0
    secure_cookies: bool | None = None  # unset: Secure exactly when public_url is https
    # Reverse proxies in front of `triage serve` whose X-Forwarded-For/-Proto to believe (0: none).
    # Login throttling counts per client address: behind a proxy, set this or all share one.
    trusted_proxies: Annotated[int, Field(strict=True, ge=0, le=5)] = 0

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.lower().startswith(("https://", "http://")):
            raise ValueError("web.public_url must start with https:// (or http://)")
        return url

    @property
    def https(self) -> bool:
        return (self.public_url or "").lower().startswith("https://")

    @property
    def cookies_secure(self) -> bool:
        return self.https if self.secure_cookies is None else self.secure_cookies


class Logging(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(_Strict):
    path: Path = Path(DEFAULT_CONFIG)
    database: Database = Database()
    parsing: Parsing = Parsing()
    processing: Processing = Processing()
    model: Model = Model()
    smtp: Smtp | None = None
    outbox: Outbox = Outbox()
    web: Web = Web()
    logging: Logging = Logging()
    organisations: dict[str, Organisation]

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        orgs = data.get("organisations") if isinstance(data, dict) else None
        if isinstance(orgs, dict):
            for key, org in orgs.items():
                if isinstance(org, dict):
                    if "id" in org:
                        raise ValueError(f"organisations.{key}.id: the id is the table name; remove the key")
                    org["id"] = key
        return data

    @field_validator("organisations")
    @classmethod
    def _at_least_one(cls, orgs: dict[str, Organisation]) -> dict[str, Organisation]:
        if not orgs:
            raise ValueError("at least one [organisations.<id>] table is needed")
        prefixes: dict[str, str] = {}
        for key, org in orgs.items():
            if not key.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"organisation id {key!r} may hold only letters, digits, - and _")
            if org.reference_prefix in prefixes:  # references must say which organisation a case is of
                raise ValueError(f"organisations.{key}.reference_prefix: {org.reference_prefix!r} is also the prefix "
                                 f"of {prefixes[org.reference_prefix]}; give each organisation its own")
            prefixes[org.reference_prefix] = key
        return orgs

    def organisation(self, org_id: str) -> Organisation:
        return self.organisations[org_id]


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "tagged-union")))
    loc = loc.replace(".imap.", ".").replace(".maildir.", ".")
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key (see config.example.toml for the keys there are)"
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif "input" in first and first["type"] not in ("union_tag_invalid",) and not isinstance(
        first["input"], dict
    ):
        msg = f"{msg} (got {first['input']!r})"
    more = len(err.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{loc}: {msg}{suffix}" if loc else f"{msg}{suffix}"


def _absolute(settings: Settings, base: Path) -> Settings:
    orgs = {}
    for key, org in settings.organisations.items():
        box = org.mailbox
        if isinstance(box, MaildirMailbox) and not box.path.is_absolute():
            box = box.model_copy(update={"path": (base / box.path).resolve()})
        ack = org.acknowledge
        if ack.templates is not None and not ack.templates.is_absolute():
            ack = ack.model_copy(update={"templates": (base / ack.templates).resolve()})
        orgs[key] = org.model_copy(update={"mailbox": box, "acknowledge": ack})
    db = settings.database
    prefix = "sqlite:///"
    if db.url.startswith(prefix) and not db.url.startswith(prefix + "/") and ":memory:" not in db.url:
        db = Database(url=prefix + str((base / db.url[len(prefix):]).resolve()))
    model = settings.model
    if model.directory is not None and not model.directory.is_absolute():
        model = Model(directory=(base / model.directory).resolve())
    outbox = settings.outbox
    if outbox.pickup_directory is not None and not outbox.pickup_directory.is_absolute():
        outbox = outbox.model_copy(update={"pickup_directory": (base / outbox.pickup_directory).resolve()})
    return settings.model_copy(update={"organisations": orgs, "database": db, "model": model, "outbox": outbox})


def parse(text: str, path: Path) -> Settings:
    """Parse TOML text as settings; `path` names the file in errors and anchors relative paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if "path" in data:
        raise ConfigError(f"{path}: path: unknown key (see config.example.toml for the keys there are)")
    data["path"] = path
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_format_error(exc)}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return _absolute(settings, path.resolve().parent)


def load(path: str | os.PathLike[str] = DEFAULT_CONFIG) -> Settings:
    """Read and validate the config file at `path`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {p} not found: pass --config PATH, or copy config.example.toml to {p}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} cannot be read: {exc}") from None
    return parse(text, p)


def check_secrets(settings: Settings) -> None:
    """Raise ConfigError for the first secret whose environment variable is not set."""
    for org in settings.organisations.values():
        if isinstance(org.mailbox, ImapMailbox):
            try:
                org.mailbox.password()
            except ConfigError as exc:
                raise ConfigError(f"organisations.{org.id}.mailbox.password_env: {exc}") from None
    if settings.smtp is not None:
        try:
            settings.smtp.password()
        except ConfigError as exc:
            raise ConfigError(f"smtp.password_env: {exc}") from None


def check_templates(settings: Settings) -> None:
    """Raise ConfigError for the first acknowledgement template of an organisation's override
    folder that does not compile (a Jinja2 syntax error), or a folder that is not there."""
    from jinja2 import Environment, TemplateSyntaxError

    for org in settings.organisations.values():
        folder, key = org.acknowledge.templates, f"organisations.{org.id}.acknowledge.templates"
        if folder is None:
            continue
        if not folder.is_dir():
            raise ConfigError(f"{key}: {folder} is not a folder")
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".txt", ".html") and p.is_file()):
            name = path.relative_to(folder)
            try:
                Environment().parse(path.read_text(encoding="utf-8"))
            except TemplateSyntaxError as exc:
                raise ConfigError(f"{key}: {name} line {exc.lineno}: {exc.message}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{key}: {name} cannot be read: {exc}") from None
