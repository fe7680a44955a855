"""`triage demo`: a folder with a config, SQLite and a Maildir of example messages, polled once,
and an account to take its cases through the procedure in the browser."""

from __future__ import annotations

import mailbox
import secrets
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import ConfigError

if TYPE_CHECKING:
    from triage.services.deps import Deps

MARKER = ".triage-demo"
ACCOUNT = "demo"  # a coordinator of Lindendal: assigns, extends, answers, reopens
ACCOUNT_EMAIL = "coordinator@lindendal.example"  # where this account's daily digest would go
CONFIG = """\
# Demo configuration written by `triage demo`. See config.example.toml for every key.
[database]
url = "sqlite:///triage.db"

[outbox]
# No SMTP server in the demo: acknowledgements are written here as .eml files instead.
pickup_directory = "outbox"

[organisations.lindendal]
name = "Gemeente Lindendal"
reference_prefix = "KL"
addresses = ["klachten@lindendal.example", "info@lindendal.example"]
domains = ["lindendal.example"]
# Mail from our own domain speaks for us (a colleague's forward is answered to the citizen, a
# website form's Reply-To is followed) only when it is verified: by the Authentication-Results
# our mail server adds under this id (messages 17 and 20 carry them) ...
authserv_id = "mx.lindendal.example"
# ... or, for these exact colleagues, because that server rejects our domain's mail that fails DMARC.
dmarc_enforced = true
staff = ["j.vermeulen@lindendal.example", "a.degroot@lindendal.example"]
poll_interval = 30

[organisations.lindendal.acknowledge]
from = "Klachtenloket Gemeente Lindendal <klachten@lindendal.example>"
contact_name = "Anouk Verbeek, klachtencoördinator"
contact_phone = "14 0599"
contact_email = "klachten@lindendal.example"
appeal_name = "de Nationale ombudsman"
appeal_url = "https://www.nationaleombudsman.nl"
privacy_url = "https://www.lindendal.example/privacy"   # linked from every acknowledgement

[organisations.lindendal.procedure]
# The daily digest of unassigned and overdue cases goes here (each handler gets their own).
coordinator = "klachtencoordinator@lindendal.example"

[organisations.lindendal.mailbox]
type = "maildir"
path = "mail"
"""


def example_messages() -> list[tuple[str, bytes]]:
    folder = resources.files("triage.demo").joinpath("mail")
    return sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".eml"))


def create(directory: Path) -> Path:
    """Write the demo folder (replacing an earlier demo there); return its config path."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise ConfigError(f"{directory} exists and is not a demo folder: pass --dir with a new folder")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("created by `triage demo`; safe to delete\n")
    config = directory / "triage.toml"
    config.write_text(CONFIG, encoding="utf-8")
    inbox = mailbox.Maildir(directory / "mail", create=True)
    for _name, raw in example_messages():
        inbox.add(raw)
    return config


def add_account(deps: Deps) -> str:
    """The demo's coordinator account (ACCOUNT) for the web UI; returns its new random password."""
    from triage.store import users

    password = secrets.token_urlsafe(9)
    with deps.sessions.begin() as session:
        user = users.add(session, ACCOUNT, password, "coordinator", ["lindendal"], actor="demo")
        user.email = ACCOUNT_EMAIL
    return password
