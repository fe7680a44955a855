"""Model versions as the shells see them: the one the daemon classifies with (swapped when
models/CURRENT changes), loading for a run, and promotion (or rollback) with an audit row."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import ModelError
from triage.logs import get_logger
from triage.services.deps import Deps
from triage.store import repo
from triage.training.paths import current_version

if TYPE_CHECKING:
    from triage.training.model import Classifier

log = get_logger("triage.worker")


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


def promote(deps: Deps, version: str, actor: str) -> None:
    """Make `version` the one in use (a rollback is the promotion of an older one); it is loaded
    first, so a damaged or mismatched version is refused before it could run."""
    from triage.training import registry

    registry.load(deps.models, version)
    registry.promote(deps.models, version)
    with deps.sessions.begin() as session:
        repo.audit(session, "model.promoted", deps.clock(), actor=actor, version=version)
