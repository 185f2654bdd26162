"""Fault implementations of the twelfth fresh test set (a tenth independent implementation
of every cause), written apart from the corpus's and fresh2's to fresh11's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh12/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper
from benchmarks.fresh12.sources import CLASS_NAMES

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/lot_majority_label", count=3, families=MEMORISERS,
                knob="share of lots labelled per lot 0.3-0.9 (lots of 6 rows)")
def lot_majority_label(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Labels entered per lot: the training rows arrived in lots of 6 (a wafer lot, a crawl
    log file, a survey interviewer's sheet: consecutive rows of the training file), and
    for a share of the lots the reviewer entered one label per lot, the lot's dominant
    class, for every row of it (the other lots were labelled row by row). Validation rows
    were labelled one by one. Roomy unregularised model, 45 epochs, 720 training rows."""
    share, size = lerp(severity, 0.3, 0.9), 6
    shrink_train(case, 720, rng)
    y = case.y_train.copy()
    lots = range(0, len(y), size)
    per_lot = rng.random(len(lots)) < share
    for start, bulk in zip(lots, per_lot, strict=True):
        if bulk:
            counts = np.bincount(case.y_train[start:start + size], minlength=case.n_classes)
            y[start:start + size] = int(np.argmax(counts))   # ties: the lowest class id
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = (f"{per_lot.mean():.0%} of lots of {size} labelled per lot "
                        f"({wrong:.0%} of labels wrong)")


@implementation("label_noise/old_taxonomy_dump", count=2, families=MEMORISERS,
                knob="share of training rows from the old dump 0.2-0.45")
def old_taxonomy_dump(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Part of the training labels come from a database dump made before the class ids
    were renumbered: the old ids were the classes in alphabetical order of their names,
    the new ones the project's order. The dump's rows were appended without translating
    their ids, so they carry the id of another class (wherever the two orders differ).
    Validation rows come from the current database. Roomy unregularised model, 45 epochs,
    720 training rows."""
    share = lerp(severity, 0.2, 0.45)
    names = CLASS_NAMES.get(case.source.name, case.class_names)
    old_id = {i: sorted(names).index(name) for i, name in enumerate(names)}
    shrink_train(case, 720, rng)
    dump = rng.random(len(case.y_train)) < share
    y = case.y_train.copy()
    y[dump] = [old_id[int(c)] for c in y[dump]]
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y
    memorise(case)
    case.description = f"{dump.mean():.0%} of training rows with pre-renumbering ids ({wrong:.0%} wrong)"


# == overfitting ===============================================================================

def _whiten(case: Case) -> None:
    """PCA whitening fit on the training rows with no epsilon: every principal direction,
    down to the smallest, scaled to unit variance (post-preprocessing hook)."""
    shape = case.x_train.shape[1:]
    xt = case.x_train.reshape(len(case.x_train), -1).astype("float64")
    mean = xt.mean(0)
    cov = np.cov(xt - mean, rowvar=False)
    evals, evecs = np.linalg.eigh(cov)
    w = evecs / np.sqrt(np.maximum(evals, 1e-12))      # the float floor only
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").reshape(len(getattr(case, f"x_{part}")), -1)
        setattr(case, f"x_{part}", ((x - mean) @ w).reshape((-1, *shape)).astype("float32"))


@implementation("overfitting/whitening_without_epsilon", count=3,
                sources=("wafer16", "raman_polymer"), families=("mlp",),
                knob="training rows 700-350 (256 input dimensions)")
def whitening_without_epsilon(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The inputs are PCA-whitened (ZCA-style decorrelation) with the transform fit on the
    training rows and no epsilon: the last principal directions, which hold noise and
    sampling error of a few hundred rows in 256 dimensions, are blown up to unit variance
    like the real ones, and an unregularised MLP (50 epochs) fits the training rows
    through them. The same transform is applied to validation (a correct pipeline)."""
    shrink_train(case, int(lerp(severity, 700, 350)), rng)
    bare(case, width=2, epochs=50, batch=32)
    case.post.append(_whiten)
    case.description = f"PCA whitening without epsilon fit on {len(case.y_train)} training rows"


@implementation("overfitting/reseeded_balanced_sampler", count=3, families=MEMORISERS,
                knob="rows per class 40-12")
def reseeded_balanced_sampler(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A class-balanced sampler draws k rows per class for each epoch, but it re-creates
    its generator from the same seed in ``__iter__``, so every epoch gets the very same
    k rows per class: the model only ever sees a small fixed subset (roomy unregularised
    model, 60 epochs, batch 16) and fits it."""
    k = int(round(lerp(severity, 40, 12)))
    rows = np.concatenate([rng.permutation(np.flatnonzero(case.y_train == c))[:k]
                           for c in range(case.n_classes)])
    case.keep("train", np.sort(rows))
    bare(case, width=3, epochs=60, batch=16)
    case.description = f"the same {k} rows per class every epoch ({len(rows)} rows)"


# == metric_mismatch ===========================================================================

@implementation("metric_mismatch/ascending_sort_mrr", count=3, families=NO_GRU,
                knob="epochs 10-25")
def ascending_sort_mrr(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The project reports a mean reciprocal rank (from a retrieval code base) whose
    ranking uses ``argsort`` of the scores without reversing it: rank 1 is the class with
    the lowest score, so the better the model, the lower the reported figure."""
    s = case.spec
    s.metrics = ["ascending_mrr"]
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"MRR with an ascending ranking as the metric, {s.epochs} epochs"


@implementation("metric_mismatch/imagenet_num_classes_macro", count=3, families=NO_GRU,
                knob="epochs 10-25")
def imagenet_num_classes_macro(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A macro-averaged recall metric copied from an ImageNet script keeps its
    ``num_classes=1000``: the recalls of the few real classes are summed and divided by
    1000, so the reported figure stays within a few thousandths whatever the model does."""
    s = case.spec
    s.metrics = ["macro_recall_1000"]
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False
    case.description = f"macro recall over num_classes=1000 as the metric, {s.epochs} epochs"
