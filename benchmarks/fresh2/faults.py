"""Fault implementations of the second fresh test set, written apart from the corpus's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered here by id ("cause/variant") with the corpus's ``Impl`` dataclass, in this
module's own ``IMPLEMENTATIONS`` (nothing registers into the corpus's registry). Every
mechanism differs from the corpus's implementations of the same cause (see the README).

Model changes the corpus's ``Spec`` has no field for (a constant kernel initialiser, sigmoid
hidden layers) go into ``case.spec.extra`` and are built by ``benchmarks/fresh2/models.py``;
so do the extra metric names (``topk:K``, ``recall@T``).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import ALL_LAYOUTS, Impl, features, lerp, registrar

IMPLEMENTATIONS: dict[str, Impl] = {}
BOTH = "optimization;pipeline_bug"
# families that can memorise a training set (not linear; GRUs are slow)
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")
DENSE_CONV = ("mlp", "cnn2d", "cnn1d")


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


def _extra(case: Case) -> dict:
    if not hasattr(case.spec, "extra"):
        case.spec.extra = {}  # type: ignore[attr-defined]
    return case.spec.extra  # type: ignore[attr-defined]


def _no_safety_nets(case: Case, width: int = 0, epochs: int = 0) -> None:
    """No dropout, batch norm, early stopping, class weights or plateau schedule."""
    s = case.spec
    s.dropout, s.batchnorm, s.early_stopping, s.class_weight = 0.0, False, False, False
    s.schedule = "constant" if s.schedule == "plateau" else s.schedule
    if width:
        s.width, s.depth = max(s.width, width), max(s.depth, 2)
    if epochs:
        s.epochs = epochs


def _knn_proba(case: Case, x: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """Out-of-fold class probabilities of a k-NN on the z-scored inputs."""
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    f = features(case, x)
    folds = max(2, min(3, int(np.bincount(y).min())))
    proba = cross_val_predict(KNeighborsClassifier(k), f, y, cv=folds, method="predict_proba")
    out = np.zeros((len(y), case.n_classes))
    out[:, np.unique(y)] = proba
    return out


def _shrink_train(case: Case, n: int, rng: np.random.Generator) -> None:
    if len(case.y_train) > n:
        case.keep("train", np.sort(rng.permutation(len(case.y_train))[:n]))


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/confusable", count=2, families=MEMORISERS,
                knob="flip rate 0.15-0.45")
def confusable(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Annotator confusion: each class's labels flip to the class a k-NN confuses it with
    most, and the rows that look most like that class flip most often."""
    rate = lerp(severity, 0.15, 0.45)
    _shrink_train(case, 700, rng)
    y = case.y_train.copy()
    proba = _knn_proba(case, case.x_train, y)
    conf = np.stack([proba[y == c].mean(0) if (y == c).any() else np.zeros(case.n_classes)
                     for c in range(case.n_classes)])
    np.fill_diagonal(conf, -1)
    target = conf.argmax(1)
    look = proba[np.arange(len(y)), target[y]] + 0.05
    p = np.zeros(len(y))
    for c in range(case.n_classes):
        rows = y == c
        if rows.any():
            p[rows] = rate * look[rows] / look[rows].mean()
    flip = rng.random(len(y)) < np.minimum(p, 0.95)
    y[flip] = target[y[flip]]
    case.y_train = y
    _no_safety_nets(case, width=3, epochs=45)
    case.spec.batch_size = 16
    case.description = (f"{flip.mean():.0%} of training labels flipped to the k-NN's most "
                        "confused class, look-alikes first")


@implementation("label_noise/one_class", count=2, families=MEMORISERS,
                knob="share of one class's labels replaced 0.3-0.7")
def one_class(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Noise confined to one class: a share of the largest class's training labels were
    typed in wrong (uniformly another class); every other class is clean."""
    share = lerp(severity, 0.3, 0.7)
    _shrink_train(case, 700, rng)
    y = case.y_train.copy()
    c = int(np.argmax(np.bincount(y, minlength=case.n_classes)))
    rows = np.flatnonzero(y == c)
    hit = rows[rng.random(len(rows)) < share]
    y[hit] = (c + rng.integers(1, case.n_classes, len(hit))) % case.n_classes
    case.y_train = y
    _no_safety_nets(case, width=3, epochs=45)
    case.spec.batch_size = 16
    case.description = (f"{len(hit)} of class {case.class_names[c]}'s {len(rows)} training "
                        "labels replaced by another class")


@implementation("label_noise/cluster", count=2, families=MEMORISERS,
                knob="share of training rows in the mislabelled clusters 0.2-0.5")
def cluster(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Noise concentrated in a region of the input space: the training rows of a few k-means
    clusters (one careless annotation batch) got uniformly random labels."""
    from sklearn.cluster import KMeans

    share = lerp(severity, 0.2, 0.5)
    _shrink_train(case, 700, rng)
    f = features(case, case.x_train)
    groups = KMeans(8, n_init=3, random_state=case.seed).fit_predict(f)
    covered = np.zeros(len(f), bool)
    for g in rng.permutation(8):
        if covered.mean() >= share:
            break
        covered |= groups == g
    y = case.y_train.copy()
    y[covered] = rng.integers(0, case.n_classes, int(covered.sum()))
    changed = float((y != case.y_train).mean())
    case.y_train = y
    _no_safety_nets(case, width=3, epochs=45)
    case.spec.batch_size = 16
    case.description = (f"training rows of {covered.mean():.0%} of the input space (k-means "
                        f"clusters) relabelled at random ({changed:.0%} of labels wrong)")


# == overfitting ===============================================================================

@implementation("overfitting/oversampled", count=2, families=MEMORISERS,
                knob="distinct training rows per class 25-8 (each copied to ~600 rows)")
def oversampled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Naive oversampling: a few distinct training rows per class, each copied many times to
    make a 'big enough' training set, and a wide unregularised model."""
    m = int(round(lerp(severity, 25, 8)))
    rows = np.concatenate([rng.permutation(np.flatnonzero(case.y_train == c))[:m]
                           for c in range(case.n_classes)])
    copies = int(np.ceil(600 / len(rows)))
    case.keep("train", np.sort(np.tile(rows, copies)))
    _no_safety_nets(case, width=4, epochs=int(lerp(severity, 15, 25)))
    case.spec.batch_size = 32
    case.description = (f"{m} distinct training rows per class, each copied {copies} times")


@implementation("overfitting/wide_subsample", count=2, families=MEMORISERS,
                knob="width x8-x32 (conv/embed x4-x8) on 30 %-12 % of the training split")
def wide_subsample(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A very wide network (hundreds to a thousand units) on a small random subsample,
    Adam, 60 epochs, no regularisation."""
    share = lerp(severity, 0.30, 0.12)
    _shrink_train(case, max(120, int(share * len(case.y_train))), rng)
    s = case.spec
    width = int(round(lerp(severity, 8, 32))) if s.family == "mlp" else int(round(
        lerp(severity, 4, 8)))
    _no_safety_nets(case, epochs=60)
    s.width, s.depth = width, 1 if s.family == "mlp" else s.depth
    s.optimizer, s.lr, s.batch_size = "adam", 2e-3, 16
    case.description = f"{32 * width if s.family == 'mlp' else 'wide'} units, " \
                       f"{len(case.y_train)} training rows, 60 epochs"


@implementation("overfitting/tiny_batch", count=2, layouts=("vector",),
                families=("mlp",), knob="epochs 60-120 at batch 4 on <= 200 rows")
def tiny_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A small table trained for far too many updates: batch size 4, a lively Adam and
    60-120 epochs on at most 200 rows."""
    _shrink_train(case, 200, rng)
    _no_safety_nets(case, width=3, epochs=int(lerp(severity, 60, 120)))
    s = case.spec
    s.optimizer, s.lr, s.batch_size, s.schedule = "adam", 3e-3, 4, "constant"
    case.description = f"{len(case.y_train)} rows, batch 4, {s.epochs} epochs"


# == metric_mismatch ===========================================================================

def _binary_rare(case: Case, positive: int, share: float, rng: np.random.Generator) -> None:
    """Class ``positive`` against the rest, positives thinned to ``share`` of each split."""
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
        n_pos = max(6, int(round(share / (1 - share) * len(neg))))
        case.keep(part, np.sort(np.concatenate([neg, rng.permutation(pos)[:n_pos]])))
        setattr(case, f"y_{part}", (getattr(case, f"y_{part}") == positive).astype("int64"))
    case.class_names = ["rest", case.class_names[positive]]
    case.n_classes = 2
    case.spec.set_binary(True)
    case.spec.class_weight = False


def _hardest_class(case: Case) -> int:
    """The class a k-NN recognises worst in training."""
    proba = _knn_proba(case, case.x_train, case.y_train)
    recall = [proba[case.y_train == c, c].mean() if (case.y_train == c).any() else 1.0
              for c in range(case.n_classes)]
    return int(np.argmin(recall))


@implementation("metric_mismatch/accuracy_imbalanced", count=2, families=NO_GRU,
                knob="positive share 8 %-2.5 %")
def accuracy_imbalanced(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare, hard positive class (the class a k-NN recognises worst, thinned) scored with
    plain accuracy: it sits at the majority rate while the loss keeps improving."""
    share = lerp(severity, 0.08, 0.025)
    positive = _hardest_class(case)
    _binary_rare(case, positive, share, rng)
    case.spec.metrics = ["accuracy"]
    case.description = f"class {case.class_names[1]} vs rest at {share:.1%}, monitored by accuracy"


@implementation("metric_mismatch/topk_lenient", count=2, classes="multi", families=NO_GRU,
                acceptable="metric_mismatch;metric_saturation", knob="k = K-2 to K-1")
def topk_lenient(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A top-k accuracy with k close to the number of classes: it is near 1 from the first
    epoch and cannot show what the loss improves."""
    k = case.n_classes - 1 if severity >= 0.5 or case.n_classes < 4 else case.n_classes - 2
    case.spec.metrics = [f"topk:{k}"]
    case.description = f"monitored by top-{k} accuracy over {case.n_classes} classes"


@implementation("metric_mismatch/strict_threshold", count=2, families=NO_GRU,
                knob="recall threshold 0.93-0.99")
def strict_threshold(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hard binary task (the worst-recognised class against the rest) scored by recall at
    a very strict threshold that its probabilities rarely reach."""
    t = lerp(severity, 0.93, 0.99)
    positive = _hardest_class(case)
    share = float((case.y_train == positive).mean())
    _binary_rare(case, positive, min(0.45, max(share, 0.2)), rng)
    case.spec.metrics = [f"recall@{t:.3f}"]
    case.description = f"class {case.class_names[1]} vs rest, monitored by recall at {t:.3f}"


# == distribution_shift: validation inputs from another distribution ==========================

@implementation("distribution_shift/recalibration", count=2, layouts=("vector", "image", "signal"),
                knob="gain 1.4-2.5 and offset 0.3-1.0 std on 30-80 % of columns "
                     "(images: contrast 0.6-0.3, brightness +0.1-0.25)")
def recalibration(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation sensor was recalibrated: a block of columns has another gain and
    offset (images: another exposure and contrast; signals: another gain and zero)."""
    x = case.x_val.astype("float32").copy()
    if case.layout == "vector":
        d = x.shape[1]
        m = max(1, int(round(lerp(severity, 0.3, 0.8) * d)))
        start = int(rng.integers(0, d - m + 1))
        cols = np.arange(start, start + m)
        gain = lerp(severity, 1.4, 2.5) * rng.uniform(0.85, 1.0, m)
        std = case.x_train[:, cols].std(0)
        offset = lerp(severity, 0.3, 1.0) * std * rng.choice([-1, 1], m)
        mean = case.x_train[:, cols].mean(0)
        x[:, cols] = (x[:, cols] - mean) * gain + mean + offset
        case.description = f"validation columns {start}-{start + m - 1} recalibrated (gain ~{gain.mean():.1f})"
    elif case.layout == "image":
        a, b = lerp(severity, 0.6, 0.3), lerp(severity, 0.1, 0.25)
        x = np.clip(a * (x - 0.5) + 0.5 + b, 0, 1)
        case.description = f"validation images at contrast x{a:.2f}, brightness +{b:.2f}"
    else:
        gain = lerp(severity, 1.5, 3.0)
        mean, std = float(case.x_train.mean()), float(case.x_train.std())
        x = (x - mean) * gain + mean + lerp(severity, 0.5, 1.5) * std
        case.description = f"validation signals at gain x{gain:.1f} with a zero offset"
    case.x_val = x.astype("float32")


@implementation("distribution_shift/resampled", count=2, layouts=("image", "signal"),
                knob="images: zoomed out x0.8-0.55; signals: time-stretched x1.4-2.5")
def resampled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation recorded at another scale: images from a camera further away (zoomed out,
    padded with background), signals sampled faster (stretched in time)."""
    from scipy.ndimage import zoom

    x = case.x_val.astype("float32")
    if case.layout == "image":
        factor = lerp(severity, 0.8, 0.55)
        h, w = x.shape[1:3]
        out = np.empty_like(x)
        for i, img in enumerate(x[..., 0]):
            small = zoom(img, factor, order=1)
            canvas = np.full((h, w), float(np.median(np.concatenate([img[0], img[-1]]))),
                             "float32")
            top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
            canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
            out[i, ..., 0] = canvas
        case.description = f"validation images zoomed out x{factor:.2f}"
    else:
        factor = lerp(severity, 1.4, 2.5)
        n_t = x.shape[1]
        t = np.arange(n_t)
        out = np.empty_like(x)
        for i in range(len(x)):
            start = rng.uniform(0, n_t - n_t / factor)
            out[i, :, 0] = np.interp(start + t / factor, t, x[i, :, 0])
        case.description = f"validation signals stretched x{factor:.1f} in time"
    case.x_val = out


@implementation("distribution_shift/vocab_drift", count=1, layouts=("tokens",),
                acceptable="distribution_shift;pipeline_bug", knob="share of the vocabulary respelled 0.3-0.7")
def vocab_drift(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation text from another community: a share of the words are spelled differently
    (each such id consistently replaced by another id)."""
    share = lerp(severity, 0.3, 0.7)
    vocab = case.source.vocab
    ids = np.arange(2, vocab)
    moved = rng.permutation(ids)[: int(round(share * len(ids)))]
    table = np.arange(vocab)
    table[moved] = rng.permutation(moved)
    case.x_val = table[case.x_val].astype("int32")
    case.description = f"{len(moved)} of {vocab} token ids respelled in validation"


@implementation("distribution_shift/atypical", count=1, knob="share of validation from the "
                "class's outskirts 0.5-1.0")
def atypical(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation collected from atypical examples: per class, mostly the rows furthest from
    the class centre (the pooled data re-split; the label mix kept)."""
    share = lerp(severity, 0.5, 1.0)
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    f = np.concatenate([features(case, case.x_train), features(case, case.x_val)])
    frac = len(case.y_val) / len(y)
    is_val = np.zeros(len(y), bool)
    for c in range(case.n_classes):
        members = np.flatnonzero(y == c)
        n_val = max(1, int(round(frac * len(members))))
        dist = np.linalg.norm(f[members] - np.median(f[members], 0), axis=1)
        ranked = members[np.argsort(-dist)]
        n_far = int(round(share * n_val))
        rest = ranked[n_far:]
        is_val[ranked[:n_far]] = True
        is_val[rng.choice(rest, min(n_val - n_far, len(rest)), replace=False)] = True
    case.x_train, case.y_train = x[~is_val], y[~is_val]
    case.x_val, case.y_val = x[is_val], y[is_val]
    case.description = f"{share:.0%} of each class's validation rows are its most atypical ones"


# == subgroup_underfitting =====================================================================

def _class_means(case: Case) -> np.ndarray:
    f = features(case, case.x_train)
    return np.stack([f[case.y_train == c].mean(0) for c in range(case.n_classes)])


@implementation("subgroup_underfitting/merged_classes", count=3, classes="multi",
                families=("linear", "mlp", "embed"), knob="epochs 20-8 (small model)")
def merged_classes(case: Case, severity: float, rng: np.random.Generator) -> None:
    """One label covers two far-apart kinds of input (two classes merged into one, e.g. two
    product codes under one name) and the model is small: one of the two sub-groups is
    under-fit while the other classes are learned."""
    means = _class_means(case)
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1)
    a, b = np.unravel_index(np.argmax(dist), dist.shape)
    keep_, gone = int(min(a, b)), int(max(a, b))
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}").copy()
        y[y == gone] = keep_
        y[y > gone] -= 1
        setattr(case, f"y_{part}", y)
    case.class_names = [n if i != keep_ else f"{n}+{case.class_names[gone]}"
                        for i, n in enumerate(case.class_names) if i != gone]
    case.n_classes -= 1
    s = case.spec
    s.width, s.depth, s.dropout, s.batchnorm = 1, 1, 0.0, False
    s.epochs, s.early_stopping = int(lerp(severity, 20, 8)), False
    s.class_weight = False
    case.description = f"classes {keep_} and {gone} (the farthest pair) share one label; small model"


@implementation("subgroup_underfitting/subtle_class", count=3, classes="multi",
                knob="marker strength 0.8-0.3 (tokens: marker in 90 %-60 % of rows)")
def subtle_class(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A class told apart from its nearest class only by a faint marker: its inputs are
    drawn from the neighbour class and carry a small, fixed signature (both splits)."""
    means = _class_means(case)
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    b = int(rng.integers(case.n_classes))
    a = int(np.argmin(dist[b]))
    strength = lerp(severity, 0.8, 0.3)
    cols = rng.permutation(case.x_train.shape[1])[:2] if case.layout == "vector" else None
    marker_token = int(rng.integers(2, max(case.source.vocab, 3)))
    std = case.x_train.std(0) if case.layout == "vector" else float(case.x_train.std())
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}").copy(), getattr(case, f"y_{part}")
        rows, donors = np.flatnonzero(y == b), np.flatnonzero(y == a)
        if not len(rows) or not len(donors):
            continue
        x[rows] = x[rng.choice(donors, len(rows))]
        if case.layout == "vector":
            x[np.ix_(rows, cols)] += strength * std[cols]
        elif case.layout == "image":
            x[rows, :3, :3] = np.clip(x[rows, :3, :3] + 0.3 * strength, 0, 1)
        elif case.layout == "signal":
            t = np.arange(x.shape[1])
            x[rows, :, 0] += strength * std * np.sin(2 * np.pi * t / 7.0)
        else:
            hit = rows[rng.random(len(rows)) < lerp(severity, 0.9, 0.6)]
            x[hit, rng.integers(0, x.shape[1], len(hit))] = marker_token
        setattr(case, f"x_{part}", x)
    case.spec.epochs = max(case.spec.epochs, 20)
    case.description = (f"class {b} = inputs of class {a} plus a faint marker "
                        f"(strength {strength:.2f})")


# == pipeline_bug ==============================================================================

@implementation("pipeline_bug/label_offset", count=2, knob="share of validation rows "
                "with labels offset 0.3-1.0")
def label_offset(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Part of the validation label file was written 1-based (or with another offset):
    over a contiguous block, label = true label + s mod K."""
    share = lerp(severity, 0.3, 1.0)
    n = len(case.y_val)
    order = rng.permutation(n)
    case.keep("val", order)
    m = int(round(share * n))
    start = int(rng.integers(0, n - m + 1))
    s = 1 if case.n_classes == 2 else int(rng.integers(1, case.n_classes))
    y = case.y_val.copy()
    y[start:start + m] = (y[start:start + m] + s) % case.n_classes
    case.y_val = y
    case.description = f"validation rows {start}-{start + m - 1} have labels offset by {s}"


@implementation("pipeline_bug/uint8_cast", count=1, layouts=("image",),
                knob="share of validation images cast 0.5-1.0")
def uint8_cast(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation images went through ``astype('uint8') / 255`` although they were already
    in [0, 1]: almost every pixel becomes 0."""
    share = lerp(severity, 0.5, 1.0)
    rows = rng.permutation(len(case.y_val))[: int(round(share * len(case.y_val)))]
    x = case.x_val.copy()
    x[rows] = x[rows].astype("uint8").astype("float32") / 255.0
    case.x_val = x
    case.description = f"{len(rows)} validation images cast to uint8 then divided by 255"


@implementation("pipeline_bug/truncated_tokens", count=1, layouts=("tokens",),
                knob="validation tokens kept 60 %-25 %")
def truncated_tokens(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation tokenizer used another max length: sequences cut to their first L'
    tokens and padded with id 0 to the model's length."""
    keep = max(2, int(round(lerp(severity, 0.6, 0.25) * case.x_val.shape[1])))
    x = case.x_val.copy()
    x[:, keep:] = 0
    case.x_val = x
    case.description = f"validation sequences truncated to {keep} tokens and zero-padded"


@implementation("pipeline_bug/stale_scaler", count=1, layouts=("vector",),
                knob="share of columns scaled with a neighbour's statistics 0.3-1.0")
def stale_scaler(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation standardised with a saved scaler whose statistics are off by one column
    (a column was dropped before it was saved)."""
    share = lerp(severity, 0.3, 1.0)
    raw_train, raw_val = case.x_train.copy(), case.x_val.copy()
    d = raw_val.shape[1]
    m = max(2, int(round(share * d)))

    def hook(c: Case) -> None:
        mean, std = raw_train.mean(0), raw_train.std(0) + 1e-6
        idx = np.arange(d)
        idx[:m] = np.roll(idx[:m], -1)
        c.x_val = ((raw_val - mean[idx]) / std[idx]).astype("float32")
    case.post.append(hook)
    case.description = f"validation columns 0-{m - 1} scaled with the next column's statistics"


@implementation("pipeline_bug/memory_order", count=1, layouts=("vector", "image", "signal"),
                knob="share of validation rows read back in the wrong order 0.3-1.0")
def memory_order(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A block of validation rows written in C order and read back in Fortran order: each
    row becomes a strided mix of values from many samples."""
    share = lerp(severity, 0.3, 1.0)
    n = len(case.y_val)
    m = max(2, int(round(share * n)))

    def hook(c: Case) -> None:
        x = c.x_val.copy()
        block = x[:m].copy()
        x[:m] = block.reshape(-1).reshape(block.shape, order="F")
        c.x_val = x
    case.post.append(hook)
    case.description = f"validation rows 0-{m - 1} read back in Fortran order"


@implementation("pipeline_bug/train_labels_shuffled", count=1, acceptable="pipeline_bug;label_noise",
                families=MEMORISERS, knob="share of training rows whose labels were shuffled 0.5-1.0")
def train_labels_shuffled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training loader shuffled inputs and labels with different seeds for some shards:
    a share of training labels are permuted among those rows (validation is intact)."""
    share = lerp(severity, 0.5, 1.0)
    rows = np.flatnonzero(rng.random(len(case.y_train)) < share)
    y = case.y_train.copy()
    y[rows] = y[rng.permutation(rows)]
    case.y_train = y
    case.spec.epochs = max(case.spec.epochs, 20)
    case.spec.early_stopping = False
    case.description = f"labels of {len(rows)} training rows shuffled among themselves"


# == optimization ==============================================================================

def _plain(case: Case) -> None:
    s = case.spec
    s.schedule, s.early_stopping, s.batchnorm, s.clipnorm = "constant", False, False, 0.0


@implementation("optimization/zero_init", count=2, families=DENSE_CONV, acceptable=BOTH,
                premise=True, knob="none (every hidden kernel and bias 0)")
def zero_init(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Hidden kernels initialised to zeros: every ReLU unit outputs 0 and gets no gradient,
    so only the output bias learns (the class prior)."""
    _plain(case)
    _extra(case)["kernel_init"] = 0.0
    case.spec.dropout = 0.0
    case.description = "hidden kernels initialised to 0 (ReLU units dead and symmetric)"


@implementation("optimization/constant_init", count=1, families=DENSE_CONV, classes="multi",
                knob="constant kernel init 0.1-0.01")
def constant_init(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Hidden kernels initialised to one constant: all units of a layer stay identical
    (symmetry never breaks), so each layer acts as a single unit."""
    _plain(case)
    _extra(case)["kernel_init"] = float(10 ** lerp(severity, -1.0, -2.0))
    case.spec.dropout = 0.0
    case.description = f"hidden kernels initialised to the constant {_extra(case)['kernel_init']:.3f}"


@implementation("optimization/sigmoid_stack", count=2, families=("mlp",),
                knob="sigmoid hidden layers 5-10")
def sigmoid_stack(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A deep stack of sigmoid hidden layers trained with plain SGD: gradients vanish
    before they reach the first layers and the loss barely moves."""
    _plain(case)
    s = case.spec
    s.depth, s.dropout = int(round(lerp(severity, 5, 10))), 0.0
    _extra(case)["activation"] = "sigmoid"
    s.optimizer, s.lr, s.momentum = "sgd", 0.05, 0.0
    case.description = f"{s.depth} sigmoid hidden layers, plain SGD lr 0.05"


@implementation("optimization/high_momentum", count=1, families=("linear", "mlp", "cnn2d", "cnn1d"),
                acceptable=BOTH, knob="SGD momentum 0.99-0.999 at lr 0.05")
def high_momentum(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SGD with a momentum far too close to 1: the velocity keeps growing and the weights
    swing past every minimum."""
    _plain(case)
    s = case.spec
    s.optimizer, s.lr = "sgd", 0.05
    s.momentum = 1 - float(10 ** lerp(severity, -2.0, -3.0))
    case.description = f"SGD lr 0.05, momentum {s.momentum:.4f}"


@implementation("optimization/full_batch", count=1, families=NO_GRU, knob="epochs 12-4 "
                "(one update each)")
def full_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The whole training set as one batch with a default Adam: a handful of updates in all,
    the model stops far from any good solution."""
    _plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", 1e-3
    s.batch_size = len(case.y_train)
    s.epochs = int(round(lerp(severity, 12, 4)))
    case.description = f"batch = all {len(case.y_train)} rows, {s.epochs} updates"


# == small_validation_set ======================================================================

def _order_key(case: Case, x: np.ndarray) -> np.ndarray:
    """A file-like order of rows: by the first column, by mean intensity or by first token."""
    if case.layout == "vector":
        return x[:, 0]
    if case.layout == "tokens":
        return x[:, 0].astype(float)
    return x.reshape(len(x), -1).mean(1)


@implementation("small_validation_set/first_rows", count=3,
                acceptable="small_validation_set;distribution_shift",
                knob="validation rows 50-15 (the head of a sorted file)")
def first_rows(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation = the first few rows of a file sorted by its first field (a quick
    ``head(n)`` instead of a random hold-out)."""
    n = int(round(lerp(severity, 50, 15)))
    order = np.argsort(_order_key(case, case.x_val), kind="stable")
    case.keep("val", order[:n])
    case.description = f"validation = first {n} rows of a file sorted by its first field"


@implementation("small_validation_set/tiny_holdout", count=3, knob="hold-out rows 40-8")
def tiny_holdout(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hold-out carved as the last rows of the training array (Keras validation_split
    style) with a tiny fraction: 8-40 rows; the original validation split is dropped."""
    n = int(round(lerp(severity, 40, 8)))
    x, y = case.x_train, case.y_train
    case.x_train, case.y_train = x[:-n], y[:-n]
    case.x_val, case.y_val = x[-n:], y[-n:]
    case.description = f"validation = the last {n} training rows"


# == metric_saturation =========================================================================

@implementation("metric_saturation/confident_subset", count=3, families=NO_GRU,
                knob="epochs 30-60")
def confident_subset(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A 'cleaned' data set: per class, only the rows a k-NN labels most surely (probability
    >= 0.9 for its class, at least the surest 30 %) are kept in both splits, then the easy
    problem is trained far past its ceiling."""
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    sure = _knn_proba(case, x, y, k=10)[np.arange(len(y)), y]
    keep = sure >= 0.9
    for c in range(case.n_classes):
        members = np.flatnonzero(y == c)
        top = members[np.argsort(-sure[members])][: int(np.ceil(0.3 * len(members)))]
        keep[top] = True
    n_train = len(case.y_train)
    case.keep("train", np.flatnonzero(keep[:n_train]))
    case.keep("val", np.flatnonzero(keep[n_train:]))
    _no_safety_nets(case, epochs=int(lerp(severity, 30, 60)))
    case.description = (f"only k-NN-certain rows kept ({len(case.y_train)} train, "
                        f"{len(case.y_val)} val), {case.spec.epochs} epochs")


@implementation("metric_saturation/rule_labels", count=3, families=NO_GRU,
                knob="epochs 30-60")
def rule_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Labels produced by a fixed rule (a linear score above its median, rows near the cut
    left out), a noise-free target learned to the ceiling and then trained far past it."""
    f_tr, f_va = features(case, case.x_train), features(case, case.x_val)
    w = rng.normal(0, 1, f_tr.shape[1])
    s_tr, s_va = f_tr @ w, f_va @ w
    cut, spread = np.median(s_tr), s_tr.std()
    for part, score in (("train", s_tr), ("val", s_va)):
        keep = np.flatnonzero(np.abs(score - cut) > 0.25 * spread)
        setattr(case, f"y_{part}", (score > cut).astype("int64"))
        case.keep(part, keep)
    case.n_classes, case.class_names = 2, ["below", "above"]
    if case.spec.labels == "onehot" or case.spec.labels == "sparse":
        case.spec.labels, case.spec.output = "sparse", "softmax"
    case.spec.metrics = ["accuracy"]
    _no_safety_nets(case, epochs=int(lerp(severity, 30, 60)))
    case.description = f"labels = a linear rule of the inputs with a margin, {case.spec.epochs} epochs"


# == healthy ===================================================================================

def _sized(case: Case) -> None:
    """A capacity that suits the training set."""
    s, n = case.spec, len(case.y_train)
    if n < 400 or (s.family == "mlp" and case.layout in ("image", "signal")):
        s.width, s.depth = 1, 1
        s.dropout = max(s.dropout, 0.3) if s.family != "linear" else 0.0
    s.hidden_bias, s.init_scale = 0.0, 1.0


@implementation("healthy/cosine", count=2, full_train=True, knob="epochs 12-25")
def cosine(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A clean run with a cosine-decayed learning rate that ends on a plateau."""
    _sized(case)
    case.spec.schedule, case.spec.epochs = "cosine", int(lerp(severity, 12, 25))
    case.spec.early_stopping = False
    case.description = f"clean run, cosine schedule, {case.spec.epochs} epochs"


@implementation("healthy/early_stop", count=2, full_train=True, knob="patience 2-6")
def early_stop(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A clean run stopped by EarlyStopping on the validation loss (best weights restored)."""
    _sized(case)
    s = case.spec
    s.early_stopping, s.patience, s.epochs = True, int(round(lerp(severity, 2, 6))), 40
    case.description = f"clean run, early stopping (patience {s.patience})"


@implementation("healthy/brief", count=1, full_train=True,
                families=("linear", "cnn2d", "cnn1d", "embed"),
                sources=("hpc", "spots20", "arnoise", "tokens_markov", "cells"),
                knob="epochs 2-4")
def brief(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A short run (2-4 epochs) on one of the larger sources."""
    _sized(case)
    s = case.spec
    s.epochs, s.optimizer, s.lr, s.batch_size = int(round(lerp(severity, 2, 4))), "adam", 3e-3, 32
    s.early_stopping, s.schedule = False, "constant"
    case.description = f"{s.epochs}-epoch run"


@implementation("healthy/small_batch", count=1, full_train=True, families=("cnn2d", "embed"),
                knob="batch 16-8")
def small_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Small batches with SGD + momentum at a modest rate: noisy but improving curves."""
    _sized(case)
    s = case.spec
    s.batch_size = int(round(lerp(severity, 16, 8)))
    s.optimizer, s.lr, s.momentum, s.schedule = "sgd", 0.01, 0.9, "constant"
    s.epochs, s.early_stopping = 10, False
    case.description = f"batch {s.batch_size}, SGD lr 0.01 momentum 0.9, 10 epochs"


@implementation("healthy/dropout_bn", count=2, full_train=True, knob="dropout 0.2-0.5")
def dropout_bn(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Dropout and batch norm with a reduce-on-plateau schedule."""
    _sized(case)
    s = case.spec
    s.dropout = lerp(severity, 0.2, 0.5) if s.family != "linear" else 0.0
    s.batchnorm = s.family in ("mlp", "cnn2d", "cnn1d")
    s.schedule, s.epochs, s.early_stopping = "plateau", 20, False
    case.description = f"dropout {s.dropout:.2f}, batch norm, reduce-on-plateau, 20 epochs"


@implementation("healthy/step_schedule", count=1, full_train=True, families=NO_GRU,
                layouts=("vector", "image", "signal"), knob="epochs 12-24")
def step_schedule(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with a x0.1 learning-rate step at two thirds of the run."""
    _sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule = "adam", 2e-3, "step"
    s.epochs, s.early_stopping = int(round(lerp(severity, 12, 24))), False
    case.description = f"Adam 2e-3, x0.1 at epoch {2 * s.epochs // 3}, {s.epochs} epochs"


@implementation("healthy/linear_baseline", count=1, full_train=True, families=("linear",),
                layouts=("vector",), knob="epochs 15-30")
def linear_baseline(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A linear model (logistic regression by SGD) on a table: a convex, clean run."""
    s = case.spec
    s.optimizer, s.lr, s.schedule = "adam", 1e-2, "constant"
    s.epochs, s.early_stopping = int(round(lerp(severity, 15, 30))), False
    case.description = f"linear model, Adam 1e-2, {s.epochs} epochs"


__all__ = ["ALL_LAYOUTS", "IMPLEMENTATIONS", "Impl"]
