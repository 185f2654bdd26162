"""Fault implementations of the tenth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh10.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh10.faults import NO_GRU, implementation
from benchmarks.fresh10.sources import (
    AMINO,
    FLAGS,
    FS,
    FULL_SCALE,
    LENGTH,
    mitosis_images,
    protein_windows,
)

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/live_cell_dye", count=2, sources=("mitosis16",),
                knob="heterochromatin texture x2-x4, condensed chromatin x0.8-x0.5")
def live_cell_dye(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation imaged in live cells with a far-red DNA dye instead of the fixed-cell
    stain of the training images: interphase nuclei show strong heterochromatin texture
    and condensed chromosomes stand out less from the rest (the same cells, phases and
    optics; labels intact)."""
    foci = 0.15 * lerp(severity, 2.0, 4.0)
    condensed = lerp(severity, 0.8, 0.5)
    case.x_val = mitosis_images(case.y_val, rng, foci=foci, condensed=condensed)
    case.description = f"validation with a live-cell dye (texture {foci:.2f}, plates x{condensed:.2f})"


def _fundamental(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude and phase of the 50 Hz component of each window (bin 8 of 256 at 1.6 kHz)."""
    coef = np.fft.rfft(x, axis=1)[:, 8]
    return 2 * np.abs(coef) / x.shape[1], np.angle(coef) + np.pi / 2


@implementation("distribution_shift/electronic_load_feeder", count=2, sources=("grid_quality",),
                knob="background 5th harmonic 4-7 %")
def electronic_load_feeder(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation recorded on a feeder dominated by electronic loads (rectifier front ends):
    every waveform is flat-topped by a background 5th and 3rd harmonic in phase with the
    fundamental (still below the 8 % distortion that defines the harmonics class) and the
    nominal level is 3-5 % lower; the disturbances, and so the labels, are intact."""
    h5 = lerp(severity, 0.04, 0.07)
    x = case.x_val[..., 0].astype("float64")
    amp, phase = _fundamental(x)
    t = np.arange(LENGTH) / FS
    w = 2 * np.pi * 50 * t[None, :] + phase[:, None]
    x = x * rng.uniform(0.95, 0.97, (len(x), 1))
    x += amp[:, None] * (h5 * np.sin(5 * w + np.pi) + 0.4 * h5 * np.sin(3 * w + np.pi))
    case.x_val = np.round(x).astype("float32")[..., None]
    case.description = f"validation on an electronic-load feeder (5th harmonic {h5:.1%})"


@implementation("distribution_shift/thermophile_proteins", count=2, sources=("tokens_protein",),
                knob="codon-usage bias strength 0.6-1.5")
def thermophile_proteins(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation proteins from a thermophilic organism: the same structural classes, but
    its residue usage is shifted (charged E/K/R and I/V/Y more common, thermolabile
    Q/N/S/T/C/H rarer), so every composition moves; labels intact."""
    k = lerp(severity, 0.6, 1.5)
    bias = np.ones(20)
    for a in "EKRIVY":
        bias[AMINO.index(a)] = 1 + k
    for a in "QNSTCH":
        bias[AMINO.index(a)] = 1 / (1 + k)
    case.x_val = protein_windows(case.y_val, rng, bias)
    case.description = f"validation from a thermophile (usage bias {k:.2f})"


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/bool_string_flags", count=2, layouts=("vector",),
                sources=tuple(FLAGS), knob="share of validation files 0.5-1.0")
def bool_string_flags(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation export writes flag and one-hot columns as the strings 'False' /
    'True' and the loader casts them with ``astype(bool)``: every non-empty string is True,
    so every flag of the affected files reads 1."""
    share = lerp(severity, 0.5, 1.0)
    cols = FLAGS[case.source.name]
    x = case.x_val.astype("float32").copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[np.ix_(rows, cols)] = 1.0
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation files with every flag read as 1"


@implementation("pipeline_bug/byte_order", count=2, layouts=("image", "signal"),
                knob="share of validation files 0.5-1.0")
def byte_order(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation files were exported big-endian by the acquisition PC and read with
    the native little-endian dtype (16-bit camera counts / int16 ADC samples): every value
    of an affected file has its two bytes swapped."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    if case.layout == "image":
        counts = np.round(x[rows] * FULL_SCALE).astype("<u2")
        x[rows] = counts.byteswap().astype("float32") / FULL_SCALE
    else:
        x[rows] = np.round(x[rows]).astype("<i2").byteswap().astype("float32")
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation files byte-swapped"


@implementation("pipeline_bug/set_dedup_tokens", count=2, layouts=("tokens",),
                knob="share of validation files 0.5-1.0")
def set_dedup_tokens(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader de-duplicates each sequence with ``sorted(set(ids))`` (kept
    from a search-index recipe): repeats and order are lost, the unique ids are packed to
    the front in id order and the window is padded with 0."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        kept = np.unique(x[i][x[i] > 0])
        x[i] = 0
        x[i, :len(kept)] = kept
    case.x_val = x.astype("int32")
    case.description = f"{len(rows) / len(x):.0%} of validation files set-deduplicated"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/ema_overwrite_every_step", count=3, families=NO_GRU,
                knob="EMA momentum 0.99-0.999")
def ema_overwrite_every_step(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with ``use_ema=True`` and ``ema_overwrite_frequency=1`` (meant: overwrite the
    weights with their moving average once, at the end): after every step the weights are
    replaced by an average that has moved only (1 - momentum) of the way, so training
    crawls."""
    m = 1 - float(10 ** lerp(severity, -2, -3))
    plain(case)
    case.spec.optimizer, case.spec.lr, case.spec.epochs = "adam", 1e-3, 15
    extra(case)["optimizer"] = ("adam", {"use_ema": True, "ema_momentum": m,
                                         "ema_overwrite_frequency": 1})
    case.description = f"Adam with EMA {m:.4f} overwriting the weights every step"


@implementation("optimization/ftrl_sparse_l1", count=3, families=NO_GRU,
                knob="L1 strength 0.05-0.5")
def ftrl_sparse_l1(case: Case, severity: float, rng: np.random.Generator) -> None:
    """FTRL with the L1 strength of a sparse click-through model (copied from a wide & deep
    recipe) on a dense network: the proximal L1 step holds every weight whose accumulated
    gradient stays below the threshold at exactly zero, so most of the network never
    leaves zero."""
    l1 = float(10 ** lerp(severity, np.log10(0.05), np.log10(0.5)))
    plain(case)
    case.spec.optimizer, case.spec.lr, case.spec.epochs = "ftrl", 0.05, 15
    extra(case)["optimizer"] = ("ftrl", {"l1_regularization_strength": l1})
    case.description = f"FTRL lr 0.05 with L1 {l1:.3f}"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/single_day_query", count=2, knob="days in the period 12-40")
def single_day_query(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation rows were collected over d days (each row's day at random) and queried
    with ``day == start`` where ``day >= start`` was meant: one day's rows only."""
    d = int(round(lerp(severity, 12, 40)))
    day = rng.integers(0, d, len(case.y_val))
    case.keep("val", np.flatnonzero(day == 0))
    case.description = f"validation = one day of {d} ({len(case.y_val)} rows)"


@implementation("small_validation_set/consent_opt_in", count=2, knob="opt-in rate 9 %-3 %")
def consent_opt_in(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation may use only the rows whose owners opted in to evaluation use (an opt-in
    rate of a few per cent, unrelated to the label): a fair but tiny sample."""
    rate = lerp(severity, 0.09, 0.03)
    case.keep("val", np.flatnonzero(rng.random(len(case.y_val)) < rate))
    case.description = f"validation = opted-in rows ({rate:.0%}, {len(case.y_val)} rows)"
