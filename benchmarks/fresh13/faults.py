"""Fault implementations of the thirteenth fresh test set (an eleventh independent
implementation of every cause), written apart from the corpus's and fresh2's to fresh12's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` and ``faults3.py`` register the rest into the same dict;
nothing goes into an earlier set's registry). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh13/models.py``.

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
TABLES = ("carseats_shelf", "aids_status")

implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/dedup_min_label", count=3, families=MEMORISERS,
                knob="second reader's error rate 0.4-0.9")
def dedup_min_label(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Every training row was labelled twice, by the expert and by a trainee in a quick
    second pass (a uniformly drawn wrong class at rate ``r``), to measure agreement. The
    export then de-duplicated the two label rows per record with
    ``groupby('record_id').label.min()`` (meant: keep the expert's), so wherever the two
    disagree the lower class id wins. Validation rows were labelled by the expert only.
    Roomy unregularised model, 45 epochs, 720 training rows (fresh8's ``memorise``)."""
    r = lerp(severity, 0.4, 0.9)
    shrink_train(case, 720, rng)
    k = case.n_classes
    trainee = case.y_train.copy()
    err = rng.random(len(trainee)) < r
    trainee[err] = (trainee[err] + rng.integers(1, k, int(err.sum()))) % k
    y = np.minimum(case.y_train, trainee)
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y.astype("int64")
    memorise(case)
    case.description = f"labels = min(expert, trainee at error {r:.0%}) ({wrong:.0%} wrong)"


def _other_quantity(case: Case, x: np.ndarray) -> np.ndarray:
    """The quantity another column of the export holds, per row: a table's price / age
    column, an image's total deposit, a signal's RMS amplitude, a recipe's length."""
    name = case.source.name
    if name == "carseats_shelf":
        return x[:, 5]          # Price
    if name == "aids_status":
        return x[:, 1]          # age
    if case.layout == "tokens":
        return (x > 0).sum(1).astype(float)
    flat = x.reshape(len(x), -1).astype(float)
    return flat.sum(1) if case.layout == "image" else flat.std(1)


@implementation("label_noise/wrong_column_export", count=3, families=MEMORISERS,
                knob="share of training rows from the faulty export 0.25-0.55")
def wrong_column_export(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training labels come from several sites' exports; one site's export script wrote
    the wrong column into the label field: a banded quantity of the record (price band,
    age band, energy band, amplitude band, length band) coded 0..K-1 like the classes, so
    its rows carry a 'class' that follows that quantity, not the true class. Validation
    comes from the other sites. Roomy unregularised model, 45 epochs, 720 training rows."""
    share = lerp(severity, 0.25, 0.55)
    shrink_train(case, 720, rng)
    q = _other_quantity(case, case.x_train)
    k = case.n_classes
    cuts = np.quantile(q, np.linspace(0, 1, k + 1)[1:-1])
    band = np.searchsorted(cuts, q + rng.normal(0, 1e-9, len(q)))
    site = rng.random(len(q)) < share
    y = case.y_train.copy()
    y[site] = band[site]
    wrong = float(np.mean(y != case.y_train))
    case.y_train = y.astype("int64")
    memorise(case)
    case.description = f"{site.mean():.0%} of training rows labelled with a banded column ({wrong:.0%} wrong)"


# == overfitting ===============================================================================

@implementation("overfitting/selectkbest_many_candidates", count=3, sources=TABLES,
                families=("mlp",), knob="training rows 320-140")
def selectkbest_many_candidates(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An automated feature factory joined 2,000 candidate columns to the table (pairwise
    products and ratios of the fields, and many fields of other tables of the warehouse that
    have nothing to do with the target); ``SelectKBest(f_classif, k=60)`` fit on the few
    hundred training rows keeps the 60 that best separate the training classes, most of
    them noise columns that happen to correlate in this sample. The selection is done on
    training rows only and applied to validation (a correct pipeline); an unregularised
    MLP, 60 epochs."""
    from sklearn.feature_selection import SelectKBest, f_classif

    shrink_train(case, int(lerp(severity, 320, 140)), rng)
    d = case.x_train.shape[1]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    sel = [pairs[i] for i in rng.permutation(len(pairs))[:100]]
    scale = case.x_train.std(0) + 1e-6
    n_noise = 2000 - 2 * len(sel)

    def candidates(x: np.ndarray) -> np.ndarray:
        z = x / scale
        prod = np.stack([z[:, i] * z[:, j] for i, j in sel], 1)
        ratio = np.stack([z[:, i] / (np.abs(z[:, j]) + 0.5) for i, j in sel], 1)
        other = rng.normal(0, 1, (len(x), n_noise)) * rng.uniform(0.5, 3, n_noise)
        return np.column_stack([prod, ratio, other])

    ct, cv = candidates(case.x_train), candidates(case.x_val)
    pick = SelectKBest(f_classif, k=60).fit(ct, case.y_train).get_support()
    case.x_train = np.column_stack([case.x_train, ct[:, pick]]).astype("float32")
    case.x_val = np.column_stack([case.x_val, cv[:, pick]]).astype("float32")
    bare(case, width=2, epochs=60, batch=16)
    noise = int(pick[2 * len(sel):].sum())
    case.description = (f"60 of 2,000 candidate columns chosen on {len(case.y_train)} "
                        f"training rows ({noise} unrelated)")


@implementation("overfitting/full_length_kernel", count=3, sources=("calo16", "eeg_sleep"),
                families=("cnn2d", "cnn1d"), knob="training rows 500-200")
def full_length_kernel(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The first convolution's ``kernel_size`` was set to the input length (16 x 16 pixels,
    256 samples: 'let each filter see the whole window', from a recipe written for 8-sample
    windows): every filter is a full-size template at every position, thousands of free
    weights per filter, and an unregularised network (50 epochs) fits the few hundred
    training rows with them."""
    shrink_train(case, int(lerp(severity, 500, 200)), rng)
    bare(case, epochs=50, batch=16)
    case.spec.width = max(case.spec.width, 2)
    extra(case)["full_kernel"] = True
    case.description = f"first conv kernel = input length, {len(case.y_train)} training rows"


# == metric_mismatch ===========================================================================

def _sparse_metric(case: Case, name: str, epochs: int) -> None:
    s = case.spec
    s.set_binary(False)
    s.labels = "sparse"
    s.metrics = [name]
    s.epochs, s.early_stopping = epochs, False


@implementation("metric_mismatch/one_based_metric", count=3, families=NO_GRU,
                knob="epochs 12-25")
def one_based_metric(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The accuracy metric comes from the project's older code base, whose label files were
    1-based: it compares the (0-based) predicted class with ``label - 1``. The loss and the
    data use the right labels; only the reported figure counts a hit when the model
    predicts the class just below the true one."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "one_based_accuracy", epochs)
    case.description = f"accuracy against label - 1 (1-based metric code), {epochs} epochs"


@implementation("metric_mismatch/broadcast_label_column", count=3, families=NO_GRU,
                knob="epochs 12-25")
def broadcast_label_column(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hand-written accuracy takes the labels as a column ``(n, 1)`` (``df[['label']]``)
    and compares them with the predicted classes ``(n,)``: the comparison broadcasts to an
    ``(n, n)`` matrix, so the figure is the share of (row, row) pairs whose label equals the
    other row's prediction, which depends on the class mix of the predictions, not on
    whether each row is right."""
    epochs = int(round(lerp(severity, 12, 25)))
    _sparse_metric(case, "pairwise_accuracy", epochs)
    case.description = f"accuracy broadcast over (label, prediction) pairs, {epochs} epochs"
