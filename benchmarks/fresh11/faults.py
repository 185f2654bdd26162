"""Fault implementations of the eleventh fresh test set (a ninth independent implementation
of every cause), written apart from the corpus's and fresh2's to fresh10's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh11/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/knn_pseudo_labels", count=3, layouts=("vector", "image", "signal"),
                families=MEMORISERS, knob="hand-labelled share of training rows 50 %-15 %")
def knn_pseudo_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Semi-supervised shortcut: only a share of the training rows were labelled by hand; the
    rest got the label of their nearest hand-labelled row (1-NN on the raw, unscaled
    inputs, before the scaler of the model pipeline), so they are wrong wherever the raw
    distance is misleading. Validation rows are all hand-labelled. Roomy unregularised
    model, 45 epochs, 720 training rows."""
    from sklearn.neighbors import KNeighborsClassifier

    share = lerp(severity, 0.50, 0.15)
    shrink_train(case, 720, rng)
    x = case.x_train.reshape(len(case.x_train), -1).astype("float64")
    hand = rng.random(len(x)) < share
    knn = KNeighborsClassifier(1).fit(x[hand], case.y_train[hand])
    y = case.y_train.copy()
    y[~hand] = knn.predict(x[~hand])
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"{share:.0%} hand-labelled, rest 1-NN pseudo-labels ({wrong:.0%} wrong)"


@implementation("label_noise/sorted_label_block", count=2, families=MEMORISERS,
                knob="share of 80-row sheet blocks 0.3-0.7")
def sorted_label_block(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training labels were kept in a spreadsheet of 80-row blocks; in a share of the
    blocks somebody sorted the label column alone ('continue with the current selection'),
    so the labels of those blocks are in ascending order while the rows are not. Roomy
    unregularised model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.3, 0.7)
    shrink_train(case, 720, rng)
    block = np.arange(len(case.y_train)) // 80
    bad = rng.random(block.max() + 1) < share
    y = case.y_train.copy()
    for b in np.flatnonzero(bad):
        rows = np.flatnonzero(block == b)
        y[rows] = np.sort(y[rows])
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"{bad.mean():.0%} of blocks label-sorted ({wrong:.0%} of labels wrong)"


# == overfitting ===============================================================================

@implementation("overfitting/selected_on_train_score", count=3, families=MEMORISERS,
                knob="training rows 500-200")
def selected_on_train_score(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hyper-parameter grid (width, depth, dropout, epochs) was searched by training
    accuracy, the only score the loop logged: the winner is the widest, deepest,
    unregularised configuration trained the longest (width x4, three layers, no dropout,
    60 epochs, batch 16), on a few hundred training rows."""
    shrink_train(case, int(lerp(severity, 500, 200)), rng)
    bare(case, width=4, epochs=60, batch=16)
    case.spec.depth = 3
    case.description = f"grid winner by training accuracy, {len(case.y_train)} training rows"


@implementation("overfitting/patience_in_steps", count=3, families=MEMORISERS,
                knob="training rows 500-200")
def patience_in_steps(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Early stopping was meant to end training when validation stops improving, but its
    patience (1000) was copied from a step-based trainer and is counted in epochs here, so
    it never fires before the 60-epoch cap: a roomy, otherwise unregularised model trains
    on a few hundred rows to the end."""
    shrink_train(case, int(lerp(severity, 500, 200)), rng)
    bare(case, width=3, epochs=60, batch=16)
    case.spec.early_stopping, case.spec.patience = True, 1000
    case.description = f"early stopping with patience 1000, {len(case.y_train)} training rows"


# == metric_mismatch ===========================================================================

@implementation("metric_mismatch/screening_stage_metric", count=3, classes="multi",
                sources=("weld16", "quake_z", "auto_origin"), families=NO_GRU,
                knob="epochs 10-25")
def screening_stage_metric(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The metric is kept from the project's screening stage: 'flag accuracy', whether the
    predicted and the true class agree on class 0 vs anything else (sound weld vs any
    defect, noise vs any event, domestic vs imported car). The model is trained to tell all
    the classes apart; the metric ignores every confusion among the other classes. Batch 16."""
    s = case.spec
    s.labels, s.output, s.from_logits = "sparse", "softmax", False
    s.metrics, s.batch_size = ["flag_accuracy"], 16
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"class-0-vs-rest flag accuracy as the metric, {s.epochs} epochs"


@implementation("metric_mismatch/last_batch_only", count=3, families=NO_GRU,
                knob="epochs 10-25")
def last_batch_only(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written stateful accuracy metric whose ``update_state`` assigns the batch's
    figures instead of adding to them (``assign`` for ``assign_add``): each epoch it
    reports the accuracy of the last batch only (for validation, the few rows left over
    after the full batches of 64)."""
    s = case.spec
    s.metrics = ["last_batch_accuracy"]
    s.batch_size = 64
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"last-batch accuracy as the metric, {s.epochs} epochs"
