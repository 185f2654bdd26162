"""Fault implementations of the seventh fresh test set, part 2: optimization,
small_validation_set, subgroup_underfitting, metric_saturation and healthy runs. They
register into ``benchmarks.fresh7.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import MAX_TRAIN
from benchmarks.corpus.faults.registry import features, lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized, small  # the same recipe helpers
from benchmarks.fresh7.faults import MEMORISERS, NO_GRU, implementation, raw_stats


def plain(case: Case) -> None:
    s = case.spec
    s.schedule, s.early_stopping, s.batchnorm, s.clipnorm = "constant", False, False, 0.0


def steps_per_epoch(case: Case) -> int:
    return int(np.ceil(len(case.y_train) / case.spec.batch_size))


# == optimization ==============================================================================

@implementation("optimization/tiny_clipnorm", count=2, families=NO_GRU,
                knob="clipnorm 1e-3 - 1e-4 (SGD lr 0.03, momentum 0.9)")
def tiny_clipnorm(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Gradient clipping with ``clipnorm`` set orders of magnitude too small (a value copied
    from a recipe that clipped per-parameter values of a huge model): every step's gradient
    is rescaled to norm ``c``, so SGD with momentum moves the weights by at most
    lr x c / (1 - momentum) per step and training crawls."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.momentum = "sgd", 0.03, 0.9
    s.clipnorm = float(10 ** lerp(severity, -3.0, -4.0))
    case.description = f"SGD 0.03 (momentum 0.9) with clipnorm {s.clipnorm:.1e}"


@implementation("optimization/phantom_loss_scale", count=2, families=NO_GRU,
                knob="gradients divided by 2^10 - 2^16 (SGD lr 0.03, momentum 0.9)")
def phantom_loss_scale(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A custom optimiser step copied from a mixed-precision training loop divides the
    gradients by the loss scale (2^10 to 2^16) although the loss was never multiplied by
    it: every update is that many times too small and plain SGD with momentum barely moves
    the weights (the logged loss is the true one)."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.momentum = "sgd", 0.03, 0.9
    power = int(round(lerp(severity, 10, 16)))
    extra(case)["grad_divisor"] = float(2 ** power)
    case.description = f"gradients divided by a loss scale 2^{power} never applied, SGD 0.03"


@implementation("optimization/frozen_backbone", count=2, families=("mlp", "cnn2d", "cnn1d", "embed"),
                knob="epochs 20-8")
def frozen_backbone(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A transfer-learning recipe (``backbone.trainable = False``) applied to a model that
    has no pretrained backbone: every hidden layer stays at its random initialisation and
    only the output layer is trained, so the model fits what a linear read-out of random
    features can."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", 1e-3
    s.epochs = int(round(lerp(severity, 20, 8)))
    s.width = min(s.width, 2)
    extra(case)["frozen"] = True
    case.description = f"every layer but the output frozen at random init, {s.epochs} epochs"


# == small_validation_set ======================================================================

def pooled(case: Case) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([case.x_train, case.x_val]),
            np.concatenate([case.y_train, case.y_val]))


@implementation("small_validation_set/percent_as_count", count=2,
                knob="test_size 50-15 (meant as percent, taken as rows)")
def percent_as_count(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``train_test_split(x, y, test_size=20, stratify=y)`` meant as 20 %: an integer
    ``test_size`` is a number of rows, so the validation set has 15-50 rows and the rest
    of the pooled data trains."""
    from sklearn.model_selection import train_test_split

    x, y = pooled(case)
    n = int(round(lerp(severity, 50, 15)))
    n = max(n, case.n_classes)
    strat = y if np.bincount(y).min() >= 2 else None
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=n, stratify=strat,
                                              random_state=case.seed)
    keep = np.sort(rng.permutation(len(y_tr))[:MAX_TRAIN])
    case.x_train, case.y_train = x_tr[keep], y_tr[keep]
    case.x_val, case.y_val = x_va, y_va
    case.description = f"test_size={n} (rows, not percent)"


@implementation("small_validation_set/one_group_split", count=2,
                knob="rows per collection batch 50-15")
def one_group_split(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``GroupShuffleSplit(n_splits=1, test_size=1, ...)`` on the collection-batch id, with
    ``test_size=1`` read as one group (an integer is a number of groups): validation is a
    single collection batch. The batch ids were assigned at random during collection, so
    the batch is a fair but tiny sample."""
    from sklearn.model_selection import GroupShuffleSplit

    x, y = pooled(case)
    size = int(round(lerp(severity, 50, 15)))
    groups = rng.permutation(len(y)) // size
    tr, va = next(GroupShuffleSplit(n_splits=1, test_size=1, random_state=case.seed)
                  .split(x, y, groups))
    tr = np.sort(rng.permutation(tr)[:MAX_TRAIN])
    case.x_train, case.y_train = x[tr], y[tr]
    case.x_val, case.y_val = x[va], y[va]
    case.description = f"validation = one collection batch of {len(va)} rows"


# == subgroup_underfitting =====================================================================

@implementation("subgroup_underfitting/rare_class_brief", count=3,
                knob="rare class share 5 %-2 %; epochs 12-5 (small model)")
def rare_class_brief(case: Case, severity: float, rng: np.random.Generator) -> None:
    """One class is rare in the world the data come from (both splits alike: 2-5 % of the
    rows) and a small model is trained briefly without class weights: it learns the common
    classes and under-fits the rare one."""
    share = lerp(severity, 0.05, 0.02)
    counts = np.bincount(case.y_train, minlength=case.n_classes)
    c = int(rng.choice(np.flatnonzero(counts < counts.max()))) if case.n_classes > 2 \
        else int(np.argmin(counts))
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        mine, rest = np.flatnonzero(y == c), np.flatnonzero(y != c)
        n = min(len(mine), max(3, int(round(share / (1 - share) * len(rest)))))
        case.keep(part, np.sort(np.concatenate([rest, rng.permutation(mine)[:n]])))
    case.spec.set_binary(False)
    case.spec.labels = "sparse"
    case.spec.metrics = ["accuracy"]
    small(case, int(round(lerp(severity, 12, 5))))
    case.description = f"class {case.class_names[c]} at {share:.0%} of both splits; small model"


@implementation("subgroup_underfitting/rare_mode", count=2, layouts=("vector",),
                families=("linear", "mlp"), knob="rare-mode share of the class 15 %-6 %; epochs 20-8")
def rare_mode(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare second mode inside the largest class (both splits alike): a share of its rows
    lie in a region of their own, the mirror image (through the training mean) of another
    class's rows, e.g. a product sold in two very different configurations under one code.
    A linear or small, briefly trained model fits the class's main mode and under-fits the
    rare one."""
    share = lerp(severity, 0.15, 0.06)
    counts = np.bincount(case.y_train, minlength=case.n_classes)
    c = int(np.argmax(counts))
    d = int(rng.choice([k for k in range(case.n_classes) if k != c]))
    mean, _ = raw_stats(case)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").astype("float32").copy()
        y = getattr(case, f"y_{part}")
        mine, donors = np.flatnonzero(y == c), np.flatnonzero(y == d)
        rows = mine[rng.random(len(mine)) < share]
        x[rows] = 2 * mean - x[rng.choice(donors, len(rows))]
        setattr(case, f"x_{part}", x)
    case.spec.set_binary(False)
    case.spec.metrics = ["accuracy"]
    small(case, int(round(lerp(severity, 20, 8))))
    case.description = (f"{share:.0%} of class {case.class_names[c]} mirrored from class "
                        f"{case.class_names[d]}; small model")


# == metric_saturation =========================================================================

@implementation("metric_saturation/glitch_detection", count=3, families=MEMORISERS,
                knob="epochs 30-60")
def glitch_detection(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A data-quality classifier: the target is whether a record carries an injected glitch
    (half the rows of both splits): a table cell far out of range, a saturated 3x3 pixel
    block, a +-8 std spike in a signal, three replacement-character ids in a text. The
    glitch is obvious, so the task is at its ceiling early; trained far past it."""
    mean, std = raw_stats(case) if case.layout in ("vector", "signal") else (0.0, 1.0)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        hit = rng.random(len(x)) < 0.5
        for i in np.flatnonzero(hit):
            if case.layout == "vector":
                j = int(rng.integers(x.shape[1]))
                x[i, j] = mean[j] + rng.choice([-1, 1]) * rng.uniform(6, 10) * std[j]
            elif case.layout == "image":
                r, c = (int(v) for v in rng.integers(0, x.shape[1] - 2, 2))
                x[i, r:r + 3, c:c + 3] = 1.0
            elif case.layout == "signal":
                x[i, int(rng.integers(x.shape[1]))] = mean + rng.choice([-1, 1]) * 8 * std
            else:
                x[i, rng.choice(x.shape[1], 3, replace=False)] = 1
        setattr(case, f"x_{part}", x.astype(case.x_train.dtype))
        setattr(case, f"y_{part}", hit.astype("int64"))
    case.n_classes, case.class_names = 2, ["clean", "glitch"]
    case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(round(lerp(severity, 30, 60))))
    case.description = f"label = glitch injected or not, {case.spec.epochs} epochs"


@implementation("metric_saturation/easiest_vs_rest", count=3, families=NO_GRU, classes="multi",
                knob="epochs 30-60")
def easiest_vs_rest(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A one-class detector built for the most distinctive class: the class whose mean input
    lies farthest from the other rows' (in the standardised view) against all others, the
    rest subsampled to the same size in both splits; an easy task trained far past its
    ceiling."""
    f = features(case, case.x_train)
    gaps = [np.linalg.norm(f[case.y_train == c].mean(0) - f[case.y_train != c].mean(0))
            / np.sqrt(f.shape[1]) for c in range(case.n_classes)]
    c = int(np.argmax(gaps))
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        mine, rest = np.flatnonzero(y == c), np.flatnonzero(y != c)
        case.keep(part, np.sort(np.concatenate([mine, rng.permutation(rest)[:len(mine)]])))
        setattr(case, f"y_{part}", (getattr(case, f"y_{part}") == c).astype("int64"))
    case.class_names = ["rest", case.class_names[c]]
    case.n_classes = 2
    case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(round(lerp(severity, 30, 60))))
    case.description = f"{case.class_names[1]} vs rest (balanced), {case.spec.epochs} epochs"


# == healthy ===================================================================================

@implementation("healthy/nadam", count=2, full_train=True, knob="epochs 10-20")
def nadam(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Nadam (Adam with Nesterov momentum) at 1e-3, constant rate."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.early_stopping = "nadam", 1e-3, "constant", False
    s.epochs = int(round(lerp(severity, 10, 20)))
    extra(case)["optimizer"] = ("nadam", {})
    case.description = f"Nadam 1e-3, {s.epochs} epochs"


@implementation("healthy/sgdr", count=2, full_train=True, knob="first cycle 2-4 epochs")
def sgdr(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Cosine decay with warm restarts (SGDR: the first cycle 2-4 epochs, each next one
    twice as long, restart peaks x0.8), Adam from 2e-3, 16 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs, s.early_stopping = "adam", 2e-3, 16, False
    first = (2 if severity < 0.5 else 4) * steps_per_epoch(case)
    s.schedule = "cosine_restarts"
    extra(case)["schedule"] = ("restarts", first, 2.0, 0.8)
    case.description = f"Adam 2e-3 with warm restarts, first cycle {first // steps_per_epoch(case)} epochs"


@implementation("healthy/weight_ema", count=2, full_train=True, knob="EMA momentum 0.9-0.99")
def weight_ema(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with an exponential moving average of the weights (``use_ema=True``; the
    averaged weights are swapped in at the end of every epoch), 15 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 1.5e-3, "constant", 15, False
    momentum = lerp(severity, 0.9, 0.99)
    extra(case)["optimizer"] = ("adam", {"use_ema": True, "ema_momentum": momentum})
    case.description = f"Adam 1.5e-3 with weight EMA {momentum:.3f}, 15 epochs"


@implementation("healthy/grad_accumulation", count=2, full_train=True,
                knob="accumulation steps 2-4 (batch 16)")
def grad_accumulation(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Small batches (16) with gradient accumulation (``gradient_accumulation_steps``) to an
    effective batch of 32-64, Adam at 2e-3, 15 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 2e-3, "constant", 15, False
    s.batch_size = 16
    steps = 2 if severity < 0.5 else 4
    extra(case)["optimizer"] = ("adam", {"gradient_accumulation_steps": steps})
    case.description = f"batch 16 x {steps} accumulated, Adam 2e-3, 15 epochs"


@implementation("healthy/rmsprop_centered", count=2, full_train=True,
                knob="RMSprop momentum 0-0.5")
def rmsprop_centered(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Centered RMSprop (gradients normalised by their estimated variance) at 1e-3 with a
    little momentum, 15 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "rmsprop", 1e-3, "constant", 15, False
    momentum = lerp(severity, 0.0, 0.5)
    extra(case)["optimizer"] = ("rmsprop", {"centered": True, "momentum": momentum})
    case.description = f"centered RMSprop 1e-3, momentum {momentum:.2f}, 15 epochs"
