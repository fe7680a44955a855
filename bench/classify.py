"""Classifier figures: messages classified per second including parsing (one core), against
mail-parser alone as the floor; training time on the corpus, model size and load time.

Usage: taskset -c 0 python bench/classify.py [--json] [--skip-training] [--repeat N]

Each timing is the best of N runs (default 3): on a shared virtual machine the slower runs
measure the neighbours, not the code.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import mailparser  # noqa: E402
from timing import best  # noqa: E402

from triage.addresses import OwnAddresses  # noqa: E402
from triage.pipeline import Context, process_many  # noqa: E402
from triage.stages.classify import classify, classify_many  # noqa: E402
from triage.stages.forwards import resolve  # noqa: E402
from triage.stages.parse import parse  # noqa: E402
from triage.training import registry, train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH = 200  # the mailboxes' default batch size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    models, corpus = ROOT / "models", ROOT / "models" / "corpus"
    version = registry.current_version(models)
    assert version, "no committed model"
    started = time.perf_counter()
    classifier = registry.load(models)
    load_s = time.perf_counter() - started
    raws = [p.read_bytes() for p in sorted((corpus / "mail").rglob("*.eml"))]
    n = len(raws)
    nobody = OwnAddresses(frozenset(), frozenset())
    resolved = [resolve(parse(raw), nobody) for raw in raws]
    ctx = Context(own=nobody, reference_prefix="KL", find_case=lambda reference: None, classifier=classifier)

    def pipeline() -> None:  # what run_once does with each fetched batch, short of the database
        for start in range(0, n, BATCH):
            process_many(raws[start : start + BATCH], ctx)

    floor_s = best(lambda: [mailparser.parse_from_bytes(raw) for raw in raws], args.repeat)
    parse_s = best(lambda: [resolve(parse(raw), nobody) for raw in raws], args.repeat)
    batch_s = best(lambda: classify_many(resolved, classifier), args.repeat)
    one_s = best(lambda: [classify(r, classifier) for r in resolved], 1)
    pipeline_s = best(pipeline, args.repeat)
    result: dict[str, object] = {
        "messages": n,
        "floor_mailparser_msgs_per_s": round(n / floor_s),
        "parse_and_resolve_msgs_per_s": round(n / parse_s),
        "classify_batched_msgs_per_s": round(n / batch_s),
        "classify_one_by_one_msgs_per_s": round(n / one_s),
        "pipeline_msgs_per_s": round(n / pipeline_s),
        "pipeline_vs_floor": round(pipeline_s / floor_s, 2),
        "model_mb": round((models / version / "model.skops").stat().st_size / 1e6, 2),
        "load_seconds": round(load_s, 2),
    }
    if not args.skip_training:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            train.train(corpus, Path(out), train.TrainOptions(force=True))
            result["train_seconds_incl_5fold_cv"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result) if args.json else "\n".join(f"{k:>32}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
