"""Fault implementations of the twelfth fresh test set, part 3: subgroup_underfitting,
metric_saturation and healthy runs. They register into
``benchmarks.fresh12.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized  # the same recipe helper
from benchmarks.fresh9.faults2 import brief  # the same recipe helper
from benchmarks.fresh12.faults import NO_GRU, implementation
from benchmarks.fresh12.sources import EV, WEAK, raman_spectra, session, sessions, wafer_maps

# == subgroup_underfitting: a sub-group in both splits that a plain model under-fits =========

def _subgroup_recipe(case: Case, epochs: int) -> None:
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    brief(case, epochs)


@implementation("subgroup_underfitting/copolymer_blends", count=3, sources=("raman_polymer",),
                families=("mlp", "cnn1d"), knob="share 30 %-15 %; epochs 12-6")
def copolymer_blends(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the flakes (both splits alike) are multilayer or blended packaging: a
    second polymer makes up 30-45 % of the flake, so its bands lie on top of the main
    polymer's (the label is the main polymer, whose bands are still the stronger). A
    plain model trained briefly fits the pure flakes and under-fits the blends."""
    share = lerp(severity, 0.30, 0.15)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        for i in rows:
            other = int(rng.choice([c for c in range(case.n_classes) if c != y[i]]))
            x[i] = raman_spectra(y[i:i + 1], rng, blend=other,
                                 blend_share=float(rng.uniform(0.30, 0.45)))[0]
        setattr(case, f"x_{part}", x)
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} blended flakes in both splits; brief training"


@implementation("subgroup_underfitting/single_page_app_sessions", count=3,
                sources=("tokens_click",), families=("embed",),
                knob="share 30 %-15 %; epochs 12-6")
def single_page_app_sessions(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the sessions (both splits alike) come from the new single-page front-end,
    whose tracker logs most navigation as a generic ``route_change`` event: only a quarter
    of their events keep their specific id, so the intent is in fewer tokens. A plain model
    trained briefly fits the classic-site sessions and under-fits the single-page ones."""
    share = lerp(severity, 0.30, 0.15)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        y = getattr(case, f"y_{part}")
        rows = np.flatnonzero(rng.random(len(x)) < share)
        if len(rows):
            x[rows] = sessions(y[rows], rng, spa=0.75)
        setattr(case, f"x_{part}", x.astype("int32"))
    _subgroup_recipe(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} single-page-app sessions in both splits; brief training"


# == metric_saturation: genuinely easy targets, trained far past the ceiling ==================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = len(names), names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    case.spec.from_logits = False
    bare(case, epochs=epochs)


@implementation("metric_saturation/crawler_detection", count=3, sources=("tokens_click",),
                families=("embed",), knob="epochs 30-60")
def crawler_detection(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Bot filtering before the intent model: is the session a (well-behaved) crawler or a
    person? Well-behaved crawlers fetch robots.txt and the sitemap at the start of every
    session, which people never do; both splits re-drawn (a quarter crawlers), trained far
    past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        n = len(getattr(case, f"y_{part}"))
        bot = rng.random(n) < 0.25
        x = np.zeros((n, getattr(case, f"x_{part}").shape[1]), "int32")
        for i in range(n):
            if bot[i]:
                s = session(4, rng)
                body = s[s > 0][:-2]
                s[:] = 0
                s[:2] = (EV["robots_txt"], EV["sitemap"])
                s[2:2 + len(body)] = body
                x[i] = s
            else:
                x[i] = session(int(rng.choice(4, p=[0.4, 0.22, 0.22, 0.16])), rng)
        setattr(case, f"x_{part}", x)
        setattr(case, f"y_{part}", bot.astype("int64"))
    _target(case, ["person", "crawler"], epochs)
    case.description = f"crawler or person, {epochs} epochs"


@implementation("metric_saturation/map_flat_orientation", count=3, sources=("wafer16",),
                families=("cnn2d", "mlp"), knob="epochs 30-60")
def map_flat_orientation(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The orientation check in front of the pattern classifier: is the bin map stored
    flat-down (the standard) or flat-up (some tools export rotated maps)? The flat's
    missing row of dies is plain in every map (both splits re-drawn with a random
    orientation and their own patterns); trained far past the ceiling."""
    epochs = int(round(lerp(severity, 30, 60)))
    for part in ("train", "val"):
        y = getattr(case, f"y_{part}")
        up = rng.random(len(y)) < 0.5
        x = np.concatenate([wafer_maps(y[i:i + 1], rng, flat="top" if u else "bottom")
                            for i, u in enumerate(up)])
        setattr(case, f"x_{part}", x)
        setattr(case, f"y_{part}", up.astype("int64"))
    _target(case, ["flat_down", "flat_up"], epochs)
    case.description = f"map flat down or up, {epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/tanh_glorot_normal", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 5e-4 - 2e-3")
def tanh_glorot_normal(case: Case, severity: float, rng: np.random.Generator) -> None:
    """tanh hidden activations with Glorot-normal kernels (the classic recipe), Adam,
    constant rate, 25 epochs."""
    lr = lerp(severity, 5e-4, 2e-3)
    _healthy(case, "adam", lr, 25)
    extra(case).update(activation="tanh", reinit="glorot_normal")
    case.description = f"tanh + Glorot normal, Adam {lr:.1e}, 25 epochs"


@implementation("healthy/elu_rmsprop", count=3, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d"), knob="lr 3e-4 - 1e-3")
def elu_rmsprop(case: Case, severity: float, rng: np.random.Generator) -> None:
    """ELU hidden activations, RMSprop (rho 0.9, no momentum), constant rate, 20 epochs."""
    lr = lerp(severity, 3e-4, 1e-3)
    _healthy(case, "rmsprop", lr, 20)
    extra(case).update(activation="elu")
    case.description = f"ELU, RMSprop {lr:.1e}, 20 epochs"


@implementation("healthy/gaussian_dropout", count=2, full_train=True, exclude=WEAK,
                families=("mlp", "cnn2d", "cnn1d", "embed"), knob="rate 0.2-0.4")
def gaussian_dropout(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Multiplicative Gaussian noise (GaussianDropout) instead of dropout after the hidden
    layers, Adam 1e-3, constant, 25 epochs."""
    rate = lerp(severity, 0.2, 0.4)
    _healthy(case, "adam", 1e-3, 25)
    case.spec.dropout = rate
    extra(case)["gaussian_dropout"] = True
    case.description = f"GaussianDropout {rate:.2f}, Adam 1e-3, 25 epochs"


@implementation("healthy/kernel_l1_light", count=2, full_train=True, exclude=WEAK,
                families=NO_GRU, knob="L1 1e-5 - 1e-4")
def kernel_l1_light(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A light L1 penalty on every hidden kernel (sparse weights), Adam 1e-3, constant,
    20 epochs."""
    l1 = float(10 ** lerp(severity, -5, -4))
    _healthy(case, "adam", 1e-3, 20)
    extra(case)["l1"] = l1
    case.description = f"L1 {l1:.0e} on hidden kernels, Adam 1e-3, 20 epochs"
