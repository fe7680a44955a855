"""Mistakes on disk and in the config file as a user meets them on the command line: each is one
line on stderr and exit code 2, never a traceback. A Maildir path that is a file or no Maildir, a
model card that is no JSON object, a damaged model file whose hash matches its card, an empty
CURRENT; and `check-config --offline` refusing a boolean where a number belongs, a zero term and
an override template that does not compile."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import write_config
from mails import plain
from test_cli import triage

from triage.training.paths import current_version

MODELS = Path(__file__).parents[1] / "models"
COMPLAINT = Path(__file__).parents[1] / "triage" / "demo" / "mail" / "01-kliko-niet-geleegd.eml"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("triage: error: ")
    return lines[0]


@pytest.mark.parametrize(("top", "extra", "key"), [
    ("[outbox]\nbatch = true", "", "outbox.batch"),
    ("[outbox]\nbackoff = true", "", "outbox.backoff"),
    ('[smtp]\nhost = "mail.debrug.example"\nport = true', "", "smtp.port"),
    ("", "[organisations.debrug.acknowledge]\nper_recipient_per_day = true",
     "organisations.debrug.acknowledge.per_recipient_per_day"),
], ids=["int", "float", "port", "organisation"])
def test_check_config_refuses_a_boolean_where_a_number_belongs(tmp_path: Path, top: str, extra: str,
                                                               key: str) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"', extra=extra, top=top)
    line = _one_line(triage("check-config", "--offline", "--config", "triage.toml", cwd=tmp_path))
    assert f"{key}: " in line and ("(got True)" in line or "(got False)" in line)


def test_check_config_refuses_a_zero_term(tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"',
                 extra='[organisations.debrug.terms]\nquestion = "0 working days"')
    line = _one_line(triage("check-config", "--offline", "--config", "triage.toml", cwd=tmp_path))
    assert "organisations.debrug.terms.question: '0 working days' is not a term: a term is at least 1 day" in line


def test_check_config_refuses_an_override_template_that_does_not_compile(tmp_path: Path) -> None:
    (tmp_path / "brieven" / "nl").mkdir(parents=True)
    (tmp_path / "brieven" / "nl" / "formal_complaint.txt").write_text(
        "Beste {{ name }},\n\nWij hebben uw klacht ontvangen.\n", encoding="utf-8")
    (tmp_path / "brieven" / "nl" / "question.txt").write_text(
        "{% if name %}Beste {{ name }},{% else %}Geachte heer/mevrouw,\n\nU krijgt antwoord voor {{ due }}.\n",
        encoding="utf-8")
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"',
                 extra='[organisations.debrug.acknowledge]\ntemplates = "brieven"')
    line = _one_line(triage("check-config", "--offline", "--config", "triage.toml", cwd=tmp_path))
    assert "organisations.debrug.acknowledge.templates: nl/question.txt line 3: " in line
    assert "endif" in line
    (tmp_path / "brieven" / "nl" / "question.txt").write_text("{% if name %}Beste {{ name }},{% endif %}\n")
    assert triage("check-config", "--offline", "--config", "triage.toml", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("kind", ["file", "not-a-maildir"])
def test_a_maildir_path_that_is_no_maildir_is_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "file":
        (tmp_path / "mail").write_bytes(plain(1))
    else:
        (tmp_path / "mail" / "2026").mkdir(parents=True)
        (tmp_path / "mail" / "2026" / "klacht.eml").write_bytes(plain(1))
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"')
    assert triage("db", "upgrade", "--config", "triage.toml", cwd=tmp_path).returncode == 0
    line = _one_line(triage("poll", "--once", "--config", "triage.toml", cwd=tmp_path))
    expected = "is a file, not a Maildir folder" if kind == "file" else "is not a Maildir (no cur/, new/, tmp/)"
    assert f"maildir {tmp_path / 'mail'} {expected}" in line
    assert (tmp_path / "mail" / "2026" / "klacht.eml").exists() if kind != "file" else (tmp_path / "mail").is_file()


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A copy of the shipped models folder: CURRENT and its version's card and model file."""
    version = current_version(MODELS)
    assert version is not None, "the repository ships a model in models/"
    folder = tmp_path / "models"
    shutil.copytree(MODELS / version, folder / version)
    shutil.copy(MODELS / "CURRENT", folder / "CURRENT")
    return folder / version


def test_a_model_card_that_is_no_json_object_is_one_line(tmp_path: Path, models: Path) -> None:
    (models / "card.json").write_text('["model_sha256", "sklearn"]\n', encoding="utf-8")
    line = _one_line(triage("classify", "--models", "models", str(COMPLAINT), cwd=tmp_path))
    assert f"models/{models.name}/card.json is not a JSON object (a model card)" in line
    assert "card.json is not a JSON object" in _one_line(triage("models", "list", "--models", "models", cwd=tmp_path))


def test_a_damaged_model_whose_hash_matches_its_card_is_one_line(tmp_path: Path, models: Path) -> None:
    data = bytearray((models / "model.skops").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # a flipped run of bytes inside a member
    (models / "model.skops").write_bytes(data)
    card = json.loads((models / "card.json").read_text(encoding="utf-8"))
    card["model_sha256"] = hashlib.sha256(data).hexdigest()  # saved so: the hash was taken of the damage
    (models / "card.json").write_text(json.dumps(card), encoding="utf-8")
    line = _one_line(triage("classify", "--models", "models", str(COMPLAINT), cwd=tmp_path))
    assert f"model {models.name}: model.skops is damaged" in line and "retrain" in line


def test_an_empty_current_file_is_one_line(tmp_path: Path, models: Path) -> None:
    (models.parent / "CURRENT").write_text("\n")
    line = _one_line(triage("classify", "--models", "models", str(COMPLAINT), cwd=tmp_path))
    assert "models/CURRENT is empty: make a version current with `triage models promote VERSION`" in line
