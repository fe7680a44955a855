"""Classify .eml files as the daemon would: every file goes through `pipeline.process_many` (parse,
forwards resolved with the organisation's own addresses, screen, thread, classify), against a
store that holds no cases, so nothing is filed and no database is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from triage.addresses import OwnAddresses
from triage.config import Organisation, Settings
from triage.domain import Disposition, Outcome
from triage.errors import ConfigError
from triage.pipeline import Context, process_many
from triage.services.deps import Deps
from triage.training.model import Classifier
from triage.training.registry import ModelError, load

BATCH = 200  # files read and classified together: one scikit-learn call per batch, as in a poll
NOBODY = OwnAddresses(frozenset(), frozenset())


class Labels(NamedTuple):
    kind: str
    topic: str
    formality: str


NO_LABELS = Labels("-", "-", "-")


@dataclass(frozen=True)
class ClassifiedFile:
    """What the daemon would decide for one file. `review` is true unless the case would be filed
    without a person; machine mail and unreadable files have no labels (`-`) and are reviewed."""

    file: Path
    labels: Labels
    confidence: dict[str, float]
    language: str | None
    review: bool
    model_version: str | None
    complainant: str | None  # whom the daemon would answer (the original sender of a staff forward)
    disposition: str  # filed, review, ignored (machine mail) or quarantined (a stage failed)
    reason: str


def classify_files(deps: Deps, org_id: str | None, paths: Iterable[Path]) -> list[ClassifiedFile]:
    """Classify files for one organisation (`None`: the only one in the settings) with the model
    in `deps.models`; raises ModelError when there is none and ConfigError for an unknown id."""
    org = organisation(deps.settings, org_id)
    classifier = deps.classifier()
    if classifier is None:
        raise ModelError(f"no model in {deps.models}: run `triage train`")
    ctx = Context(own=org.own(), reference_prefix=org.reference_prefix, find_case=_no_case,
                  max_bytes=deps.settings.parsing.max_message_bytes,
                  max_text_chars=deps.settings.parsing.max_text_chars,
                  time_budget=deps.settings.parsing.time_budget, max_parts=deps.settings.parsing.max_parts,
                  classifier=classifier)
    return _classify(list(paths), ctx)


def classify_files_without_config(models: Path, paths: Iterable[Path]) -> list[ClassifiedFile]:
    """Classify files with no configuration: no address is the organisation's own, so a
    colleague's forward is classified as the colleague's own mail."""
    classifier: Classifier = load(models)
    ctx = Context(own=NOBODY, reference_prefix="KL", find_case=_no_case, classifier=classifier)
    return _classify(list(paths), ctx)


def organisation(settings: Settings, org_id: str | None) -> Organisation:
    """The organisation named `org_id`, or the only one when it is None."""
    if org_id is None:
        if len(settings.organisations) > 1:
            raise ConfigError(f"{settings.path} has several organisations ({_ids(settings)}): name one")
        return next(iter(settings.organisations.values()))
    if org_id not in settings.organisations:
        raise ConfigError(f"no organisation {org_id!r} in {settings.path} (there are: {_ids(settings)})")
    return settings.organisation(org_id)


def _ids(settings: Settings) -> str:
    return ", ".join(sorted(settings.organisations))


def _no_case(reference: str) -> None:
    """A store without cases: a reply naming a case reference is classified as new mail."""
    return


def _classify(paths: Sequence[Path], ctx: Context) -> list[ClassifiedFile]:
    out: list[ClassifiedFile] = []
    for start in range(0, len(paths), BATCH):
        batch = paths[start : start + BATCH]
        outcomes = process_many([path.read_bytes() for path in batch], ctx)
        out += [_row(path, outcome) for path, outcome in zip(batch, outcomes, strict=True)]
    return out


def _row(path: Path, outcome: Outcome) -> ClassifiedFile:
    resolved, p = outcome.resolved, outcome.prediction
    complainant = resolved.complainant.addr if resolved and resolved.complainant else None
    reason = f"{outcome.reason}: {outcome.error}" if outcome.error else outcome.reason
    if p is None:
        return ClassifiedFile(path, NO_LABELS, {}, None, True, None, complainant, str(outcome.disposition), reason)
    return ClassifiedFile(path, Labels(p.kind, p.topic, p.formality), dict(p.confidence), p.language,
                          outcome.disposition is not Disposition.FILED, p.model_version, complainant,
                          str(outcome.disposition), reason)
