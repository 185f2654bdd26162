"""subgroup_underfitting: some classes or a slice are not learned while the rest are."""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults.registry import EASY, implementation, lerp, projection


def _group(case: Case, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(case.n_classes)[: max(2, case.n_classes // 3)]


@implementation("subgroup_underfitting/blurred_classes", count=10, classes="multi",
                knob="mixing toward other group members 0.65-1.0")
def blurred_classes(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A group of classes whose inputs are mixed with inputs of random members of the group
    (both splits): their class signal is (nearly) gone, the other classes are intact."""
    group = _group(case, rng)
    mix = lerp(severity, 0.65, 1.0)
    for part in ("train", "val"):
        x, y = getattr(case, f"x_{part}").copy(), getattr(case, f"y_{part}")
        rows = np.flatnonzero(np.isin(y, group))
        donors = rng.choice(rows, len(rows))
        if case.layout == "tokens":
            take = rng.random(x[rows].shape) < mix
            x[rows] = np.where(take, x[donors], x[rows])
        else:
            x[rows] = (1 - mix) * x[rows] + mix * x[donors]
        setattr(case, f"x_{part}", x)
    case.spec.width = max(case.spec.width, 2)
    case.spec.epochs = max(case.spec.epochs, 25)
    case.description = (f"classes {sorted(group.tolist())} lose {mix:.0%} of their signal "
                        "(mixed with each other) in both splits")


@implementation("subgroup_underfitting/minority", count=10, classes="multi",
                exclude=EASY + ("tokens_pool",),
                knob="training samples per minority class 24-3")
def minority(case: Case, severity: float, rng: np.random.Generator) -> None:
    """One to three classes have only a handful of training samples (validation keeps its
    usual share of them)."""
    n_keep = int(round(lerp(severity, 24, 3)))
    group = rng.permutation(case.n_classes)[: int(rng.integers(1, min(3, case.n_classes - 1) + 1))]
    drop = []
    for c in group:
        members = np.flatnonzero(case.y_train == c)
        drop += list(rng.permutation(members)[n_keep:])
    case.keep("train", np.setdiff1d(np.arange(len(case.y_train)), drop))
    case.spec.class_weight = False
    case.spec.epochs = max(case.spec.epochs, 25)
    case.description = f"classes {sorted(group.tolist())} have {n_keep} training samples each"


@implementation("subgroup_underfitting/slice_rule", count=9, exclude=EASY,
                knob="slice share 0.15-0.35")
def slice_rule(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A slice of the input space (one end of a direction) whose labels follow another rule
    (class c reads as c+1), in both splits alike."""
    share = lerp(severity, 0.15, 0.35)
    pt, pv = projection(case, rng)
    cut = np.quantile(pt, 1 - share)
    for part, p in (("train", pt), ("val", pv)):
        y = getattr(case, f"y_{part}").copy()
        inside = p > cut
        y[inside] = (y[inside] + 1) % case.n_classes
        setattr(case, f"y_{part}", y)
    case.spec.epochs = max(case.spec.epochs, 20)
    case.description = f"a {share:.0%} slice of the input space follows a shifted label rule"
