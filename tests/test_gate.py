"""The joint gate and the grouped folds, on small fixed sets whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from triage.training.gate import NEVER, Outcomes, choose, figures, sure, wilson_lower
from triage.training.grouped import splits


def _outcomes() -> Outcomes:
    """Ten cases the model calls informal service complaints: 1-7 right (7 with an unsure topic),
    8 the wrong topic, 9 a formal complaint, 10 a question."""
    n = 10
    truth = {"kind": np.array(["complaint"] * 9 + ["question"], dtype=object),
             "topic": np.array(["service"] * 7 + ["staff"] + ["service"] * 2, dtype=object),
             "formality": np.array(["informal"] * 8 + ["formal", "informal"], dtype=object)}
    predicted = {"kind": np.array(["complaint"] * n, dtype=object), "topic": np.array(["service"] * n, dtype=object),
                 "formality": np.array(["informal"] * n, dtype=object)}
    confidence = {"kind": np.array([0.97] * 9 + [0.58]), "topic": np.array([0.9] * 6 + [0.72, 0.62, 0.9, 0.9]),
                  "formality": np.array([0.9] * n), "not_formal": np.array([0.95] * 8 + [0.6, 0.95])}
    return Outcomes(truth, predicted, confidence)


def test_the_gate_files_the_most_cases_that_are_right_as_a_whole() -> None:
    outcomes = _outcomes()
    gate = choose(outcomes, target=0.95, costly=0.02, z=0.0)
    # case 7 needs topic >= 0.70; 8 (wrong topic) is kept out by it, 9 (a formal complaint) by the
    # not-formal floor, 10 (a question) by the kind threshold; each as strict as the seven allow
    assert gate == {"kind": 0.97, "topic": 0.7, "formality": 0.9, "not_formal": 0.95}
    assert sure(outcomes, gate).tolist() == [True] * 7 + [False] * 3
    result = figures(outcomes, gate)
    assert (result.auto_filed, result.joint_precision, result.costly_errors, result.formal_missed) == (7, 1.0, 0, 0)


def test_a_wrong_kind_or_formality_costs_more_than_a_wrong_topic() -> None:
    outcomes = _outcomes()
    # at a joint target of 85 % one wrong topic may be filed (7 of 8 right), a wrong formality may not
    gate = choose(outcomes, target=0.85, costly=0.02, z=0.0)
    filed = sure(outcomes, gate)
    assert filed[7] and not filed[8] and not filed[9]
    assert figures(outcomes, gate).topic_errors == 1


def test_seven_right_of_seven_is_too_few_to_be_sure_of_95_percent() -> None:
    assert wilson_lower(7, 7) == pytest.approx(0.875)
    assert choose(_outcomes(), target=0.95, costly=0.02) == dict.fromkeys(("kind", "topic", "formality",
                                                                            "not_formal"), NEVER)
    assert not sure(_outcomes(), dict.fromkeys(("kind", "topic", "formality", "not_formal"), NEVER)).any()


def test_grouped_folds_never_put_a_writer_on_both_sides() -> None:
    rng = np.random.default_rng(7)
    groups = np.array([f"writer-{i % 13}" for i in range(400)], dtype=object)
    strata = np.array(rng.choice(["complaint/service", "question/staff", "complaint/product"], 400), dtype=object)
    tested = np.zeros(400, dtype=int)
    folds = splits(strata, groups, 5, seed=1)
    assert len(folds) == 5
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        tested[test] += 1
    assert (tested == 1).all()  # every message is predicted exactly once


def test_two_writers_are_the_least_for_a_grouped_evaluation() -> None:
    from triage.errors import CorpusError

    with pytest.raises(CorpusError, match="at least two writers"):
        splits(np.array(["a"] * 10, dtype=object), np.array(["w"] * 10, dtype=object), 5, seed=1)
    assert len(splits(np.array(["a", "b"] * 5, dtype=object), np.array(["w1", "w2"] * 5, dtype=object), 5, 1)) == 2
