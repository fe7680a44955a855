"""Classifier figures: messages classified per second (parse + resolve + classify, one core),
training time on the corpus, model size and load time. Usage: python bench/classify.py [--json]"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from triage.domain import OwnAddresses  # noqa: E402
from triage.stages.classify import classify  # noqa: E402
from triage.stages.forwards import resolve  # noqa: E402
from triage.stages.parse import parse  # noqa: E402
from triage.training import registry, train  # noqa: E402
from triage.training.features import rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    models, corpus = ROOT / "models", ROOT / "models" / "corpus"
    version = registry.current_version(models)
    assert version, "no committed model"
    started = time.perf_counter()
    classifier = registry.load(models)
    load_s = time.perf_counter() - started
    raws = [p.read_bytes() for p in sorted((corpus / "mail").rglob("*.eml"))]
    nobody = OwnAddresses(frozenset(), frozenset())
    started = time.perf_counter()  # the floor: parsing alone
    mails = [parse(raw) for raw in raws]
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    resolved = [resolve(mail, nobody) for mail in mails]
    resolve_s = time.perf_counter() - started
    started = time.perf_counter()  # one message at a time, as the pipeline does now
    for r in resolved:
        classify(r, classifier)
    one_s = time.perf_counter() - started
    started = time.perf_counter()  # all at once
    classifier.predict(rows([(r.subject, r.text) for r in resolved]))
    batch_s = time.perf_counter() - started
    n = len(raws)
    result = {
        "messages": n,
        "parse_msgs_per_s (floor)": round(n / parse_s, 1),
        "resolve_msgs_per_s": round(n / resolve_s, 1),
        "classify_one_by_one_msgs_per_s": round(n / one_s, 1),
        "classify_batched_msgs_per_s": round(n / batch_s, 1),
        "end_to_end_one_by_one_msgs_per_s": round(n / (parse_s + resolve_s + one_s), 1),
        "end_to_end_batched_msgs_per_s": round(n / (parse_s + resolve_s + batch_s), 1),
        "model_mb": round((models / version / "model.skops").stat().st_size / 1e6, 2),
        "load_seconds": round(load_s, 3),
    }
    if not args.skip_training:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            train.train(corpus, Path(out), force=True)
            result["train_seconds_incl_5fold_cv"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result) if args.json else "\n".join(f"{k:>32}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
