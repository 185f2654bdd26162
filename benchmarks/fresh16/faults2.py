"""Fault implementations of the sixteenth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh16.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh16.faults import NO_GRU, implementation
from benchmarks.fresh16.sources import DIRS, EXTS, TOK, commits, light_curves, pollens

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/glycerine_swelling", count=2, sources=("pollen16",),
                knob="swelling x1.15-1.45")
def glycerine_swelling(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation slides come from a lab that mounts its samples in glycerine jelly
    instead of silicone oil: the grains swell (1.15-1.45 times the diameter) and take up
    less stain, so they are bigger and paler, their pores and furrows flatter (same taxa,
    same labels; re-drawn from the validation labels)."""
    swell = lerp(severity, 1.15, 1.45)
    case.x_val = pollens(case.y_val, rng, swell=swell)
    case.description = f"validation grains swollen x{swell:.2f} in glycerine jelly"


@implementation("distribution_shift/crowded_field_dilution", count=2, sources=("lightcurve",),
                knob="dilution 0.3-0.7")
def crowded_field_dilution(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation stars lie in a crowded field near the Galactic plane: 30-70 % of the
    light in each photometric aperture comes from unrelated neighbours, so every transit,
    eclipse, pulsation and flare is shallower by that share and the noise is higher (same
    classes; re-drawn from the validation labels)."""
    dilution = lerp(severity, 0.3, 0.7)
    case.x_val = light_curves(case.y_val, rng, dilution=dilution)
    case.description = f"validation stars diluted by {dilution:.0%} of neighbour light"


@implementation("distribution_shift/autoformatter_churn", count=2, sources=("tokens_commit",),
                knob="share of commits with formatter churn 0.5-1.0")
def autoformatter_churn(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation commits come from after the project adopted an auto-formatter in a
    pre-commit hook: a commit of any type now also touches 2-5 further source files with
    small whitespace-only changes (same change types; re-drawn from the validation
    labels)."""
    churn = lerp(severity, 0.5, 1.0)
    case.x_val = commits(case.y_val, rng, fmt_churn=churn)
    case.description = f"{churn:.0%} of validation commits carry formatter churn"


# == pipeline_bug: a code error on the validation path =======================================

def _upsample(img: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resampling of a 16x16 image to size x size (the new camera's frame)."""
    src = np.linspace(0, 15, size)
    rows = np.array([np.interp(src, np.arange(16), r) for r in img])
    return np.array([np.interp(src, np.arange(16), col) for col in rows.T]).T


@implementation("pipeline_bug/np_resize_reflow", count=2, sources=("pollen16",),
                knob="share of new-camera images 0.5-1.0")
def np_resize_reflow(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation micrographs from the lab's new camera are 24x24; the loader shrinks
    them with ``np.resize(img, (16, 16))`` where an image resize was meant. ``np.resize``
    reshapes the flat pixel buffer: it keeps the first 256 of 576 values, so each output
    row is a slice of the top rows wrapped at the wrong width (a sheared crop of the top
    of the frame)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        x[i, :, :, 0] = np.resize(_upsample(x[i, :, :, 0], 24), (16, 16))
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation images shrunk with np.resize"


@implementation("pipeline_bug/flux_err_column", count=2, sources=("lightcurve",),
                knob="share of v2 files 0.5-1.0")
def flux_err_column(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The loader reads the flux as the file's third column by position; in the survey's
    v2 files (most of validation) the third column is ``FLUX_ERR``: the per-cadence
    uncertainty, a small, nearly constant number (the photon noise, which follows the
    square root of the flux, so only a faint trace of the light curve is left)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        f = x[i, :, 0].astype(float)
        sigma = np.median(np.abs(np.diff(f))) / 0.95 + 1e-5
        x[i, :, 0] = sigma * np.sqrt(np.maximum(f, 0) / np.median(f)) * (1 + 0.01 * rng.normal(0, 1, len(f)))
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation curves read from the FLUX_ERR column"


_DIR_IDS = {TOK[d] for d in DIRS}
_EXT_IDS = {TOK[e] for e in EXTS}


@implementation("pipeline_bug/windows_path_separator", count=2, sources=("tokens_commit",),
                families=("embed",), knob="share of commits from Windows runners 0.5-1.0")
def windows_path_separator(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The tokenizer splits a changed file's path on ``/``; the validation commits
    exported by the Windows CI runners write paths with ``\\``, so a whole path
    (``src\\core\\io.py``) stays one token that is not in the vocabulary: its directory
    and extension tokens become a single unknown id (1); the message and diff-size tokens
    are read correctly."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        out: list[int] = []
        for t in x[i]:
            if t in _DIR_IDS:
                out.append(1)
            elif t not in _EXT_IDS:
                out.append(int(t))
        x[i] = np.array(out + [0] * (x.shape[1] - len(out)), "int32")
    case.x_val = x.astype("int32")
    case.description = f"{len(rows) / len(x):.0%} of validation commits with Windows paths"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/log_lr_passed", count=3, families=NO_GRU,
                knob="log10 learning rate -2 to -4 passed as the rate")
def log_lr_passed(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A hyper-parameter search samples the learning rate on a log scale (``log_lr`` in
    [-4, -2]) and the training script passes the sample itself, ``Adam(learning_rate=
    log_lr)``, where ``10 ** log_lr`` was meant: a negative rate, so every step climbs
    the loss instead of descending it (Keras accepts it). 20 epochs."""
    log_lr = -lerp(severity, 2.0, 4.0)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs, s.dropout = "adam", float(log_lr), 20, 0.0
    case.description = f"Adam learning_rate={log_lr:.2f} (log10 passed as the rate)"


@implementation("optimization/output_bias_from_counts", count=3, families=NO_GRU,
                knob="Adam lr 3e-3 - 5e-4")
def output_bias_from_counts(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The 'prior bias' trick (initialise the output layer's bias to the log class
    priors) written with ``bias_initializer=Constant(np.bincount(y_train))``: the raw class
    counts (tens to hundreds) instead of ``log(counts / n)``. The softmax starts saturated
    on the commonest class, and Adam, moving each weight about lr per step, needs
    thousands of steps to undo logit gaps of that size. 20 epochs."""
    lr = 10 ** lerp(severity, np.log10(3e-3), np.log10(5e-4))
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", float(lr), 20
    counts = np.bincount(case.y_train, minlength=case.n_classes).astype(float)
    extra(case)["output_bias"] = ([float(counts[1])] if s.labels == "binary"
                                  else [float(c) for c in counts])
    case.description = f"output bias = class counts (max {int(counts.max())}), Adam lr {lr:.1e}"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/zero_padded_id_join", count=2,
                knob="rows 55-12")
def zero_padded_id_join(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation ids are read from a CSV as strings (zero-padded, ``'004217'``) and
    joined to the data's integer ids turned to text (``'4217'``): only ids of six digits,
    which have no leading zero, match, a fair random 12-55 of the validation rows."""
    m = int(round(lerp(severity, 55, 12)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:m]))
    case.description = f"validation = {m} rows whose ids had no leading zero"


@implementation("small_validation_set/limit_before_filter", count=2,
                knob="LIMIT 220-50")
def limit_before_filter(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation query is ``SELECT ... LIMIT n`` followed by the split filter in
    pandas (a development ``LIMIT`` left in, applied before the ``WHERE split = 'val'``):
    of the first n rows of the (randomly ordered) table only the quarter flagged for
    validation are left. Training was queried without the limit."""
    limit = int(round(lerp(severity, 220, 50)))
    n_pool = 4 * len(case.y_val)        # the whole table: a quarter is flagged 'val'
    drawn = rng.permutation(n_pool)[:limit]
    rows = np.sort(drawn[drawn < len(case.y_val)])
    if len(rows) < 8:
        rows = np.sort(rng.permutation(len(case.y_val))[:8])
    case.keep("val", rows)
    case.description = f"LIMIT {limit} before the split filter: {len(rows)} validation rows"
