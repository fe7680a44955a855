"""Model versions on disk: `models/<version>/model.skops` + `card.json`, and `models/CURRENT`.

Models are stored with skops, never pickle. Loading refuses a model whose file does not match the
hash in its card (tampered), whose card names another scikit-learn major.minor or feature
version (mismatched), or whose file holds types outside scikit-learn, NumPy, SciPy and our own
feature function.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import sklearn
import skops.io as sio

from triage import memory
from triage.errors import ModelError
from triage.training.features import FEATURE_VERSION
from triage.training.model import Classifier
from triage.training.paths import CURRENT, current_version, models_dir

__all__ = ["CARD_FILE", "CURRENT", "MODEL_FILE", "ModelError", "current_version", "load", "load_for_run",
           "major_minor", "models_dir", "promote", "read_card", "save", "versions"]

MODEL_FILE, CARD_FILE = "model.skops", "card.json"
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "triage.training.features.")


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save(classifier: Classifier, directory: Path, version: str, card: dict[str, Any]) -> Path:
    folder = directory / version
    folder.mkdir(parents=True, exist_ok=False)
    data = sio.dumps({"features": classifier.features, "heads": classifier.heads,
                      "thresholds": classifier.thresholds},
                     compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    (folder / MODEL_FILE).write_bytes(data)
    card = dict(card, version=version, model_sha256=hashlib.sha256(data).hexdigest(),
                sklearn=sklearn.__version__, skops=_skops_version(),
                feature_version=FEATURE_VERSION)
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def _skops_version() -> str:
    import skops

    return str(skops.__version__)


def promote(directory: Path, version: str) -> None:
    if not (directory / version / MODEL_FILE).is_file():
        raise ModelError(f"no model version {version} in {directory}")
    tmp = directory / (CURRENT + ".tmp")
    try:
        tmp.write_text(version + "\n")
        os.replace(tmp, directory / CURRENT)
    except OSError as exc:  # a full disk: CURRENT stays as it was, no temporary file is left
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot write {directory / CURRENT}: {exc.strerror or exc}; "
                         f"{version} is not promoted") from None


def versions(directory: Path) -> list[dict[str, Any]]:
    return [read_card(card) for card in sorted(directory.glob(f"*/{CARD_FILE}"))]


def read_card(path: Path) -> dict[str, Any]:
    """A version's card; ModelError when it cannot be read or is not a JSON object."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} cannot be read: {exc}: retrain with `triage train` or restore the file") from None
    if not isinstance(card, dict):
        raise ModelError(f"{path} is not a JSON object (a model card): retrain with `triage train` or restore the file")
    return card


def _wanted(directory: Path) -> str:
    """The version CURRENT names; ModelError when it is missing or empty."""
    version = current_version(directory)
    if version is not None:
        return version
    if (directory / CURRENT).exists():
        raise ModelError(f"{directory / CURRENT} is empty: make a version current with `triage models promote "
                         "VERSION` (see `triage models list`)")
    raise ModelError(f"no model in {directory} ({CURRENT} is missing): run `triage train`")


def load(directory: Path, version: str | None = None) -> Classifier:
    version = version or _wanted(directory)
    folder = directory / version
    card = read_card(folder / CARD_FILE)
    try:
        data = (folder / MODEL_FILE).read_bytes()
    except OSError as exc:
        raise ModelError(f"model {version} in {directory} cannot be read: {exc}") from None
    if hashlib.sha256(data).hexdigest() != card.get("model_sha256"):
        raise ModelError(f"model {version}: {MODEL_FILE} does not match the hash in its card (tampered or "
                         "damaged): retrain with `triage train` or restore the file")
    if major_minor(str(card.get("sklearn", ""))) != major_minor(sklearn.__version__):
        raise ModelError(f"model {version} was made with scikit-learn {card.get('sklearn')}, this is "
                         f"{sklearn.__version__}: retrain with `triage train` or install scikit-learn "
                         f"{major_minor(str(card.get('sklearn')))}.*")
    if str(card.get("feature_version")) != FEATURE_VERSION:
        raise ModelError(f"model {version} uses feature version {card.get('feature_version')}, this code has "
                         f"{FEATURE_VERSION}: retrain with `triage train`")
    classifier = Classifier(**_unpack(version, data), version=version, card=card)
    del data
    memory.release()  # unpacking the file took about twice the model's size; give that back
    return classifier


def _unpack(version: str, data: bytes) -> dict[str, Any]:
    """features, heads and thresholds from the file's bytes (its hash already checked: a file
    damaged before the card was written, or by the same hand, fails here)."""
    damaged = f"model {version}: {MODEL_FILE} is damaged"
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a zip that does not open: BadZipFile, a bad CRC, a truncated member, ...
        raise ModelError(f"{damaged} ({exc}): retrain with `triage train` or restore the file") from None
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign:
        raise ModelError(f"model {version} holds types this program does not trust: {', '.join(foreign[:3])}")
    try:
        state = sio.loads(data, trusted=untrusted)
        return {key: state[key] for key in ("features", "heads", "thresholds")}
    except Exception as exc:  # skops raises many kinds on a damaged file
        raise ModelError(f"{damaged} ({exc}): retrain with `triage train` or restore the file") from None


def load_for_run(configured: Path | None) -> Classifier | None:
    """The current model, or None when there is none yet (every case then goes to review).
    A model that is there but tampered with or mismatched is an error, not a silent None."""
    directory = models_dir(configured)
    if current_version(directory) is None and not (directory / CURRENT).exists():
        return None
    return load(directory)
