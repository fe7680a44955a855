"""Typed settings read from a TOML file; secrets come from environment variables named in it.

`load(path)` returns a `Settings` or raises `ConfigError` with one line that names the key.
Relative paths in the file are taken relative to the file's own folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from triage.domain import OwnAddresses
from triage.errors import ConfigError

DEFAULT_CONFIG = "triage.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImapMailbox(_Strict):
    type: Literal["imap"]
    host: str
    port: int | None = None
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password_env: str
    folder: str = "INBOX"
    batch_size: Annotated[int, Field(ge=1, le=5000)] = 200
    timeout: Annotated[float, Field(gt=0)] = 30.0
    verify_certificate: bool = True

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.security == "tls" else 143

    def password(self) -> str:
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"environment variable {self.password_env} is not set "
                f"(it holds the IMAP password for {self.user}@{self.host})"
            )
        return value

    def describe(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.effective_port}/{self.folder}"


class MaildirMailbox(_Strict):
    type: Literal["maildir"]
    path: Path
    batch_size: Annotated[int, Field(ge=1, le=5000)] = 200

    def describe(self) -> str:
        return f"maildir:{self.path}"


Mailbox = Annotated[ImapMailbox | MaildirMailbox, Field(discriminator="type")]


class Folders(_Strict):
    filed: str = "Triage/Filed"
    review: str = "Triage/Review"
    ignored: str = "Triage/Ignored"
    quarantine: str = "Triage/Quarantine"


class Organisation(_Strict):
    id: str = ""  # filled from the table key
    name: str
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,9}$")] = "KL"
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    poll_interval: Annotated[float, Field(ge=1)] = 60.0
    mailbox: Mailbox
    folders: Folders = Folders()

    @field_validator("addresses", "domains")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in values)

    def own(self) -> OwnAddresses:
        """Our addresses and domains, as the stages need them."""
        return OwnAddresses(frozenset(self.addresses), frozenset(self.domains))


class Database(_Strict):
    url: str = "sqlite:///triage.db"


class Parsing(_Strict):
    max_message_bytes: Annotated[int, Field(ge=1024)] = 25 * 1024 * 1024
    max_text_chars: Annotated[int, Field(ge=1000)] = 200_000


class Processing(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3


class Model(_Strict):
    # The models folder (versions + CURRENT). Unset: ./models, else the one beside the package.
    directory: Path | None = None


class Logging(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(_Strict):
    path: Path = Path(DEFAULT_CONFIG)
    database: Database = Database()
    parsing: Parsing = Parsing()
    processing: Processing = Processing()
    model: Model = Model()
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
        for key in orgs:
            if not key.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"organisation id {key!r} may hold only letters, digits, - and _")
        return orgs

    def organisation(self, org_id: str) -> Organisation:
        return self.organisations[org_id]


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "tagged-union")))
    loc = loc.replace(".imap.", ".").replace(".maildir.", ".")
    msg = first["msg"]
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
        orgs[key] = org.model_copy(update={"mailbox": box})
    db = settings.database
    prefix = "sqlite:///"
    if db.url.startswith(prefix) and not db.url.startswith(prefix + "/") and ":memory:" not in db.url:
        db = Database(url=prefix + str((base / db.url[len(prefix):]).resolve()))
    model = settings.model
    if model.directory is not None and not model.directory.is_absolute():
        model = Model(directory=(base / model.directory).resolve())
    return settings.model_copy(update={"organisations": orgs, "database": db, "model": model})


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
