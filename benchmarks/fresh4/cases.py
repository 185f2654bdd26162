"""The fourth fresh test set's plan and case builder: fresh2's fault implementations
(``benchmarks/fresh2/faults.py``, unchanged) on fresh4's own sources (``sources.py``), with
the corpus's machinery.

The plan is drawn exactly as ``benchmarks/fresh2/cases.py`` draws it (every
implementation's cases go, one by one, to the compatible source used least so far, ties
broken at random; families drawn with the corpus's weights ``PREFERRED``; severities
stratified over an implementation's cases), with a new seed and a smaller registry
(``REGISTRY``): every implementation keeps its fresh2 count capped at 2 (66 -> 60 cases;
every implementation and every healthy case kept, every cause >= 4 cases), and
``healthy/brief``'s fresh2 source list (fresh2's larger sources) becomes "any fresh4
source" (they all have 2,000+ rows). ``build_case``/``run_case`` mirror fresh2's. Listing
the plan needs no TensorFlow.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import Plan, compatible
from benchmarks.corpus.cases import build_case as corpus_build_case
from benchmarks.fresh2.cases import draw_plan
from benchmarks.fresh2.faults import IMPLEMENTATIONS as FRESH2_IMPLEMENTATIONS
from benchmarks.fresh2.faults import Impl
from benchmarks.fresh4.sources import FRESH4_SOURCES, NOT_LINEAR

SEED = 5051
MAX_PER_IMPLEMENTATION = 2

# fresh2's implementations, same order and ids; counts capped, no fresh2 source names
REGISTRY: dict[str, Impl] = {
    impl_id: dataclasses.replace(impl, count=min(impl.count, MAX_PER_IMPLEMENTATION),
                                 sources=None)
    for impl_id, impl in FRESH2_IMPLEMENTATIONS.items()}

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


def build_case(plan: Plan) -> Case:
    """Data (preprocessed, fault injected) and recipe of ``plan``: the corpus's builder with
    fresh4's registry (fresh2's implementations)."""
    return corpus_build_case(plan, REGISTRY)


def train_case(plan: Plan, out: str, **doctor_kwargs: Any) -> tuple[Any, Any, Any, float]:
    """The corpus's ``train_case`` with fresh4's case builder and fresh2's models."""
    from benchmarks.corpus.run import train_case as corpus_train_case
    from benchmarks.fresh2.models import build_model

    return corpus_train_case(plan, out, build=build_case, model_fn=build_model, **doctor_kwargs)


def run_case(plan: Plan, out: str) -> dict[str, Any]:
    """The corpus's ``run_case`` row, field for field, trained by :func:`train_case`."""
    from benchmarks.corpus.run import run_case as corpus_run_case

    return corpus_run_case(plan, out, train=train_case)


def task(args: tuple[Plan, str]) -> dict[str, Any]:
    """A worker's job (this module's import registers the fresh4 sources in the worker)."""
    return run_case(*args)
