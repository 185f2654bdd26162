"""metric_mismatch: the monitored metric does not reward what the loss improves."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import implementation, lerp


def _make_rare(case: Case, positive: int, share: float, rng: np.random.Generator) -> None:
    """Keep class ``positive`` at ``share`` of each split (at least 3 rows)."""
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
        n_pos = max(8, int(round(share / (1 - share) * len(neg))))
        case.keep(part, np.sort(np.concatenate([neg, rng.permutation(pos)[:n_pos]])))


def _ambiguous(case: Case, positive: int, p_pos: float, rng: np.random.Generator,
               other: np.ndarray | None = None) -> None:
    """Only a ``p_pos`` share of class ``positive`` keeps its label (both splits); the rest
    read as ``other`` (default: a random other class). The best possible probability of the
    class then stays near ``p_pos`` < 0.5: the loss can improve, a 0.5 threshold never fires."""
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}").copy()
        rows = np.flatnonzero(y == positive)
        rows = rng.permutation(rows)
        n_keep = max(min(3, len(rows)), int(round(p_pos * len(rows))))
        moved = rows[n_keep:]
        y[moved] = other[moved] if other is not None else (
            positive + rng.integers(1, case.n_classes, len(moved))) % case.n_classes
        setattr(case, f"y_{part}", y)


def _rare_binary(case: Case, share: float, rng: np.random.Generator, p_pos: float = 1.0) -> None:
    """Turn the case into 'rare positive class vs the rest' with a sigmoid output."""
    counts = np.bincount(case.y_train, minlength=case.n_classes)
    positive = int(np.argmin(counts)) if case.n_classes == 2 else int(rng.integers(case.n_classes))
    _make_rare(case, positive, min(0.5, share / p_pos), rng)
    name = case.class_names[positive]
    case.y_train = (case.y_train == positive).astype("int64")
    case.y_val = (case.y_val == positive).astype("int64")
    case.n_classes, case.class_names = 2, ["rest", name]
    if p_pos < 1.0:
        _ambiguous(case, 1, p_pos, rng, other=np.zeros(max(len(case.y_train),
                                                           len(case.y_val)), "int64"))
    case.spec.set_binary(True)
    case.spec.class_weight = False
    case.spec.lr = min(case.spec.lr, 1e-3)


@implementation("metric_mismatch/rare_f1", count=8, knob="positive share 8 %-1.5 %, P(positive | look-alike) 0.45-0.25")
def rare_f1(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare positive class whose best probability stays below 0.5 (only 25-45 % of its
    look-alikes are positive), scored only by F1 at the 0.5 threshold."""
    share = lerp(severity, 0.08, 0.015)
    _rare_binary(case, share, rng, p_pos=lerp(severity, 0.45, 0.25))
    case.spec.metrics = ["f1@0.5"]
    case.description = f"rare positive class ({share:.1%}) monitored by F1 at threshold 0.5"


@implementation("metric_mismatch/rare_recall", count=8, knob="positive share 8 %-1.5 %, P(positive | look-alike) 0.45-0.25")
def rare_recall(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare positive class whose best probability stays below 0.5 (only 25-45 % of its
    look-alikes are positive), scored only by recall at the 0.5 threshold."""
    share = lerp(severity, 0.08, 0.015)
    _rare_binary(case, share, rng, p_pos=lerp(severity, 0.45, 0.25))
    case.spec.metrics = ["recall@0.5"]
    case.description = f"rare positive class ({share:.1%}) monitored by recall at 0.5"


@implementation("metric_mismatch/class_id", count=7, classes="multi",
                knob="share of the scored class 6 %-1 %, P(c | look-alike) 0.45-0.25")
def class_id(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Multi-class softmax scored only by Recall(class_id=c) on a rare class c (one-hot
    labels): class c is rare and ambiguous (25-45 % of its look-alikes carry its label), so
    its probability stays below the metric's 0.5 threshold while the loss improves."""
    share = lerp(severity, 0.06, 0.01)
    c = int(rng.integers(case.n_classes))
    p_pos = lerp(severity, 0.45, 0.25)
    _make_rare(case, c, min(0.5, share / p_pos), rng)
    _ambiguous(case, c, p_pos, rng)
    case.spec.labels, case.spec.class_weight = "onehot", False
    case.spec.metrics = [f"recall_class:{c}"]
    case.description = f"only Recall(class_id={c}) is monitored; class {c} is {share:.1%} of data"


@implementation("metric_mismatch/binary_metric", count=7, classes="multi",
                knob="classes kept 3-all")
def binary_metric(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A multi-class softmax (one-hot labels) scored with BinaryAccuracy, which counts each
    output unit separately and starts near (K-1)/K."""
    k = int(round(lerp(severity, 3, case.n_classes)))
    if k < case.n_classes:
        case.relabel(sorted(rng.permutation(case.n_classes)[:k].tolist()))
    case.spec.labels = "onehot"
    case.spec.metrics = ["binary_accuracy"]
    case.description = f"{case.n_classes}-class softmax monitored by BinaryAccuracy"


@implementation("metric_mismatch/f1_threshold_none", count=5, knob="positive share 40 %-10 %")
def f1_threshold_none(case: Case, severity: float, rng: np.random.Generator) -> None:
    """F1Score(threshold=None) on a single sigmoid output: it takes the arg-max of one unit,
    so it reads every sample as positive and never moves."""
    share = lerp(severity, 0.4, 0.1)
    _rare_binary(case, share, rng)
    case.spec.metrics = ["f1_none"]
    case.description = f"F1Score(threshold=None) on one sigmoid output (positives {share:.0%})"
