"""The classifier's lifecycle: the committed model loads and classifies; tampered or mismatched
models are refused with a clear message; train, promote, roll back, evaluate and classify work."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from triage.training import registry
from triage.training.model import choose_threshold

MODELS = ROOT / "models"
CORPUS = MODELS / "corpus"
HELDOUT = MODELS / "heldout"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def current() -> registry.Classifier:
    return registry.load(MODELS)


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the models folder (without the corpus) to damage."""
    version = registry.current_version(MODELS)
    assert version is not None
    target = tmp_path / "models"
    shutil.copytree(MODELS / version, target / version)
    (target / "CURRENT").write_text(version + "\n")
    return target / version


def test_committed_model_loads_with_its_card(current: registry.Classifier) -> None:
    card = current.card
    assert card["version"] == current.version
    assert set(card["heads"]) == {"kind", "topic", "formality", "language"}
    assert registry.major_minor(card["sklearn"]) == registry.major_minor(registry.sklearn.__version__)
    assert (MODELS / current.version / "model.skops").stat().st_size < 20 * 1024 * 1024


def test_committed_model_meets_the_quality_bars(current: registry.Classifier) -> None:
    heads = current.card["heads"]
    assert heads["kind"]["macro_f1"] >= 0.92
    assert heads["topic"]["macro_f1"] >= 0.85
    assert heads["formality"]["macro_f1"] >= 0.88
    for head in ("kind", "topic", "formality"):
        if heads[head]["auto_share"] > 0:
            assert heads[head]["auto_accuracy"] >= 0.95


def test_tampered_model_is_refused(model_copy: Path) -> None:
    data = bytearray((model_copy / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / "model.skops").write_bytes(bytes(data))
    with pytest.raises(registry.ModelError, match="does not match the hash in its card"):
        registry.load(model_copy.parent)
    demo = str(ROOT / "triage/demo/mail/01-kliko-niet-geleegd.eml")
    result = cli("classify", "--models", str(model_copy.parent), demo)
    assert result.returncode == 2 and "tampered" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("key", "value", "message"), [
    ("sklearn", "0.24.2", "made with scikit-learn 0.24.2"),
    ("feature_version", "0", "feature version 0"),
])
def test_mismatched_card_is_refused(model_copy: Path, key: str, value: str, message: str) -> None:
    card = json.loads((model_copy / "card.json").read_text())
    card[key] = value
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(registry.ModelError, match=message):
        registry.load(model_copy.parent)


def test_foreign_types_are_refused(model_copy: Path) -> None:
    import hashlib

    import skops.io as sio

    data = sio.dumps({"heads": {}, "thresholds": {}, "x": Path("/etc/passwd")})
    (model_copy / "model.skops").write_bytes(data)
    card = json.loads((model_copy / "card.json").read_text())
    card["model_sha256"] = hashlib.sha256(data).hexdigest()
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(registry.ModelError, match="does not trust"):
        registry.load(model_copy.parent)


def test_missing_model_is_one_line(tmp_path: Path) -> None:
    result = cli("classify", "--models", str(tmp_path), str(ROOT / "triage/demo/mail/01-kliko-niet-geleegd.eml"))
    assert result.returncode == 2 and "run `triage train`" in result.stderr and result.stderr.count("\n") == 1


def test_threshold_is_the_lowest_confidence_that_keeps_precision() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, True, False, False])
    assert choose_threshold(confidence, correct, 0.95) == 0.8
    assert choose_threshold(confidence, np.zeros(6, dtype=bool), 0.95) > 1


def writer_of(row: dict[str, str]) -> str:
    return row.get("writer") or row["file"].split("/")[0]


def _subset(tmp_path: Path, per_combination: int) -> Path:
    """A smaller corpus folder: the first rows of each label combination of the real corpus, taken
    from its writers in turn (a grouped evaluation needs several)."""
    rows = list(csv.DictReader((CORPUS / "labels.csv").open(encoding="utf-8")))
    rank: dict[str, int] = {}
    order = []
    for row in rows:
        writer = writer_of(row)
        rank[writer] = rank.get(writer, 0) + 1
        order.append((rank[writer], writer))
    rows = [row for _, row in sorted(zip(order, rows, strict=True), key=lambda pair: pair[0])]
    seen: dict[str, int] = {}
    keep = []
    for row in rows:
        combo = f"{row['kind']}/{row['topic']}/{row['formality']}"
        if seen.get(combo, 0) < per_combination:
            seen[combo] = seen.get(combo, 0) + 1
            keep.append(row)
    return _folder(tmp_path / "corpus", CORPUS, keep)


def _heldout_subset(tmp_path: Path, every: int) -> Path:
    """Every `every`th message of the held-out set, in a folder of its own."""
    rows = list(csv.DictReader((HELDOUT / "labels.csv").open(encoding="utf-8")))[::every]
    return _folder(tmp_path / "heldout", HELDOUT, rows)


def _folder(target: Path, source: Path, rows: list[dict[str, str]]) -> Path:
    """A labelled folder of `rows` whose mail is `source`'s."""
    target.mkdir()
    (target / "mail").symlink_to(source / "mail")
    with (target / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_train_promote_rollback_evaluate_classify(tmp_path: Path) -> None:
    corpus = _subset(tmp_path, 14)
    heldout = _heldout_subset(tmp_path, 5)
    models = tmp_path / "models"
    first = cli("train", "--corpus", str(corpus), "--heldout", str(heldout), "--out", str(models))
    assert first.returncode == 0, first.stderr
    assert "promoted" in first.stdout and "macro-F1" in first.stdout
    assert "grouped by writer" in first.stdout and "held-out writers" in first.stdout
    assert first.stdout.count("joint: ") == 2  # on the grouped folds and on the held-out writers
    card = registry.read_card(models / str(registry.current_version(models)) / "card.json")
    assert card["evaluation"] == "grouped by writer" and card["writers"] >= 5
    assert set(card["gate"]) == {"kind", "topic", "formality", "not_formal", "language"}
    assert {"auto_share", "joint_precision", "costly_errors", "formal_missed"} <= set(card["joint"])
    assert card["heldout"]["messages"] == 46 and "joint" in card["heldout"]
    v1 = registry.current_version(models)
    second = cli("train", "--corpus", str(corpus), "--out", str(models))
    assert second.returncode == 0 and "current model:" in second.stdout  # compared on the same folds
    v2 = registry.current_version(models)
    assert v2 != v1 and len(registry.versions(models)) == 2
    listing = cli("models", "list", "--models", str(models))
    assert f"* {v2}" in listing.stdout and v1 in listing.stdout
    rollback = cli("models", "promote", str(v1), "--models", str(models))
    assert rollback.returncode == 0 and registry.current_version(models) == v1
    evaluation = cli("evaluate", "--data", str(corpus), "--models", str(models), "--json")
    figures = json.loads(evaluation.stdout)
    assert set(figures["heads"]) >= {"kind", "topic", "formality"}
    assert {"accuracy", "macro_f1", "per_class", "confusion", "auto_share", "auto_accuracy"} <= set(
        figures["heads"]["kind"])
    assert figures["screen"]["machine_caught"] >= 0.5
    assert {"auto_share", "joint_precision"} <= set(figures["joint"]) and "grouped" in figures
    no_heldout = cli("evaluate", "--models", str(models))  # its models folder has no heldout/
    assert no_heldout.returncode != 0 and "holds no labels.csv" in no_heldout.stderr
    on_heldout = cli("evaluate", "--data", str(heldout), "--models", str(models))
    assert on_heldout.returncode == 0 and "from training, on folds grouped by writer" in on_heldout.stdout
    mail = sorted((CORPUS / "mail").rglob("*.eml"))[:3]
    classified = cli("classify", "--models", str(models), "--json", *map(str, mail))
    lines = [json.loads(line) for line in classified.stdout.splitlines()]
    assert len(lines) == 3 and {"file", "kind", "topic", "formality", "language", "confidence", "review"} <= set(
        lines[0])
