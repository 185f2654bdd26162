"""Fault implementations of the eleventh fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh11.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh11.faults import NO_GRU, implementation
from benchmarks.fresh11.sources import melodies, quake_signals, weld_images

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/tig_line_welds", count=2, sources=("weld16",),
                knob="bead width x0.75-x0.55, ripple 0.03-0.06")
def tig_line_welds(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation radiographs come from the plant's TIG line instead of the MIG line of the
    training images: narrower beads with pronounced solidification ripples across them (the
    same defect types, the same X-ray system; re-drawn from the validation labels)."""
    bead, ripple = lerp(severity, 0.75, 0.55), lerp(severity, 0.03, 0.06)
    case.x_val = weld_images(case.y_val, rng, bead=bead, ripple=ripple)
    case.description = f"validation from the TIG line (bead x{bead:.2f}, ripple {ripple:.3f})"


@implementation("distribution_shift/regional_events", count=2, sources=("quake_z",),
                knob="distance factor 1.8-3")
def regional_events(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The detector was trained on a station inside the network and validated on one at
    the network's edge: the events are 1.8-3 x farther away (longer S-P times, smaller
    amplitudes, high frequencies attenuated); the event types, and so the labels, are
    intact (re-drawn from the validation labels)."""
    d = lerp(severity, 1.8, 3.0)
    case.x_val = quake_signals(case.y_val, rng, distance=d)
    case.description = f"validation events {d:.1f} x farther away"


@implementation("distribution_shift/cello_tune_book", count=2, sources=("tokens_melody",),
                knob="tune centre 55-48 (MIDI; training 67)")
def cello_tune_book(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training tunes were transcribed from fiddle books, validation tunes from a cello
    book: the same modes and keys, but written an octave or more lower (tune centre MIDI
    55-48 instead of 67), so most validation pitch ids are ones the training set rarely
    has."""
    centre = lerp(severity, 55.0, 48.0)
    case.x_val = melodies(case.y_val, rng, centre=centre)
    case.description = f"validation tunes around MIDI {centre:.0f} (training 67)"


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/thousands_separator", count=2, layouts=("vector",),
                sources=("college_private", "auto_origin"), knob="share of validation files 0.5-1.0")
def thousands_separator(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation export formats numbers with a thousands separator ('1,660'); the
    loader parses with ``pd.to_numeric(errors='coerce').fillna(0)``, so in the affected
    files every value of 1,000 or more reads 0."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.astype("float32").copy()
    rows = rng.random(len(x)) < share
    x[rows] = np.where(np.abs(x[rows]) >= 1000, 0.0, x[rows])
    case.x_val = x
    case.description = f"{rows.mean():.0%} of validation files: values >= 1000 read as 0"


@implementation("pipeline_bug/monochrome1_ignored", count=2, sources=("weld16",),
                knob="share of validation files 0.5-1.0")
def monochrome1_ignored(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation radiographs from the second detector are stored as DICOM MONOCHROME1
    (0 = white); the validation reader ignores the PhotometricInterpretation tag, so their
    grey values come out inverted (4095 - v)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = rng.random(len(x)) < share
    x[rows] = 1.0 - x[rows]
    case.x_val = x
    case.description = f"{rows.mean():.0%} of validation radiographs inverted"


@implementation("pipeline_bug/wrong_channel_glob", count=2, sources=("quake_z",),
                knob="share of validation stations 0.5-1.0")
def wrong_channel_glob(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation loader finds each station's file with the glob ``*.HH?`` and takes
    the first match, which for most stations is the east component (HHE), not the vertical
    one (HHZ) the training loader reads: P waves weak, S waves strong (the same events'
    horizontal records, drawn from the validation labels)."""
    share = lerp(severity, 0.5, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[rows] = quake_signals(case.y_val[rows], rng, component="E")
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation records from the HHE channel"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/accumulation_steps_as_batch", count=3, families=NO_GRU,
                knob="gradient_accumulation_steps 128-512")
def accumulation_steps_as_batch(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam's ``gradient_accumulation_steps`` set to the wanted effective batch size (128-512
    rows) instead of that size divided by the batch (32): the weights move once every
    128-512 steps, a handful of times in the whole run."""
    steps = int(round(2 ** lerp(severity, 7, 9)))
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs, s.batch_size = "adam", 1e-3, 20, 32
    extra(case)["optimizer"] = ("adam", {"gradient_accumulation_steps": steps})
    case.description = f"Adam, gradient_accumulation_steps={steps} at batch 32"


@implementation("optimization/distillation_temperature", count=3, families=NO_GRU,
                knob="temperature 50-300")
def distillation_temperature(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The model was adapted from a distillation script whose student divides its logits
    by the distillation temperature before the softmax; trained on hard labels alone, the
    outputs stay near uniform and the weights must grow T-fold before the loss can fall."""
    temp = float(10 ** lerp(severity, np.log10(50), np.log10(300)))
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", 1e-3, 20
    extra(case)["temperature"] = temp
    case.description = f"logits / {temp:.0f} before the output activation, Adam 1e-3"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/gold_audit_subset", count=2, knob="audit budget 50-20 rows")
def gold_audit_subset(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation uses only the rows a senior expert re-audited (gold labels); the audit
    budget covered 50-20 rows, picked at random from the validation pool."""
    n = int(round(lerp(severity, 50, 20)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:n]))
    case.description = f"validation = {len(case.y_val)} gold-audited rows"


@implementation("small_validation_set/rate_limited_label_api", count=2,
                knob="answered requests 60-25")
def rate_limited_label_api(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation labels are fetched from an external labelling service that answered only
    the first requests before its rate limit (requests sent in random order); rows without
    an answer are dropped."""
    n = int(round(lerp(severity, 60, 25)))
    order = rng.permutation(len(case.y_val))
    case.keep("val", np.sort(order[:n]))
    case.description = f"validation = {len(case.y_val)} rows answered before the rate limit"
