"""Fault implementations of the sixth fresh test set, part 2: optimization,
small_validation_set, subgroup_underfitting, metric_saturation and healthy runs. They
register into ``benchmarks.fresh6.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import features, lerp
from benchmarks.fresh5.faults import extra
from benchmarks.fresh6.faults import NO_GRU, bare, implementation, raw_stats


def steps_per_epoch(case: Case) -> int:
    return int(np.ceil(len(case.y_train) / case.spec.batch_size))


def plain(case: Case) -> None:
    s = case.spec
    s.schedule, s.early_stopping, s.batchnorm, s.clipnorm = "constant", False, False, 0.0


# == optimization ==============================================================================

@implementation("optimization/adam_epsilon", count=2, families=NO_GRU,
                knob="Adam epsilon 0.3-3 (lr 1e-3)")
def adam_epsilon(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with ``epsilon`` around 1 (a value copied from a large-scale vision recipe,
    where it damps updates of huge-batch training): the denominator is dominated by
    epsilon, so Adam becomes plain SGD at the Adam learning rate, whose steps are the
    gradient's size times 1e-3, far smaller than Adam's."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", 1e-3
    eps = float(10 ** lerp(severity, np.log10(0.3), np.log10(3.0)))
    extra(case)["optimizer"] = ("adam", {"epsilon": eps})
    case.description = f"Adam lr 1e-3 with epsilon {eps:.2f}"


@implementation("optimization/adadelta_default", count=2, families=NO_GRU,
                knob="epochs 20-8")
def adadelta_default(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``optimizer='adadelta'`` switched in from an old tutorial that relied on the original
    Adadelta's learning rate of 1.0; Keras's default is 0.001, at which Adadelta hardly
    moves the weights."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adadelta", 1e-3
    s.epochs = int(round(lerp(severity, 20, 8)))
    extra(case)["optimizer"] = ("adadelta", {})
    case.description = f"Adadelta with Keras's default lr 0.001, {s.epochs} epochs"


@implementation("optimization/decay_per_step", count=2, families=NO_GRU,
                knob="learning-rate decay factor applied every step 0.97-0.9")
def decay_per_step(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An exponential decay meant per epoch applied per step (``ExponentialDecay(lr,
    decay_steps=1, decay_rate=r)``): the learning rate collapses within the first epoch or
    two and training stalls far from a good solution."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", 2e-3
    s.epochs = max(s.epochs, 12)
    rate = lerp(severity, 0.97, 0.9)
    s.schedule = "exp_per_step"
    extra(case)["schedule"] = ("step_exp", rate)
    case.description = f"Adam 2e-3 decayed x{rate:.2f} every step"


# == small_validation_set ======================================================================

@implementation("small_validation_set/dropna_sparse", count=2,
                knob="validation rows left 50-15")
def dropna_sparse(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``val = val.dropna()`` on a validation file with an optional field (a follow-up
    measurement filled in for a few percent of rows, independent of the label): only the
    rows that have it survive."""
    n = int(round(lerp(severity, 50, 15)))
    keep = np.flatnonzero(rng.random(len(case.y_val)) < n / len(case.y_val))
    if len(keep) < 10:
        keep = np.sort(rng.permutation(len(case.y_val))[:10])
    case.keep("val", keep)
    case.description = f"validation rows with the optional field: {len(case.y_val)} left"


@implementation("small_validation_set/kfold_many", count=2,
                knob="validation fold of 60-20 rows")
def kfold_many(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``KFold(n_splits=k)`` with k set as if it were the number of repeats (here 30-130,
    N / k = 60-20 rows), and only the first fold used: validation = the first N/k rows of
    the pooled file (its order is random), training = all the rest."""
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    target = int(round(lerp(severity, 60, 20)))
    k = max(2, len(y) // target)
    m = int(np.ceil(len(y) / k))
    train = np.arange(m, len(y))[:2000]
    case.x_val, case.y_val = x[:m], y[:m]
    case.x_train, case.y_train = x[train], y[train]
    case.description = f"validation = fold 1 of KFold({k}): {m} rows"


# == subgroup_underfitting =====================================================================

def small(case: Case, epochs: int) -> None:
    s = case.spec
    s.width, s.depth, s.dropout, s.batchnorm, s.class_weight = 1, 1, 0.0, False, False
    s.epochs, s.early_stopping = epochs, False


@implementation("subgroup_underfitting/radial_grade", count=3, layouts=("vector",),
                families=("linear", "mlp"), knob="epochs 25-8 (small model)")
def radial_grade(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A severity grade inside the largest class: its rows far from the class's centre (the
    outer 35 % by distance in the standardised inputs) form their own class ('severe'),
    both splits; the grade is a radial rule that a linear or small, briefly trained model
    cannot draw, so the severe sub-group is under-fit."""
    c = int(np.argmax(np.bincount(case.y_train, minlength=case.n_classes)))
    f_tr = features(case, case.x_train)
    centre = f_tr[case.y_train == c].mean(0)
    d_tr = np.linalg.norm(f_tr[case.y_train == c] - centre, axis=1)
    cut = float(np.quantile(d_tr, 0.65))
    new = case.n_classes
    for part in ("train", "val"):
        f = features(case, getattr(case, f"x_{part}"))
        y = getattr(case, f"y_{part}").copy()
        y[(y == c) & (np.linalg.norm(f - centre, axis=1) > cut)] = new
        setattr(case, f"y_{part}", y)
    case.n_classes += 1
    case.class_names = [*case.class_names, f"{case.class_names[c]}-severe"]
    case.spec.set_binary(False)
    case.spec.metrics = ["accuracy"]
    small(case, int(round(lerp(severity, 25, 8))))
    case.description = f"outer 35 % of class {case.class_names[c]} is its own class; small model"


@implementation("subgroup_underfitting/underexposed", count=2, layouts=("image", "signal"),
                knob="share of low-gain rows 0.25-0.1; epochs 12-6")
def underexposed(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A minority of the recordings (both splits) were captured at a low gain (under-exposed
    photos, a low-gain channel): the whole input is scaled down towards the zero level by
    a factor 0.2-0.3, information intact. A small model trained briefly fits the
    normal-gain majority and under-fits the dim sub-group."""
    share = lerp(severity, 0.25, 0.1)
    gain = rng.uniform(0.2, 0.3)
    level = 0.0 if case.layout == "image" else float(raw_stats(case)[0])
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").astype("float32").copy()
        rows = rng.random(len(x)) < share
        x[rows] = level + gain * (x[rows] - level)
        setattr(case, f"x_{part}", x)
    small(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of rows at gain {gain:.2f}; small model"


# == metric_saturation =========================================================================

@implementation("metric_saturation/blank_detection", count=3, families=NO_GRU,
                knob="epochs 30-60")
def blank_detection(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A junk filter: the task is 'is this a real capture or a blank one' (half the rows of
    both splits replaced by what a disconnected sensor delivers: a dark frame, a flat line
    with little noise, an empty message, a record of default values); an easy task trained
    far past its ceiling."""
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        blank = rng.random(len(x)) < 0.5
        m = int(blank.sum())
        if case.layout == "image":
            x[blank] = np.clip(rng.normal(0, 0.04, (m, *x.shape[1:])), 0, 1)
        elif case.layout == "signal":
            mean, std = raw_stats(case)
            x[blank] = mean + rng.normal(0, 0.05 * std, (m, *x.shape[1:]))
        elif case.layout == "tokens":
            x[blank] = 0
            x[blank, :2] = (2, 3)
        else:
            med, std = np.median(case.x_train, 0), case.x_train.std(0)
            x[blank] = med + rng.normal(0, 1, (m, x.shape[1])) * 0.02 * std
        setattr(case, f"x_{part}", x.astype(case.x_train.dtype))
        setattr(case, f"y_{part}", (~blank).astype("int64"))
    case.n_classes, case.class_names = 2, ["blank", "real"]
    case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(round(lerp(severity, 30, 60))))
    case.description = f"label = real vs blank capture, {case.spec.epochs} epochs"


@implementation("metric_saturation/device_target", count=3, families=NO_GRU,
                knob="epochs 30-50")
def device_target(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The wrong target column, an easy one: the label is which of two recording devices
    made the row (device B: tables in other units, every column rescaled and offset;
    images with a lifted background; signals with another gain and zero; messages from
    an app that stamps its signature words into every text), half the rows of both splits
    from each; trained far past its ceiling."""
    mean, std = raw_stats(case) if case.layout in ("vector", "signal") else (0.0, 1.0)
    signature = rng.choice(np.arange(2, max(case.source.vocab, 3)), 2, replace=False) \
        if case.layout == "tokens" else None
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        dev = rng.random(len(x)) < 0.5
        if case.layout == "image":
            x[dev] = np.clip(0.25 + 0.75 * x[dev], 0, 1)
        elif case.layout == "tokens":
            for i in np.flatnonzero(dev):
                x[i, rng.choice(x.shape[1], 3, replace=False)] = rng.choice(signature, 3)
        else:
            x[dev] = mean + 1.6 * (x[dev] - mean) + 0.8 * std
        setattr(case, f"x_{part}", x.astype(case.x_train.dtype))
        setattr(case, f"y_{part}", dev.astype("int64"))
    case.n_classes, case.class_names = 2, ["device A", "device B"]
    case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(round(lerp(severity, 30, 50))))
    case.description = f"label = recording device, {case.spec.epochs} epochs"


# == healthy ===================================================================================

def sized(case: Case) -> None:
    """A capacity that suits the training set."""
    s, n = case.spec, len(case.y_train)
    if n < 400 or (s.family == "mlp" and case.layout in ("image", "signal")):
        s.width, s.depth = 1, 1
        s.dropout = max(s.dropout, 0.3) if s.family != "linear" else 0.0
    s.hidden_bias, s.init_scale = 0.0, 1.0


@implementation("healthy/lion", count=3, full_train=True, knob="Lion lr 1e-4 - 3e-4")
def lion(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The Lion optimiser at its recommended few-times-smaller-than-Adam learning rate,
    constant, 15 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.schedule, s.epochs, s.early_stopping = "lion", "constant", 15, False
    s.lr = lerp(severity, 1e-4, 3e-4)
    extra(case)["optimizer"] = ("lion", {})
    case.description = f"Lion lr {s.lr:.1e}, 15 epochs"


@implementation("healthy/cyclic_lr", count=3, full_train=True, families=NO_GRU,
                knob="cycle length 2-4 epochs")
def cyclic_lr(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A triangular cyclical learning rate (Adam between 1e-4 and 3e-3), 16 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 1e-4, "constant", 16, False
    half = (1 if severity < 0.5 else 2) * steps_per_epoch(case)
    s.schedule = "cyclic"
    extra(case)["schedule"] = ("cyclic", 1e-4, 3e-3, half)
    case.description = f"triangular cyclic lr 1e-4..3e-3, cycle {2 * half // steps_per_epoch(case)} epochs"


@implementation("healthy/amsgrad_poly", count=2, full_train=True, knob="epochs 15-25")
def amsgrad_poly(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with AMSGrad and a quadratic polynomial decay of the learning rate to 1e-5."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.early_stopping = "adam", 2e-3, "constant", False
    s.epochs = int(round(lerp(severity, 15, 25)))
    extra(case)["optimizer"] = ("adam", {"amsgrad": True})
    s.schedule = "polynomial"
    extra(case)["schedule"] = ("poly", 1e-5, 2.0)
    case.description = f"AMSGrad 2e-3, polynomial decay (power 2), {s.epochs} epochs"


@implementation("healthy/adamax", count=2, full_train=True, knob="epochs 12-20")
def adamax(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adamax at 2e-3, constant rate."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.early_stopping = "adamax", 2e-3, "constant", False
    s.epochs = int(round(lerp(severity, 12, 20)))
    extra(case)["optimizer"] = ("adamax", {})
    case.description = f"Adamax 2e-3, {s.epochs} epochs"
