"""Fault implementations of the fourteenth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh14.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh7.faults2 import steps_per_epoch  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh14.faults import NO_GRU, implementation
from benchmarks.fresh14.sources import (
    WEAK,
    api_trace,
    cgm_trace,
    diffraction,
    diffractions,
    draw_a1c,
)

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, epochs: int) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, epochs)


THIN_FILM_MIX = [0.12, 0.12, 0.12, 0.34, 0.30]   # a thin-film lab's archive: films 64 %


@implementation("subgroup_underfitting/nanocrystalline_films", count=3, sources=("lattice16",),
                families=("mlp", "cnn2d"), knob="share of nanocrystalline films 45 %-25 %; epochs 12-6")
def nanocrystalline_films(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A thin-film lab's archive (both splits re-drawn: 34 % polycrystalline films, 30 %
    amorphous films, single crystals 12 % each). A share of the polycrystalline films (both
    splits alike) were deposited cold and are nanocrystalline: grains of a few nanometres
    broaden the rings into two diffuse bands as wide and faint as an amorphous film's
    halos. Still polycrystals (always two bands, at a radius ratio of sqrt 2, sqrt 3 or 2,
    where an amorphous film has one or two halos at random radii). A plain model trained briefly fits the
    coarser films (sharp rings) and under-fits the nanocrystalline ones."""
    share = lerp(severity, 0.45, 0.25)
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        y = rng.choice(5, n, p=THIN_FILM_MIX)
        nano = (y == 3) & (rng.random(n) < share)
        x = np.stack([diffraction(int(y[i]), rng, nano=bool(nano[i])) for i in range(n)])
        setattr(case, f"x_{part}", x.astype("float32")[..., None])
        setattr(case, f"y_{part}", y.astype("int64"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of polycrystalline films nanocrystalline in both splits; brief training"


@implementation("subgroup_underfitting/basal_insulin_users", count=3, sources=("cgm_glucose",),
                families=("mlp", "cnn1d"), knob="share of the diabetic participants 60 %-35 %; epochs 12-6")
def basal_insulin_users(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the participants with diabetes (both splits alike) take long-acting
    (basal) insulin titrated to a fasting target: their night sits at 85-100 mg/dL like a
    non-diabetic's, without a dawn rise, while their meal excursions stay as high as their
    HbA1c implies (higher: no mealtime insulin). Their category shows in the day, not in
    the night. A plain model trained briefly learns the overnight level that tells the
    other participants apart and under-fits the basal-insulin users."""
    share = lerp(severity, 0.60, 0.35)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero((y >= 2) & (rng.random(len(y)) < share))
        for i, a in zip(rows, draw_a1c(y[rows], rng), strict=True):
            x[i, :, 0] = cgm_trace(float(a), rng, basal=True)
        setattr(case, f"x_{part}", x.astype("float32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of the diabetic participants on basal insulin in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    case.spec.from_logits = False
    bare(case, epochs=epochs)


@implementation("metric_saturation/amorphous_film_check", count=3, sources=("lattice16",),
                families=("cnn2d",), knob="epochs 30-60")
def amorphous_film_check(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The first check of every selected area: is there a crystal in it (a net of sharp
    Bragg spots) or only the amorphous support film (diffuse halos, no spots)? Both splits
    re-drawn, a third amorphous; a plain task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        amorphous = rng.random(n) < 1 / 3
        kind = np.where(amorphous, 4, rng.choice(3, n))
        setattr(case, f"x_{part}", diffractions(kind, rng))
        setattr(case, f"y_{part}", amorphous.astype("int64"))
    _target(case, ["crystal", "amorphous"], epochs)
    case.description = f"crystal or amorphous film, {epochs} epochs"


@implementation("metric_saturation/script_host_runs", count=3, sources=("tokens_apicall",),
                families=("embed",), knob="epochs 30-60")
def script_host_runs(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The triage step before family classification: was the sample run by a script host
    (a COM-automation trace: CoCreateInstance, IDispatch invocations, AMSI scans) or is it
    a native program (any family)? Both splits re-drawn, a third script-host runs; a plain
    task trained far past its ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        host = rng.random(n) < 1 / 3
        fam = rng.choice(5, n)
        x = np.stack([api_trace(int(fam[i]), rng, host=bool(host[i])) for i in range(n)])
        setattr(case, f"x_{part}", x.astype("int32"))
        setattr(case, f"y_{part}", host.astype("int64"))
    _target(case, ["native", "script_host"], epochs)
    case.description = f"script host or native, {epochs} epochs"


# == healthy ===================================================================================

@implementation("healthy/group_norm", count=3, full_train=True, exclude=WEAK,
                sources=("lattice16", "cgm_glucose", "tokens_apicall"),
                families=("mlp", "cnn2d", "cnn1d", "embed"), knob="lr 5e-4 - 2e-3")
def group_norm(case: Case, severity: float, rng: np.random.Generator) -> None:
    """GroupNormalization (4 groups) after every hidden layer (where the recipe would put
    batch normalization), Adam, constant rate, 15 epochs."""
    sized(case)
    lr = lerp(severity, 5e-4, 2e-3)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", lr, "constant", 15, False
    s.batchnorm = True
    extra(case)["optimizer"] = ("adam", {})
    extra(case)["group_norm"] = True
    case.description = f"GroupNorm after hidden layers, Adam {lr:.1e}, 15 epochs"


@implementation("healthy/one_cycle_sgd", count=3, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="peak lr 0.02-0.08")
def one_cycle_sgd(case: Case, severity: float, rng: np.random.Generator) -> None:
    """SGD with Nesterov momentum 0.9 under a one-cycle schedule (a rise to the peak over
    30 % of the steps, then a cosine fall to almost zero), 16 epochs."""
    sized(case)
    peak = lerp(severity, 0.02, 0.08)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "sgd", peak, "constant", 16, False
    if s.family == "embed":
        peak *= 5     # plain SGD moves embeddings slowly
    extra(case)["optimizer"] = ("sgd", {"momentum": 0.9, "nesterov": True})
    extra(case)["lr_schedule"] = ("one_cycle", peak, 16 * steps_per_epoch(case))
    case.description = f"one-cycle SGD (Nesterov), peak {peak:.3f}, 16 epochs"


@implementation("healthy/hard_silu_batch48", count=2, full_train=True, exclude=WEAK,
                sources=("lattice16", "cgm_glucose"),
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 5e-4 - 1.5e-3")
def hard_silu_batch48(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Hard-swish (``hard_silu``, MobileNetV3's) hidden activations, Adam, batch 48,
    constant rate, 15 epochs."""
    sized(case)
    lr = lerp(severity, 5e-4, 1.5e-3)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = "adam", lr, "constant", 15, False
    s.batch_size = 48 if len(case.y_train) >= 480 else 16
    extra(case)["optimizer"] = ("adam", {})
    extra(case)["activation"] = "hard_silu"
    case.description = f"hard-swish, Adam {lr:.1e}, batch {s.batch_size}, 15 epochs"
