"""Fault implementations of the thirteenth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh13.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh13.faults import implementation
from benchmarks.fresh13.sources import DESSERT, WEAK, calo_event, eeg_windows, recipe, recipes

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, epochs: int) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, epochs)


@implementation("subgroup_underfitting/module_crack_hits", count=3, sources=("calo16",),
                families=("mlp", "cnn2d"), knob="share 30 %-15 %; epochs 12-6")
def module_crack_hits(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the particles (both splits alike) hit the calorimeter in the crack between
    two modules: the two cell columns of the gap under the impact point read nothing, 30 %
    of their energy leaks into the columns on either side, so the shower's core is gone and
    what is left looks cut in two. A plain model trained briefly fits the clean hits and
    under-fits the crack hits."""
    share = lerp(severity, 0.30, 0.15)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        for i in np.flatnonzero(rng.random(len(x)) < share):
            centre = rng.uniform(6.5, 9.5, 2)
            crack = float(round(centre[1]) - rng.integers(0, 2))
            x[i, :, :, 0] = calo_event(int(y[i]), rng, crack=crack, centre=tuple(centre))
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} crack hits in both splits; brief training"


@implementation("subgroup_underfitting/apnoea_patients", count=3, sources=("eeg_sleep",),
                families=("mlp", "cnn1d"), knob="share 30 %-15 %; epochs 12-6")
def apnoea_patients(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the recordings (both splits alike) come from patients with sleep apnoea:
    their sleep is fragmented (slow waves, spindles and K-complexes x0.6) and broken by
    arousals, so 90 % of their excerpts carry a strong alpha/beta burst and a movement
    artefact on top of the stage's own waves. A plain model trained briefly fits the
    undisturbed sleepers and under-fits the apnoea patients."""
    share = lerp(severity, 0.30, 0.15)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        if len(rows):
            x[rows] = eeg_windows(y[rows], rng, arousal=0.9, slow_wave=0.6, spindle=0.6)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} apnoea patients in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    case.spec.from_logits = False
    bare(case, epochs=epochs)


@implementation("metric_saturation/trigger_half", count=3, sources=("calo16",),
                families=("cnn2d", "mlp"), knob="epochs 30-60")
def trigger_half(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The region-of-interest step of the trigger: which half of the calorimeter (backward or
    forward rows, read out by two crates) did the shower hit? Showers of 2-60 GeV
    (electrons, photons, pions; both splits re-drawn with impact points away from the
    midline) are plain in one half; trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        fwd = rng.random(n) < 0.5
        kind = rng.choice(3, n, p=[0.3, 0.35, 0.35])
        x = np.stack([calo_event(int(kind[i]), rng, centre=(
            float(rng.uniform(10, 13) if fwd[i] else rng.uniform(2.5, 5.5)),
            float(rng.uniform(4, 12)))) for i in range(n)]).astype("float32")[..., None]
        setattr(case, f"x_{part}", x)
        setattr(case, f"y_{part}", fwd.astype("int64"))
    _target(case, ["backward", "forward"], epochs)
    case.description = f"backward or forward half, {epochs} epochs"


@implementation("metric_saturation/dessert_detection", count=3, sources=("tokens_recipe",),
                families=("embed",), knob="epochs 30-60")
def dessert_detection(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The site's first classifier: is the recipe a dessert? Desserts are built from baking
    ingredients (sugar, flour, butter, eggs, vanilla, cocoa, baking powder, chocolate,
    cinnamon ...) and none of the savoury pantry; the savoury recipes are the cuisines' own
    (both splits re-drawn, a third desserts); trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        sweet = rng.random(len(y)) < 1 / 3
        x = recipes(y, rng)
        for i in np.flatnonzero(sweet):
            x[i] = recipe(0, rng, length=(6, 15), specific=(1.0, 1.0), mix=DESSERT)
        setattr(case, f"x_{part}", x.astype("int32"))
        setattr(case, f"y_{part}", sweet.astype("int64"))
    _target(case, ["savoury", "dessert"], epochs)
    case.description = f"dessert or savoury, {epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/layer_norm", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d", "embed"), knob="lr 5e-4 - 2e-3")
def layer_norm(case: Case, severity: float, rng: np.random.Generator) -> None:
    """LayerNormalization after every hidden layer (where the recipe would put batch
    normalization), Adam, constant rate, 20 epochs."""
    lr = lerp(severity, 5e-4, 2e-3)
    _healthy(case, "adam", lr, 20)
    case.spec.batchnorm = True
    extra(case)["layer_norm"] = True
    case.description = f"LayerNorm after hidden layers, Adam {lr:.1e}, 20 epochs"


@implementation("healthy/leaky_relu_beta2", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 5e-4 - 1.5e-3")
def leaky_relu_beta2(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Leaky-ReLU hidden activations (slope 0.2), Adam with ``beta_2=0.99`` (a GAN / RL
    habit), constant rate, 12 epochs."""
    lr = lerp(severity, 5e-4, 1.5e-3)
    _healthy(case, "adam", lr, 12, beta_2=0.99)
    extra(case)["activation"] = "leaky_relu"
    case.description = f"leaky ReLU, Adam {lr:.1e} (beta_2 0.99), 12 epochs"


@implementation("healthy/mish_batch64", count=2, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 3e-4 - 1e-3")
def mish_batch64(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Mish hidden activations, Adam, batch 64, constant rate, 25 epochs."""
    lr = lerp(severity, 3e-4, 1e-3)
    _healthy(case, "adam", lr, 25)
    case.spec.batch_size = 64 if len(case.y_train) >= 640 else 32
    extra(case)["activation"] = "mish"
    case.description = f"Mish, Adam {lr:.1e}, batch {case.spec.batch_size}, 25 epochs"
