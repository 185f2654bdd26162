"""Fault implementations of the sixteenth fresh test set (a fourteenth independent
implementation of every cause), written apart from the corpus's and fresh2's to fresh15's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh16/models.py``.

This file: label_noise, overfitting, metric_mismatch.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper
from benchmarks.fresh16.sources import ID_BASE, ID_SLOTS, RODENTS, TABLES

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/autocomplete_species_code", count=3, sources=("portal_rodent",),
                families=("mlp",), knob="share of records entered on the tablet 0.35-0.8")
def autocomplete_species_code(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the training season's captures were entered on a new tablet form whose
    species field autocompletes on the first letter and fills the first code of that
    letter in alphabetical order: every 'D' record (Ord's and banner-tailed kangaroo rats,
    DO / DS) is saved as Merriam's (DM), every 'O' record (southern grasshopper mouse, OT)
    as the northern one (OL); the codes with a letter of their own are right. The
    validation captures were entered on paper and keyed twice. Roomy unregularised model,
    45 epochs, 720 training rows (fresh8's ``memorise``)."""
    share = lerp(severity, 0.35, 0.8)
    shrink_train(case, 720, rng)
    first = {}
    for i, code in enumerate(RODENTS):
        first.setdefault(code[0], i)
    fill = np.array([first[code[0]] for code in RODENTS])
    y = case.y_train.copy()
    tablet = rng.random(len(y)) < share
    y[tablet] = fill[y[tablet]]
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y.astype("int64")
    memorise(case)
    case.description = f"{tablet.mean():.0%} of training records autocompleted ({wrong:.0%} wrong)"


# what a wrongly matched catalogue neighbour usually is (most stars are quiet spotted ones)
FIELD_MIX = np.array([0.55, 0.04, 0.16, 0.15, 0.10])


@implementation("label_noise/crossmatch_radius", count=3, sources=("lightcurve",),
                families=("mlp", "cnn1d"), knob="share of targets in crowded fields 0.25-0.55")
def crossmatch_radius(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training labels come from a variable-star catalogue joined to the targets by
    sky position with a 20-arcsec match radius (meant: 2 arcsec); in crowded fields the
    nearest catalogue entry is often a neighbour, and the target gets the neighbour's
    class (drawn from the catalogue's make-up, mostly quiet spotted stars). The validation
    targets were vetted by eye. Roomy unregularised model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.25, 0.55)
    shrink_train(case, 720, rng)
    y = case.y_train.copy()
    crowded = rng.random(len(y)) < share
    y[crowded] = rng.choice(len(FIELD_MIX), int(crowded.sum()), p=FIELD_MIX)
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y.astype("int64")
    memorise(case)
    case.description = f"{crowded.mean():.0%} of training targets matched in crowded fields ({wrong:.0%} wrong)"


# == overfitting ===============================================================================

@implementation("overfitting/join_fanout", count=3, sources=TABLES, families=("mlp",),
                knob="largest fan-out 8-40 copies")
def join_fanout(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training extract (400 records) was merged with a per-site calibration table
    that was supposed to hold one row per site but holds one per calibration visit, a
    many-to-one join turned many-to-many: every record is repeated once per visit of its
    site (1 to 8-40 copies, most sites few, some many), so the training set looks ten
    times bigger than the 400 records it holds and a few sites' records dominate it.
    Roomy (width 3), unregularised, 30 epochs."""
    top = int(round(lerp(severity, 8, 40)))
    shrink_train(case, 400, rng)
    sites = rng.integers(0, 25, len(case.y_train))
    visits = np.minimum(top, 1 + rng.geometric(0.25, 25) * (rng.random(25) < 0.3) * top // 4
                        + rng.integers(0, 3, 25))
    rows = np.repeat(np.arange(len(case.y_train)), visits[sites])
    case.keep("train", rng.permutation(rows))
    bare(case, width=3, epochs=30, batch=32)
    case.description = f"400 records fanned out to {len(rows)} rows (up to {int(visits.max())} copies)"


@implementation("overfitting/identifier_tokens_kept", count=3, sources=("tokens_commit",),
                families=("embed",), knob="training commits 900-400")
def identifier_tokens_kept(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The commit tokenizer was configured with ``strip_identifiers=False``: each
    training commit keeps its pull request's issue reference (``#1234``) as a token of its
    own. A pull request's 2-6 commits are of one change type, so every issue token points
    to one class; the validation commits belong to later pull requests, whose references
    are not in the vocabulary (unknown id 1). A roomy unregularised embedding model (45
    epochs) learns the issue numbers."""
    n = int(round(lerp(severity, 900, 400)))
    shrink_train(case, n, rng)
    order = np.argsort(case.y_train, kind="stable")
    x = case.x_train.copy()
    start, pr = 0, 0
    while start < len(order):
        size = int(rng.integers(2, 7))
        group = order[start:start + size]
        group = group[case.y_train[group] == case.y_train[group[0]]]
        start += len(group)
        token = ID_BASE + pr % ID_SLOTS
        pr += 1
        for i in group:
            x[i] = np.concatenate([[token], x[i][:-1]])
    case.x_train = x.astype("int32")
    xv = case.x_val.copy()
    case.x_val = np.concatenate([np.ones((len(xv), 1), "int32"), xv[:, :-1]], 1).astype("int32")
    memorise(case)
    case.description = f"{pr} issue tokens on {len(case.y_train)} training commits"


# == metric_mismatch ===========================================================================

def _sparse_metric(case: Case, name: str, epochs: int) -> None:
    s = case.spec
    s.set_binary(False)
    s.labels = "sparse"
    s.metrics = [name]
    s.epochs, s.early_stopping = epochs, False


@implementation("metric_mismatch/second_choice_accuracy", count=3, families=NO_GRU,
                knob="epochs 12-25")
def second_choice_accuracy(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written 'top-2 accuracy' takes the second column of the descending sort
    (``argsort(p)[:, -2]``) instead of the first two: it counts a row right when its
    runner-up class is the label, which happens less and less as the model learns (on a
    binary task it is 1 - accuracy). Loss and data are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "second_choice_accuracy", epochs)
    case.description = f"accuracy of the runner-up class, {epochs} epochs"


@implementation("metric_mismatch/argmax_batch_axis", count=3, families=NO_GRU,
                knob="epochs 12-25")
def argmax_batch_axis(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy takes ``argmax(y_pred, axis=0)`` (over the batch) where
    ``axis=-1`` was meant, and compares the k winning row indices with the first k labels
    of the batch: a number that has nothing to do with how well the model predicts, about
    flat whatever the model learns. Loss and data are right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "batch_axis_accuracy", epochs)
    case.description = f"accuracy with argmax over the batch axis, {epochs} epochs"
