"""Fault implementations of the fifth fresh test set (a third independent implementation of
every cause), written apart from the corpus's, fresh's and fresh2's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
the corpus's or fresh2's registries). Model changes the corpus's ``Spec`` has no field for go
into ``case.spec.extra`` and are built by ``benchmarks/fresh5/models.py``.

This file: label_noise, overfitting, metric_mismatch, distribution_shift, pipeline_bug.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, features, lerp, registrar

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


def extra(case: Case) -> dict:
    """``case.spec.extra`` (created on first use)."""
    if not hasattr(case.spec, "extra"):
        case.spec.extra = {}  # type: ignore[attr-defined]
    return case.spec.extra  # type: ignore[attr-defined]


def bare(case: Case, width: int = 0, epochs: int = 0, batch: int = 0) -> None:
    """No dropout, batch norm, early stopping, class weights or plateau schedule."""
    s = case.spec
    s.dropout, s.batchnorm, s.early_stopping, s.class_weight = 0.0, False, False, False
    s.schedule = "constant" if s.schedule == "plateau" else s.schedule
    if width:
        s.width, s.depth = max(s.width, width), max(s.depth, 2)
    if epochs:
        s.epochs = epochs
    if batch:
        s.batch_size = batch


def shrink_train(case: Case, n: int, rng: np.random.Generator) -> None:
    if len(case.y_train) > n:
        case.keep("train", np.sort(rng.permutation(len(case.y_train))[:n]))


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/weak_annotator", count=2, families=MEMORISERS,
                knob="share of training rows labelled by the weak model 0.35-0.8")
def weak_annotator(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Model-assisted labelling: a share of the training rows were labelled by a weak
    pre-labelling model (a depth-2 decision tree on two input features, fit on a small
    clean seed set) and never reviewed, so they are wrong exactly where that model is."""
    from sklearn.tree import DecisionTreeClassifier

    share = lerp(severity, 0.35, 0.8)
    shrink_train(case, 700, rng)
    f = features(case, case.x_train)
    cols = rng.permutation(f.shape[1])[:2]
    seed_rows = rng.permutation(len(f))[:80]
    tree = DecisionTreeClassifier(max_depth=2, random_state=case.seed).fit(
        f[np.ix_(seed_rows, cols)], case.y_train[seed_rows])
    rows = rng.random(len(f)) < share
    y = case.y_train.copy()
    y[rows] = tree.predict(f[rows][:, cols])
    wrong = float((y != case.y_train).mean())
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"{rows.mean():.0%} of training rows labelled by a depth-2 tree on 2 "
                        f"features ({wrong:.0%} of labels wrong)")


@implementation("label_noise/fatigue", count=2, families=MEMORISERS,
                knob="error rate at the end of the session 0.35-0.85")
def fatigue(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Annotator fatigue: rows were labelled in file order in one long session and the error
    rate grows from 0 at the first row to ``rate`` at the last (a wrong label is a uniformly
    drawn other class)."""
    rate = lerp(severity, 0.35, 0.85)
    shrink_train(case, 700, rng)
    n = len(case.y_train)
    p = rate * np.arange(n) / max(n - 1, 1)
    flip = rng.random(n) < p
    y = case.y_train.copy()
    y[flip] = (y[flip] + rng.integers(1, case.n_classes, int(flip.sum()))) % case.n_classes
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"training label error rate rising 0 -> {rate:.0%} with row index "
                        f"({flip.mean():.0%} wrong)")


@implementation("label_noise/default_option", count=2, families=MEMORISERS,
                knob="share of rows where the annotator kept the default 0.25-0.6")
def default_option(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A lazy annotator: on a share of the training rows (of every class) the labelling
    tool's pre-selected default class (here the rarest class, first in its drop-down) was
    submitted unchanged."""
    share = lerp(severity, 0.25, 0.6)
    shrink_train(case, 700, rng)
    default = int(np.argmin(np.bincount(case.y_train, minlength=case.n_classes)))
    rows = rng.random(len(case.y_train)) < share
    y = case.y_train.copy()
    y[rows] = default
    wrong = float((y != case.y_train).mean())
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"{rows.mean():.0%} of training rows labelled with the default class "
                        f"{case.class_names[default]} ({wrong:.0%} wrong)")


# == overfitting ===============================================================================

@implementation("overfitting/swapped_split", count=2, families=MEMORISERS,
                knob="epochs 40-80 (no regularisation)")
def swapped_split(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``x_train, x_val = train_test_split(...)`` unpacked the wrong way round: the model
    trains on the small hold-out part (a quarter of the rows at most 300) and is validated
    on the large part, for many epochs with a roomy, unregularised model."""
    n_small = min(300, max(60, len(case.y_val) // 2))
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    order = rng.permutation(len(y))
    small, large = order[:n_small], order[n_small:][:1200]
    case.x_train, case.y_train = x[small], y[small]
    case.x_val, case.y_val = x[large], y[large]
    bare(case, width=3, epochs=int(lerp(severity, 40, 80)), batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"train on {n_small} rows, validate on {len(large)}, {case.spec.epochs} epochs"


@implementation("overfitting/poly_features", count=2, layouts=("vector",), families=("mlp",),
                knob="training rows 400-150 with all degree-3 products of the columns")
def poly_features(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Feature engineering gone too far: every product of up to three columns
    (``PolynomialFeatures(3)``) appended to a small table, a wide unregularised MLP."""
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    shrink_train(case, int(lerp(severity, 400, 150)), rng)
    scaler = StandardScaler().fit(case.x_train)
    poly = PolynomialFeatures(3, include_bias=False).fit(case.x_train[:2])
    case.x_train = poly.transform(scaler.transform(case.x_train)).astype("float32")
    case.x_val = poly.transform(scaler.transform(case.x_val)).astype("float32")
    bare(case, width=4, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = (f"{case.x_train.shape[1]} polynomial features on "
                        f"{len(case.y_train)} training rows")


@implementation("overfitting/row_id", count=2, layouts=("vector",), families=("mlp",),
                knob="training rows 500-150 with a one-hot record id")
def row_id(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A record id one-hot encoded as a feature (a customer/visit id kept by mistake): each
    training row has its own id column, validation ids were never seen (all zeros), so the
    model can memorise every training row by its id."""
    shrink_train(case, int(lerp(severity, 500, 150)), rng)
    n = len(case.y_train)

    def hook(c: Case) -> None:
        c.x_train = np.hstack([c.x_train, np.eye(n, dtype="float32")])
        c.x_val = np.hstack([c.x_val, np.zeros((len(c.y_val), n), "float32")])
    case.post.append(hook)
    bare(case, width=3, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"one-hot record id ({n} columns) appended, {n} training rows"


# == metric_mismatch ===========================================================================

def binary_rare(case: Case, positive: int, share: float, rng: np.random.Generator) -> None:
    """Class ``positive`` against the rest, positives thinned to ``share`` of each split."""
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
        n_pos = min(len(pos), max(6, int(round(share / (1 - share) * len(neg)))))
        case.keep(part, np.sort(np.concatenate([neg, rng.permutation(pos)[:n_pos]])))
        setattr(case, f"y_{part}", (getattr(case, f"y_{part}") == positive).astype("int64"))
    case.class_names = ["rest", case.class_names[positive]]
    case.n_classes = 2
    case.spec.set_binary(True)
    case.spec.class_weight = False


def smallest_class(case: Case) -> int:
    return int(np.argmin(np.bincount(case.y_train, minlength=case.n_classes)))


@implementation("metric_mismatch/rare_precision", count=3, families=NO_GRU,
                knob="positive share 10 %-3 %")
def rare_precision(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare positive class (the smallest class, thinned) monitored by precision at 0.5:
    the model seldom predicts a positive, so precision sits at 0 or jumps between a few
    values while the loss improves."""
    share = lerp(severity, 0.10, 0.03)
    binary_rare(case, smallest_class(case), share, rng)
    case.spec.metrics = ["precision@0.5"]
    case.description = f"class {case.class_names[1]} vs rest at {share:.1%}, monitored by precision"


@implementation("metric_mismatch/recall_at_precision", count=3, families=NO_GRU,
                knob="required precision 0.9-0.99")
def recall_at_precision(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A binary task (one class against the rest, at its natural share or at least 25 %)
    monitored by ``RecallAtPrecision(p)`` with a precision the task cannot reach: the
    metric stays near 0 while the loss improves."""
    p = lerp(severity, 0.9, 0.99)
    positive = smallest_class(case)
    share = float((case.y_train == positive).mean())
    binary_rare(case, positive, min(0.45, max(share, 0.25)), rng)
    case.spec.metrics = [f"rap@{p:.3f}"]
    case.description = f"class {case.class_names[1]} vs rest, monitored by recall at precision {p:.3f}"


# == distribution_shift: validation inputs from another distribution ==========================

@implementation("distribution_shift/time_window", count=2, layouts=("vector",),
                knob="validation = rows beyond the 75th-92nd percentile of one column")
def time_window(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation from a later period: the pooled rows ordered by one column that drifts
    (the column with the most distinct values stands in for time), validation = the tail
    of that order, training = the rows before it (the label mix may change too)."""
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    distinct = [len(np.unique(x[:, j])) for j in range(x.shape[1])]
    col = int(np.argmax(distinct))
    q = lerp(severity, 0.75, 0.92)
    order = np.argsort(x[:, col], kind="stable")
    cut = int(q * len(y))
    val, train = order[cut:][:600], order[:cut]
    train = np.sort(rng.permutation(train)[:2000])
    case.x_train, case.y_train = x[train], y[train]
    case.x_val, case.y_val = x[val], y[val]
    case.description = f"validation = rows above the {q:.0%} quantile of column {col}"


@implementation("distribution_shift/imputed_outage", count=1, layouts=("vector",),
                knob="share of validation rows hit 0.5-0.95, 40-70 % of columns")
def imputed_outage(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A sensor/source outage during the validation period: for most validation rows a
    block of columns was missing and filled with the training median (correct imputation,
    but the validation inputs lose the information and pile up at one value)."""
    share = lerp(severity, 0.5, 0.95)
    x = case.x_val.astype("float32").copy()
    d = x.shape[1]
    informative = np.abs([np.corrcoef(case.x_train[:, j], case.y_train)[0, 1]
                          if case.x_train[:, j].std() > 0 else 0 for j in range(d)])
    m = max(1, int(round(lerp(severity, 0.4, 0.7) * d)))
    cols = np.argsort(-np.nan_to_num(informative))[:m]
    rows = rng.random(len(x)) < share
    x[np.ix_(rows, cols)] = np.median(case.x_train[:, cols], 0)
    case.x_val = x
    case.description = f"{rows.mean():.0%} of validation rows with {m} of {d} columns median-imputed"


@implementation("distribution_shift/new_device", count=2, layouts=("image", "signal"),
                knob="images rotated 8-30 degrees; signals with mains hum 0.4-1.5 std")
def new_device(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation recorded with another device: images from a camera mounted at an angle
    (rotated, reflected at the border); signals picked up mains hum (a strong sinusoid of
    random phase) and a slow baseline wander."""
    x = case.x_val.astype("float32").copy()
    if case.layout == "image":
        from scipy.ndimage import rotate

        angle = lerp(severity, 8, 30)
        for i in range(len(x)):
            a = angle * rng.choice([-1, 1])
            x[i, ..., 0] = rotate(x[i, ..., 0], a, reshape=False, order=1, mode="reflect")
        case.description = f"validation images rotated by +-{angle:.0f} degrees"
    else:
        amp = lerp(severity, 0.4, 1.5) * float(case.x_train.std())
        t = np.arange(x.shape[1])
        phase = rng.uniform(0, 2 * np.pi, (len(x), 1))
        hum = amp * np.sin(2 * np.pi * t[None] / 6.0 + phase)
        wander = 0.5 * amp * np.sin(2 * np.pi * t[None] / x.shape[1] + phase)
        x[..., 0] += (hum + wander).astype("float32")
        case.description = f"validation signals with hum of {amp / case.x_train.std():.1f} std"
    case.x_val = x


@implementation("distribution_shift/boilerplate", count=1, layouts=("tokens",),
                knob="share of each validation sequence overwritten 0.25-0.6")
def boilerplate(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation texts from another channel that wraps every message in a template: a
    fixed boilerplate phrase (a signature/disclaimer of common words) takes up a share of
    each sequence at a random place."""
    share = lerp(severity, 0.25, 0.6)
    x = case.x_val.copy()
    length = x.shape[1]
    m = max(2, int(round(share * length)))
    counts = np.bincount(case.x_train.ravel(), minlength=case.source.vocab)
    common = np.argsort(-counts)[:12]
    phrase = rng.choice(common, m)
    for i in range(len(x)):
        start = int(rng.integers(0, length - m + 1))
        x[i, start:start + m] = phrase
    case.x_val = x.astype("int32")
    case.description = f"a {m}-token boilerplate phrase in every validation sequence"


# == pipeline_bug ==============================================================================

@implementation("pipeline_bug/minmax_val", count=2, layouts=("vector", "signal"),
                knob="share of validation rows scaled min-max 0.5-1.0")
def minmax_val(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The serving/validation path scales with ``MinMaxScaler`` fitted on the validation
    data while training used the z-score (``StandardScaler``) of the training data; a share
    of the validation rows (a shard) went through the wrong path."""
    share = lerp(severity, 0.5, 1.0)
    raw = case.x_val.astype("float32").copy()
    rows = rng.random(len(raw)) < share

    def hook(c: Case) -> None:
        x = c.x_val.copy()
        if c.layout == "vector":
            lo, hi = raw.min(0), raw.max(0)
        else:
            lo, hi = raw.min(), raw.max()
        x[rows] = ((raw[rows] - lo) / (hi - lo + 1e-6)).astype("float32")
        c.x_val = x
    case.post.append(hook)
    case.description = f"{rows.mean():.0%} of validation rows min-max scaled instead of z-scored"


@implementation("pipeline_bug/axis_flip", count=2, layouts=("image", "signal"),
                knob="share of validation rows with the axis bug 0.5-1.0")
def axis_flip(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader reads arrays with the wrong axis convention: images transposed
    (height and width swapped, a row-major/column-major mix-up), signals read back to front
    (a buffer reversed)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    if case.layout == "image":
        x[rows] = np.transpose(x[rows], (0, 2, 1, 3))
        what = "transposed"
    else:
        x[rows] = x[rows, ::-1]
        what = "reversed in time"
    case.x_val = x
    case.description = f"{len(rows)} validation inputs {what}"


@implementation("pipeline_bug/factorized_labels", count=2,
                knob="share of validation label files re-encoded 0.5-1.0")
def factorized_labels(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation labels encoded with ``pd.factorize`` on the validation file (codes in the
    order the class names first appear) while training used the sorted class list: a
    permutation of class ids over the re-encoded part (a share of the validation shards)."""
    share = lerp(severity, 0.5, 1.0)
    n = len(case.y_val)
    case.keep("val", rng.permutation(n))
    y = case.y_val.copy()
    _, first = np.unique(y, return_index=True)
    order = np.unique(y)[np.argsort(first)]
    if np.array_equal(order, np.arange(len(order))):   # make sure it differs from sorted
        order = np.roll(order, 1)
    code = {int(c): i for i, c in enumerate(order)}
    m = int(round(share * n))
    y[:m] = [code[int(c)] for c in y[:m]]
    case.y_val = y
    moved = float(np.mean(y[:m] != case.y_val[:m]))
    case.description = (f"first {m} validation labels re-encoded in first-appearance order "
                        f"{order.tolist()} ({moved:.0%} changed)")


@implementation("pipeline_bug/oov_val", count=1, layouts=("tokens",),
                knob="validation tokenizer's num_words 40 %-10 % of the vocabulary")
def oov_val(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation texts were tokenised with ``num_words`` capped (another tokenizer
    config): every id beyond the most frequent ``num_words`` becomes the OOV id 1, while
    training saw the full vocabulary."""
    vocab = case.source.vocab
    keep = max(3, int(round(lerp(severity, 0.4, 0.1) * vocab)))
    counts = np.bincount(case.x_train.ravel(), minlength=vocab)
    kept = np.zeros(vocab, bool)
    kept[np.argsort(-counts)[:keep]] = True
    kept[0] = True
    x = case.x_val.copy()
    x[~kept[x]] = 1
    case.x_val = x.astype("int32")
    case.description = f"validation tokens beyond the top {keep} ids mapped to OOV"
