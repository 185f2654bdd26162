"""Fault implementations of the fifteenth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh15.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh7.faults2 import steps_per_epoch  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh15.faults import NO_GRU, implementation
from benchmarks.fresh15.sources import WEAK, birdcall, gamma_log

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, epochs: int) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, epochs)


@implementation("subgroup_underfitting/fledgling_begging", count=3, sources=("birdcall16",),
                families=("cnn2d",), knob="share of the whistler clips 30 %-15 %; epochs 12-6")
def fledgling_begging(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Summer recordings: a share of the whistler clips (both splits alike) are fledglings
    begging: short repeated notes at one pitch, like a triller's pulses, told apart only by
    a slightly slower repetition and the whistler's faint second harmonic. A plain model trained briefly
    fits the adults' long tones and under-fits the fledglings."""
    share = lerp(severity, 0.30, 0.15)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero((y == 0) & (rng.random(len(y)) < share))
        for i in rows:
            x[i, :, :, 0] = birdcall(0, rng, juvenile=True)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of whistler clips are begging fledglings in both splits; brief training"


@implementation("subgroup_underfitting/thin_bedded_levees", count=3, sources=("gamma_log",),
                families=("mlp", "cnn1d"), knob="share of the channel logs 55 %-35 %; epochs 12-6")
def thin_bedded_levees(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the fluvial-channel logs (both splits alike) cross the channel's levee
    instead of its axis: thin sand beds in shale, serrated like turbidites, with only a
    faint fining-upward trend left. A plain model trained briefly fits the bell-shaped
    channel axes and under-fits the levees."""
    share = lerp(severity, 0.55, 0.35)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero((y == 0) & (rng.random(len(y)) < share))
        for i in rows:
            x[i, :, 0] = gamma_log(0, rng, levee=True)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of channel logs cross a levee in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    case.spec.from_logits = False
    bare(case, epochs=epochs)


@implementation("metric_saturation/woodpecker_drumming", count=3, sources=("birdcall16",),
                families=("cnn2d",), knob="epochs 30-60")
def woodpecker_drumming(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The first sorting of a woodland archive: a woodpecker drumming (broadband pulses
    repeated at a steady rate) or a vocal call of any species? Both splits re-drawn, a third
    drumming; a plain task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        drum = rng.random(n) < 1 / 3
        sp = rng.choice(5, n)
        x = np.stack([birdcall(int(sp[i]), rng, drum=bool(drum[i])) for i in range(n)])
        setattr(case, f"x_{part}", x.astype("float32")[..., None])
        setattr(case, f"y_{part}", drum.astype("int64"))
    _target(case, ["vocal", "drumming"], epochs)
    case.description = f"drumming or vocal, {epochs} epochs"


@implementation("metric_saturation/salt_section", count=3, sources=("gamma_log",),
                families=("cnn1d",), knob="epochs 30-60")
def salt_section(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Does the logged interval cross a salt (halite) section? Halite reads 5-15 API, far
    below any sand or carbonate, over tens of metres. Both splits re-drawn, a third with
    salt; a plain task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        salt = rng.random(n) < 1 / 3
        env = rng.choice(5, n)
        x = np.stack([gamma_log(int(env[i]), rng, salt=bool(salt[i])) for i in range(n)])
        setattr(case, f"x_{part}", x.astype("float32")[..., None])
        setattr(case, f"y_{part}", salt.astype("int64"))
    _target(case, ["no_salt", "salt"], epochs)
    case.description = f"salt section or not, {epochs} epochs"


# == healthy ===================================================================================

@implementation("healthy/adadelta_lr1", count=3, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="Adadelta lr 0.5-1.0")
def adadelta_lr1(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adadelta at the paper's setting (learning rate about 1, rho 0.95), constant, 15
    epochs."""
    sized(case)
    lr = lerp(severity, 0.5, 1.0)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", lr, "constant", 15, False
    extra(case)["optimizer"] = ("adadelta", {"rho": 0.95})
    case.description = f"Adadelta lr {lr:.2f}, rho 0.95, 15 epochs"


@implementation("healthy/relu6_linear_decay", count=3, full_train=True, exclude=WEAK,
                sources=("birdcall16", "gamma_log"), families=("mlp", "cnn2d", "cnn1d"), knob="epochs 2-10")
def relu6_linear_decay(case: Case, severity: float, rng: np.random.Generator) -> None:
    """ReLU6 hidden activations, Adam 2e-3 decayed linearly to 1e-4 over a short run of
    2-10 epochs."""
    sized(case)
    epochs = int(round(lerp(severity, 2, 10)))
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", 2e-3, "constant", epochs, False
    extra(case)["optimizer"] = ("adam", {})
    extra(case)["activation"] = "relu6"
    extra(case)["lr_schedule"] = ("linear", 2e-3, 1e-4, epochs * steps_per_epoch(case))
    case.description = f"ReLU6, Adam 2e-3 -> 1e-4 linearly, {epochs} epochs"


@implementation("healthy/celu_early_stopping", count=2, full_train=True, exclude=WEAK,
                sources=("birdcall16", "gamma_log"), families=("mlp", "cnn2d", "cnn1d"), knob="Adam lr 5e-4 - 2e-3")
def celu_early_stopping(case: Case, severity: float, rng: np.random.Generator) -> None:
    """CELU hidden activations, Adam, constant, up to 40 epochs with early stopping on the
    validation loss (patience 3)."""
    sized(case)
    lr = lerp(severity, 5e-4, 2e-3)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs = "adam", lr, "constant", 40
    s.early_stopping, s.patience = True, 3
    extra(case)["optimizer"] = ("adam", {})
    extra(case)["activation"] = "celu"
    case.description = f"CELU, Adam {lr:.1e}, early stopping (patience 3) within 40 epochs"
