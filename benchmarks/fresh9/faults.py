"""Fault implementations of the ninth fresh test set (a seventh independent implementation of
every cause), written apart from the corpus's and fresh2's to fresh8's.

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place (``severity`` in [0, 1] mapped to the implementation's own knob),
registered by id ("cause/variant") with the corpus's ``Impl`` dataclass in this module's own
``IMPLEMENTATIONS`` (``faults2.py`` registers the rest into the same dict; nothing goes into
an earlier set's registry). Model changes the corpus's ``Spec`` has no field for go into
``case.spec.extra`` and are built by ``benchmarks/fresh9/models.py``.

This file: label_noise, overfitting, metric_mismatch, distribution_shift, pipeline_bug.
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import Impl, lerp, registrar
from benchmarks.fresh5.faults import bare, extra, shrink_train  # the same recipe helpers
from benchmarks.fresh8.faults import memorise  # the same recipe helper
from benchmarks.fresh9.sources import DEBUG, FIELDS

IMPLEMENTATIONS: dict[str, Impl] = {}
MEMORISERS = ("mlp", "cnn2d", "cnn1d", "embed")
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")


implementation = registrar(IMPLEMENTATIONS)  # registers into this set's own registry


# == label_noise: wrong training labels, validation labels clean =============================

def _episodes(y: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The rows of ``y`` as a recording: runs of 5-10 rows of one class, neighbouring runs of
    different classes as far as the counts allow."""
    pools: dict[int, list[np.ndarray]] = {}
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        cuts = np.cumsum(rng.integers(5, 11, len(rows)))
        pools[int(c)] = [r for r in np.split(rows, cuts[cuts < len(rows)]) if len(r)]
    runs, last = [], None
    while any(pools.values()):
        choices = [c for c in pools if pools[c] and c != last] or [c for c in pools if pools[c]]
        weights = np.array([len(pools[c]) for c in choices], float)
        last = choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
        runs.append(pools[last].pop())
    return runs


@implementation("label_noise/lagged_markers", count=3, families=MEMORISERS,
                knob="marker delay 2-5 rows (episodes of 5-10 rows)")
def lagged_markers(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Labels from event markers: the training file is a recording (episodes of 5-10
    consecutive rows of one class) whose labels come from markers an operator sets when a
    new episode starts; the markers were logged a fixed number of rows late, so the first
    rows of every episode carry the previous episode's label."""
    lag = int(round(lerp(severity, 2, 5)))
    shrink_train(case, 720, rng)
    y0 = case.y_train.copy()
    runs = _episodes(y0, rng)
    y = y0.copy()
    for prev, run in zip(runs, runs[1:], strict=False):
        y[run[:lag]] = y0[prev[0]]
    case.y_train = y
    case.keep("train", np.concatenate(runs))   # the file in recording order
    memorise(case)
    case.description = (f"markers {lag} rows late ({np.mean(y != y0):.0%} of training "
                        "labels wrong)")


def _keypad_neighbours(key: int) -> list[int]:
    """Keys next to ``key`` on a numeric keypad (7 8 9 / 4 5 6 / 1 2 3 / 0 under 1-2)."""
    if key == 0:
        return [1, 2]
    row, col = (key - 1) // 3, (key - 1) % 3
    out = [3 * r + c + 1 for r, c in ((row + 1, col), (row - 1, col), (row, col - 1),
                                      (row, col + 1)) if 0 <= r < 3 and 0 <= c < 3]
    return out + ([0] if row == 0 and col < 2 else [])


@implementation("label_noise/keypad_slips", count=3, families=MEMORISERS, classes="multi",
                knob="slip rate 0.3-0.8 (of typed codes)")
def keypad_slips(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Class codes typed on a numeric keypad (class c is key c + 1): on a share of the
    training rows the clerk's finger slipped to a neighbouring key; a code with no class
    (0 or above K) is rejected by the form and typed again correctly, a valid one is
    recorded. The wrong labels follow the keypad's geometry, not the data."""
    rate = lerp(severity, 0.3, 0.8)
    shrink_train(case, 720, rng)
    y0 = case.y_train.copy()
    y = y0.copy()
    for i in np.flatnonzero(rng.random(len(y)) < rate):
        pressed = int(rng.choice(_keypad_neighbours(int(y0[i]) + 1)))
        if 1 <= pressed <= case.n_classes:
            y[i] = pressed - 1
    case.y_train = y
    memorise(case)
    case.description = f"slip rate {rate:.2f} ({np.mean(y != y0):.0%} of training labels wrong)"


# == overfitting ===============================================================================

@implementation("overfitting/unclipped_weights", count=3, families=MEMORISERS,
                knob="effective sample 60-15 of 600 rows")
def unclipped_weights(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Inverse-probability weights (1 / an estimated inclusion probability, to correct the
    sampling scheme) passed to ``fit(sample_weight=...)`` without clipping: the estimated
    probabilities have a heavy lower tail, so a few dozen of the 600 training rows carry
    most of the weight and the weighted loss is fitted on them alone (weights unrelated to
    the labels; validation unweighted and untouched)."""
    shrink_train(case, 600, rng)
    n = len(case.y_train)
    target = lerp(severity, 60, 15)
    z = rng.normal(0, 1, n)
    lo, hi = 0.0, 5.0   # log-normal spread whose effective sample (sum w)^2 / sum w^2 is target
    for _ in range(40):
        mid = (lo + hi) / 2
        w = np.exp(mid * z)
        lo, hi = (mid, hi) if w.sum() ** 2 / (w ** 2).sum() > target else (lo, mid)
    w = np.exp(lo * z)
    w = w / w.mean()
    extra(case)["sample_weight"] = w.astype("float32")
    bare(case, width=3, epochs=40, batch=32)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    case.description = (f"unclipped inverse-probability weights: effective sample "
                        f"{w.sum() ** 2 / (w ** 2).sum():.0f} of {n} rows")


@implementation("overfitting/flatten_positions", count=3, sources=("tokens_syslog",),
                families=("embed",), knob="training rows 500-150")
def flatten_positions(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An embedding model that flattens the sequence of embeddings into a wide Dense layer
    (``Flatten()`` where a pooling layer belongs): every position has its own weights, so
    on a few hundred training logs the model learns which event sat at which position of
    which window instead of which events occur."""
    shrink_train(case, int(lerp(severity, 500, 150)), rng)
    bare(case, width=2, epochs=40, batch=16)
    case.spec.optimizer, case.spec.lr = "adam", 2e-3
    extra(case)["flatten_embed"] = True
    case.description = f"Flatten over 40 positions, {len(case.y_train)} training rows"


# == metric_mismatch ===========================================================================

def _column_metric(case: Case, severity: float, name: str) -> None:
    s = case.spec
    s.labels, s.output, s.from_logits = "sparse", "softmax", False
    s.metrics = [name]
    s.epochs, s.early_stopping = int(round(lerp(severity, 10, 25))), False


@implementation("metric_mismatch/regression_template_mae", count=3, families=NO_GRU,
                classes="multi", knob="epochs 10-25")
def regression_template_mae(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``metrics=['mae']`` kept from the project's regression notebook, with the integer
    class ids as a column vector ``(n, 1)`` (``df[['label']].to_numpy()``): Keras takes the
    mean absolute difference between the class id and every class probability, which for a
    softmax is the same whatever the model predicts (1/K for class 0, id - 1/K otherwise)."""
    _column_metric(case, severity, "mae_column")
    case.description = f"mae on column class ids, {case.spec.epochs} epochs"


@implementation("metric_mismatch/embedding_template_cosine", count=3, families=NO_GRU,
                classes="multi", knob="epochs 10-25")
def embedding_template_cosine(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``metrics=['cosine_similarity']`` kept from the embedding model the classifier head was
    put on, with the integer class ids as a column vector ``(n, 1)``: the cosine between a
    class id and the probability vector is 0 for class 0 and 1 / ||p|| otherwise, so it
    measures how spread the probabilities are, not whether they are right, and falls as
    the model grows confident."""
    _column_metric(case, severity, "cosine_column")
    case.description = f"cosine_similarity on column class ids, {case.spec.epochs} epochs"


# == distribution_shift: validation inputs from another world =================================

@implementation("distribution_shift/other_pitcher", count=2, sources=("pitch_call",),
                knob="pitch speed 2-6 mph lower")
def other_pitcher(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation pitches from another pitcher: a right-hander (the training pitcher is
    left-handed), so every pitch's horizontal break has the opposite sign, and he throws
    2-6 mph slower; the plate locations, counts and batters, and so the calls, follow the
    same rules."""
    drop = lerp(severity, 2.0, 6.0)
    x = case.x_val.astype("float32").copy()
    x[:, [0, 1]] -= drop
    x[:, 2] *= -1
    case.x_val = x
    case.description = f"validation: a right-handed pitcher {drop:.1f} mph slower"


def _block_dct(x: np.ndarray, block: int, step: float) -> np.ndarray:
    """Lossy block coding of the last axes of ``x`` (1-D signals or 2-D images): DCT of
    each block, coefficients quantised with a step growing with frequency, inverse DCT."""
    from scipy.fft import dctn, idctn

    axes = tuple(range(1, x.ndim))
    shape = x.shape
    blocks = x.reshape(shape[0], *[v for d in shape[1:] for v in (d // block, block)])
    inner = tuple(2 + 2 * i for i in range(len(axes)))
    coef = dctn(blocks, axes=inner, norm="ortho")
    freq = sum(np.meshgrid(*[np.arange(block)] * len(axes), indexing="ij"))
    grid = (step * (1 + freq)).reshape([1 if i % 2 == 0 else block
                                        for i in range(2 * len(axes))])
    coef = np.round(coef / grid) * grid
    return idctn(coef, axes=inner, norm="ortho").reshape(shape)


@implementation("distribution_shift/lossy_codec", count=2, layouts=("image", "signal"),
                knob="quantisation step 0.3-1.0 x the training std")
def lossy_codec(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation delivered through a lossy codec (an archive that stores cutouts and
    recordings JPEG-style): blocks (8x8 pixels, 16 samples) are transformed by a DCT and
    their coefficients quantised, coarser at high frequencies: fine structure is lost and
    block edges appear."""
    f = lerp(severity, 0.3, 1.0)
    step = f * float(np.std(case.x_train))
    x = case.x_val.astype("float64")
    if case.layout == "image":
        x = np.clip(_block_dct(x[..., 0], 8, step), 0, 1)[..., None]
    else:
        x = _block_dct(x[..., 0], 16, step)[..., None]
    case.x_val = x.astype("float32")
    case.description = f"validation through a block-DCT codec (step {f:.2f} std)"


@implementation("distribution_shift/debug_verbosity", count=2, sources=("tokens_syslog",),
                knob="debug events per logged event 0.5-2")
def debug_verbosity(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation logs from after a configuration change that set the services to DEBUG:
    every event is followed by a few debug events (templates rare in training), and since
    the window holds the last 40 events before the alert, it covers a shorter stretch of
    time and often misses symptoms logged earlier."""
    lam = lerp(severity, 0.5, 2.0)
    x = case.x_val.copy()
    length = x.shape[1]
    for i, row in enumerate(x):
        events: list[int] = []
        for e in row:
            events.append(int(e))
            events += list(rng.integers(*DEBUG, rng.poisson(lam)))
        x[i] = events[-length:]
    case.x_val = x.astype("int32")
    case.description = f"validation at DEBUG level ({lam:.1f} debug events per event)"


# == pipeline_bug: the validation path only ===================================================

@implementation("pipeline_bug/transfer_curve", count=2, layouts=("image", "signal"),
                knob="share of validation files 0.5-1.0")
def transfer_curve(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation decoder applies a transfer curve the stored values never had: images
    are treated as sRGB-encoded and linearised (x ** 2.2), signals go through the mu-law
    expansion of the old 8-bit logger's files (mu 255, full scale 8 g) although they are
    linear 16-bit samples."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.astype("float64").copy()
    rows = rng.random(len(x)) < share
    if case.layout == "image":
        x[rows] = np.clip(x[rows], 0, 1) ** 2.2
    else:
        from benchmarks.fresh9.sources import COUNTS_PER_G

        full = 8 * COUNTS_PER_G
        v = np.clip(x[rows] / full, -1, 1)
        x[rows] = full * np.sign(v) * np.expm1(np.abs(v) * np.log1p(255.0)) / 255.0
    case.x_val = x.astype("float32")
    case.description = f"{rows.mean():.0%} of validation files decoded with a transfer curve"


@implementation("pipeline_bug/case_sensitive_categories", count=2, layouts=("vector",),
                sources=tuple(FIELDS), knob="share of validation files 0.5-1.0")
def case_sensitive_categories(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation export writes categorical values capitalised ('Hot Air', 'Yes', 'R')
    and the loader maps them with a case-sensitive dictionary built from the training file's
    values; unknown values become NaN and are filled with 0, so every flag and one-hot
    column of the affected files reads 0."""
    share = lerp(severity, 0.5, 1.0)
    cols = [c for group in FIELDS[case.source.name].values() for c in group]
    x = case.x_val.astype("float32").copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[np.ix_(rows, cols)] = 0.0
    case.x_val = x
    case.description = (f"{len(rows) / len(x):.0%} of validation files with every "
                        f"categorical column ({len(cols)}) read as 0")


@implementation("pipeline_bug/level_filter", count=2, sources=("tokens_syslog",),
                knob="share of validation files 0.5-1.0")
def level_filter(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation logs were exported through the log shipper's default filter (WARN and
    above): routine and debug events are dropped from the affected files, the warnings that
    remain are packed to the front and the window is padded with id 0 (training logs were
    exported unfiltered)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        kept = x[i][x[i] < DEBUG[0]]
        x[i] = 0
        x[i, :len(kept)] = kept
    case.x_val = x.astype("int32")
    case.description = f"{len(rows) / len(x):.0%} of validation files filtered to warnings"
