"""overfitting, small_validation_set and metric_saturation: faults of the set-up (data size,
capacity, training length), not of the code."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import EASY, NO_GRU, features, implementation, lerp


def _per_class(y: np.ndarray, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    rows = [rng.permutation(np.flatnonzero(y == c))[:n] for c in range(k)]
    return np.sort(np.concatenate(rows))


def _unregularised(case: Case, width: int, epochs: int) -> None:
    s = case.spec
    s.width, s.depth, s.epochs = width, max(s.depth, 2), epochs
    s.dropout, s.batchnorm, s.early_stopping = 0.0, False, False
    s.schedule = "constant" if s.schedule == "plateau" else s.schedule
    s.batch_size = min(s.batch_size, 16)


# -- overfitting ---------------------------------------------------------------------------
# (token and linear models generalise from a few dozen samples: no overfitting)
@implementation("overfitting/few_samples", count=10, exclude=EASY,
                families=("mlp", "cnn2d", "cnn1d"),
                knob="training samples per class 30-6 (40-60 epochs)")
def few_samples(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Few training samples per class for a wide, unregularised model trained long."""
    n = int(round(lerp(severity, 30, 6)))
    case.keep("train", _per_class(case.y_train, case.n_classes, n, rng))
    _unregularised(case, 4, int(lerp(severity, 40, 60)))
    case.description = f"{n} training samples per class, wide model, no regularisation"


@implementation("overfitting/irrelevant_features", count=9, layouts=("vector",),
                families=("mlp", "linear"), exclude=EASY, knob="noise features 40-400")
def irrelevant_features(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Many irrelevant (pure noise) input columns next to few training rows."""
    m = int(round(lerp(severity, 40, 400)))
    case.keep("train", _per_class(case.y_train, case.n_classes, 40, rng))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}")
        setattr(case, f"x_{part}", np.column_stack([x, rng.normal(0, 1, (len(x), m))])
                .astype("float32"))
    _unregularised(case, 3, 50)
    case.description = f"{m} pure-noise columns added; 40 training rows per class"


# (convolutional models did not overfit 500 samples in 80 epochs: MLPs only)
@implementation("overfitting/long_training", count=9, exclude=EASY, families=("mlp",),
                knob="epochs 40-80 on 35 % of the data (at most 400 rows)")
def long_training(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A moderate training set, a big model and far too many epochs without any
    regularisation or early stopping."""
    n = max(60, min(400, int(0.35 * len(case.y_train))))
    case.keep("train", rng.permutation(len(case.y_train))[:n])
    _unregularised(case, 4, int(lerp(severity, 40, 80)))
    case.spec.lr = max(case.spec.lr, 2e-3) if case.spec.optimizer != "sgd" else case.spec.lr
    case.description = f"{n} training samples, big model, {case.spec.epochs} epochs"


# -- small validation set ------------------------------------------------------------------
@implementation("small_validation_set/random", count=12, knob="validation samples 60-10")
def small_random(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A validation set of 10-60 random rows."""
    n = int(round(lerp(severity, 60, 10)))
    case.keep("val", rng.permutation(len(case.y_val))[:n])
    case.description = f"only {n} validation samples"


@implementation("small_validation_set/per_class", count=12, knob="validation total 60-12, "
                "stratified")
def small_per_class(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A stratified validation set of a few samples per class (total 12-60)."""
    total = lerp(severity, 60, 12)
    n = max(1, int(total // case.n_classes))
    case.keep("val", _per_class(case.y_val, case.n_classes, n, rng))
    case.description = f"{n} validation samples per class ({len(case.y_val)} in all)"


# -- metric saturation ---------------------------------------------------------------------
def _long(case: Case, severity: float) -> None:
    s = case.spec
    s.epochs, s.early_stopping = int(lerp(severity, 30, 70)), False
    s.class_weight = False


@implementation("metric_saturation/easy_long", count=8, families=NO_GRU,
                sources=("blobs_k4", "penguins", "tokens_motif"),
                knob="epochs 30-70")
def easy_long(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An easily separable problem trained far past the point where validation accuracy
    hits its ceiling."""
    _long(case, severity)
    case.description = f"easy problem trained {case.spec.epochs} epochs"


@implementation("metric_saturation/easy_pair", count=9, knob="epochs 30-70", families=NO_GRU,
                sources=("digits", "waves", "pulses", "tokens_motif", "penguins", "wine",
                         "textures16"))
def easy_pair(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The two most separable classes of a harder source, trained far past the ceiling."""
    f = features(case, case.x_train)
    means = np.stack([f[case.y_train == c].mean(0) for c in range(case.n_classes)])
    spread = f.std(0).mean() + 1e-6
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1) / spread
    a, b = np.unravel_index(np.argmax(dist), dist.shape)
    case.relabel(sorted([int(a), int(b)]))
    _long(case, severity)
    case.description = (f"classes {case.class_names} only (the most separable pair), "
                        f"{case.spec.epochs} epochs")


@implementation("metric_saturation/planted_signal", count=8, knob="epochs 30-70",
                families=NO_GRU)
def planted_signal(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A strong class code planted in the inputs of both splits (a trivial problem), trained
    far past the ceiling."""
    # the code's scale comes from the clean training inputs, once: read again after the
    # training split is planted, it grew, and validation got a larger code than training
    # (a real input shift, not saturation; fixed 2026-11-26)
    std_cols, std_all = case.x_train.std(0), float(case.x_train.std())
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}").copy(), getattr(case, f"y_{part}")
        if case.layout == "tokens":
            x[:, :3] = (1 + y)[:, None]                 # class token ids 1..K, reserved
        elif case.layout == "vector":
            k = min(case.n_classes, x.shape[1])
            std = std_cols[:k]
            x[:, :k] += 5 * std * np.eye(case.n_classes)[y][:, :k]
        else:
            flat = x.reshape(len(x), -1)
            width = flat.shape[1] // case.n_classes
            std = std_all
            for c in range(case.n_classes):
                rows = y == c
                flat[np.ix_(rows, np.arange(c * width, c * width + min(width, 12)))] += 3 * std
            x = flat.reshape(x.shape)
        setattr(case, f"x_{part}", x.astype(case.x_train.dtype))
    _long(case, severity)
    case.description = f"class code planted in the inputs; {case.spec.epochs} epochs"
