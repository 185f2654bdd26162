"""Fault implementations of the fifth fresh test set, part 2: optimization,
small_validation_set, subgroup_underfitting, metric_saturation and healthy runs. They
register into ``benchmarks.fresh5.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import features, lerp
from benchmarks.fresh5.faults import NO_GRU, bare, extra, implementation
from benchmarks.fresh5.sources import IMBALANCED


def steps_per_epoch(case: Case) -> int:
    return int(np.ceil(len(case.y_train) / case.spec.batch_size))


def plain(case: Case) -> None:
    s = case.spec
    s.schedule, s.early_stopping, s.batchnorm, s.clipnorm = "constant", False, False, 0.0


# == optimization ==============================================================================

@implementation("optimization/runaway_warmup", count=2, families=NO_GRU,
                knob="learning rate reached at the end x30-x300 the start")
def runaway_warmup(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A linear warm-up whose length was set in steps of the wrong unit (epochs x steps):
    it never ends, so the learning rate keeps climbing for the whole run, from a sane Adam
    rate to an absurd one, and training falls apart part-way."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", 1e-3
    s.epochs = max(s.epochs, 20)
    factor = float(10 ** lerp(severity, np.log10(30), np.log10(300)))
    total = steps_per_epoch(case) * s.epochs
    extra(case)["warmup"] = (s.lr * factor, total, False)
    case.description = f"warm-up from 1e-3 to {s.lr * factor:.3g} over the whole run"


@implementation("optimization/sum_reduction", count=2, families=("linear", "mlp", "cnn2d", "cnn1d"),
                knob="SGD lr 0.01-0.05 with the loss summed over batches of 64-128")
def sum_reduction(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The loss summed over the batch (``reduction='sum'``) while the SGD learning rate was
    tuned for a mean: every step is batch-size times too large."""
    plain(case)
    s = case.spec
    s.optimizer, s.momentum = "sgd", 0.9
    s.lr = lerp(severity, 0.01, 0.05)
    s.batch_size = 128 if len(case.y_train) >= 1280 else 64
    extra(case)["reduction"] = "sum"
    case.description = f"summed loss, SGD lr {s.lr:.3f} momentum 0.9, batch {s.batch_size}"


@implementation("optimization/saturated_init", count=2, families=("mlp",),
                knob="kernel init std 1.5-6 with tanh, 3-5 layers")
def saturated_init(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Weights initialised far too large (``RandomNormal(stddev=s)`` on every layer, a tanh
    MLP): every hidden unit saturates at +-1, its gradient vanishes, the huge output logits
    make the loss enormous and plain SGD barely moves it."""
    plain(case)
    s = case.spec
    s.depth, s.width, s.dropout = int(round(lerp(severity, 3, 5))), 2, 0.0
    s.optimizer, s.lr, s.momentum = "sgd", 0.01, 0.0
    extra(case).update(init_std=lerp(severity, 1.5, 6.0), activation="tanh")
    case.description = (f"{s.depth} tanh layers, kernels ~ N(0, {extra(case)['init_std']:.1f}), "
                        "SGD 0.01")


# == small_validation_set ======================================================================

def _key(case: Case, x: np.ndarray) -> np.ndarray:
    """A low-cardinality key per row (a store/patient/device id stand-in)."""
    if case.layout == "vector":
        f = features(case, x)
        col = int(np.argmax(np.abs(f).std(0)))
        return np.round(f[:, col] * 4).astype(int)
    if case.layout == "tokens":
        return x[:, 0].astype(int) % 23
    return np.round(x.reshape(len(x), -1).mean(1) * 40).astype(int)


@implementation("small_validation_set/dedup_key", count=2,
                knob="distinct key values kept 50-12")
def dedup_key(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``val.drop_duplicates(subset=[key])``: meant to drop repeated records, the validation
    set was de-duplicated on a low-cardinality column, so one row per key value is left
    (12-50 rows)."""
    n = int(round(lerp(severity, 50, 12)))
    order = rng.permutation(len(case.y_val))
    case.keep("val", order)
    _, first = np.unique(_key(case, case.x_val), return_index=True)
    case.keep("val", np.sort(first)[:n])
    case.description = f"validation de-duplicated on a key: {len(case.y_val)} rows left"


@implementation("small_validation_set/one_batch", count=2, knob="validation batch 48-16")
def one_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``validation_steps=1``: validation is a single batch of the (shuffled) validation
    generator, so each epoch's validation figures come from 16-48 rows."""
    n = int(round(lerp(severity, 48, 16)))
    case.keep("val", rng.permutation(len(case.y_val))[:n])
    case.description = f"validation = one batch of {n} rows"


# == subgroup_underfitting =====================================================================

@implementation("subgroup_underfitting/xor_pocket", count=2, layouts=("vector",),
                families=("linear", "mlp"), knob="epochs 25-8 (small model)")
def xor_pocket(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A class whose sub-type is decided by an interaction: the rows of the smallest class
    where two attributes are on opposite sides of their medians (an XOR) form their own
    class; a linear or small model cannot separate the two sub-types and under-fits them."""
    c = int(np.argmin(np.bincount(case.y_train, minlength=case.n_classes)))
    f_tr = features(case, case.x_train)
    cols = rng.permutation(f_tr.shape[1])[:2]
    med = np.median(f_tr[:, cols], 0)
    new = case.n_classes
    for part in ("train", "val"):
        f = features(case, getattr(case, f"x_{part}"))
        y = getattr(case, f"y_{part}").copy()
        xor = (f[:, cols[0]] > med[0]) != (f[:, cols[1]] > med[1])
        y[(y == c) & xor] = new
        setattr(case, f"y_{part}", y)
    case.n_classes += 1
    case.class_names = [*case.class_names, f"{case.class_names[c]}-x"]
    case.spec.set_binary(False)
    if case.spec.metrics != ["accuracy"]:
        case.spec.metrics = ["accuracy"]
    s = case.spec
    s.width, s.depth, s.dropout, s.batchnorm, s.class_weight = 1, 1, 0.0, False, False
    s.epochs, s.early_stopping = int(lerp(severity, 25, 8)), False
    case.description = (f"class {case.class_names[c]} split by the XOR of columns "
                        f"{cols.tolist()}; small model")


@implementation("subgroup_underfitting/minority_device", count=3,
                knob="share of rows from the other device 0.2-0.08; epochs 12-6")
def minority_device(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A minority of rows (both splits) come from another site/device that encodes inputs
    differently (tables: another unit system, columns reflected and rescaled; images:
    negative film; signals: inverted polarity and reversed; tokens: another language's ids
    for the same words). A small model trained briefly learns the majority encoding and
    under-fits the minority sub-group."""
    share = lerp(severity, 0.2, 0.08)
    vocab = case.source.vocab
    shift = int(rng.integers(vocab // 3, 2 * vocab // 3)) if vocab > 6 else 0
    scale = rng.uniform(1.5, 3.0, case.x_train.shape[1]) if case.layout == "vector" else None
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        rows = rng.random(len(x)) < share
        if case.layout == "vector":
            mean = case.x_train.mean(0)
            x[rows] = (mean - (x[rows] - mean) * scale).astype(x.dtype)
        elif case.layout == "image":
            x[rows] = 1.0 - x[rows]
        elif case.layout == "signal":
            mean = float(case.x_train.mean())
            x[rows] = (2 * mean - x[rows][:, ::-1]).astype(x.dtype)
        else:
            sub = x[rows]
            x[rows] = np.where(sub >= 2, 2 + (sub - 2 + shift) % (vocab - 2), sub)
        setattr(case, f"x_{part}", x)
    s = case.spec
    s.width, s.depth, s.dropout, s.batchnorm, s.class_weight = 1, 1, 0.0, False, False
    s.epochs, s.early_stopping = int(lerp(severity, 12, 6)), False
    case.description = f"{share:.0%} of rows encoded by another device; small model"


# == metric_saturation =========================================================================

@implementation("metric_saturation/derived_target", count=3, families=NO_GRU,
                knob="epochs 30-60")
def derived_target(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A target derived from an input: 'is the value above its median' for one input
    quantity (a column; images: brightness; signals: level; tokens: whether a given word
    occurs), rows within a small margin of the cut left out; a clean, easy task trained far
    past its ceiling."""
    def score(x: np.ndarray) -> np.ndarray:
        if case.layout == "vector":
            return x[:, col].astype(float)
        if case.layout == "tokens":
            return (x == word).sum(1).astype(float)
        return x.reshape(len(x), -1).mean(1).astype(float)

    col = int(rng.integers(case.x_train.shape[1])) if case.layout == "vector" else 0
    if case.layout == "vector":   # a column with many distinct values
        distinct = [len(np.unique(case.x_train[:, j])) for j in range(case.x_train.shape[1])]
        col = int(rng.choice(np.argsort(distinct)[-3:]))
    counts = np.bincount(case.x_train.ravel().astype(int), minlength=max(case.source.vocab, 1)) \
        if case.layout == "tokens" else None
    word = int(np.argsort(-counts)[min(20, len(counts) - 1)]) if counts is not None else 0
    s_tr = score(case.x_train)
    cut, spread = np.median(s_tr), s_tr.std()
    for part in ("train", "val"):
        sc = score(getattr(case, f"x_{part}"))
        margin = 0.5 if case.layout == "tokens" else 0.1 * spread
        keep = np.flatnonzero(np.abs(sc - cut) > margin) if case.layout != "tokens" else \
            np.arange(len(sc))
        setattr(case, f"y_{part}", (sc > cut).astype("int64"))
        case.keep(part, keep)
    case.n_classes, case.class_names = 2, ["low", "high"]
    case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(lerp(severity, 30, 60)))
    case.description = f"label = one input quantity above its median, {case.spec.epochs} epochs"


@implementation("metric_saturation/low_noise_sim", count=3, layouts=("vector", "image", "signal"),
                families=NO_GRU, knob="within-class spread kept 25 %-8 %; epochs 30-50")
def low_noise_sim(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Data from a simulator with too little noise: every row (both splits) is pulled
    towards its class's mean input, keeping only 8-25 % of its own deviation, so the classes
    are almost perfectly separated and the run goes on long after the ceiling."""
    keep = lerp(severity, 0.25, 0.08)
    means = np.stack([case.x_train[case.y_train == c].mean(0) for c in range(case.n_classes)])
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}").astype("float32"), getattr(case, f"y_{part}")
        setattr(case, f"x_{part}", (means[y] + keep * (x - means[y])).astype("float32"))
    case.spec.metrics = ["accuracy"]
    bare(case, epochs=int(lerp(severity, 30, 50)))
    case.description = f"rows keep {keep:.0%} of their within-class deviation, {case.spec.epochs} epochs"


# == healthy ===================================================================================

def sized(case: Case) -> None:
    """A capacity that suits the training set."""
    s, n = case.spec, len(case.y_train)
    if n < 400 or (s.family == "mlp" and case.layout in ("image", "signal")):
        s.width, s.depth = 1, 1
        s.dropout = max(s.dropout, 0.3) if s.family != "linear" else 0.0
    s.hidden_bias, s.init_scale = 0.0, 1.0


@implementation("healthy/adamw_decay", count=2, full_train=True, knob="weight decay 0.01-0.05")
def adamw_decay(case: Case, severity: float, rng: np.random.Generator) -> None:
    """AdamW with a real decoupled weight decay, constant rate, 15 epochs."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 2e-3, "constant", 15, False
    extra(case)["weight_decay"] = lerp(severity, 0.01, 0.05)
    case.description = f"AdamW 2e-3, weight decay {extra(case)['weight_decay']:.3f}, 15 epochs"


@implementation("healthy/nesterov_cosine", count=2, full_train=True, families=NO_GRU,
                knob="epochs 12-24")
def nesterov_cosine(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SGD with Nesterov momentum 0.9 and a cosine-decayed learning rate."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.momentum, s.schedule = "sgd", 0.03, 0.9, "cosine"
    s.epochs, s.early_stopping = int(round(lerp(severity, 12, 24))), False
    extra(case)["nesterov"] = True
    case.description = f"SGD Nesterov 0.9, lr 0.03 cosine, {s.epochs} epochs"


@implementation("healthy/label_smoothing", count=2, full_train=True,
                knob="label smoothing 0.05-0.15")
def label_smoothing(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Cross-entropy with label smoothing (one-hot or binary labels), Adam, 15 epochs."""
    sized(case)
    s = case.spec
    if s.labels == "sparse":
        s.labels = "onehot"
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 2e-3, "constant", 15, False
    extra(case)["label_smoothing"] = lerp(severity, 0.05, 0.15)
    case.description = f"label smoothing {extra(case)['label_smoothing']:.2f}, Adam, 15 epochs"


@implementation("healthy/class_weighted", count=1, full_train=True, sources=IMBALANCED,
                knob="epochs 10-20")
def class_weighted(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Balanced class weights on an imbalanced table, Adam, constant rate."""
    sized(case)
    s = case.spec
    s.class_weight, s.optimizer, s.lr, s.schedule = True, "adam", 2e-3, "constant"
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 20))), False
    case.description = f"balanced class weights, Adam, {s.epochs} epochs"


@implementation("healthy/warmup_large_batch", count=2, full_train=True, families=NO_GRU,
                knob="batch 128-256 (lr scaled with it)")
def warmup_large_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Large batches with the learning rate scaled up linearly, a 2-epoch warm-up and a
    cosine decay after it (the usual large-batch recipe), 20 epochs."""
    sized(case)
    s = case.spec
    s.batch_size = 128 if severity < 0.5 else 256
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 1e-3, "constant", 20, False
    peak = 1e-3 * s.batch_size / 32
    s.lr = 1e-4
    extra(case)["warmup"] = (peak, 2 * steps_per_epoch(case), True)
    case.description = f"batch {s.batch_size}, warm-up to {peak:.0e} over 2 epochs then cosine"


@implementation("healthy/exp_decay_clip", count=1, full_train=True, knob="decay per epoch 0.9-0.8")
def exp_decay_clip(case: Case, severity: float, rng: np.random.Generator) -> None:
    """RMSprop with gradient clipping (clipnorm 1) and an exponential per-epoch decay."""
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.clipnorm, s.schedule = "rmsprop", 2e-3, 1.0, "constant"
    s.epochs, s.early_stopping = 15, False
    extra(case)["exp_decay"] = lerp(severity, 0.9, 0.8)
    case.description = f"RMSprop 2e-3, clipnorm 1, x{extra(case)['exp_decay']:.2f} per epoch"
