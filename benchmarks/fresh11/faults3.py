"""Fault implementations of the eleventh fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh11.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh11.faults import NO_GRU, implementation
from benchmarks.fresh11.sources import WEAK, melodies, quake_signals, weld_images

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, severity: float) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, int(round(lerp(severity, 12, 6))))


@implementation("subgroup_underfitting/vertical_seams", count=3, sources=("weld16",),
                families=("cnn2d",), knob="share 25 %-12 %; epochs 20-12 (batch 16)")
def vertical_seams(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the radiographs (both splits alike) are of the vertical seams of the
    vessels: the bead and its defects run top to bottom instead of left to right (the
    defects just as visible). A plain model trained briefly fits the common horizontal
    seams and under-fits the vertical ones (the small CNN, 20-12 epochs at batch 16: weld16 needs
    more steps than the other sources)."""
    share = lerp(severity, 0.25, 0.12)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        x[rows] = weld_images(y[rows], rng, vertical=True)
        setattr(case, f"x_{part}", x)
    _subgroup_recipe(case, severity)
    case.spec.epochs, case.spec.batch_size = int(round(lerp(severity, 20, 12))), 16
    case.description = f"{share:.0%} vertical seams in both splits; brief training"


@implementation("subgroup_underfitting/ornamented_tunes", count=2, sources=("tokens_melody",),
                families=("embed",), knob="share 25 %-12 %; epochs 12-6")
def ornamented_tunes(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the tunes (both splits alike) come from a collection transcribed with
    their ornaments: about half the notes are followed by a chromatic neighbour note
    outside the mode, which blurs the pitch-set evidence (the mode is still in the main
    notes). A plain model trained briefly under-fits them."""
    share = lerp(severity, 0.25, 0.12)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        x[rows] = melodies(y[rows], rng, ornament=0.5)
        setattr(case, f"x_{part}", x.astype("int32"))
    _subgroup_recipe(case, severity)
    case.description = f"{share:.0%} ornamented tunes in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    bare(case, epochs=epochs)


@implementation("metric_saturation/v8_engine", count=3, sources=("auto_origin",),
                families=("mlp", "linear"), knob="epochs 30-60")
def v8_engine(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A spec-sheet check: is the engine a V8, from displacement, horsepower, weight, mpg,
    acceleration and year (the cylinder column itself dropped)? Displacement all but
    decides it; trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}")
        setattr(case, f"y_{part}", (x[:, 1] == 8).astype("int64"))
        setattr(case, f"x_{part}", np.delete(x, 1, axis=1).astype("float32"))
    _target(case, ["not_v8", "v8"], epochs)
    case.description = f"V8 or not, {epochs} epochs"


@implementation("metric_saturation/first_motion_polarity", count=3, sources=("quake_z",),
                families=("cnn1d", "mlp"), knob="epochs 30-60")
def first_motion_polarity(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Focal-mechanism preprocessing: for records of local earthquakes, is the first motion
    of the P wave up or down? With the impulsive onsets of a nearby station the sign of the
    first swing is plain in every record (both splits re-drawn as local quakes with a
    clear first motion); trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        up = rng.random(n) < 0.5
        x = np.concatenate([quake_signals(np.ones(1, int), rng, polarity=1.0 if u else -1.0)
                            for u in up])
        setattr(case, f"x_{part}", x)
        setattr(case, f"y_{part}", up.astype("int64"))
    _target(case, ["down", "up"], epochs)
    case.description = f"P first motion up or down, {epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/silu_early_stopped", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 5e-4 - 2e-3")
def silu_early_stopped(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SiLU (swish) activations with He-uniform kernels, Adam, constant rate, up to 40
    epochs with early stopping on the validation loss (patience 3, best weights
    restored)."""
    lr = lerp(severity, 5e-4, 2e-3)
    _healthy(case, "adam", lr, 40)
    case.spec.early_stopping, case.spec.patience = True, 3
    extra(case).update(activation="silu", reinit="he_uniform")
    case.description = f"SiLU + He uniform, Adam {lr:.1e}, early stopping (patience 3)"


@implementation("healthy/vanilla_sgd_plateau", count=3, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="lr 0.02-0.08")
def vanilla_sgd_plateau(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Plain SGD (no momentum), constant rate, 30 epochs: the run ends on its plateau."""
    lr = lerp(severity, 0.02, 0.08)
    _healthy(case, "sgd", lr, 30, momentum=0.0)
    case.description = f"plain SGD {lr:.2f}, 30 epochs"


@implementation("healthy/prior_bias_short", count=2, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="epochs 3-2")
def prior_bias_short(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A quick baseline: the output bias initialised to the log class prior of the training
    labels, Adam 3e-3, batch 16, two or three epochs."""
    epochs = int(round(lerp(severity, 3, 2)))
    _healthy(case, "adam", 3e-3, epochs)
    case.spec.batch_size = 16
    prior = np.bincount(case.y_train, minlength=case.n_classes) / len(case.y_train)
    extra(case)["prior_bias"] = [float(p) for p in np.clip(prior, 1e-3, None)]
    case.description = f"log-prior output bias, Adam 3e-3, {epochs} epochs"


@implementation("healthy/adam_no_first_moment", count=2, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="lr 5e-4 - 1e-3")
def adam_no_first_moment(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with beta_1 = 0 (no momentum; the GAN-training setting), batch 16, constant
    rate, 15 epochs: noisier curves that still improve."""
    lr = lerp(severity, 5e-4, 1e-3)
    _healthy(case, "adam", lr, 15, beta_1=0.0)
    case.spec.batch_size = 16
    case.description = f"Adam beta_1=0 {lr:.1e}, batch 16, 15 epochs"
