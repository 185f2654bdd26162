"""Validation predictions that are a renaming of the validation labels (analysis/renaming.py).

A model that learned its task names every validation class, under another name when the
validation labels were encoded in another class order: the best one-to-one renaming
regains the accuracy. That reads for a pipeline bug and against label noise; wrong training
labels below half a class, a model that confuses two classes by chance, a few rows, and a
model that mixes its classes up in training too do not read as a renaming.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from gapdoctor.analysis.renaming import RENAMED_RANGE, RENAMED_Z, renaming_of

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _diagonal(n_per_class: int, k: int, right: float, seed: int = 0) -> np.ndarray:
    """One epoch's confusion of a model that names each class rightly ``right`` of the time."""
    rng = np.random.default_rng(seed)
    cm = np.zeros((k, k), int)
    for c in range(k):
        pred = np.where(rng.random(n_per_class) < right, c, rng.integers(0, k, n_per_class))
        cm[c] = np.bincount(pred, minlength=k)
    return cm


def test_a_permuted_diagonal_reads_as_a_renaming() -> None:
    cm = _diagonal(100, 4, 0.9)
    val = cm[:, [1, 2, 3, 0]]                     # labels one id further on
    r = renaming_of(np.stack([val] * 3), np.stack([cm] * 3))
    assert r.gain > 0.8 and r.accuracy < 0.1 and r.renamed > 0.9
    assert r.z > RENAMED_Z[1] and len(r.pairs) == 4
    assert r.described().startswith("label ")


def test_a_model_that_names_its_classes_rightly_has_nothing_to_regain() -> None:
    cm = _diagonal(100, 4, 0.6, seed=1)
    r = renaming_of(np.stack([cm] * 3), np.stack([cm] * 3))
    assert r.gain == 0 and r.pairs == []


def test_two_classes_confused_by_chance_on_a_few_rows_are_not_trusted() -> None:
    cm = np.array([[3, 4, 0], [4, 3, 0], [0, 0, 7]])   # 21 rows, two classes at a coin flip
    r = renaming_of(cm[None], None)
    assert r.val_gain > RENAMED_RANGE[0] and r.z < RENAMED_Z[0]


def test_a_model_that_mixes_classes_up_in_training_too_is_no_renaming() -> None:
    cm = _diagonal(100, 3, 0.9)[:, [2, 0, 1]]
    r = renaming_of(cm[None], cm[None])
    assert r.val_gain > 0.5 and abs(r.gain) < 1e-9


def test_a_class_without_validation_rows_is_not_listed_as_renamed() -> None:
    cm = np.zeros((4, 4), int)
    cm[0, 1], cm[1, 0], cm[2, 3], cm[2, 2] = 40, 38, 30, 5   # class 3 has no validation rows
    r = renaming_of(cm[None], None)
    assert r.pairs == [(0, 1), (1, 0), (2, 3)]              # not (3, 2): nothing moved there


def test_nothing_to_read_without_matrices() -> None:
    assert renaming_of(np.zeros((0, 3, 3)), None) is None
    assert renaming_of(np.zeros((2, 3, 3)), None) is None   # no rows


def test_a_damaged_record_reads_nothing_and_raises_nothing() -> None:
    good = _diagonal(50, 3, 0.9)[None]
    for bad in (np.full((1, 3, 3), np.nan), -good, np.zeros((1, 3, 4)), np.zeros((3, 3)), "x"):
        assert renaming_of(bad, None) is None, bad
    # a damaged training matrix is left out, the validation read stands
    r = renaming_of(good[:, :, [1, 2, 0]], np.full((1, 3, 3), np.nan))
    assert r is not None and r.train_gain == 0.0 and r.gain > 0.5


# --- a real training ---------------------------------------------------------------

keras = pytest.importorskip("keras")

from scripts.tiny import fit, mlp  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from gapdoctor import load_run  # noqa: E402
from gapdoctor.callback import GapDoctor  # noqa: E402
from gapdoctor.engine import diagnose  # noqa: E402

QUIET = {"report": False, "verbose": 0, "background": False}


def _digits(tmp_path, y_tr_of, y_va_of):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    y_tr, y_va = y_tr_of(y_tr), y_va_of(y_va)
    doctor = GapDoctor(validation_data=(x_va, y_va), train_data=(x_tr, y_tr),
                       output_dir=tmp_path, diagnose=False, **QUIET)
    fit(mlp(10), (x_tr, x_va, y_tr, y_va), doctor, epochs=8)
    return diagnose(load_run(doctor.run_dir))


def _renamed(d, cause: str):
    return next((e for e in d.finding(cause).evidence if e.key == f"{cause}.renamed"), None)


def test_validation_labels_one_id_further_on_read_as_a_pipeline_bug(tmp_path) -> None:
    d = _digits(tmp_path, lambda y: y, lambda y: (y + 1) % 10)
    assert d.verdict == "pipeline_bug", [(f.cause, round(f.score, 2)) for f in d.findings]
    finding = d.finding("pipeline_bug")
    assert _renamed(d, "pipeline_bug").weight > 0
    assert "under other names" in finding.summary and "label 0 -> 9, 1 -> 0" in finding.summary
    assert _renamed(d, "label_noise").weight < 0


def test_wrong_training_labels_are_no_renaming(tmp_path) -> None:
    rng = np.random.default_rng(3)

    def noisy(y):
        flip = rng.random(len(y)) < 0.3
        return np.where(flip, (y + rng.integers(1, 10, len(y))) % 10, y)

    d = _digits(tmp_path, noisy, lambda y: y)
    for cause in ("pipeline_bug", "label_noise"):
        found = _renamed(d, cause)
        assert found is None or found.weight == 0, (cause, found)
