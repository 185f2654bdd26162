"""Fault implementations of the twelfth fresh test set, part 2: distribution_shift,
pipeline_bug, optimization and small_validation_set. They register into
``benchmarks.fresh12.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import extra  # the same recipe helper
from benchmarks.fresh7.faults2 import plain  # the same recipe helper
from benchmarks.fresh12.faults import implementation
from benchmarks.fresh12.sources import FAIL, GENERIC, OFF, raman_spectra, sessions, wafer_maps

# == distribution_shift: validation inputs from another world, labels intact ================

@implementation("distribution_shift/large_die_product", count=2, sources=("wafer16",),
                knob="wafer radius 6.2-4.8 dies (training 7.4)")
def large_die_product(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation wafers are of a newer product with larger dies: the same wafer holds
    fewer dies, so its bin map is a smaller disc inside the 16x16 frame (radius 6.2-4.8
    dies instead of 7.4); the same failure mechanisms (re-drawn from the validation
    labels)."""
    radius = lerp(severity, 6.2, 4.8)
    case.x_val = wafer_maps(case.y_val, rng, radius=radius)
    case.description = f"validation wafers of a large-die product (radius {radius:.1f} dies)"


@implementation("distribution_shift/fluorescent_recycled_stream", count=2,
                sources=("raman_polymer",), knob="fluorescence x2.5-x6")
def fluorescent_recycled_stream(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training flakes came from clean production scrap, validation flakes from a
    post-consumer recycling stream: dyes, additives and residues make them fluoresce
    2.5-6 x more, so a much stronger background lies under the same Raman bands (re-drawn
    from the validation labels)."""
    f = lerp(severity, 2.5, 6.0)
    case.x_val = raman_spectra(case.y_val, rng, fluorescence=f)
    case.description = f"validation from a post-consumer stream (fluorescence x{f:.1f})"


@implementation("distribution_shift/holiday_sale_sessions", count=2, sources=("tokens_click",),
                families=("embed",), knob="sale weight x2-x5")
def holiday_sale_sessions(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Training sessions are from an ordinary month, validation sessions from the holiday
    sale: every visitor, whatever the intent, now lands on sale pages, promo banners,
    gift-wrap and gift-card pages and searches more (the generic browsing mix changes; the
    intents and so the labels do not; re-drawn from the validation labels)."""
    k = lerp(severity, 2.0, 5.0)
    mix = dict(GENERIC)
    mix.update(sale_page=6 * k, promo_banner=3 * k, gift_wrap=2 * k, gift_card=1.5 * k,
               search=3 + 2 * k)
    case.x_val = sessions(case.y_val, rng, generic=mix)
    case.description = f"validation sessions from the holiday sale (sale weight x{k:.1f})"


# == pipeline_bug: a code error on the validation path =======================================

@implementation("pipeline_bug/crop_index_other_instrument", count=3, sources=("raman_polymer",),
                knob="shift 4-12 channels; share of validation files 0.6-1.0")
def crop_index_other_instrument(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation spectra are recorded on the second spectrometer, whose files cover a
    wider range; the validation loader crops them to 300-1800 cm^-1 with the start index
    computed for the first instrument's grid, so the cropped window starts 4-12 channels
    (24-71 cm^-1) too late and every band sits at the wrong channel."""
    k = int(round(lerp(severity, 4, 12)))
    share = lerp(severity, 0.6, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    shifted = np.concatenate([x[rows, k:], np.repeat(x[rows, -1:], k, axis=1)], axis=1)
    x[rows] = shifted
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation spectra cropped {k} channels late"


@implementation("pipeline_bug/offwafer_code_as_fail", count=3, sources=("wafer16",),
                knob="share of validation files 0.4-1.0")
def offwafer_code_as_fail(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation maps come from the newer prober software, which writes the positions
    outside the wafer as bin 255 instead of leaving them empty; the validation loader
    maps 'bin 1 = pass, anything else = fail', so every off-wafer position of those maps
    reads as a failing die (the training loader reads the old format)."""
    share = lerp(severity, 0.4, 1.0)
    x = case.x_val.copy()
    rows = np.flatnonzero(rng.random(len(x)) < share)
    x[rows] = np.where(x[rows] == OFF, FAIL, x[rows])
    case.x_val = x
    case.description = f"{len(rows) / len(x):.0%} of validation maps: off-wafer read as fail"


# == optimization: data, labels and model intact, the updates spoiled ========================

@implementation("optimization/raw_counts_unscaled", count=3, sources=("raman_polymer",),
                families=("mlp", "cnn1d"), knob="detector gain 1-8 counts per photoelectron")
def raw_counts_unscaled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The scaler is fit, but the training script passes the raw arrays to ``fit`` (and
    to ``validation_data``): the network gets raw CCD counts (hundreds to tens of thousands,
    times the detector gain), its first layer's outputs and the logits are huge, and Adam
    at 1e-3 thrashes. Both splits alike (same script), so no train / validation
    mismatch."""
    gain = lerp(severity, 1.0, 8.0)
    raw = {"train": case.x_train * gain, "val": case.x_val * gain}

    def unscaled(c: Case) -> None:
        c.x_train, c.x_val = raw["train"].astype("float32"), raw["val"].astype("float32")

    case.post.append(unscaled)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", 1e-3, 20
    case.description = f"raw counts (gain {gain:.1f}) fed to the network, Adam 1e-3"


@implementation("optimization/gradient_reversal_left_in", count=3,
                families=("mlp", "cnn2d", "cnn1d", "embed"),
                knob="reversal strength 0.3-1.0")
def gradient_reversal_left_in(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The model was adapted from a domain-adversarial script, and the gradient-reversal
    layer in front of the classifier head was left in: the head learns normally, but
    every hidden layer receives the negated gradient and moves to make the loss worse."""
    strength = lerp(severity, 0.3, 1.0)
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.epochs = "adam", 1e-3, 20
    extra(case)["grad_reversal"] = strength
    case.description = f"gradient reversal (x{-strength:.2f}) before the head, Adam 1e-3"


# == small_validation_set: fair random samples, far too few ==================================

@implementation("small_validation_set/hash_bucket_modulus", count=2,
                knob="threshold t 30-8 (of 1000 instead of 100); 10-60 rows")
def hash_bucket_modulus(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The split assigns a record to validation when ``crc32(record_id) % 1000 < t``; the
    intent was ``% 100 < t`` (t %), so only t per mille of the records validate (a fair
    hash sample of the pooled records; at least 10, at most 60 rows here) and everything
    else trains."""
    t = int(round(lerp(severity, 30, 8)))
    x = np.concatenate([case.x_train, case.x_val])
    y = np.concatenate([case.y_train, case.y_val])
    bucket = rng.permutation(len(y))          # the hash order of the record ids
    n = int(np.clip(round(t / 1000 * len(y)), 10, 60))
    val, train = np.sort(bucket[:n]), np.sort(bucket[n:])
    case.x_train, case.y_train = x[train], y[train]
    case.x_val, case.y_val = x[val], y[val]
    case.description = f"validation = {n} of {len(y)} records (hash % 1000 < {t})"


@implementation("small_validation_set/preview_folder_join", count=2,
                knob="rows with a preview 60-15")
def preview_folder_join(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The validation table is inner-joined with the review tool's preview folder (to show
    each record to the reviewers); previews had been generated for only a random handful
    of records, so the join keeps 60-15 rows."""
    n = int(round(lerp(severity, 60, 15)))
    case.keep("val", np.sort(rng.permutation(len(case.y_val))[:n]))
    case.description = f"validation = {len(case.y_val)} rows with a preview"
