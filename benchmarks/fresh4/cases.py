"""The fourth fresh test set's plan: fresh3's registry (fresh2's fault implementations,
``benchmarks/fresh2/faults.py``, unchanged, each capped at 2 cases) and case builder, on
fresh4's own sources (``sources.py``), with a new seed.

The plan is drawn exactly as ``benchmarks/fresh2/cases.py`` draws it (every
implementation's cases go, one by one, to the compatible source used least so far, ties
broken at random; families drawn with the corpus's weights; severities stratified over an
implementation's cases). ``build_case``/``train_case``/``run_case`` are fresh3's: they take
the source from the plan, and this module's import registers fresh4's sources. Listing the
plan needs no TensorFlow.
"""

from __future__ import annotations

from typing import Any

from benchmarks.corpus.cases import Plan, compatible
from benchmarks.fresh2.cases import draw_plan
from benchmarks.fresh2.faults import Impl
from benchmarks.fresh3.cases import REGISTRY, build_case, run_case, train_case
from benchmarks.fresh4.sources import FRESH4_SOURCES, NOT_LINEAR

__all__ = ["REGISTRY", "ROUND2", "SEED", "build_case", "design", "run_case", "task", "train_case"]

SEED = 5051

# Round 2 (fresh2's precedent): a cause left with fewer than 4 kept cases by check.py's one
# pass over round 1 may get more cases of its own implementations, drawn the same way and
# checked by the same rule; decided from check.py's output only. Appended, so round 1 does
# not move. Round 1 (60 cases) kept 2 of 4 metric_saturation cases (every other cause >= 4),
# so metric_saturation gets 5 more (as many as fresh2's and fresh3's round 2 gave it).
ROUND2: dict[str, int] = {"metric_saturation": 5}


def _compatible(impl: Impl) -> list[tuple[str, tuple[str, ...]]]:
    names = [s for s in FRESH4_SOURCES if s not in impl.exclude]
    return compatible(impl, names, NOT_LINEAR)


def design() -> list[Plan]:
    """Every fresh4 case, in a fixed order (round 1 in the registry's order, then round 2)."""
    return draw_plan(REGISTRY, FRESH4_SOURCES, SEED, ROUND2, _compatible)


def task(args: tuple[Plan, str]) -> dict[str, Any]:
    """A worker's job (this module's import registers the fresh4 sources in the worker)."""
    return run_case(*args)
