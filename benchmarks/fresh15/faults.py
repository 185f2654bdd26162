"""Fault implementations of the fifteenth fresh test set (a thirteenth independent
implementation of every cause), written apart from the corpus's and fresh2's to fresh14's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh15/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper
from benchmarks.fresh15.sources import GENERATORS, TABLES, birdcall, possession

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

# species heard in the same habitat (a recordist after one of them often records another)
HABITAT = {0: (3, 1), 1: (2, 0), 2: (1, 4), 3: (0, 4), 4: (2, 3)}


@implementation("label_noise/background_species_tag", count=3, sources=("birdcall16",),
                families=("mlp", "cnn2d"), knob="share of training clips 0.25-0.5")
def background_species_tag(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training clips come from a sound archive whose species tag is the recordist's
    *target* species; on a share of them the target stayed silent and the bird that
    actually calls is a background species of the same habitat (one of two neighbours of
    the target). The validation clips were tagged by listening. Roomy unregularised model,
    45 epochs, 720 training rows (fresh8's ``memorise``)."""
    share = lerp(severity, 0.25, 0.5)
    shrink_train(case, 720, rng)
    x = case.x_train.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        other = HABITAT[int(case.y_train[i])][int(rng.integers(2))]
        x[i, :, :, 0] = birdcall(other, rng)
    case.x_train = x.astype("float32")
    memorise(case)
    case.description = f"{len(rows) / len(x):.0%} of training clips tagged with a silent target species"


@implementation("label_noise/team_label_game_state", count=3, sources=("tokens_possession",),
                families=("embed",), knob="share of possessions played while behind or ahead 0.3-0.6")
def team_label_game_state(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training possessions are labelled with their team's style from a season-level
    scouting sheet, but a share were played while the team was behind (it then plays long
    balls, the direct style) or ahead (it sits deep and counters): their events are of that
    game-state style, their label still the team's. Validation possessions were labelled
    one by one by an analyst. Roomy unregularised model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.3, 0.6)
    shrink_train(case, 720, rng)
    x = case.x_train.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        x[i] = possession(3 if rng.random() < 0.5 else 1, rng)
    wrong = float(np.mean([case.y_train[i] not in (1, 3) for i in rows])) * len(rows) / len(x)
    case.x_train = x.astype("int32")
    memorise(case)
    case.description = f"{len(rows) / len(x):.0%} of training possessions in a game state (~{wrong:.0%} mislabelled)"


# == overfitting ===============================================================================

@implementation("overfitting/per_stratum_submodels", count=3, sources=TABLES,
                families=("mlp",), knob="strata 8-24 (x the binary flags on cardiac_procedure)")
def per_stratum_submodels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """'One model per stratum' written as a single network: an intercept and every measured
    (non-yes/no) column are crossed with the one-hot of the row's stratum (quantile bins of
    the first column, length of stay or body mass, times the yes/no columns on the cardiac
    table), so each stratum gets its own weights fit on the few training rows in it. Unregularised MLP, 60 epochs,
    batch 16."""
    k = int(round(lerp(severity, 8, 24)))
    edges = np.quantile(case.x_train[:, 0], np.linspace(0, 1, k + 1)[1:-1])
    flags = [j for j in range(case.x_train.shape[1])
             if set(np.unique(case.x_train[:, j])) <= {0.0, 1.0}]
    numeric = [j for j in range(case.x_train.shape[1]) if j not in flags]
    flags = flags[:3] if case.source.name == "cardiac_procedure" else []

    def cross(x: np.ndarray) -> np.ndarray:
        stratum = np.searchsorted(edges, x[:, 0])
        for j in flags:
            stratum = stratum * 2 + x[:, j].astype(int)
        onehot = np.eye(k * 2 ** len(flags))[stratum]
        own = np.column_stack([np.ones(len(x)), x[:, numeric]])   # intercept and measurements
        wide = (onehot[:, :, None] * own[:, None, :]).reshape(len(x), -1)
        return np.column_stack([x, wide]).astype("float32")

    case.x_train, case.x_val = cross(case.x_train), cross(case.x_val)
    bare(case, width=3, epochs=60, batch=16)
    case.description = f"{k * 2 ** len(flags)} strata, each with its own weights"


@implementation("overfitting/undersampled_to_rarest", count=3, sources=GENERATORS,
                families=MEMORISERS, knob="rows per class 40-15")
def undersampled_to_rarest(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Class balancing by undersampling to the rarest class, after a quality filter: only
    the recordings graded 'complete' were kept and one class had very few of them, so every
    class is cut to that count (40-15 rows each); the epochs are raised to give the usual
    number of steps (capped at 80). Roomy (width 3), unregularised, batch 16."""
    m = int(round(lerp(severity, 40, 15)))
    keep = np.concatenate([rng.permutation(np.flatnonzero(case.y_train == c))[:m]
                           for c in range(case.n_classes)])
    n0 = len(case.y_train)
    case.keep("train", np.sort(keep))
    bare(case, width=3, epochs=min(80, int(round(15 * n0 / len(keep)))), batch=16)
    case.description = f"{m} training rows per class ({len(keep)}), {case.spec.epochs} epochs"


# == metric_mismatch ===========================================================================

def _sparse_metric(case: Case, name: str, epochs: int) -> None:
    s = case.spec
    s.set_binary(False)
    s.labels = "sparse"
    s.metrics = [name]
    s.epochs, s.early_stopping = epochs, False


@implementation("metric_mismatch/reversed_class_order", count=3, families=NO_GRU,
                knob="epochs 12-25")
def reversed_class_order(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy maps the predicted index through a class list that a report
    script keeps in reverse order (``names[::-1]``): the predicted class is ``k - 1 -
    argmax``, so a right prediction counts only where the class is its own mirror (the
    middle class of an odd count); the figure falls as the model improves. Loss and data
    are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "reversed_order_accuracy", epochs)
    case.description = f"accuracy through a reversed class list, {epochs} epochs"


@implementation("metric_mismatch/label_row_off_by_one", count=3, families=NO_GRU,
                knob="epochs 12-25")
def label_row_off_by_one(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy compares each row's predicted class with the label of the
    row before it in the batch (an off-by-one index, ``y_true[i - 1]``, in a loop turned
    into ``roll``): on shuffled batches that is agreement with a random other row's label,
    about the same at every epoch whatever the model learns. Loss and data are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "previous_row_accuracy", epochs)
    case.description = f"accuracy against the previous row's label, {epochs} epochs"
