"""Fault implementations of the thirteenth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh13.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra, shrink_train  # the same recipe helpers
from benchmarks.fresh7.faults2 import plain, steps_per_epoch  # the same recipe helpers
from benchmarks.fresh13.faults import NO_GRU, implementation
from benchmarks.fresh13.sources import (
    AIDS_DIAG,
    CALO_NOISE,
    EEG_N,
    calo_images,
    eeg_window,
    eeg_windows,
    recipes,
)

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/radiation_aged_calorimeter", count=2, sources=("calo16",),
                knob="response loss 35-80 % (more towards the forward rows)")
def radiation_aged_calorimeter(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation events were recorded two years later, after the calorimeter had taken its
    radiation dose: the crystals' light yield dropped (response loss growing from half of
    ``loss`` at the backward row to ``loss`` at the forward row) and the electronic noise
    rose by half. The same particles (re-drawn from the validation labels); the training
    events are from the first year."""
    loss = lerp(severity, 0.35, 0.8)
    rows = np.arange(16, dtype=float)[:, None] / 15.0
    gain = np.repeat(1 - loss * (0.5 + 0.5 * rows), 16, axis=1)
    case.x_val = calo_images(case.y_val, rng, gain=gain, noise=1.5 * CALO_NOISE)
    case.description = f"validation after radiation damage (response loss up to {loss:.0%})"


@implementation("distribution_shift/geriatric_clinic", count=2, sources=("eeg_sleep",),
                knob="slow-wave and spindle amplitude x0.6-x0.25")
def geriatric_clinic(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training recordings come from a study of young adults, validation recordings from a
    geriatric sleep clinic: in older sleepers slow waves are much smaller and spindles and
    K-complexes fewer and weaker (amplitudes x0.6-x0.25). The stages, and so the labels, are
    scored by the same rules (re-drawn from the validation labels)."""
    f = lerp(severity, 0.6, 0.25)
    case.x_val = eeg_windows(case.y_val, rng, slow_wave=f, spindle=f)
    case.description = f"validation from older sleepers (slow waves and spindles x{f:.2f})"


@implementation("distribution_shift/weeknight_recipe_site", count=2, sources=("tokens_recipe",),
                families=("embed",), knob="ingredients 3-9 -> 2-6; cuisine share x0.6-x0.3")
def weeknight_recipe_site(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training recipes were scraped from a cookbook site, validation recipes from a
    quick-weeknight site: shorter ingredient lists made mostly of pantry staples, the
    cuisine's characteristic ingredients cut down (same cuisines and labels; re-drawn from
    the validation labels)."""
    f = lerp(severity, 0.6, 0.3)
    lo, hi = int(round(lerp(severity, 3, 2))), int(round(lerp(severity, 10, 7)))
    case.x_val = recipes(case.y_val, rng, length=(lo, hi), specific=(0.08 * f, 0.3 * f))
    case.description = (f"validation from a weeknight site ({lo}-{hi - 1} ingredients, "
                        f"cuisine share x{f:.2f})")


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/pad_token_is_unk", count=2, sources=("tokens_recipe",),
                knob="share of validation files 0.5-1.0")
def pad_token_is_unk(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation files were encoded by the newer tokenizer config, which has no pad token
    and uses the common ``pad_token = unk_token`` idiom: their recipes are padded with the
    unknown-ingredient id 1 instead of 0 (the training data's padding). The model pools
    every position, so the validation inputs average in an embedding it never trained."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[rows] = np.where(x[rows] == 0, 1, x[rows])
    case.x_val = x.astype("int32")
    case.description = f"{len(rows) / len(x):.0%} of validation recipes padded with the unk id"


NEXT_STAGE = {0: [0, 1], 1: [0, 1, 2], 2: [1, 2, 3, 4], 3: [2, 3], 4: [0, 1, 2, 4]}


@implementation("pipeline_bug/hypnogram_start_offset", count=2, sources=("eeg_sleep",),
                knob="window starts 1-3 s late; share of files 0.6-1.0")
def hypnogram_start_offset(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Each excerpt is the last 4 s of a 30-s scored epoch. The validation recordings' files
    carry a lights-off marker that the validation loader ignores, so it aligns the hypnogram
    1-3 s too early: every excerpt starts 1-3 s late and its tail runs into the next epoch
    (often the same stage, otherwise a neighbouring one), while it keeps the first epoch's
    label."""
    k = int(round(lerp(severity, 1.0, 3.0) * 64))
    share = lerp(severity, 0.6, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        stage = int(case.y_val[i])
        nxt = stage if rng.random() < 0.5 else int(rng.choice(NEXT_STAGE[stage]))
        x[i, :, 0] = np.concatenate([x[i, k:, 0], eeg_window(nxt, rng)[:k]])
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation excerpts {k / 64:.1f} s late"
    assert x.shape[1] == EEG_N


@implementation("pipeline_bug/spreadsheet_date_serial", count=2, sources=("aids_status",),
                knob="share of validation files 0.3-0.9")
def spreadsheet_date_serial(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The diagnosis date is stored as days since 1 January 1960 (R's SAS-style origin in
    the training extract). Part of the validation files passed through a spreadsheet, which
    wrote the dates as its own serial numbers (days since 30 December 1899); the loader
    reads them with the 1960 origin, so those rows' diagnosis dates lie 60 years in the
    future."""
    share = lerp(severity, 0.3, 0.9)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[rows, AIDS_DIAG] += 21916.0
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation dates read with the wrong origin"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/linear_scaled_peak_lr", count=3, families=NO_GRU,
                knob="recipe's global batch 512-2,048 (peak Adam lr 0.2-0.8)")
def linear_scaled_peak_lr(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The learning rate follows a large-batch recipe written for SGD: a linear warm-up
    (2 epochs) to the peak given by the linear scaling rule, 0.1 x global batch / 256, with
    the recipe's global batch (512-2,048), kept after the optimiser was switched to Adam:
    after the warm-up, Adam runs at 0.2-0.8 for the rest of the 20 epochs."""
    glob = 2 ** lerp(severity, 9, 11)
    peak = 0.1 * glob / 256
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs, s.batch_size = "adam", peak, 20, 32
    extra(case)["warmup"] = (2 * steps_per_epoch(case), peak)
    extra(case)["optimizer"] = ("adam", {})
    case.description = f"warm-up to Adam {peak:.2f} (0.1 x {glob:.0f} / 256, an SGD rule)"


@implementation("optimization/batchnorm_batch_of_one", count=3, families=("mlp", "embed"),
                knob="training rows 800-400; 8 epochs")
def batchnorm_batch_of_one(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Online training, one row per step (``batch_size=1``), of a network with batch
    normalization after its hidden Dense layers (kept from the batched version of the
    script): over a batch of one, every normalised unit is exactly 0, so the hidden layers
    pass only the BatchNorm offsets forward, nothing about the input; the moving variance
    decays towards 0, so evaluation divides by almost nothing."""
    shrink_train(case, int(lerp(severity, 800, 400)), rng)
    plain(case)
    s = case.spec
    s.batchnorm, s.batch_size, s.epochs, s.optimizer, s.lr = True, 1, 8, "adam", 1e-3
    s.class_weight = False
    case.description = f"batch size 1 with BatchNorm, {len(case.y_train)} training rows"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/float_equality_filter", count=2,
                knob="share of rows with weight exactly 1.0: 10 %-2 %; 10-60 rows")
def float_equality_filter(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader keeps the rows of the main sampling frame with
    ``val[val.weight == 1.0]``; the weights went through a unit conversion upstream, so
    most main-frame rows hold 0.9999999 or 1.0000001 and only a random few per cent are
    exactly 1.0 (the rest of the rows are dropped with them)."""
    share = lerp(severity, 0.10, 0.02)
    n = int(np.clip(round(share * len(case.y_val)), 10, 60))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:n]))
    case.description = f"validation = {n} rows with weight exactly 1.0"


@implementation("small_validation_set/skiprows_stale_count", count=2,
                knob="rows left 60-12")
def skiprows_stale_count(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training and validation rows are written to one CSV (training rows first, both in
    random order); the validation loader reads it with ``skiprows=n_train`` where
    ``n_train`` was counted before the training rows were de-duplicated, so it skips past
    almost all of the validation block and keeps only its last rows."""
    m = int(round(lerp(severity, 60, 12)))
    order = rng.permutation(len(case.y_val))     # the file's (random) row order
    case.keep("val", order[-m:])
    case.description = f"validation = the last {m} rows of the file"
