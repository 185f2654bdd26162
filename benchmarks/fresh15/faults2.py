"""Fault implementations of the fifteenth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh15.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh15.faults import NO_GRU, implementation
from benchmarks.fresh15.sources import (
    GENERATORS,
    LOG_N,
    ZONES,
    birdcall,
    birdcalls,
    gamma_logs,
    possessions,
)

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/song_dialect", count=2, sources=("birdcall16",),
                knob="pitch raised 1.5-3.5 rows, notes 1.15-1.5x faster")
def song_dialect(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation clips were recorded in another part of the species' range, where
    every species sings a regional dialect: higher-pitched and faster notes (same species,
    same labels; re-drawn from the validation labels)."""
    shift = lerp(severity, 1.5, 3.5)
    speed = lerp(severity, 1.15, 1.5)
    case.x_val = birdcalls(case.y_val, rng, shift=shift, speed=speed)
    case.description = f"validation clips in a dialect (+{shift:.1f} rows, x{speed:.2f} speed)"


@implementation("distribution_shift/deviated_wells", count=2, sources=("gamma_log",),
                knob="apparent thickness x1.4-2.4 (inclination 44-65 degrees)")
def deviated_wells(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation logs come from the field's newer deviated wells, which cross the
    beds at 44-65 degrees from vertical: every bed looks 1.4-2.4 times thicker along the
    hole, and the 64-m window shows a stretched part of the interval (same environments,
    labels re-drawn from the validation labels)."""
    stretch = lerp(severity, 1.4, 2.4)
    case.x_val = gamma_logs(case.y_val, rng, stretch=stretch)
    case.description = f"validation wells deviated (beds x{stretch:.2f} thicker along hole)"


@implementation("distribution_shift/waterlogged_pitches", count=2, sources=("tokens_possession",),
                knob="rain 0.5-1.0")
def waterlogged_pitches(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation matches were played in the winter months on waterlogged pitches:
    short passes and dribbles stick in the water, so every team plays more long balls and
    clearances, loses the ball more often and has shorter possessions (same teams and
    styles; re-drawn from the validation labels)."""
    rain = lerp(severity, 0.5, 1.0)
    case.x_val = possessions(case.y_val, rng, rain=rain)
    case.description = f"validation matches on waterlogged pitches (rain {rain:.2f})"


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/phase_inverted_downmix", count=2, sources=("birdcall16",),
                knob="share of stereo clips 0.5-1.0")
def phase_inverted_downmix(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation clips from the new stereo recorders are downmixed to mono by the
    loader as ``left - right`` (a sign slip for ``(left + right) / 2``): the bird, straight
    ahead and equally loud in both channels, cancels out except for a small residual,
    while the uncorrelated wind and background noise add up."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        x[i, :, :, 0] = birdcall(int(case.y_val[i]), rng, call_gain=rng.uniform(0.05, 0.25),
                                 noise=1.4)
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation clips downmixed as left - right"


@implementation("pipeline_bug/interp_descending_depth", count=2, sources=("gamma_log",),
                knob="share of bottom-up files 0.5-1.0")
def interp_descending_depth(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation LAS files of one contractor are written bottom-up (depth
    decreasing); the loader resamples every curve onto the 0.5-m grid with ``np.interp(grid,
    depth, gr)``, which assumes increasing depths and returns meaningless values for
    decreasing ones (no error)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    grid = np.arange(LOG_N) * 0.5
    for i in rows:
        depth = (np.arange(LOG_N) * 0.5 + rng.uniform(-0.1, 0.1))[::-1]
        x[i, :, 0] = np.interp(grid, depth, x[i, ::-1, 0])
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation logs interpolated on descending depths"


@implementation("pipeline_bug/zone_column_dropped", count=2, sources=("tokens_possession",),
                knob="share of v2 files 0.5-1.0")
def zone_column_dropped(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Each event token is (event type, pitch zone). The provider's v2 event files (most of
    validation) moved the zone into a separate column, which the loader does not read: it
    encodes every event with the default zone 0 (own third, centre)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    sub = x[rows]
    sub = np.where(sub >= 2, 2 + ((sub - 2) // ZONES) * ZONES, sub)
    x[rows] = sub
    case.x_val = x.astype("int32")
    case.description = f"{len(rows) / len(x):.0%} of validation possessions with zone dropped"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/l2_times_rows", count=3, families=NO_GRU,
                knob="per-row L2 2e-4 - 1e-3, times the training rows")
def l2_times_rows(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A paper's L2 coefficient is given per training example for a *summed* loss; the
    script converts it for Keras's mean loss by multiplying by the number of training rows
    (it should divide): every kernel carries an L2 penalty of lambda x n (0.01-2 on these
    sources), which pins the weights near zero. Adam 1e-3, constant, 20 epochs."""
    per_row = lerp(severity, 2e-4, 1e-3)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs, s.dropout = "adam", 1e-3, 20, 0.0
    extra(case)["l2"] = per_row * len(case.y_train)
    case.description = f"L2 {per_row:.0e} x {len(case.y_train)} rows = {extra(case)['l2']:.2f} on every kernel"


@implementation("optimization/adagrad_accumulator_init", count=3, families=NO_GRU,
                sources=GENERATORS,
                knob="initial_accumulator_value 1e4-1e6")
def adagrad_accumulator_init(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adagrad (lr 0.01) whose ``initial_accumulator_value`` was filled from the config's
    neighbouring key (the number of warm-up samples, 1e4-1e6) instead of 0.1: every step is
    divided by sqrt of that, so the effective rate is 1e-4 - 1e-5 from the start and only
    falls. 20 epochs."""
    acc = 10 ** lerp(severity, 4.0, 6.0)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", 0.01, 20
    extra(case)["optimizer"] = ("adagrad", {"initial_accumulator_value": float(acc)})
    case.description = f"Adagrad lr 0.01, initial_accumulator_value {acc:.0e}"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/groupby_first_row", count=2,
                knob="groups (sites, wells, matches, wards) 50-15")
def groupby_first_row(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation frame is grouped by its collection unit (recording site, well, match,
    ward) to keep the units together, with ``.groupby(unit).first()`` where
    ``.apply(list)`` was meant: one row per unit is left, and there are only 15-50 units."""
    g = int(round(lerp(severity, 50, 15)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:g]))
    case.description = f"validation = the first row of each of {g} units"


@implementation("small_validation_set/remainder_as_size", count=2,
                knob="rows 55-12")
def remainder_as_size(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The hold-out size is computed as ``n_val = len(pool) % eval_batch`` (meant as the
    rows left after whole batches go to training, written as the validation size): a
    remainder of 12-55 rows, sampled at random."""
    m = int(round(lerp(severity, 55, 12)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:m]))
    case.description = f"validation = {m} rows (a modulo remainder)"
