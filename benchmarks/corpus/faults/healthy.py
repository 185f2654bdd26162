"""healthy: clean runs of many shapes (false alarms come from their variety)."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import implementation, lerp

CEILING = "healthy;metric_saturation"


def _modest(case: Case) -> None:
    """A capacity that suits the training set (no memorising on small data)."""
    s, n = case.spec, len(case.y_train)
    if n < 400 or (s.family == "mlp" and case.layout in ("image", "signal")):
        s.width, s.depth = 1, 1   # (an MLP on pixels or samples memorises fast)
        s.dropout = max(s.dropout, 0.3) if s.family != "linear" else 0.0
    s.hidden_bias, s.init_scale = 0.0, 1.0


@implementation("healthy/plateau", full_train=True, count=9, knob="epochs 12-30")
def plateau(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A clean run long enough to end on a plateau (cosine or reduce-on-plateau schedule)."""
    _modest(case)
    case.spec.schedule = str(rng.choice(["cosine", "plateau"]))
    case.spec.epochs = int(lerp(severity, 12, 30))
    case.description = f"clean run, {case.spec.epochs} epochs, {case.spec.schedule} schedule"


@implementation("healthy/early_stopped", full_train=True, count=9, knob="patience 2-6")
def early_stopped(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A clean run stopped by EarlyStopping(restore_best_weights=True)."""
    _modest(case)
    s = case.spec
    s.early_stopping, s.patience, s.epochs = True, int(lerp(severity, 2, 6)), 40
    case.description = f"clean run stopped early (patience {s.patience})"


# 1-3 epochs learn a lot only where there are many easy-enough samples
@implementation("healthy/short", count=7, full_train=True, knob="epochs 1-3",
                sources=("digits", "tokens_motif", "tokens_pool", "waves", "pulses", "clf_k6",
                         "clf_binary_imb", "blobs_k4", "moons", "circles", "clf_k12_imb"))
def short(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A 1-3 epoch run (a quick check, or a big data set)."""
    _modest(case)
    s = case.spec
    s.epochs = int(round(lerp(severity, 1, 3)))
    s.optimizer, s.lr, s.batch_size, s.early_stopping = "adam", 3e-3, 32, False
    case.description = f"{case.spec.epochs}-epoch run"


@implementation("healthy/noisy", full_train=True, count=7, knob="batch size 16-4")
def noisy(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Small batches and a lively (but sane) learning rate: noisy, improving curves."""
    _modest(case)
    s = case.spec
    s.batch_size = int(round(lerp(severity, 16, 4)))
    s.optimizer, s.lr, s.momentum = "sgd", 0.02, 0.9
    s.schedule, s.epochs, s.early_stopping = "constant", 12, False
    case.description = f"noisy clean run: batch {s.batch_size}, SGD lr 0.02 momentum 0.9"


@implementation("healthy/regularised", full_train=True, count=8, knob="dropout 0.1-0.5")
def regularised(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Dropout and batch norm (class weights on imbalanced data), cosine schedule."""
    _modest(case)
    s = case.spec
    s.dropout = lerp(severity, 0.1, 0.5) if s.family != "linear" else 0.0
    s.batchnorm = s.family != "linear"
    s.class_weight = s.labels != "onehot" and case.source.imbalance > 2
    s.schedule, s.epochs = "cosine", 20
    case.description = f"dropout {s.dropout:.2f}, batch norm, cosine schedule"


@implementation("healthy/large", count=3, sources=("clf_k20_big", "credit_default"),
                knob="epochs 4-10")
def large(case: Case, severity: float, rng: np.random.Generator) -> None:
    """All of a large source (>= 7,500 training samples), batch 128."""
    case.spec.batch_size = 128
    case.spec.epochs = int(lerp(severity, 4, 10))
    case.spec.early_stopping = False
    case.description = f"{len(case.y_train)} training samples, {case.spec.epochs} epochs"


@implementation("healthy/ceiling", full_train=True, count=6, acceptable=CEILING,
                sources=("blobs_k4", "iris", "breast_cancer", "tokens_motif", "digits"),
                knob="patience 2-5")
def ceiling(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An easy problem at (or near) the metric ceiling, stopped early."""
    _modest(case)
    s = case.spec
    s.early_stopping, s.patience, s.epochs = True, int(lerp(severity, 2, 5)), 40
    case.description = "easy problem near the metric ceiling, stopped early"
