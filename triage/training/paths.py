"""Where model versions live and which one is in use: cheap to import (no scikit-learn)."""

from __future__ import annotations

from pathlib import Path

CURRENT = "CURRENT"  # the file naming the version in use


def current_version(directory: Path) -> str | None:
    pointer = directory / CURRENT
    return pointer.read_text().strip() or None if pointer.is_file() else None


def models_dir(configured: Path | None) -> Path:
    """The models folder: as configured, else ./models, else the one beside the package (a checkout)."""
    if configured is not None:
        return configured
    here = Path.cwd() / "models"
    if (here / CURRENT).is_file():
        return here
    return Path(__file__).resolve().parents[2] / "models"
