"""Model versions as the shells see them: the one the daemon classifies with (swapped when
models/CURRENT changes), loading for a run, promotion (or rollback) with an audit row, and the
models page's figures: each version's card and the share of cases filed without a person per week."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.errors import ModelError
from triage.logs import get_logger
from triage.services import jobs
from triage.services.deps import Deps
from triage.store import repo
from triage.store import review as store
from triage.training.paths import CURRENT, current_version

if TYPE_CHECKING:
    from triage.training.model import Classifier

log = get_logger("triage.worker")
VERSION_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}")  # '20261121-003549'; never a path


class VersionRefused(ModelError):
    """A version that cannot be promoted, said without server paths; `why` is `name` (not a
    version name), `unknown` (no such version) or `unusable` (damaged or made for other versions)."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


class CurrentModel:
    """The model `triage run` classifies with, swapped for another when models/CURRENT changes
    (an administrator promoted or rolled back a version); a version that fails to load is logged
    once and the one in hand stays."""

    def __init__(self, directory: Path, classifier: Classifier | None) -> None:
        self.directory = directory
        self.classifier = classifier
        self.refused: str | None = None
        self.lock = threading.Lock()

    def get(self) -> Classifier | None:
        from triage.training import registry

        wanted = current_version(self.directory)
        if wanted is None and (self.directory / CURRENT).exists():
            wanted = ""  # an empty CURRENT: refused (logged) once below, the model in hand stays
        with self.lock:
            have = self.classifier.version if self.classifier else None
            if wanted is None or wanted == have or wanted == self.refused:
                return self.classifier
            try:
                self.classifier = registry.load(self.directory, wanted)
            except ModelError as exc:
                log.error("model_refused", version=wanted, error=str(exc), keeping=have)
                self.refused = wanted
                return self.classifier
            log.info("model_switched", **{"from": have, "to": wanted})
            return self.classifier


def load_current(deps: Deps) -> Classifier | None:
    """The current model, or None when there is none yet (every case then goes to review); a
    model that is there but damaged or mismatched raises ModelError."""
    from triage.training import registry

    return registry.load_for_run(deps.models)


def _without_paths(exc: ModelError, models: Path) -> str:
    """The error's one line with the models folder and any other path of the server taken out."""
    detail = str(exc)
    for folder in {str(models.resolve()), str(models)}:
        detail = detail.replace(folder + "/", "").replace(folder, "the models folder")
    return re.sub(r"(?<![\w.])/[^\s'\";]+", "…", detail)  # whatever absolute path is left


def _usable(models: Path, version: str) -> None:
    """Refuse a version name that is not a plain name, a version that is not there, and one that
    does not load; the messages name the version, never a folder of the server."""
    from triage.training import registry

    if not VERSION_NAME.fullmatch(version) or ".." in version:
        raise VersionRefused("not a model version name (letters, digits, '-', '_' and '.')", "name")
    if not (models / version / registry.MODEL_FILE).is_file():
        raise VersionRefused(f"no model version {version}", "unknown")
    try:
        registry.load(models, version)
    except ModelError as exc:
        raise VersionRefused(_without_paths(exc, models), "unusable") from None


def promote(deps: Deps, version: str, actor: str) -> None:
    """Make `version` the one in use (a rollback is the promotion of an older one); it is loaded
    first, so a damaged or mismatched version is refused before it could run. A refusal, and a
    CURRENT that cannot be written (a full disk), raise VersionRefused."""
    from triage.training import registry

    _usable(deps.models, version)
    try:
        registry.promote(deps.models, version)
    except ModelError as exc:
        raise VersionRefused(_without_paths(exc, deps.models), "unwritable") from None
    if deps.sessions.kw.get("bind") is not None:  # a models folder without a database: nothing to log in
        with deps.sessions.begin() as session:
            repo.audit(session, "model.promoted", deps.clock(), actor=actor, version=version)


@dataclass(frozen=True)
class Version:
    """A model version's card as the models page shows it."""

    version: str
    active: bool
    created: str
    corpus_size: int | None
    corrections_included: int | None
    heads: dict[str, Any]  # head -> its figures (macro_f1, auto_share, ...)
    worse: list[str] = field(default_factory=list)  # heads that scored lower than `compared_with`
    compared_with: str | None = None
    joint: dict[str, Any] = field(default_factory=dict)  # the gate on folds grouped by writer (gate.JointFigures)
    heldout: dict[str, Any] = field(default_factory=dict)  # per head and joint, on the held-out writers
    gate: dict[str, float] = field(default_factory=dict)  # the joint gate's thresholds

    def macro_f1(self, head: str) -> float | None:
        value = (self.heads.get(head) or {}).get("macro_f1")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class ModelsPage:
    versions: list[Version]  # oldest first
    weeks: list[str]  # the last 26 ISO weeks with cases ("2026-W47"), oldest first
    auto_shares: list[float | None]  # per week: the share of its cases filed without a person
    corrections: int  # cases a person confirmed or corrected: what a retrain adds to the corpus
    job: jobs.JobView | None  # the latest retrain


def _versions(models: Path) -> list[Version]:
    from triage.training import registry

    active = registry.current_version(models)
    out = [Version(str(card.get("version")), card.get("version") == active, card.get("created", ""),
                   card.get("corpus_size"), card.get("corrections_included", 0), card.get("heads", {}),
                   card.get("worse", []), card.get("compared_with"), card.get("joint") or {},
                   card.get("heldout") or {}, card.get("gate") or {})
           for card in registry.versions(models)]
    return sorted(out, key=lambda v: v.version)


def auto_share_per_week(arrivals: list[tuple[datetime, bool]]) -> tuple[list[str], list[float | None]]:
    """Per ISO week of the last 26 with cases: the share filed without a person (status open, no
    correction) among the cases that arrived in it."""
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for received, auto in arrivals:
        year, week, _ = received.isocalendar()
        key = f"{year}-W{week:02d}"
        weeks[key][1] += 1
        weeks[key][0] += auto
    labels = sorted(weeks)[-26:]
    return labels, [weeks[k][0] / weeks[k][1] if weeks[k][1] else None for k in labels]


@dataclass(frozen=True)
class Thresholds:
    """Per model version, each head's threshold: below it, the model is unsure and a person looks."""

    by_version: dict[str, dict[str, float]]
    current: str | None

    def of(self, version: str | None) -> dict[str, float]:
        """The thresholds of the version that classified a case; the current one's if it is gone."""
        return self.by_version.get(version or "") or self.by_version.get(self.current or "", {})


def thresholds(deps: Deps) -> Thresholds:
    """Every version's thresholds from its card; a card that cannot be read gives none (the page
    still shows, without red badges for that version)."""
    from triage.training import registry

    found: dict[str, dict[str, float]] = {}
    for path in deps.models.glob(f"*/{registry.CARD_FILE}"):
        try:
            found[path.parent.name] = {str(h): float(t) for h, t in
                                       dict(registry.read_card(path).get("thresholds") or {}).items()}
        except (ModelError, ValueError, TypeError):
            continue
    return Thresholds(found, registry.current_version(deps.models))


def models_page(deps: Deps) -> ModelsPage:
    with deps.sessions() as session:
        arrivals, corrections = store.arrivals(session), store.corrected_count(session)
    weeks, shares = auto_share_per_week(arrivals)
    return ModelsPage(_versions(deps.models), weeks, shares, corrections, jobs.latest_job(deps, jobs.RETRAIN))
