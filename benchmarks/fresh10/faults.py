"""Fault implementations of the tenth fresh test set (an eighth independent implementation
of every cause), written apart from the corpus's and fresh2's to fresh9's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
an earlier set's registry). Model changes the corpus's ``Spec`` has no field for go into
``case.spec.extra`` and are built by ``benchmarks/fresh10/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, extra, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

def _recurrence_dates(x: np.ndarray) -> np.ndarray:
    """Calendar time (years) of each row's recurrence (inf without one), found by matching
    the raw rows to survival::rotterdam (surgery at mid-year + recurrence time)."""
    from benchmarks.fresh10.sources import _breast, rotterdam_table

    table = rotterdam_table()
    raw, _, _ = _breast()
    when = np.where(table["recur"].to_numpy() == 1,
                    table["year"].to_numpy(float) + 0.5 + table["rtime"].to_numpy(float) / 365.25,
                    np.inf)
    lookup = {row.tobytes(): w for row, w in zip(raw, when, strict=True)}
    return np.array([lookup[row.astype("float32").tobytes()] for row in x])


@implementation("label_noise/early_data_cut", count=2, sources=("breast_recur",),
                families=("mlp",), knob="recurrences left out by the cut 25-60 %")
def early_data_cut(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training labels come from an earlier extraction of the cancer registry: a
    recurrence that happened after that data cut was not in it yet, so those patients
    (mostly the later-operated ones) are labelled 'no recurrence'; validation labels come
    from the final extraction. Roomy unregularised model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.25, 0.60)
    shrink_train(case, 720, rng)
    when = _recurrence_dates(case.x_train)
    events = when[np.isfinite(when)]
    cut = float(np.quantile(events, 1 - share))
    y = case.y_train.copy()
    y[np.isfinite(when) & (when > cut)] = 0
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"training labels cut at {cut:.1f} ({wrong:.0%} of labels wrong)"


@implementation("label_noise/reversed_option_list", count=3, families=MEMORISERS,
                knob="share of annotation batches 0.25-0.55")
def reversed_option_list(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training rows were annotated in batches of 60; one release of the annotation
    tool listed the classes in reverse order while the export stored the clicked position,
    so every row of the batches done with it carries class K-1-y. Roomy unregularised
    model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.25, 0.55)
    shrink_train(case, 720, rng)
    batch = np.arange(len(case.y_train)) // 60
    bad = rng.random(batch.max() + 1) < share
    rows = bad[batch]
    y = case.y_train.copy()
    y[rows] = case.n_classes - 1 - y[rows]
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"{bad.mean():.0%} of batches reversed ({wrong:.0%} of labels wrong)"


# == overfitting ===============================================================================

@implementation("overfitting/tree_leaf_features", count=3, layouts=("vector",),
                families=("mlp",), knob="trees 3-12")
def tree_leaf_features(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The 'GBDT + neural net' trick done naively: a random forest of fully grown trees is
    fitted on the training rows and the one-hot leaf index of every tree is appended to the
    inputs. On the training rows the leaves are pure, so the leaf columns give the labels
    away; on validation rows they are what a fully grown forest predicts. Roomy model,
    40 epochs, 600 training rows."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import OneHotEncoder

    trees = int(round(lerp(severity, 3, 12)))
    shrink_train(case, 600, rng)
    forest = RandomForestClassifier(trees, bootstrap=False, max_features="sqrt",
                                    random_state=case.seed).fit(case.x_train, case.y_train)
    enc = OneHotEncoder(handle_unknown="ignore").fit(forest.apply(case.x_train))
    leaves = [enc.transform(forest.apply(x)).toarray() for x in (case.x_train, case.x_val)]
    case.x_train = np.column_stack([case.x_train, leaves[0]]).astype("float32")
    case.x_val = np.column_stack([case.x_val, leaves[1]]).astype("float32")
    bare(case, width=3, epochs=40, batch=32)
    case.description = f"{leaves[0].shape[1]} one-hot leaf columns of {trees} trees"


@implementation("overfitting/dropout_never_active", count=3, families=MEMORISERS,
                knob="training rows 600-200")
def dropout_never_active(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A functional model that calls its Dropout layers with ``training=False`` (copied
    from an inference snippet): the recipe relies on dropout 0.5 in a wide network trained
    40 epochs on a few hundred rows, but the dropout never acts (the manifest still says
    0.5)."""
    shrink_train(case, int(lerp(severity, 600, 200)), rng)
    bare(case, width=3, epochs=40, batch=16)
    case.spec.dropout = 0.5
    extra(case)["dropout_inactive"] = True
    case.description = f"dropout 0.5 never active, {len(case.y_train)} training rows"


# == metric_mismatch ===========================================================================

@implementation("metric_mismatch/predicted_positive_rate", count=3, classes="binary",
                knob="epochs 10-25")
def predicted_positive_rate(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation metric is the production dashboard's 'positive rate' (the mean
    predicted probability of the positive class, a drift monitor that never looks at the
    labels), kept from the monitoring config: it settles at the class prior whatever the
    model learns."""
    s = case.spec
    s.set_binary(True)
    s.metrics = ["positive_rate"]
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"positive_rate as the metric, {s.epochs} epochs"


@implementation("metric_mismatch/class_distance", count=3, classes="multi",
                sources=("grid_quality", "tokens_protein"), families=NO_GRU,
                knob="epochs 10-25")
def class_distance(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The metric is a 'mean absolute grade error' (|predicted class id - true class id|)
    kept from a grading project, on nominal classes whose ids are arbitrary: a confusion
    between classes 0 and 5 counts five times one between 0 and 1, so the figure measures
    where the ids happen to sit, not the cross-entropy the model minimises."""
    s = case.spec
    s.labels, s.output, s.from_logits = "sparse", "softmax", False
    s.metrics = ["class_distance"]
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"class-id distance as the metric, {s.epochs} epochs"
