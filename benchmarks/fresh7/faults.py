"""Fault implementations of the seventh fresh test set (a fifth independent implementation of
every cause), written apart from the corpus's, fresh2's, fresh5's and fresh6's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
an earlier set's registry). Model changes the corpus's ``Spec`` has no field for go into
``case.spec.extra`` and are built by ``benchmarks/fresh7/models.py``.

This file: label_noise, overfitting, metric_mismatch, distribution_shift, pipeline_bug.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, features, lerp, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers
from benchmarks.fresh6.faults import one_vs_rest, raw_stats  # the same data helpers

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


def continuous_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the table columns with more than 10 distinct values (not flags/codes)."""
    return np.array([j for j in range(x.shape[1]) if len(np.unique(x[:, j])) > 10], int)


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/labelling_functions", count=3, families=MEMORISERS,
                knob="share of training rows labelled by the rules 0.4-0.9")
def labelling_functions(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Weak supervision: instead of hand labels, a share of the training rows got the
    majority vote of hand-written labelling functions. For each class the practitioner wrote
    two rules from a 100-row labelled sample (one input feature beyond the midpoint between
    that class's and the other rows' means votes for the class, else abstains); ties go to
    the lowest class id and rows where every rule abstains get the sample's most frequent
    class. The rules err systematically where classes overlap."""
    share = lerp(severity, 0.4, 0.9)
    shrink_train(case, 700, rng)
    f = features(case, case.x_train)
    y0, k = case.y_train.copy(), case.n_classes
    dev = rng.permutation(len(y0))[:100]
    rules = []
    for c in range(k):
        inside, rest = f[dev][y0[dev] == c], f[dev][y0[dev] != c]
        if not len(inside) or not len(rest):
            continue
        gap = (inside.mean(0) - rest.mean(0)) / (f[dev].std(0) + 1e-6)
        for j in np.argsort(-np.abs(gap))[:2]:
            mid = 0.5 * (inside[:, j].mean() + rest[:, j].mean())
            rules.append((c, int(j), float(np.sign(gap[j]) or 1.0), float(mid)))
    default = int(np.argmax(np.bincount(y0[dev], minlength=k)))
    rows = np.flatnonzero(rng.random(len(y0)) < share)
    y = y0.copy()
    for i in rows:
        votes = [c for c, j, sign, mid in rules if sign * (f[i, j] - mid) > 0]
        y[i] = int(np.argmax(np.bincount(votes, minlength=k))) if votes else default
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"{len(rows) / len(y):.0%} of training rows labelled by {len(rules)} "
                        f"rules ({(y != y0).mean():.0%} of training labels wrong)")


@implementation("label_noise/reannotation_append", count=3, families=MEMORISERS,
                knob="first-pass error rate 0.35-0.7 (every row appended once more)")
def reannotation_append(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Two annotation rounds concatenated: the training file was built by appending the
    export of a hurried first labelling pass (a uniformly drawn wrong class at rate ``r``)
    to the export of the reviewed labels of the same rows, without de-duplication, so every
    row appears twice and the first-pass errors contradict the reviewed labels."""
    rate = lerp(severity, 0.35, 0.7)
    shrink_train(case, 500, rng)
    y0, k = case.y_train.copy(), case.n_classes
    wrong = rng.random(len(y0)) < rate
    y1 = np.where(wrong, (y0 + rng.integers(1, k, len(y0))) % k, y0)
    case.x_train = np.concatenate([case.x_train, case.x_train])
    case.y_train = np.concatenate([y0, y1]).astype("int64")
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"reviewed labels + first-pass labels of the same {len(y0)} rows "
                        f"({wrong.mean():.0%} of the first pass wrong)")


# == overfitting ===============================================================================

@implementation("overfitting/target_encoding", count=3, layouts=("vector",), families=("mlp",),
                knob="training rows 400-150 with in-sample target-encoded cells")
def target_encoding(case: Case, severity: float, rng: np.random.Generator) -> None:
    """In-sample target encoding: a 'segment' key (the combination of each continuous
    column's quartile) is target-encoded with the per-class label means of the training rows
    themselves (``fit_transform`` on the training split, no out-of-fold scheme). Almost
    every segment holds one or two training rows, so the encoded columns repeat the training
    labels; validation rows get the (correct) fitted encoding, which for unseen segments is
    the class prior. A small table and a wide unregularised MLP trained long."""
    shrink_train(case, int(lerp(severity, 400, 150)), rng)
    cols = continuous_columns(case.x_train)
    cuts = [np.quantile(case.x_train[:, j], [0.25, 0.5, 0.75]) for j in cols]

    def keys(x: np.ndarray) -> list[tuple[int, ...]]:
        bins = np.stack([np.searchsorted(c, x[:, j]) for c, j in zip(cuts, cols, strict=True)], 1)
        return [tuple(r) for r in bins]

    k = case.n_classes
    onehot = np.eye(k)[case.y_train]
    table: dict[tuple[int, ...], list[np.ndarray]] = {}
    for key, row in zip(keys(case.x_train), onehot, strict=True):
        table.setdefault(key, []).append(row)
    means = {key: np.mean(v, 0) for key, v in table.items()}
    prior = onehot.mean(0)
    enc_tr = np.stack([means[key] for key in keys(case.x_train)])
    val_keys = keys(case.x_val)
    enc_va = np.stack([means.get(key, prior) for key in val_keys])
    seen = np.mean([key in means for key in val_keys])
    case.x_train = np.hstack([case.x_train, enc_tr]).astype("float32")
    case.x_val = np.hstack([case.x_val, enc_va]).astype("float32")
    bare(case, width=4, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = (f"{len(means)} target-encoded segments on {len(case.y_train)} "
                        f"training rows ({seen:.0%} of validation rows in a seen segment)")


def summary_key(case: Case, x: np.ndarray) -> np.ndarray:
    """A scalar per row standing in for a key column: the table column with the most
    distinct values; otherwise the row's mean (brightness, level, mean token id)."""
    if case.layout == "vector":
        j = int(np.argmax([len(np.unique(case.x_train[:, c])) for c in range(x.shape[1])]))
        return x[:, j].astype(float)
    return x.reshape(len(x), -1).astype(float).mean(1)


@implementation("overfitting/train_dedup_key", count=3, families=MEMORISERS,
                knob="distinct key values (training rows left) 200-60")
def train_dedup_key(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``train.drop_duplicates(subset=[key])`` meant to drop repeated records, run on a
    binned key (a continuous field cut into quantile bins; for images, signals and texts
    their mean value): one training row per key value is left. The validation split is
    untouched. A roomy, unregularised model trained long on what is left."""
    n_keys = int(round(lerp(severity, 200, 60)))
    s = summary_key(case, case.x_train)
    cuts = np.quantile(s, np.linspace(0, 1, n_keys + 1)[1:-1])
    _, first = np.unique(np.searchsorted(cuts, s), return_index=True)
    case.keep("train", np.sort(first))
    bare(case, width=4, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"training de-duplicated on a binned key: {len(case.y_train)} rows left"


# == metric_mismatch ===========================================================================

@implementation("metric_mismatch/exact_accuracy", count=3, families=NO_GRU,
                knob="epochs 10-25")
def exact_accuracy(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``metrics=[keras.metrics.Accuracy()]`` instead of ``'accuracy'`` on a softmax with
    one-hot labels: ``Accuracy`` counts exact equality of every predicted probability with
    its 0/1 label, which a probability practically never reaches, so the metric sits at 0
    while the loss improves."""
    s = case.spec
    s.labels, s.output, s.class_weight = "onehot", "softmax", False
    s.metrics = ["exact_accuracy"]
    s.epochs = int(round(lerp(severity, 10, 25)))
    s.early_stopping = False
    case.description = f"keras.metrics.Accuracy() on softmax probabilities, {s.epochs} epochs"


@implementation("metric_mismatch/iou_probabilities", count=3, families=NO_GRU,
                knob="positive share 40 %-15 %")
def iou_probabilities(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A binary task (one class against the rest) monitored by
    ``keras.metrics.MeanIoU(num_classes=2)`` (borrowed from a segmentation project) on the
    sigmoid output: MeanIoU expects predicted class ids and casts the probabilities to
    integers, so every prediction reads as class 0 and the metric stays at the negatives'
    IoU / 2 while the loss improves."""
    share = lerp(severity, 0.40, 0.15)
    if case.n_classes > 2:
        one_vs_rest(case, int(rng.integers(case.n_classes)), share, rng)
    case.spec.set_binary(True)
    case.spec.class_weight = False
    case.spec.metrics = ["miou2"]
    pos = float(np.mean(case.y_train == 1))
    case.description = f"{case.class_names[1]} vs rest ({pos:.0%} positive), monitored by MeanIoU on probabilities"


# == distribution_shift: validation inputs from another distribution ==========================

@implementation("distribution_shift/topic_shift", count=2, layouts=("tokens",),
                knob="share of validation background words from the new topic 0.5-1.0")
def topic_shift(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation texts from another topic: the words that carry no class information (ids
    whose training frequency is nearly the same in every class) follow another Zipf ranking
    in the validation texts (a share of them redrawn from the new topic's word frequencies);
    the class-bearing words are untouched."""
    share = lerp(severity, 0.5, 1.0)
    vocab, k = case.source.vocab, case.n_classes
    counts = np.stack([np.bincount(case.x_train[case.y_train == c].ravel(), minlength=vocab)
                       for c in range(k)]).astype(float) + 1.0
    prof = counts / counts.sum(1, keepdims=True)
    spread = prof.max(0) / prof.min(0)
    ids = np.arange(2, vocab)
    background = ids[spread[ids] < np.quantile(spread[ids], 0.7)]
    new_rank = rng.permutation(background)
    p = 1.0 / np.arange(1, len(new_rank) + 1) ** 0.9
    x = case.x_val.copy()
    hit = np.isin(x, background) & (rng.random(x.shape) < share)
    x[hit] = rng.choice(new_rank, int(hit.sum()), p=p / p.sum())
    case.x_val = x.astype("int32")
    case.description = (f"{hit.mean():.0%} of validation tokens redrawn from a new topic "
                        f"({len(background)} background ids)")


@implementation("distribution_shift/occlusion", count=2, layouts=("image", "signal"),
                knob="share of each validation input covered 15 %-40 %")
def occlusion(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation captured in messier conditions: images partly covered by 1-3 opaque
    patches (a finger, a sticker) at random places; signals with packet loss (dropped
    stretches of 8-24 samples where the receiver holds the last value)."""
    cover = lerp(severity, 0.15, 0.40)
    x = case.x_val.astype("float32").copy()
    if case.layout == "image":
        h, w = x.shape[1:3]
        for i in range(len(x)):
            left = cover * h * w
            while left > 0:
                size = int(rng.integers(4, 8))
                r, c = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
                x[i, r:r + size, c:c + size] = rng.uniform(0.3, 0.7)
                left -= size * size
        case.description = f"validation images with opaque patches over ~{cover:.0%}"
    else:
        n = x.shape[1]
        for i in range(len(x)):
            left = cover * n
            while left > 0:
                span = int(rng.integers(8, 25))
                at = int(rng.integers(1, n - span))
                x[i, at:at + span] = x[i, at - 1]
                left -= span
        case.description = f"validation signals with ~{cover:.0%} of samples lost (held)"
    case.x_val = x


@implementation("distribution_shift/coarse_instrument", count=2, layouts=("vector",),
                knob="resolution step 0.75-2.5 training std")
def coarse_instrument(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation measured with a cheaper, low-resolution instrument: every continuous
    column is read on a coarse grid (rounded to a step of ``q`` training standard
    deviations); flags and small codes are unaffected."""
    q = lerp(severity, 0.75, 2.5)
    mean, std = raw_stats(case)
    x = case.x_val.astype("float32").copy()
    cols = continuous_columns(case.x_train)
    for j in cols:
        step = q * std[j]
        x[:, j] = mean[j] + step * np.round((x[:, j] - mean[j]) / step)
    case.x_val = x
    case.description = f"{len(cols)} validation columns rounded to {q:.2f} std"


# == pipeline_bug ==============================================================================

@implementation("pipeline_bug/decimal_comma", count=2, layouts=("vector",),
                knob="share of continuous columns misparsed 0.3-1.0")
def decimal_comma(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation CSV was written with two decimals in a decimal-comma locale ("34,00")
    and read back with ``thousands=','``: in the affected columns every value is 100 times
    too large (the training file was read correctly)."""
    share = lerp(severity, 0.3, 1.0)
    cols = continuous_columns(case.x_train)
    hit = cols[rng.random(len(cols)) < share] if len(cols) else cols
    if len(cols) and not len(hit):
        hit = cols[:1]
    x = case.x_val.astype("float32").copy()
    x[:, hit] *= 100.0
    case.x_val = x
    case.description = f"{len(hit)} of {len(cols)} continuous validation columns x100"


@implementation("pipeline_bug/wrong_decode", count=2, layouts=("image", "signal"),
                knob="share of validation files decoded wrongly 0.5-1.0")
def wrong_decode(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation files went through another decoder: images with the photometric
    interpretation flipped (a 'min-is-white' flag ignored, so dark reads as bright);
    signals stored as 16-bit integers read with the wrong byte order."""
    share = lerp(severity, 0.5, 1.0)
    rows = rng.random(len(case.y_val)) < share
    x = case.x_val.astype("float32").copy()
    if case.layout == "image":
        x[rows] = 1.0 - x[rows]
        case.description = f"{rows.mean():.0%} of validation images inverted"
    else:
        raw = np.round(x[rows]).astype("<i2")
        x[rows] = raw.byteswap().astype("float32")
        case.description = f"{rows.mean():.0%} of validation signals byte-swapped"
    case.x_val = x


@implementation("pipeline_bug/id_offset", count=2, layouts=("tokens",),
                knob="share of validation files shifted 0.5-1.0")
def id_offset(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation texts were encoded by a tokenizer configured with one more reserved
    index (an extra special token before the vocabulary): every word id is one higher than
    in training (the last id falls out of the vocabulary and becomes the OOV id 1); a share
    of the validation files went through it."""
    share = lerp(severity, 0.5, 1.0)
    vocab = case.source.vocab
    rows = rng.random(len(case.y_val)) < share
    x = case.x_val.copy()
    sub = x[rows]
    shifted = np.where(sub > 0, sub + 1, 0)
    x[rows] = np.where(shifted >= vocab, 1, shifted)
    case.x_val = x.astype("int32")
    case.description = f"{rows.mean():.0%} of validation sequences with ids shifted by one"
