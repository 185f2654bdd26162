"""Evidence is declared once: printed thresholds are the applied ones, for every piece.

Every weighted piece of evidence a diagnosis holds must carry its declaration, and the
weight re-derived from the *printed* comparison must equal the weight that was applied.
Checked on real recorded trainings (label noise, shift, a clean run) and on curve-only
records, so that every rule and most of its evidence are exercised.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from scripts.tiny import digits, fit, mlp
from test_rules_offline import decaying, history_record

from gapdoctor import diagnose, load_run
from gapdoctor.rules import RULES
from gapdoctor.rules.evidence import Ramp, printed_disagrees


def _declarations() -> list[tuple[str, Ramp]]:
    found = []
    for rule in RULES:
        module = importlib.import_module(rule.__module__)
        found += [(rule.cause, v) for v in vars(module).values() if isinstance(v, Ramp)]
    return found


def test_every_declaration_is_complete_and_unique() -> None:
    found = _declarations()
    assert len(found) >= 60  # every rule declares its evidence at module level
    keys = [spec.key for _, spec in found]
    assert len(keys) == len(set(keys)), "duplicate evidence keys"
    for cause, spec in found:
        assert spec.key.startswith(cause + "."), spec.key
        assert spec.name and spec.reason and spec.weight != 0, spec.key
        assert math.isfinite(spec.lo) and math.isfinite(spec.hi), spec.key
        if spec.log:
            assert spec.lo > 0 and spec.hi > 0, spec.key


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> list:
    """Four real tiny trainings recorded by GapDoctor: noisy labels, shifted validation,
    validation labels shuffled out of line with their inputs, clean."""
    from gapdoctor.callback import GapDoctor

    x_tr, x_va, y_tr, y_va = digits(n_train=700)
    rng = np.random.default_rng(0)
    noisy = y_tr.copy()
    flip = rng.random(len(noisy)) < 0.3
    noisy[flip] = (noisy[flip] + rng.integers(1, 10, flip.sum())) % 10
    shifted = np.clip(x_va * 3.0 + 0.5, 0, None).astype("float32")
    runs = []
    for name, (xt, yt, xv, yv) in {"noise": (x_tr, noisy, x_va, y_va),
                                   "shift": (x_tr, y_tr, shifted, y_va),
                                   "misaligned": (x_tr, y_tr, x_va, rng.permutation(y_va)),
                                   "clean": (x_tr, y_tr, x_va, y_va)}.items():
        doctor = GapDoctor(validation_data=(xv, yv), train_data=(xt, yt), run_name=name,
                           output_dir=tmp_path_factory.mktemp("ev"), diagnose=False,
                           report=False, verbose=0)
        fit(mlp(), (xt, xv, yt, yv), doctor, epochs=6)
        runs.append(load_run(doctor.run_dir))
    return runs


def _curve_only() -> list:
    n = 30
    return [
        history_record(loss=decaying(n, 2.0, 0.02), accuracy=decaying(n, 0.3, 1.0),
                       val_loss=decaying(n, 2.0, 0.5), val_accuracy=decaying(n, 0.3, 0.85)),
        history_record(loss=[2.303] * n, accuracy=[0.1] * n, val_loss=[2.303] * n,
                       val_accuracy=[0.1] * n),
        history_record(loss=[1.0, 0.8, 5.0, float("nan")], val_loss=[1.0, 0.9, 4.0, float("nan")],
                       accuracy=[0.5, 0.6, 0.3, 0.1], val_accuracy=[0.5, 0.6, 0.3, 0.1]),
        history_record(loss=decaying(n, 0.7, 0.01), accuracy=decaying(n, 0.8, 1.0),
                       val_loss=decaying(n, 0.7, 0.03), val_accuracy=decaying(n, 0.8, 0.998)),
    ]


def test_printed_thresholds_are_the_applied_ones(recorded) -> None:
    checked, keys = 0, set()
    for run in [*recorded, *_curve_only()]:
        for finding in diagnose(run).findings:
            for e in finding.evidence:
                if e.weight == 0:
                    continue  # context notes weigh nothing
                assert e.rule, f"{finding.cause}: '{e.name}' has a weight but no declaration"
                problem = printed_disagrees(e.comparison, e.rule["measured"], e.weight)
                assert problem is None, f"{finding.cause}: '{e.name}': {problem}"
                checked += 1
                keys.add(e.key)
    # the records exercise evidence of every rule
    assert checked >= 60 and {k.split(".")[0] for k in keys} >= {
        "overfitting", "label_noise", "distribution_shift", "optimization", "pipeline_bug",
        "small_validation_set", "metric_mismatch", "metric_saturation"}, sorted(keys)


def test_a_wrong_printed_rule_is_caught() -> None:
    spec = Ramp("overfitting.gap", "gap", 0.03, 0.15, 2.5, "why")
    # what the old code did: print one threshold, apply another
    assert printed_disagrees("strong from 0.5", 0.09, 1.25) is not None
    assert printed_disagrees(spec.comparison(), 0.09, 2.5) is not None
    assert printed_disagrees(spec.comparison(), 0.09, spec.weight * spec.strength(0.09)) is None
