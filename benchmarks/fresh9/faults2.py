"""Fault implementations of the ninth fresh test set, part 2: optimization,
small_validation_set, subgroup_underfitting, metric_saturation and healthy runs. They
register into ``benchmarks.fresh9.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh9.faults import NO_GRU, implementation
from benchmarks.fresh9.sources import COUNTS_PER_G, FIELDS, PITCH_TYPES, RATE

# == optimization: data, labels and model intact, the updates spoiled =======================

@implementation("optimization/max_norm_tiny", count=3, families=NO_GRU,
                knob="MaxNorm 0.05-0.01")
def max_norm_tiny(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``kernel_constraint=MaxNorm(c)`` on every Dense/Conv layer with c written as a
    per-weight bound (0.01-0.05) although MaxNorm bounds the norm of each unit's whole
    incoming weight vector (a norm of 2-4 was meant): after every update the optimiser
    projects the kernels back into a tiny ball, so the outputs can hardly leave the prior."""
    c = float(10 ** lerp(severity, np.log10(0.05), np.log10(0.01)))
    plain(case)
    case.spec.optimizer, case.spec.lr = "adam", 1e-3
    extra(case)["max_norm"] = c
    case.description = f"MaxNorm({c:.3f}) on every kernel"


@implementation("optimization/keep_prob_as_rate", count=3,
                families=("mlp", "cnn2d", "cnn1d", "embed"), knob="dropout rate 0.8-0.95")
def keep_prob_as_rate(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A TensorFlow 1 recipe's ``keep_prob`` (0.8-0.95) ported to Keras as
    ``Dropout(rate=keep_prob)``: 80-95 % of the hidden units are dropped at every training
    step, so the gradient signal is mostly noise and the network barely fits."""
    rate = lerp(severity, 0.8, 0.95)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.dropout, s.depth = "adam", 1e-3, rate, max(s.depth, 2)
    case.description = f"Dropout(rate={rate:.2f}) meant as keep_prob"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/unpaginated_export", count=2, knob="page size 50-20")
def unpaginated_export(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation rows are fetched from the labelling tool's REST API, which returns the
    tasks in random order, k per page; the export script never followed the ``next`` link,
    so validation is the first page of k (20-50) rows; training is untouched."""
    k = int(round(lerp(severity, 50, 20)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:k]))
    case.description = f"validation = the first API page ({k} rows)"


@implementation("small_validation_set/shard_glob", count=2, knob="shards 12-40")
def shard_glob(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation written as m shard files (rows assigned to shards at random) and read
    with the pattern ``val-00000*`` where ``val-*`` was meant: one shard of m (12-40) is
    loaded, 15-50 rows."""
    m = int(round(lerp(severity, 12, 40)))
    shard = rng.integers(0, m, len(case.y_val))
    case.keep("val", np.flatnonzero(shard == 0))
    case.description = f"validation = shard 0 of {m} ({len(case.y_val)} rows)"


# == subgroup_underfitting: in both splits alike ==============================================

def brief(case: Case, epochs: int) -> None:
    """A plain, moderate model (width <= 2, two layers, no dropout, batch norm, early
    stopping or class weights) trained for only a few epochs."""
    s = case.spec
    s.width, s.depth = min(s.width, 2), 2
    s.dropout, s.batchnorm, s.early_stopping, s.class_weight = 0.0, False, False, False
    s.schedule, s.epochs = "constant", epochs


@implementation("subgroup_underfitting/short_recordings", count=3, layouts=("signal",),
                families=("mlp", "cnn1d"), knob="short share 20 %-10 %; epochs 12-6")
def short_recordings(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the recordings (both splits alike) are short: the logger stopped after
    15-30 % of the window and the file was padded with zeros; the activity is in what was
    recorded (1.2-2.4 s, a few steps or strokes). A model trained briefly fits the full
    recordings and under-fits the short ones."""
    share = lerp(severity, 0.20, 0.10)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        for i in np.flatnonzero(rng.random(len(x)) < share):
            stop = int(x.shape[1] * rng.uniform(0.15, 0.30))
            x[i, stop:] = 0.0
        setattr(case, f"x_{part}", x)
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} short recordings in both splits; brief training"


def _star(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A point source 3-6 px from the frame's centre (before the PSF)."""
    img = np.zeros(shape)
    ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(3, 6)
    r, c = 7.5 + dist * np.sin(ang), 7.5 + dist * np.cos(ang)
    img[int(np.clip(round(r), 0, 15)), int(np.clip(round(c), 0, 15))] = 1.0
    return img


@implementation("subgroup_underfitting/foreground_star", count=2, sources=("galaxy16",),
                families=("mlp", "cnn2d"), knob="starred share 20 %-10 %; epochs 12-6")
def foreground_star(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the cutouts (both splits alike) have a bright foreground star 3-6 px from
    the centre, next to the galaxy (as in crowded fields at low galactic latitude); the
    galaxy is intact. A model trained briefly fits the clean cutouts and under-fits the
    starred ones."""
    from scipy.ndimage import gaussian_filter

    share = lerp(severity, 0.20, 0.10)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").astype("float64").copy()
        for i in np.flatnonzero(rng.random(len(x)) < share):
            star = gaussian_filter(_star(x.shape[1:3], rng), 0.8)
            x[i, :, :, 0] += rng.uniform(0.8, 1.5) * star / star.max()
        setattr(case, f"x_{part}", np.clip(x, 0, 1).astype("float32"))
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of cutouts with a foreground star; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    bare(case, epochs=epochs)


@implementation("metric_saturation/pitch_type", count=3, sources=("pitch_call",),
                families=("mlp",), knob="epochs 30-60")
def pitch_type(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A physically near-determined target: a pitch's type (four-seam fastball, slider,
    curveball, change-up) from its speed, break and location (the type columns taken out of
    the inputs), what pitch-tracking systems classify automatically. Easy, so at its
    ceiling early; trained far past it."""
    epochs = int(round(lerp(severity, 30, 60)))
    cols = FIELDS["pitch_call"]["pitch_type"]
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}")
        setattr(case, f"y_{part}", np.argmax(x[:, cols], 1).astype("int64"))
        setattr(case, f"x_{part}", np.delete(x, cols, axis=1))
    _target(case, list(PITCH_TYPES), epochs)
    case.description = f"pitch type from speed and break, {epochs} epochs"


def _fall(row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fall (in counts): the row's own activity, free fall, an impact, then lying still."""
    g = COUNTS_PER_G
    out = row.copy()
    start = int(rng.uniform(2, 5) * RATE)
    drop = int(rng.uniform(0.3, 0.5) * RATE)
    out[start:start + drop] = rng.normal(0, 0.1, drop) * g
    t = np.arange(len(row) - start - drop) / RATE
    ring = rng.uniform(3, 6) * np.exp(-t / 0.08) * np.cos(2 * np.pi * 7 * t)
    out[start + drop:] = (rng.uniform(-1, 1) + ring + rng.normal(0, 0.03, len(t))) * g
    return out


@implementation("metric_saturation/fall_detection", count=3, sources=("wrist_activity",),
                families=("mlp", "cnn1d"), knob="epochs 30-60")
def fall_detection(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Fall detection: half the recordings of both splits end in a fall (the wearer's
    activity, 0.3-0.5 s of free fall, an impact of 3-6 g ringing down, then lying still
    at another tilt); the target is fall vs no fall. A genuinely easy task, at its ceiling
    early; trained far past it."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        fall = rng.random(len(x)) < 0.5
        for i in np.flatnonzero(fall):
            x[i, :, 0] = _fall(x[i, :, 0], rng)
        setattr(case, f"x_{part}", x.astype("float32"))
        setattr(case, f"y_{part}", fall.astype("int64"))
    _target(case, ["no_fall", "fall"], epochs)
    case.description = f"fall vs no fall, {epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/adagrad", count=3, full_train=True, knob="lr 0.02-0.06")
def adagrad(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adagrad (per-weight rates shrinking with the summed squared gradients) at 0.02-0.06,
    15 epochs."""
    lr = lerp(severity, 0.02, 0.06)
    _healthy(case, "adagrad", lr, 15)
    case.description = f"Adagrad {lr:.3f}, 15 epochs"


@implementation("healthy/muon", count=3, full_train=True, knob="lr 5e-3 - 2e-2")
def muon(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Muon (orthogonalised momentum updates for the weight matrices, Adam at a tenth of the
    rate for the rest), constant rate, 15 epochs."""
    lr = lerp(severity, 5e-3, 2e-2)
    _healthy(case, "muon", lr, 15, adam_lr_ratio=0.1)
    case.description = f"Muon {lr:.1e} (Adam parts {lr / 10:.1e}), 15 epochs"


@implementation("healthy/l2_penalty", count=2, full_train=True, knob="L2 1e-4 - 1e-3")
def l2_penalty(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An L2 penalty on every kernel (``kernel_regularizer``, part of the logged loss),
    Adam 1.5e-3, 15 epochs."""
    lam = float(10 ** lerp(severity, -4, -3))
    _healthy(case, "adam", 1.5e-3, 15)
    extra(case)["l2"] = lam
    case.description = f"L2 {lam:.1e} on every kernel, Adam 1.5e-3, 15 epochs"


@implementation("healthy/max_norm_dropout", count=2, full_train=True,
                families=("mlp", "cnn2d", "cnn1d", "embed"), knob="dropout 0.2-0.4")
def max_norm_dropout(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The dropout paper's recipe: moderate dropout with a MaxNorm(3) constraint on every
    kernel, Adam 1e-3, 15 epochs."""
    rate = lerp(severity, 0.2, 0.4)
    _healthy(case, "adam", 1e-3, 15)
    case.spec.dropout = rate
    extra(case)["max_norm"] = 3.0
    case.description = f"dropout {rate:.2f} + MaxNorm(3), Adam 1e-3, 15 epochs"
