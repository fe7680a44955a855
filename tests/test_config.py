"""Configuration: the example file is valid; every mistake is one line naming the key, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from triage import config
from triage.errors import ConfigError

ORG = '[organisations.a]\nname = "A"\naddresses = ["k@a.example"]\n'
MAILDIR = '[organisations.a.mailbox]\ntype = "maildir"\npath = "m"\n'


def _parse(text: str, tmp_path: Path) -> config.Settings:
    return config.parse(text, tmp_path / "t.toml")


def test_example_config_is_valid(tmp_path: Path) -> None:
    settings = config.load(ROOT / "config.example.toml")
    assert set(settings.organisations) == {"lindendal", "brug"}
    lindendal = settings.organisations["lindendal"]
    assert lindendal.id == "lindendal" and lindendal.folders.review == "Triage/Review"
    assert lindendal.own().is_own("j.jansen@lindendal.example")
    assert not lindendal.own().is_own("j.jansen@gmail.com")
    brug = settings.organisations["brug"]
    assert brug.mailbox.path == (ROOT / "mail" / "brug").resolve()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (ORG + 'nmae = "x"\n' + MAILDIR, "organisations.a.nmae: unknown key"),
        (ORG + 'poll_interval = "often"\n' + MAILDIR, "organisations.a.poll_interval"),
        (ORG, "organisations.a.mailbox: required key is missing"),
        ('[organisations.a]\nname = "A"\n' + MAILDIR, "organisations.a: acknowledge.from is missing: set it"),
        (ORG + '[organisations.a.terms]\nquestion = "vijf dagen"\n' + MAILDIR,
         "organisations.a.terms.question: 'vijf dagen' is not a term: write e.g. '6 weeks'"),
        (ORG + '[organisations.a.acknowledge]\nfrom = "klachten"\n' + MAILDIR,
         "organisations.a.acknowledge.from: 'klachten' is not an e-mail address"),
        (ORG + '[organisations.a.mailbox]\ntype = "pop3"\n', "organisations.a.mailbox"),
        (ORG + '[organisations.a.mailbox]\ntype = "imap"\nhost = "h"\nuser = "u"\n'
         'password_env = "P"\nsecurity = "ssl"\n', "organisations.a.mailbox.security"),
        ('[database]\nurl = 5\n[organisations.a]\nname = "A"\naddresses = ["k@a.example"]\n' + MAILDIR, "database.url"),
        ("[organisations]\n", "organisations"),
        (ORG + MAILDIR + '[organisations.b]\nname = "B"\naddresses = ["k@b.example"]\n[organisations.b.mailbox]\n'
         'type = "maildir"\npath = "n"\n', "organisations.b.reference_prefix: 'KL' is also the prefix of a"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_mistakes_name_the_key(text: str, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(text, tmp_path)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_secret_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    settings = _parse(ORG + '[organisations.a.mailbox]\ntype = "imap"\nhost = "h"\n'
                      'user = "u"\npassword_env = "NO_SUCH_PASSWORD_VAR"\n', tmp_path)
    with pytest.raises(ConfigError, match="organisations.a.mailbox.password_env.*NO_SUCH_PASSWORD_VAR"):
        config.check_secrets(settings)


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def test_check_config_reports_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(ORG + 'folder = "x"\n' + MAILDIR)
    result = _cli("check-config", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "organisations.a.folder: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = _cli("poll", "--once", cwd=tmp_path)
    assert result.returncode == 2
    assert "config file triage.toml not found" in result.stderr and result.stderr.count("\n") == 1


def test_unreachable_imap_server_is_one_line(tmp_path: Path) -> None:
    from servers import free_port

    port = free_port()  # nothing listens there
    (tmp_path / "t.toml").write_text(
        ORG + f'[organisations.a.mailbox]\ntype = "imap"\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "none"\nuser = "u"\npassword_env = "TRIAGE_PW"\ntimeout = 5\n')
    import os

    env = dict(os.environ, TRIAGE_PW="x")
    for command in (["check-config"], ["poll", "--once"], ["run"]):
        result = _cli(*command, "--config", "t.toml", cwd=tmp_path, env=env)
        assert result.returncode == 2, command
        assert f"IMAP server 127.0.0.1:{port} is unreachable" in result.stderr
        assert "Traceback" not in result.stderr


def test_wrong_imap_password_is_one_line(dovecot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    (tmp_path / "t.toml").write_text(
        ORG + f'[organisations.a.mailbox]\ntype = "imap"\nhost = "127.0.0.1"\n'
        f'port = {dovecot.port}\nsecurity = "none"\nuser = "piet"\npassword_env = "TRIAGE_PW"\n')
    result = _cli("check-config", "--config", "t.toml", cwd=tmp_path, env=dict(os.environ, TRIAGE_PW="fout"))
    assert result.returncode == 2
    assert "refused login for piet" in result.stderr and result.stderr.count("\n") == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    from servers import free_port

    (tmp_path / "t.toml").write_text(
        f'[database]\nurl = "postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"\n'
        + ORG + MAILDIR)
    result = _cli("poll", "--once", "--config", "t.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "database postgresql+psycopg://postgres@127.0.0.1" in result.stderr and "unreachable" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ('authserv_id = "mx lindendal"', "organisations.a.authserv_id: 'mx lindendal' is not an authserv-id"),
        ("authserv_id = 12", "organisations.a.authserv_id"),
        ("dmarc_enforced = true", "dmarc_enforced = true trusts only the exact addresses under staff"),
        ('dmarc_enforced = "ja"\nstaff = ["j@a.example"]', "organisations.a.dmarc_enforced"),
        ('staff = ["jan"]', "staff: 'jan' is not an e-mail address"),
        ('staff = ["j@nieuws.a.example"]', "staff: j@nieuws.a.example is not on one of the organisation's domains"),
    ],
)
def test_verification_keys_are_checked(keys: str, fragment: str, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(ORG + 'domains = ["a.example"]\n' + keys + "\n" + MAILDIR)
    result = _cli("check-config", "--offline", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_check_config_says_how_our_own_mail_is_verified(tmp_path: Path) -> None:
    keys = 'authserv_id = ["MX1.a.example", "mx2.a.example"]\ndmarc_enforced = true\nstaff = ["J.Jansen@a.example"]\n'
    (tmp_path / "t.toml").write_text(ORG + 'domains = ["a.example"]\n' + keys + MAILDIR)
    result = _cli("check-config", "--offline", "--config", "t.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("a: own mail verified by Authentication-Results of mx1.a.example, mx2.a.example or 1 staff address(es) "
            "under enforced DMARC") in result.stdout
    own = config.parse(ORG + 'domains = ["a.example"]\n' + keys + MAILDIR, tmp_path / "t.toml").organisations["a"].own()
    assert own.staff == {"j.jansen@a.example"} and own.authserv_ids == {"mx1.a.example", "mx2.a.example"}
    (tmp_path / "t.toml").write_text(ORG + MAILDIR)
    bare = _cli("check-config", "--offline", "--config", "t.toml", cwd=tmp_path)
    assert "a: own mail not verified" in bare.stdout and "go to review" in bare.stdout


def test_check_config_states_the_retention_and_the_privacy_statement(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text(ORG + MAILDIR)
    default = _cli("check-config", "--offline", "--config", "t.toml", cwd=tmp_path)
    assert ("a: personal data kept 24 months after a case ended, machine mail 30 days, handled quarantine 90 days "
            "(the mailbox is left alone); no privacy statement linked") in default.stdout
    retention = ('[organisations.a.retention]\npersonal_data_months = 12\ndelete_from_mailbox = true\n'
                 '[organisations.a.acknowledge]\nprivacy_url = "https://a.example/privacy"\n')
    (tmp_path / "t.toml").write_text(ORG + MAILDIR + retention)
    changed = _cli("check-config", "--offline", "--config", "t.toml", cwd=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert "kept 12 months" in changed.stdout and "also deleted from the mailbox" in changed.stdout
    assert "acknowledgements link https://a.example/privacy" in changed.stdout
    (tmp_path / "t.toml").write_text(ORG + MAILDIR + "[organisations.a.retention]\npersonal_data_months = 0\n")
    wrong = _cli("check-config", "--offline", "--config", "t.toml", cwd=tmp_path)
    assert wrong.returncode == 2 and "personal_data_months" in wrong.stderr and "Traceback" not in wrong.stderr
