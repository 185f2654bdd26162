"""Fault implementations of the fourteenth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh14.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain, steps_per_epoch  # the same recipe helpers
from benchmarks.fresh14.faults import NO_GRU, implementation
from benchmarks.fresh14.sources import (
    CGM_N,
    YRBSS_MEASURED,
    api_trace,
    cgm_trace,
    diffractions,
    draw_a1c,
)

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/thick_specimens", count=2, sources=("lattice16",),
                knob="thickness factor 0.5-1.0")
def thick_specimens(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation patterns come from a second batch of specimens that the ion mill left
    much thicker: more inelastic (diffuse) background, Kikuchi line pairs across the
    pattern, broader spots and dynamical scattering that evens out the spot intensities
    (and rings). Same phases, same labels (re-drawn from the validation labels)."""
    t = lerp(severity, 0.5, 1.0)
    case.x_val = diffractions(case.y_val, rng, thick=t)
    case.description = f"validation specimens thicker (factor {t:.2f})"


RAMADAN = ((18.9, 0.15), (3.8, 0.3), (22.3, 0.6))   # iftar, suhur, a late snack


@implementation("distribution_shift/ramadan_fasting", count=2, sources=("cgm_glucose",),
                knob="share of validation recordings made during Ramadan 0.6-1.0")
def ramadan_fasting(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation recordings were made during Ramadan: no meals from dawn (about
    04:30) to sunset (about 18:50), the glucose level sagging through the day's fast, a
    large meal at sunset (iftar), a late snack and a meal before dawn (suhur), so the night
    is no longer a fast. Same participants' categories (re-drawn from a latent HbA1c in
    each validation label's band)."""
    share = lerp(severity, 0.6, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    a1c = draw_a1c(case.y_val[rows], rng)
    for i, a in zip(rows, a1c, strict=True):
        x[i, :, 0] = cgm_trace(float(a), rng, meals=RAMADAN, fast=(4.5, 18.9))
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation recordings during Ramadan"


@implementation("distribution_shift/packed_campaign", count=2, sources=("tokens_apicall",),
                knob="share of packed samples 0.6-1.0; unpacking prelude 6-20 calls")
def packed_campaign(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation samples come from a later collection period in which most programs
    (malware and installers alike) ship packed: each trace starts with an unpacking
    prelude (VirtualAlloc, VirtualProtect, RtlDecompressBuffer, copies, imports resolved by
    hand) that fills much of the 32 recorded calls before the program's own behaviour
    starts. Same families and labels (re-drawn from the validation labels)."""
    share = lerp(severity, 0.6, 1.0)
    hi = int(round(lerp(severity, 12, 20)))
    rows = []
    for c in case.y_val:
        stall = int(rng.integers(2, 5)) if c > 0 and rng.random() < 0.35 else 0
        prelude = int(rng.integers(6, hi + 1)) if rng.random() < share else 0
        rows.append(api_trace(int(c), rng, stall=stall, prelude=prelude))
    case.x_val = np.stack(rows).astype("int32")
    case.description = f"{share:.0%} of validation samples packed (prelude 6-{hi} calls)"


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/sas_missing_sentinel", count=2, sources=("yrbss_sex",),
                knob="share of validation rows with a missing answer 0.15-0.45")
def sas_missing_sentinel(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training extract had missing answers imputed by the survey team; the validation
    extract is the raw vendor file, where a missing or refused answer is the sentinel 999,
    and the loader reads it as a number: 999 m tall, 999 kg, 999 active days."""
    share = lerp(severity, 0.15, 0.45)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        cols = rng.choice(YRBSS_MEASURED, int(rng.integers(1, 3)), replace=False)
        x[i, cols] = 999.0
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation rows carry the 999 sentinel"


def _clock_strings(start_minutes: int) -> list[str]:
    minutes = (start_minutes + 5 * np.arange(CGM_N)) % (24 * 60)
    return [f"{m // 60}:{m % 60:02d}" for m in minutes]


@implementation("pipeline_bug/timestamps_sorted_as_strings", count=2, sources=("cgm_glucose",),
                knob="share of validation files 0.5-1.0")
def timestamps_sorted_as_strings(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader re-orders each device export by its time column, which the
    newer export writes as unpadded 'H:MM' text and which the loader sorts as strings
    ('0:05' < '10:00' < '1:00' < '23:55' < '2:00'): the night and the day are cut into
    hour blocks and shuffled into text order (the training files came sorted already)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    for i in rows:
        stamps = _clock_strings(22 * 60 + 5 * int(rng.integers(-12, 12)))
        order = np.argsort(np.array(stamps), kind="stable")
        x[i, :, 0] = x[i, order, 0]
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation files sorted by text time"


@implementation("pipeline_bug/fftshift_twice", count=2, sources=("lattice16",),
                knob="share of validation frames 0.5-1.0")
def fftshift_twice(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation frames come from the newer camera software, which already stores
    patterns with the direct beam at the centre; the loader still applies
    ``np.fft.fftshift`` (needed for the old software's corner-origin frames), so the four
    quadrants are swapped and the direct beam sits in the corners."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[rows] = np.fft.fftshift(x[rows], axes=(1, 2))
    case.x_val = x.astype("float32")
    case.description = f"{len(rows) / len(x):.0%} of validation frames fftshifted twice"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/clr_range_test_misread", count=3, families=NO_GRU,
                knob="cycle top (Adam) 0.08-0.4")
def clr_range_test_misread(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A triangular cyclical learning rate whose upper bound was read off the LR range test
    at the point where the loss blew up (not where it fell fastest): Adam cycles between
    1e-3 and 0.08-0.4 every 4 epochs, 20 epochs."""
    top = lerp(severity, 0.08, 0.4)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", top, 20
    extra(case)["lr_schedule"] = ("triangular", 1e-3, top, 2 * steps_per_epoch(case))
    extra(case)["optimizer"] = ("adam", {})
    case.description = f"cyclical lr 1e-3 .. {top:.2f} (range test's divergence point)"


@implementation("optimization/decay_rate_inverted", count=3, families=NO_GRU,
                knob="decay_rate 4-10 per 3 epochs")
def decay_rate_inverted(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``ExponentialDecay(1e-3, decay_steps=3 epochs, decay_rate=r, staircase=True)`` with
    ``r`` = 4-10, written as 'divide by r every 3 epochs': Keras multiplies by ``r``, so
    Adam's rate grows r-fold every 3 epochs (to 0.26-10 by the last of 15 epochs)."""
    rate = lerp(severity, 4.0, 10.0)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", 1e-3, 15
    extra(case)["lr_schedule"] = ("exponential", 1e-3, 3 * steps_per_epoch(case), rate)
    extra(case)["optimizer"] = ("adam", {})
    case.description = f"ExponentialDecay with decay_rate {rate:.1f} (grows), 15 epochs"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/skipped_unparseable_files", count=2,
                knob="share of files in the old format 12 %-3 %; 10-60 rows")
def skipped_unparseable_files(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader reads one file per record inside ``try: ... except
    Exception: continue``; the files were re-exported in a newer format that the parser
    does not understand, so every new-format file is silently skipped and only the few
    records still in the old format (a random 3-12 %) are validated on."""
    share = lerp(severity, 0.12, 0.03)
    n = int(np.clip(round(share * len(case.y_val)), 10, 60))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:n]))
    case.description = f"validation = {n} old-format files (the rest skipped silently)"


@implementation("small_validation_set/split_label_spelling", count=2,
                knob="rows tagged 'val' 50-12")
def split_label_spelling(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The data table has a ``split`` column; the current export script writes
    'validation', an older one (which produced a random few rows) wrote 'val', and the
    training script selects ``df[df.split == 'val']``: only those few rows are validated
    on."""
    m = int(round(lerp(severity, 50, 12)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:m]))
    case.description = f"validation = the {m} rows tagged 'val'"
