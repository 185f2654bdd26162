"""Fault implementations of the sixteenth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh16.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh7.faults2 import steps_per_epoch  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh16.faults import NO_GRU, implementation
from benchmarks.fresh16.sources import WEAK, light_curve, pollen

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, epochs: int) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, epochs)


@implementation("subgroup_underfitting/side_view_pine", count=3, sources=("pollen16",),
                families=("cnn2d",), knob="share of the pine grains 45 %-25 %; epochs 12-6")
def side_view_pine(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the pine grains (both splits alike) lie on their side: the two air sacs
    fold under the body, and the grain shows as a plump oval with two dark crescents
    instead of a body between two sacs. A plain model trained briefly fits the face-on
    grains and under-fits the side views."""
    share = lerp(severity, 0.45, 0.25)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero((y == 0) & (rng.random(len(y)) < share))
        for i in rows:
            x[i, :, :, 0] = pollen(0, rng, side_view=True)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of pine grains seen from the side in both splits; brief training"


@implementation("subgroup_underfitting/grazing_binaries", count=3, sources=("lightcurve",),
                families=("mlp", "cnn1d"), knob="share of the eclipsing binaries 55 %-35 %; epochs 12-6")
def grazing_binaries(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the eclipsing binaries (both splits alike) are seen at a grazing angle:
    shallow V-shaped eclipses of 0.3-1.5 %, with a faint or no secondary eclipse, nearly
    as shallow as a planet's transit. A plain model trained briefly fits the deep
    eclipses and under-fits the grazing ones."""
    share = lerp(severity, 0.55, 0.35)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero((y == 2) & (rng.random(len(y)) < share))
        for i in rows:
            x[i, :, 0] = light_curve(2, rng, grazing=True)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of eclipsing binaries grazing in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    case.spec.from_logits = False
    bare(case, epochs=epochs)


@implementation("metric_saturation/air_bubble_check", count=3, sources=("pollen16",),
                families=("cnn2d",), knob="epochs 30-60")
def air_bubble_check(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The first pass of a pollen-counting pipeline: is the object an air bubble in the
    mounting medium (a clear disc with a dark ring) or a pollen grain of any taxon? Both
    splits re-drawn, a third bubbles; a plain task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        bub = rng.random(n) < 1 / 3
        taxa = rng.choice(5, n)
        x = np.stack([pollen(int(taxa[i]), rng, bubble=bool(bub[i])) for i in range(n)])
        setattr(case, f"x_{part}", x.astype("float32")[..., None])
        setattr(case, f"y_{part}", bub.astype("int64"))
    _target(case, ["grain", "bubble"], epochs)
    case.description = f"air bubble or grain, {epochs} epochs"


@implementation("metric_saturation/deep_eclipse_flag", count=3, sources=("lightcurve",),
                families=("cnn1d",), knob="epochs 30-60")
def deep_eclipse_flag(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A survey's first triage: does the light curve show deep eclipses (20-50 % of the
    light; a detached eclipsing binary) or not (any other star)? Both splits re-drawn, a
    third deep binaries; a plain task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        deep = rng.random(n) < 1 / 3
        other = rng.choice([0, 1, 3, 4], n)
        x = np.stack([light_curve(2 if deep[i] else int(other[i]), rng, deep=bool(deep[i]))
                      for i in range(n)])
        setattr(case, f"x_{part}", x.astype("float32")[..., None])
        setattr(case, f"y_{part}", deep.astype("int64"))
    _target(case, ["other", "deep_eclipses"], epochs)
    case.description = f"deep eclipses or not, {epochs} epochs"


# == healthy ===================================================================================

ACTIVATED = ("mlp", "cnn2d", "cnn1d")   # fresh2's custom body (hidden activation) covers these


@implementation("healthy/softsign_halving", count=3, full_train=True, exclude=WEAK,
                families=ACTIVATED, knob="Adam lr 1e-3 - 3e-3")
def softsign_halving(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Softsign hidden activations, Adam with the rate halved every 4 epochs (a staircase),
    16 epochs."""
    sized(case)
    lr = lerp(severity, 1e-3, 3e-3)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", lr, "constant", 16, False
    extra(case)["optimizer"] = ("adam", {})
    extra(case)["activation"] = "softsign"
    extra(case)["lr_schedule"] = ("halving", lr, 4 * steps_per_epoch(case))
    case.description = f"softsign, Adam {lr:.1e} halved every 4 epochs, 16 epochs"


@implementation("healthy/squareplus_sgd_momentum", count=3, full_train=True, exclude=WEAK,
                families=ACTIVATED, knob="SGD lr 0.01-0.03")
def squareplus_sgd_momentum(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Squareplus hidden activations (a smooth ReLU), SGD with momentum 0.9, constant,
    20 epochs."""
    sized(case)
    lr = lerp(severity, 0.01, 0.03)
    s = case.spec
    s.optimizer, s.lr, s.momentum, s.schedule, s.epochs = "sgd", lr, 0.9, "constant", 20
    s.early_stopping, s.clipnorm = False, 0.0
    extra(case)["activation"] = "squareplus"
    case.description = f"squareplus, SGD lr {lr:.3f} momentum 0.9, 20 epochs"


@implementation("healthy/global_clipnorm_adam", count=2, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="Adam lr 1e-3 - 3e-3")
def global_clipnorm_adam(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam with the whole gradient's norm clipped at 1 (``global_clipnorm``), batch 40,
    constant rate, 15 epochs."""
    sized(case)
    lr = lerp(severity, 1e-3, 3e-3)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", lr, "constant", 15, False
    s.batch_size = 40
    extra(case)["optimizer"] = ("adam", {"global_clipnorm": 1.0})
    case.description = f"Adam {lr:.1e}, global_clipnorm 1, batch 40, 15 epochs"
