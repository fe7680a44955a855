"""`triage run` follows models/CURRENT: a promoted (or rolled back) version is used from the next
poll; a version that cannot be loaded is refused once and the one in hand stays."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, write_config

from triage import config
from triage.services.models import CurrentModel
from triage.training import registry


def test_the_daemon_switches_models_when_current_changes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    version = registry.current_version(ROOT / "models")
    assert version is not None
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / version, models / version)
    shutil.copytree(ROOT / "models" / version, models / "20990101-000000")
    (models / "CURRENT").write_text(version + "\n")
    settings = config.load(write_config(tmp_path, "sqlite:///t.db", 'type = "maildir"\npath = "m"\n',
                                        top=f'[model]\ndirectory = "{models}"\n'))
    holder = CurrentModel(settings.model.directory or models, registry.load(models))
    first = holder.get()
    assert first is not None and first.version == version and holder.get() is first  # no reload without change
    registry.promote(models, "20990101-000000")
    assert holder.get().version == "20990101-000000"  # type: ignore[union-attr]
    (models / version / "model.skops").write_bytes(b"tampered")
    registry.promote(models, version)
    with caplog.at_level(logging.ERROR, logger="triage.worker"):
        assert holder.get().version == "20990101-000000"  # type: ignore[union-attr]
        assert holder.get().version == "20990101-000000"  # type: ignore[union-attr]
    assert sum("event=model_refused" in r.getMessage() for r in caplog.records) == 1


def test_an_empty_current_while_running_is_logged_once_and_the_model_in_hand_stays(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    version = registry.current_version(ROOT / "models")
    assert version is not None
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / version, models / version)
    (models / "CURRENT").write_text(version + "\n")
    holder = CurrentModel(models, registry.load(models))
    (models / "CURRENT").write_text("")  # emptied by hand, or by a full disk
    with caplog.at_level(logging.ERROR, logger="triage.worker"):
        for _ in range(3):
            assert holder.get().version == version  # type: ignore[union-attr]
    refused = [r.getMessage() for r in caplog.records if "event=model_refused" in r.getMessage()]
    assert len(refused) == 1 and "CURRENT is empty" in refused[0]
