"""Fault implementations of the eighth fresh test set (a sixth independent implementation of
every cause), written apart from the corpus's, fresh2's, fresh5's, fresh6's and fresh7's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
an earlier set's registry). Model changes the corpus's ``Spec`` has no field for go into
``case.spec.extra`` and are built by ``benchmarks/fresh8/models.py``.

This file: label_noise, overfitting, metric_mismatch, distribution_shift, pipeline_bug.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh6.faults import one_vs_rest  # the same data helper
from benchmarks.fresh7.faults import continuous_columns  # the same data helper

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")
# tokens_intent's id blocks (see sources._intent): negation 2, actions 3-26, objects 27-38
NEGATION, ACTIONS, OBJECTS, FILLER = 2, (3, 27), (27, 39), 39


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


def memorise(case: Case) -> None:
    """A roomy, unregularised recipe trained long (what lets wrong labels be memorised)."""
    bare(case, width=3, epochs=45, batch=16)


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/rotated_plate", count=3, families=MEMORISERS,
                knob="share of 24-well plates loaded rotated 0.4-0.9")
def rotated_plate(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Lab samples are processed on 24-well plates (consecutive rows of the training file);
    the labels come from the plate map. A share of the plates was put in the reader rotated
    by 180 degrees, so well i of such a plate got the label of well 23 - i: every row of a
    rotated plate carries the label of another (random) sample of the same plate."""
    share = lerp(severity, 0.4, 0.9)
    shrink_train(case, 720, rng)
    y0 = case.y_train.copy()
    y = y0.copy()
    starts = np.arange(0, len(y) - 23, 24)
    rotated = starts[rng.random(len(starts)) < share]
    for s in rotated:
        y[s:s + 24] = y0[s:s + 24][::-1]
    case.y_train = y
    memorise(case)
    case.description = (f"{len(rotated)} of {len(starts)} plates rotated "
                        f"({(y != y0).mean():.0%} of training labels wrong)")


@implementation("label_noise/recycled_key_join", count=3, families=MEMORISERS,
                knob="share of training rows under a recycled key 0.5-1.0")
def recycled_key_join(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Labels joined to the training records on a record key that the source system
    recycled (groups of 2-6 unrelated records share a key); the label table was
    de-duplicated on the key (``drop_duplicates(keep='first')``) before the join, so every
    record of a recycled key got the label of the key's first record."""
    share = lerp(severity, 0.5, 1.0)
    shrink_train(case, 720, rng)
    y0 = case.y_train.copy()
    y = y0.copy()
    rows = rng.permutation(np.flatnonzero(rng.random(len(y)) < share))
    at = 0
    while at < len(rows) - 1:
        size = int(rng.integers(2, 7))
        group = rows[at:at + size]
        y[group] = y0[group[0]]
        at += size
    case.y_train = y
    memorise(case)
    case.description = (f"{len(rows)} training rows under recycled keys "
                        f"({(y != y0).mean():.0%} of training labels wrong)")


# == overfitting ===============================================================================

@implementation("overfitting/rbf_features", count=3, layouts=("vector",),
                families=("linear", "mlp"), knob="training rows 400-150; RBF gamma 2-6 / d")
def rbf_features(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A kernel trick by hand: the standardised table is expanded with
    ``RBFSampler(gamma, n_components=1500)`` (random Fourier features) with a bandwidth far
    too narrow for the few hundred training rows, then fed to a linear or small network
    model: every training row gets its own direction in feature space and is memorised.
    The sampler is fitted on the training rows and applied to validation correctly."""
    n = int(lerp(severity, 400, 150))
    shrink_train(case, n, rng)
    factor = lerp(severity, 2.0, 6.0)

    def expand(c: Case) -> None:
        from sklearn.kernel_approximation import RBFSampler

        sampler = RBFSampler(gamma=factor / c.x_train.shape[1], n_components=1500,
                             random_state=c.seed).fit(c.x_train)
        c.x_train = sampler.transform(c.x_train).astype("float32") * 10
        c.x_val = sampler.transform(c.x_val).astype("float32") * 10

    case.post.append(expand)
    bare(case, width=3, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"1500 RBF features (gamma {factor:.1f}/d) on {len(case.y_train)} rows"


@implementation("overfitting/subject_recordings", count=3, layouts=("vector", "image", "signal"),
                families=MEMORISERS, knob="subjects 60-20 (10 recordings each)")
def subject_recordings(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Pseudo-replication: the training set holds 10 recordings of each of a few subjects
    (units, patients, machines); each subject has a strong personal signature (a fixed
    random offset pattern) and each recording adds measurement noise. The validation set is
    recordings of other subjects of the same population (one each, same signature and noise
    scale). The network keys on the subjects' signatures instead of the class evidence."""
    subjects = int(round(lerp(severity, 60, 20)))
    spread = case.x_train.reshape(len(case.x_train), -1).astype(float).std(0) + 1e-6
    shape = case.x_train.shape[1:]
    spread = spread.reshape(shape)
    base = rng.permutation(len(case.y_train))[:subjects]
    sig = rng.normal(0, 0.6, (subjects, *shape)) * spread
    xs = [case.x_train[b] + sig[k] + rng.normal(0, 0.25, (10, *shape)) * spread
          for k, b in enumerate(base)]
    case.x_train = np.concatenate(xs).astype("float32")
    case.y_train = np.repeat(case.y_train[base], 10).astype("int64")
    nv = len(case.y_val)
    case.x_val = (case.x_val + rng.normal(0, 0.6, (nv, *shape)) * spread
                  + rng.normal(0, 0.25, (nv, *shape)) * spread).astype("float32")
    bare(case, width=3, epochs=50, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"{subjects} training subjects x 10 recordings; validation: new subjects"


# == metric_mismatch ===========================================================================

@implementation("metric_mismatch/argmax_single_logit", count=3, families=NO_GRU,
                knob="positive share 45 %-20 %")
def argmax_single_logit(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A binary detector with one sigmoid output monitored by
    ``'sparse_categorical_accuracy'`` (kept from the multi-class version of the project):
    the argmax over a single output unit is always 0, so the metric is the share of
    negatives whatever the model learns."""
    share = lerp(severity, 0.45, 0.20)
    if case.n_classes > 2:
        one_vs_rest(case, int(rng.integers(case.n_classes)), share, rng)
    case.spec.set_binary(True)
    case.spec.class_weight = False
    case.spec.metrics = ["sparse_categorical_accuracy"]
    pos = float(np.mean(case.y_train == 1))
    case.description = (f"{case.class_names[1]} vs rest ({pos:.0%} positive), sigmoid output "
                        "monitored by sparse_categorical_accuracy")


@implementation("metric_mismatch/categorical_on_sparse", count=3, families=NO_GRU,
                classes="multi", knob="epochs 10-25")
def categorical_on_sparse(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``metrics=['categorical_accuracy']`` with integer (sparse) labels and
    ``sparse_categorical_crossentropy``: the metric takes the argmax of each integer label
    as if it were a one-hot row, so it compares the predictions with nonsense and stays
    low while the loss improves."""
    s = case.spec
    s.labels, s.output = "sparse", "softmax"
    s.metrics = ["categorical_accuracy"]
    s.epochs = int(round(lerp(severity, 10, 25)))
    s.early_stopping = False
    case.description = f"categorical_accuracy on sparse labels, {s.epochs} epochs"


# == distribution_shift: validation inputs from another distribution ==========================

@implementation("distribution_shift/inflation", count=2, sources=("fishing_mode",),
                knob="price/income inflation 25 %-100 %")
def inflation(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation collected years later: every money-valued column (the four trip prices
    and the income, its log shifted accordingly) is inflated by the same factor; the
    anglers' relative prices, and so their choices, are unchanged."""
    g = lerp(severity, 0.25, 1.0)
    x = case.x_val.astype("float32").copy()
    x[:, [0, 1, 2, 3, 9]] *= 1 + g
    x[:, 8] += np.log1p(g)
    case.x_val = x
    case.description = f"validation prices and income inflated by {g:.0%}"


@implementation("distribution_shift/capture_change", count=2, layouts=("image", "signal"),
                knob="vignetting 0.4-0.9 / machine speed x1/1.2-1/1.7")
def capture_change(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation captured with other equipment: images through a cheaper lens with strong
    vignetting (brightness falling off towards the corners); vibration recorded on machines
    running slower (every trace stretched in time, frequency ratios kept)."""
    x = case.x_val.astype("float32").copy()
    if case.layout == "image":
        v = lerp(severity, 0.4, 0.9)
        h, w = x.shape[1:3]
        rr, cc = np.mgrid[0:h, 0:w]
        r = np.hypot(rr - (h - 1) / 2, cc - (w - 1) / 2) / np.hypot(h / 2, w / 2)
        x *= (1 - v * r ** 2)[None, :, :, None]
        case.description = f"validation images with vignetting {v:.2f}"
    else:
        f = lerp(severity, 1.2, 1.7)
        n = x.shape[1]
        t = np.arange(n) / f
        x = np.stack([np.interp(t, np.arange(n), row[:, 0]) for row in x])[..., None]
        case.description = f"validation machines {f:.2f} times slower"
    case.x_val = x.astype("float32")


@implementation("distribution_shift/negation_heavy", count=2, sources=("tokens_intent",),
                knob="extra negated mentions per validation command 1-3")
def negation_heavy(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation commands from users who phrase by exclusion ("not the lights, not the
    radio, the heating"): 1-3 more negated mentions of other actions per command, written
    over filler words; the command's action and object are untouched."""
    extra_pairs = int(round(lerp(severity, 1, 3)))
    x = case.x_val.copy()
    for i, y in enumerate(case.y_val):
        action = int(y) // 2
        free = [j for j in range(x.shape[1] - 1) if x[i, j] >= FILLER and x[i, j + 1] >= FILLER]
        for j in rng.permutation(free)[:extra_pairs]:
            if x[i, j] >= FILLER and x[i, j + 1] >= FILLER:
                other = (action + int(rng.integers(1, 4))) % 4
                x[i, j], x[i, j + 1] = NEGATION, ACTIONS[0] + 6 * other + int(rng.integers(6))
    case.x_val = x.astype("int32")
    case.description = f"{extra_pairs} extra negated mentions per validation command"


# == pipeline_bug: the validation path only ===================================================

@implementation("pipeline_bug/early_clip", count=2, layouts=("vector", "signal"),
                knob="share of validation columns/files clipped 0.5-1.0")
def early_clip(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader applies ``np.clip(x, 0, 1)`` (a safety clip meant for scaled
    inputs) to the raw values, before the scaler: raw columns of larger range collapse to
    0/1 (tables: a share of the continuous columns; signals in ADC counts: a share of the
    files become flat)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.astype("float32").copy()
    if case.layout == "vector":
        cols = continuous_columns(case.x_train)
        hit = cols[rng.random(len(cols)) < share] if len(cols) else cols
        hit = hit if len(hit) else cols[:1]
        x[:, hit] = np.clip(x[:, hit], 0, 1)
        case.description = f"{len(hit)} of {len(cols)} raw validation columns clipped to [0, 1]"
    else:
        rows = rng.random(len(x)) < share
        x[rows] = np.clip(x[rows], 0, 1)
        case.description = f"{rows.mean():.0%} of raw validation signals clipped to [0, 1]"
    case.x_val = x


@implementation("pipeline_bug/row_stride", count=2, layouts=("image",),
                knob="share of validation files 0.5-1.0")
def row_stride(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation images are decoded from raw buffers whose rows are padded to a pitch
    one pixel wider (17 values per 16-pixel row), but the reader assumes the tight pitch:
    each row starts one value later than the last, so the image is sheared and wraps."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.astype("float32").copy()
    h, w = x.shape[1:3]
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        padded = np.concatenate([x[i, :, :, 0], np.zeros((h, 1), "float32")], 1).ravel()
        x[i, :, :, 0] = padded[:h * w].reshape(h, w)
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation images read with a wrong row pitch"


@implementation("pipeline_bug/binary_cast_labels", count=2, classes="multi",
                knob="share of validation files 0.5-1.0")
def binary_cast_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation label loader was written for the project's first, binary version
    (``label = bool(row['label'])``): every class id above 0 reads as 1 in the affected
    validation files (training labels are loaded by the new code)."""
    share = lerp(severity, 0.5, 1.0)
    rows = rng.random(len(case.y_val)) < share
    y = case.y_val.copy()
    y[rows] = (y[rows] > 0).astype("int64")
    changed = float(np.mean(y != case.y_val))
    case.y_val = y
    case.description = f"{rows.mean():.0%} of validation labels cast to bool ({changed:.0%} changed)"
