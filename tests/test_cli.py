"""The `triage` command as a user runs it: demo, poll --once, db upgrade, run with SIGTERM, --help."""

from __future__ import annotations

import json
import mailbox
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TRUSTED_STAFF, write_config
from mails import plain

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
COMMANDS = [[], ["check-config"], ["db"], ["db", "upgrade"], ["poll"], ["run"], ["send"], ["demo"], ["corpus"],
            ["corpus", "check"], ["serve"], ["user"], ["user", "add"], ["user", "list"], ["user", "disable"],
            ["retrain"], ["corrections"], ["corrections", "export"], ["user", "password"], ["register"], ["report"],
            ["purge"], ["privacy"], ["privacy", "export"], ["privacy", "erase"]]


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def _run_until_sigterm(args: list[str], cwd: Path, work: Callable[[], None]) -> tuple[int, str]:
    """Run `triage ARGS` in the background while `work` runs, then stop it with SIGTERM."""
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        work()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def triage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "triage")
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = triage(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0 and "Usage:" in result.stdout
    groups = (["db"], ["corpus"], ["corpus", "check"], ["demo"], ["user"], ["corrections"], ["privacy"])
    if command and command not in groups:
        assert "--config" in result.stdout


def test_demo_files_every_example_and_prints_a_table(tmp_path: Path) -> None:
    result = triage("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["reference", "disposition", "complainant"]
    forward = next(line for line in lines if "Gevaarlijke oversteek" in line)
    assert "lindendal.example" not in forward.split()[2], "a staff forward is filed under the original sender"
    assert "ignored" in result.stdout and "KL-2026-000001" in result.stdout
    assert "lindendal: 36 message(s)" in result.stdout
    assert "36 moved" in result.stdout
    inbox = mailbox.Maildir(tmp_path / "demo" / "mail", create=False)
    assert len(inbox) == 0
    again = triage("poll", "--once", "--config", "demo/triage.toml", cwd=tmp_path)
    assert again.returncode == 0 and "0 message(s)" in again.stdout
    rerun = triage("demo", "--dir", "demo", cwd=tmp_path)  # a demo folder is replaced, not refused
    assert rerun.returncode == 0


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "thesis.txt").write_text("do not delete")
    result = triage("demo", "--dir", "work", cwd=tmp_path)
    assert result.returncode == 2 and "not a demo folder" in result.stderr
    assert (tmp_path / "work" / "thesis.txt").exists()


def test_db_upgrade_then_poll(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    result = triage("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0 and "was empty" in result.stdout
    from triage.store.migrate import head

    assert f"was {head()}" in triage("db", "upgrade", cwd=tmp_path).stdout
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(plain(1))
    result = triage("poll", "--once", cwd=tmp_path)
    assert result.returncode == 0 and "1 message(s): 1 review; 1 moved" in result.stdout
    assert "event=message" in result.stderr and "reference=KL-2026-000001" in result.stderr


def test_run_polls_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for n in range(3):
        box.add(plain(n))
    def work() -> None:
        _wait_for(lambda: not len(box))
        box.add(plain(10))  # arrives while running: the next poll (1 s interval) takes it
        _wait_for(lambda: not len(box))
        assert len(box) == 0

    returncode, err = _run_until_sigterm(["run"], tmp_path, work)
    assert returncode == 0, err
    assert "event=stopping signal=SIGTERM" in err and "event=stopped" in err
    assert err.count("event=message") == 4


def test_send_without_a_way_out_is_one_clear_line(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    result = triage("send", cwd=tmp_path)
    assert result.returncode == 2 and "add an [smtp] table" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_check_config_names_an_unreachable_smtp_server(tmp_path: Path) -> None:
    from servers import free_port

    port = free_port()
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n',
                 top=f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n')
    result = triage("check-config", cwd=tmp_path)
    assert result.returncode == 2 and f"cannot reach SMTP server smtp://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_send_once_and_send_loop_deliver_each_acknowledgement_once(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n',
                 top='[outbox]\npickup_directory = "outbox"\ninterval = 0.2\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(plain(1))
    assert triage("poll", "--once", cwd=tmp_path).returncode == 0
    result = triage("send", cwd=tmp_path)
    assert result.returncode == 0 and "1 sent, 0 to retry, 0 failed" in result.stdout
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["ack.KL-2026-000001.0_debrug.example.eml"]
    box.add(plain(2))
    assert triage("poll", "--once", cwd=tmp_path).returncode == 0
    returncode, err = _run_until_sigterm(
        ["send", "--loop"], tmp_path, lambda: _wait_for(lambda: len(list((tmp_path / "outbox").glob("*.eml"))) >= 2))
    assert returncode == 0, err
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        "ack.KL-2026-000001.0_debrug.example.eml", "ack.KL-2026-000002.0_debrug.example.eml"]
    assert err.count("event=ack_sent") == 1 and "event=message" not in err  # it only sends


def _stdin(args: list[str], text: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], cwd=cwd, capture_output=True, text=True,
                          input=text, timeout=300)


def test_user_commands(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    added = _stdin(["user", "add", "anouk", "--role", "admin", "--password-stdin"], "lang-genoeg-wachtwoord\n",
                   tmp_path)
    assert added.returncode == 0 and "added admin anouk" in added.stdout
    short = _stdin(["user", "add", "piet", "--role", "staff", "--password-stdin"], "kort\n", tmp_path)
    assert short.returncode == 2 and "too short" in short.stderr and "Traceback" not in short.stderr
    again = _stdin(["user", "add", "anouk", "--role", "staff", "--password-stdin"], "lang-genoeg-wachtwoord\n",
                   tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert "anouk" in triage("user", "list", cwd=tmp_path).stdout
    assert triage("user", "disable", "anouk", cwd=tmp_path).returncode == 0
    assert "disabled" in triage("user", "list", cwd=tmp_path).stdout
    missing = triage("user", "disable", "niemand", cwd=tmp_path)
    assert missing.returncode == 2 and "no user niemand" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1  # AccountError, on one line


def test_user_organisations_are_given_at_add_and_changed_later(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    added = _stdin(["users", "add", "piet", "--role", "staff", "--org", "debrug", "--password-stdin"],
                   "lang-genoeg-wachtwoord\n", tmp_path)
    assert added.returncode == 0, added.stderr
    assert re.search(r"^piet .* debrug$", triage("user", "list", cwd=tmp_path).stdout, re.M)
    unknown = _stdin(["user", "add", "kees", "--role", "staff", "--org", "elders", "--password-stdin"],
                     "lang-genoeg-wachtwoord\n", tmp_path)
    assert unknown.returncode == 2 and "unknown organisation 'elders'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and "kees" not in triage("user", "list", cwd=tmp_path).stdout
    bare = _stdin(["user", "add", "sanne", "--role", "staff", "--password-stdin"], "lang-genoeg-wachtwoord\n",
                  tmp_path)
    assert bare.returncode == 0 and "sanne sees no organisation yet" in bare.stderr
    changed = triage("user", "orgs", "sanne", "--all-organisations", cwd=tmp_path)
    assert changed.returncode == 0 and "sanne sees every organisation" in changed.stdout
    listing = triage("user", "list", cwd=tmp_path).stdout
    assert re.search(r"^sanne .* all organisations$", listing, re.M)
    assert triage("user", "orgs", "piet", cwd=tmp_path).returncode == 0  # no --org: none any more
    assert re.search(r"^piet .* no organisation$", triage("user", "list", cwd=tmp_path).stdout, re.M)


def test_corrections_export_writes_the_corpus_format(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    result = triage("corrections", "export", "export", cwd=tmp_path)
    assert result.returncode == 0 and "0 corrected case(s)" in result.stdout
    assert (tmp_path / "export" / "labels.csv").read_text().startswith("file,kind,topic,formality")


def test_classify_unwraps_a_staff_forward_with_the_organisations_addresses(tmp_path: Path) -> None:
    """A colleague forwards a citizen's complaint with a question of their own: with the config,
    `triage classify` classifies (and would answer) the citizen's original, as the daemon does."""
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n', extra=TRUSTED_STAFF)
    forward = str(FIXTURES / "staff-forward.eml")
    configured = triage("classify", "--json", forward, cwd=tmp_path)
    assert configured.returncode == 0, configured.stderr
    row = json.loads(configured.stdout)
    assert row["complainant"] == "sanne.devries@ziggo.example"
    assert row["kind"] == "complaint" and row["formality"] == "formal"
    assert not (tmp_path / "triage.db").exists(), "classifying files does not touch the database"
    (tmp_path / "elsewhere").mkdir()  # no triage.toml: nobody's forward is unwrapped
    unconfigured = triage("classify", "--json", forward, cwd=tmp_path / "elsewhere")
    assert unconfigured.returncode == 0, unconfigured.stderr
    bare = json.loads(unconfigured.stdout)
    assert bare["complainant"] == "j.bakker@debrug.example"
    assert bare["confidence"] != row["confidence"], "the forwarder's note was classified with the original"


def test_classify_asks_which_organisation_when_the_config_has_several(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n', extra=TRUSTED_STAFF, top="""
[organisations.anders]
name = "Gemeente Anders"
reference_prefix = "AN"
addresses = ["klachten@anders.example"]
[organisations.anders.mailbox]
type = "maildir"
path = "mail-anders"
""")
    forward = str(FIXTURES / "staff-forward.eml")
    ambiguous = triage("classify", forward, cwd=tmp_path)
    assert ambiguous.returncode == 2 and "--organisation" in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr and len(ambiguous.stderr.strip().splitlines()) == 1
    unknown = triage("classify", "--organisation", "elders", forward, cwd=tmp_path)
    assert unknown.returncode == 2 and "elders" in unknown.stderr and "Traceback" not in unknown.stderr
    chosen = triage("classify", "--organisation", "debrug", forward, cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.startswith(f"{forward}: complaint/") and "sanne.devries@ziggo.example" in chosen.stdout
    other = triage("classify", "--organisation", "anders", "--json", forward, cwd=tmp_path)
    assert json.loads(other.stdout)["complainant"] == "j.bakker@debrug.example"


def test_the_command_loads_no_heavy_library_until_a_command_needs_it() -> None:
    """`triage --help` stays quick: scikit-learn, SQLAlchemy and pydantic are imported by commands."""
    from triage import cli, config

    assert cli.DEFAULT_CONFIG == config.DEFAULT_CONFIG
    code = "import sys, triage.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'sqlalchemy', " \
           "'pydantic', 'alembic'}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stderr


def test_serve_warns_when_it_listens_beyond_loopback_without_https(tmp_path: Path) -> None:
    """The port is taken, so serve stops at once (one line, exit 2) after what it says first."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
        exposed = triage("serve", "--host", "0.0.0.0", "--port", port, cwd=tmp_path)
        local = triage("serve", "--host", "127.0.0.1", "--port", port, cwd=tmp_path)
        write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n',
                     top='[web]\npublic_url = "https://klachten.debrug.example"\n')
        behind_tls = triage("serve", "--host", "0.0.0.0", "--port", port, cwd=tmp_path)
    assert exposed.returncode == 2 and "cannot listen" in exposed.stderr and "Traceback" not in exposed.stderr
    assert "warning: listening on 0.0.0.0" in exposed.stderr and "https" in exposed.stderr
    assert local.returncode == 2 and "warning" not in local.stderr
    assert behind_tls.returncode == 2 and "warning" not in behind_tls.stderr


def test_user_password_sets_a_new_one(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    assert _stdin(["user", "add", "sanne", "--role", "staff", "--password-stdin"], "eerste-wachtwoord-1\n",
                  tmp_path).returncode == 0
    changed = _stdin(["user", "password", "sanne", "--password-stdin"], "tweede-wachtwoord-2\n", tmp_path)
    assert changed.returncode == 0 and "sessions have ended" in changed.stdout
    short = _stdin(["user", "password", "sanne", "--password-stdin"], "kort\n", tmp_path)
    assert short.returncode == 2 and "too short" in short.stderr
    missing = _stdin(["user", "password", "niemand", "--password-stdin"], "derde-wachtwoord-3\n", tmp_path)
    assert missing.returncode == 2 and "no user niemand" in missing.stderr
    for refused in (short, missing):  # AccountError, on one line
        assert refused.stderr.startswith("triage: error: ") and len(refused.stderr.splitlines()) == 1
