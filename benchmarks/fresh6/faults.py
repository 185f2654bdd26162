"""Fault implementations of the sixth fresh test set (a fourth independent implementation of
every cause), written apart from the corpus's, fresh2's and fresh5's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
the corpus's, fresh2's or fresh5's registries). Model changes the corpus's ``Spec`` has no
field for go into ``case.spec.extra`` and are built by ``benchmarks/fresh6/models.py``.

This file: label_noise, overfitting, metric_mismatch, distribution_shift, pipeline_bug.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, features, lerp, projection, registrar
from benchmarks.fresh5.faults import bare, shrink_train  # the same recipe helpers

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


def raw_stats(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The training mean and std ``Case.finalize`` standardises with (per column for tables,
    one pair for signals)."""
    if case.layout == "vector":
        return np.nanmean(case.x_train, 0), np.nanstd(case.x_train, 0) + 1e-6
    return np.nanmean(case.x_train), np.nanstd(case.x_train) + 1e-6


# == label_noise: wrong training labels, validation labels clean =============================

@implementation("label_noise/crowd_vote", count=2, families=MEMORISERS,
                knob="a worker's error rate on the hardest row 0.5-0.9")
def crowd_vote(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Crowd-sourced labels: three workers label every training row and the plurality wins
    (all three differ: the first worker's answer). A worker errs (a uniformly drawn other
    class) with a probability that grows with how hard the row is (its share of
    other-class rows among its 10 nearest neighbours, ranked), up to ``rate`` on the hardest
    row, so the aggregated labels are wrong mostly on hard rows."""
    from sklearn.neighbors import NearestNeighbors

    rate = lerp(severity, 0.5, 0.9)
    shrink_train(case, 700, rng)
    f = features(case, case.x_train)
    y0, k = case.y_train.copy(), case.n_classes
    idx = NearestNeighbors(n_neighbors=11).fit(f).kneighbors(f, return_distance=False)[:, 1:]
    hard = (y0[idx] != y0[:, None]).mean(1) + 1e-3 * rng.random(len(y0))
    p = rate * (np.argsort(np.argsort(hard)) + 1) / len(y0)
    votes = np.stack([np.where(rng.random(len(y0)) < p,
                               (y0 + rng.integers(1, k, len(y0))) % k, y0) for _ in range(3)], 1)
    y = votes[:, 0].copy()
    for i, v in enumerate(votes):
        values, counts = np.unique(v, return_counts=True)
        if counts.max() >= 2:
            y[i] = values[np.argmax(counts)]
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"plurality of 3 workers, error up to {rate:.0%} on hard rows "
                        f"({(y != y0).mean():.0%} of training labels wrong)")


def lookalike_groups(case: Case) -> list[list[int]]:
    """Classes grouped in pairs of look-alikes (greedy closest pair of class means in the
    z-scored feature space; an odd class out joins its nearest pair)."""
    f = features(case, case.x_train)
    k = case.n_classes
    means = np.stack([f[case.y_train == c].mean(0) if np.any(case.y_train == c)
                      else np.full(f.shape[1], 1e3) for c in range(k)])
    d = np.linalg.norm(means[:, None] - means[None], axis=2) + np.eye(k) * 1e9
    left, groups = set(range(k)), []
    pairs = sorted(((i, j) for i in range(k) for j in range(i + 1, k)), key=lambda p: d[p])
    for a, b in pairs:
        if a in left and b in left:
            groups.append([a, b])
            left -= {a, b}
    for c in left:
        nearest = min(groups, key=lambda g: min(d[c, m] for m in g))
        nearest.append(c)
    return groups


@implementation("label_noise/coarse_annotator", count=2, families=MEMORISERS, classes="multi",
                knob="share of training rows labelled at the coarse level 0.5-1.0")
def coarse_annotator(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Annotators who can only tell the genus: classes come in look-alike groups (pairs of
    the closest classes), and on a share of the training rows the annotator knew the group
    but guessed the class inside it uniformly (right only by chance)."""
    share = lerp(severity, 0.5, 1.0)
    shrink_train(case, 700, rng)
    groups = lookalike_groups(case)
    group_of = {c: g for g in groups for c in g}
    y0 = case.y_train.copy()
    rows = rng.random(len(y0)) < share
    y = y0.copy()
    y[rows] = [int(rng.choice(group_of[int(c)])) for c in y0[rows]]
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"{rows.mean():.0%} of training rows guessed within {len(groups)} "
                        f"look-alike groups ({(y != y0).mean():.0%} wrong)")


@implementation("label_noise/fill_down", count=2, families=MEMORISERS,
                knob="share of blocks filled down 0.4-0.9, block length 3-6")
def fill_down(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Spreadsheet fill-down: working through the training file in its (arbitrary) order, the
    annotator labelled the first row of a block and dragged that label down over the
    next rows of the block, for a share of the blocks."""
    share = lerp(severity, 0.4, 0.9)
    length = int(round(lerp(severity, 3, 6)))
    shrink_train(case, 700, rng)
    y0 = case.y_train.copy()
    y = y0.copy()
    for start in range(0, len(y), length):
        if rng.random() < share:
            y[start:start + length] = y0[start]
    case.y_train = y
    bare(case, width=3, epochs=45, batch=16)
    case.description = (f"labels filled down over blocks of {length} rows in {share:.0%} of "
                        f"blocks ({(y != y0).mean():.0%} wrong)")


# == overfitting ===============================================================================

@implementation("overfitting/fine_bins", count=2, layouts=("vector",), families=("mlp",),
                knob="training rows 400-150, every column one-hot in 30 quantile bins")
def fine_bins(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Over-eager discretisation: every column cut into 30 quantile bins and one-hot encoded
    (``KBinsDiscretizer(30, encode='onehot-dense')``, fitted on the training rows, applied to
    both splits), a small training table and a wide unregularised MLP trained long."""
    import warnings

    from sklearn.preprocessing import KBinsDiscretizer

    shrink_train(case, int(lerp(severity, 400, 150)), rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bins = KBinsDiscretizer(30, encode="onehot-dense", strategy="quantile").fit(case.x_train)
        case.x_train = bins.transform(case.x_train).astype("float32")
        case.x_val = bins.transform(case.x_val).astype("float32")
    bare(case, width=4, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = (f"{case.x_train.shape[1]} one-hot bin columns on "
                        f"{len(case.y_train)} training rows")


@implementation("overfitting/ngram_ids", count=2, layouts=("tokens",), families=("embed",),
                knob="training rows 400-120 with hashed bigram ids")
def ngram_ids(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Bigram features gone wild: every token replaced by the id of its bigram with the
    previous token, hashed into 6,000 buckets (the vocabulary explodes, most bigrams are
    seen once), a small training set and a wide embedding model trained long."""
    shrink_train(case, int(lerp(severity, 400, 120)), rng)
    buckets, vocab = 6000, case.source.vocab

    def hashed(x: np.ndarray) -> np.ndarray:
        prev = np.concatenate([np.zeros((len(x), 1), x.dtype), x[:, :-1]], 1)
        return (2 + (prev.astype(np.int64) * 7919 + x * 104729 + prev * x) % buckets).astype("int32")

    case.x_train, case.x_val = hashed(case.x_train), hashed(case.x_val)
    case.source = dataclasses.replace(case.source, vocab=buckets + 2)
    bare(case, width=4, epochs=60, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 3e-3
    case.description = f"bigram ids hashed into {buckets} buckets (vocab was {vocab}), {len(case.y_train)} training rows"


@implementation("overfitting/crop_copies", count=2, layouts=("image", "signal"),
                families=("mlp", "cnn2d", "cnn1d"),
                knob="independent recordings 120-40, each saved as 10 shifted crops")
def crop_copies(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Offline augmentation standing in for data: a few recordings, each saved as 10
    slightly shifted crops (images rolled by up to 2 pixels, signals by up to 8 steps), so
    the training set looks big but holds few independent examples; validation rows get one
    such shift each. A roomy, unregularised model trained long."""
    n_base = int(round(lerp(severity, 120, 40)))
    shrink_train(case, n_base, rng)
    reach = 2 if case.layout == "image" else 8

    def shifted(x: np.ndarray) -> np.ndarray:
        s = rng.integers(-reach, reach + 1, (2,))
        if case.layout == "image":
            return np.roll(x, (int(s[0]), int(s[1])), axis=(0, 1))
        return np.roll(x, int(s[0]), axis=0)

    xs, ys = [], []
    for x, y in zip(case.x_train, case.y_train, strict=True):
        for _ in range(10):
            xs.append(shifted(x))
            ys.append(y)
    case.x_train, case.y_train = np.stack(xs).astype("float32"), np.array(ys, "int64")
    case.x_val = np.stack([shifted(x) for x in case.x_val]).astype("float32")
    bare(case, width=3, epochs=40, batch=32)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = f"{n_base} recordings x 10 shifted crops"


# == metric_mismatch ===========================================================================

def one_vs_rest(case: Case, positive: int, share: float, rng: np.random.Generator) -> None:
    """Class ``positive`` (label 1) against the rest (label 0), positives thinned to
    ``share`` of each split."""
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        pos, neg = np.flatnonzero(y == positive), np.flatnonzero(y != positive)
        n_pos = min(len(pos), max(6, int(round(share / (1 - share) * len(neg)))))
        case.keep(part, np.sort(np.concatenate([neg, rng.permutation(pos)[:n_pos]])))
        setattr(case, f"y_{part}", (getattr(case, f"y_{part}") == positive).astype("int64"))
    case.class_names = ["rest", case.class_names[positive]]
    case.n_classes = 2
    case.spec.class_weight = False


def smallest_class(case: Case) -> int:
    return int(np.argmin(np.bincount(case.y_train, minlength=case.n_classes)))


@implementation("metric_mismatch/wrong_class_id", count=3, families=NO_GRU,
                knob="positive share 15 %-5 %")
def wrong_class_id(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare positive class in a two-unit softmax (one-hot labels), monitored by
    ``Recall(class_id=0)`` meant for the positive class, but index 0 is the 'rest' class:
    the metric watches the majority class, which the model recalls from the first epoch on,
    so it stays flat near 1 while the loss improves."""
    share = lerp(severity, 0.15, 0.05)
    one_vs_rest(case, smallest_class(case), share, rng)
    case.spec.labels, case.spec.output = "onehot", "softmax"
    case.spec.metrics = ["recall_class:0"]
    case.description = (f"class {case.class_names[1]} vs rest at {share:.0%}, monitored by "
                        "the recall of class id 0 (the rest)")


@implementation("metric_mismatch/coarse_auc", count=3, families=NO_GRU,
                knob="positive share 12 %-4 %")
def coarse_auc(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A rare positive class monitored by ``AUC(num_thresholds=3)`` (set low to make the
    metric cheap): with thresholds 0, 0.5 and 1 the 'AUC' is the balanced accuracy at 0.5,
    which sits at 0.5 as long as no positive's probability crosses 0.5, while the loss
    improves."""
    share = lerp(severity, 0.12, 0.04)
    one_vs_rest(case, smallest_class(case), share, rng)
    case.spec.set_binary(True)
    case.spec.metrics = ["auc3"]
    case.description = f"class {case.class_names[1]} vs rest at {share:.0%}, monitored by a 3-threshold AUC"


# == distribution_shift: validation inputs from another distribution ==========================

@implementation("distribution_shift/selection_bias", count=2, layouts=("vector", "image", "signal"),
                knob="selection strength 1.5-4 (logit per std of a principal direction)")
def selection_bias(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A self-selected training sample: a training row was collected with a probability
    that rises steeply along a direction of the input space (a logistic selection on a mix
    of the top principal components, e.g. who answered a survey), half of the training rows
    kept that way; validation is a plain random sample of the population."""
    strength = lerp(severity, 1.5, 4.0)
    z, _ = projection(case, rng)
    z = (z - z.mean()) / (z.std() + 1e-9)
    p = 1 / (1 + np.exp(-strength * z))
    n = max(60, len(z) // 2)
    keep = rng.choice(len(z), n, replace=False, p=p / p.sum())
    case.keep("train", np.sort(keep))
    case.description = f"training rows selected with logistic strength {strength:.1f} along a principal mix"


@implementation("distribution_shift/sensor_defect", count=2, layouts=("image", "signal"),
                knob="images: smudge radius 3-6 px, opacity 0.6-0.95; signals: clipping at 1.2-0.5 std")
def sensor_defect(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation recorded with a worn device: images through a dirty lens (a hazy smudge
    at one place of the frame and a dead pixel column, the same on every image); signals
    from an amplifier that saturates (clipped at a level around the training mean)."""
    x = case.x_val.astype("float32").copy()
    if case.layout == "image":
        h, w = x.shape[1:3]
        r, opacity = lerp(severity, 3, 6), lerp(severity, 0.6, 0.95)
        cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
        yy, xx = np.mgrid[0:h, 0:w]
        g = (opacity * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r ** 2)))[None, ..., None]
        x = x * (1 - g) + 0.5 * g
        x[:, :, int(rng.integers(w)), :] = 0.0
        case.description = f"validation images with a smudge (radius {r:.0f}, opacity {opacity:.2f}) and a dead column"
    else:
        mean, std = raw_stats(case)
        level = lerp(severity, 1.2, 0.5) * std
        x = np.clip(x, mean - level, mean + level)
        case.description = f"validation signals clipped at +-{level / std:.1f} std"
    case.x_val = x.astype("float32")


@implementation("distribution_shift/held_out_site", count=2, layouts=("vector",),
                knob="held-out site: k-means cluster nearer (mild) or further (strong) from the centre")
def held_out_site(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation from a site the training data never covered: the pooled rows grouped into
    6 sites (k-means clusters of the inputs), validation = every row of one site (one of
    10-35 % of the rows), training = the other sites (the label mix may differ too)."""
    from sklearn.cluster import KMeans

    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    f = features(case, x)
    km = KMeans(6, n_init=4, random_state=case.seed).fit(f)
    sizes = np.bincount(km.labels_, minlength=6) / len(y)
    far = np.linalg.norm(km.cluster_centers_, axis=1)
    ok = [c for c in np.argsort(far) if 0.10 <= sizes[c] <= 0.35] or list(np.argsort(far))
    site = int(ok[min(int(severity * len(ok)), len(ok) - 1)])
    val = np.flatnonzero(km.labels_ == site)
    train = np.flatnonzero(km.labels_ != site)
    val = np.sort(rng.permutation(val)[:600])
    train = np.sort(rng.permutation(train)[:2000])
    case.x_train, case.y_train = x[train], y[train]
    case.x_val, case.y_val = x[val], y[val]
    case.description = f"validation = site {site} of 6 k-means sites ({sizes[site]:.0%} of rows)"


# == pipeline_bug ==============================================================================

@implementation("pipeline_bug/double_scaled", count=3, layouts=("vector", "signal"),
                knob="share of validation shards scaled twice 0.5-1.0")
def double_scaled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation path applies the fitted ``StandardScaler`` twice (once in the loader,
    once in the model's preprocessing step), for a share of the validation shards: those
    rows are (z - mean) / std of the already standardised values."""
    share = lerp(severity, 0.5, 1.0)
    mean, std = raw_stats(case)
    rows = rng.random(len(case.y_val)) < share

    def hook(c: Case) -> None:
        x = c.x_val.copy()
        x[rows] = ((x[rows] - mean) / std).astype("float32")
        c.x_val = x
    case.post.append(hook)
    case.description = f"{rows.mean():.0%} of validation rows standardised twice"


@implementation("pipeline_bug/per_sample_norm", count=2, layouts=("image", "signal"),
                knob="share of validation rows normalised per sample 0.5-1.0")
def per_sample_norm(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The evaluation loader normalises each input by its own mean and std (a per-image /
    per-recording z-score from another code path) while training used the dataset-wide
    treatment (images in [0, 1], signals z-scored with the training statistics)."""
    share = lerp(severity, 0.5, 1.0)
    rows = rng.random(len(case.y_val)) < share

    def hook(c: Case) -> None:
        x = c.x_val.copy()
        sub = x[rows]
        axes = tuple(range(1, sub.ndim))
        x[rows] = ((sub - sub.mean(axes, keepdims=True))
                   / (sub.std(axes, keepdims=True) + 1e-6)).astype("float32")
        c.x_val = x
    case.post.append(hook)
    case.description = f"{rows.mean():.0%} of validation inputs z-scored per sample"


@implementation("pipeline_bug/refit_tokenizer", count=2, layouts=("tokens",),
                knob="share of validation files re-encoded 0.5-1.0")
def refit_tokenizer(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``tokenizer.fit_on_texts(val_texts)`` called again on the validation texts: word ids
    are frequency ranks, so the re-fitted tokenizer gives each word the id of the word with
    the same frequency rank in the training texts (words of similar frequency trade ids);
    a share of the validation files went through it."""
    share = lerp(severity, 0.5, 1.0)
    vocab = case.source.vocab
    tr = np.bincount(case.x_train.ravel(), minlength=vocab)
    va = np.bincount(case.x_val.ravel(), minlength=vocab)
    ids = np.arange(2, vocab)
    train_rank = ids[np.argsort(-tr[ids], kind="stable")]
    val_rank = ids[np.argsort(-va[ids] - 1e-3 * rng.random(len(ids)), kind="stable")]
    mapping = np.arange(vocab)
    mapping[val_rank] = train_rank
    rows = rng.random(len(case.y_val)) < share
    x = case.x_val.copy()
    x[rows] = mapping[x[rows]]
    case.x_val = x.astype("int32")
    moved = float((mapping[ids] != ids).mean())
    case.description = (f"{rows.mean():.0%} of validation sequences encoded by a tokenizer "
                        f"re-fitted on them ({moved:.0%} of ids moved)")
