"""The eighth fresh test set's plan and case builder: fresh8's own fault implementations
(``faults.py`` + ``faults2.py``, a sixth independent implementation of every cause) on
fresh8's sources (``sources.py``), with the corpus's machinery.

The plan is drawn by fresh2's ``draw_plan`` (every implementation's cases go, one by one, to
the compatible source used least so far, ties broken at random; families drawn with the
corpus's weights; severities stratified over an implementation's cases), with a new seed.
``build_case`` is the corpus's builder (its split ``_split``, recipe ``_base_spec`` and
``Case``) with fresh8's registry; ``run_case`` is the corpus's with fresh8's models
(``models.py``), so records and manifest rows have the corpus's format. Listing the plan
needs no TensorFlow.
"""

from __future__ import annotations

from typing import Any

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import Plan, compatible
from benchmarks.corpus.cases import build_case as corpus_build_case
from benchmarks.fresh2.cases import draw_plan
from benchmarks.fresh8 import faults2  # noqa: F401 - registers part 2 of the implementations
from benchmarks.fresh8.faults import IMPLEMENTATIONS, Impl
from benchmarks.fresh8.sources import FRESH8_SOURCES, NOT_LINEAR, NOT_MLP

REGISTRY = IMPLEMENTATIONS
SEED = 9097
MAX_PER_IMPLEMENTATION = 3   # counts are set per implementation in the registry (<= 3)

# Round 2 (fresh2's precedent): a cause left with fewer than 4 kept cases by check.py's one
# pass over round 1 may get more cases of its own implementations, drawn the same way and
# checked by the same rule; decided from check.py's output only. Appended, so round 1 does
# not move.
ROUND2: dict[str, int] = {}


def _compatible(impl: Impl) -> list[tuple[str, tuple[str, ...]]]:
    names = list(impl.sources or [s for s in FRESH8_SOURCES if s not in impl.exclude])
    pairs = compatible(impl, names, NOT_LINEAR)
    pairs = [(s, tuple(f for f in fams if not (f == "mlp" and s in NOT_MLP))) for s, fams in pairs]
    return [(s, fams) for s, fams in pairs if fams]


def design() -> list[Plan]:
    """Every fresh8 case, in a fixed order (round 1 in the registry's order, then round 2)."""
    return draw_plan(REGISTRY, FRESH8_SOURCES, SEED, ROUND2, _compatible)


def build_case(plan: Plan) -> Case:
    """Data (preprocessed, fault injected) and recipe of ``plan``: the corpus's builder with
    fresh8's implementations."""
    return corpus_build_case(plan, REGISTRY)


def train_case(plan: Plan, out: str, **doctor_kwargs: Any) -> tuple[Any, Any, Any, float]:
    """The corpus's ``train_case`` with fresh8's case builder and models."""
    from benchmarks.corpus.run import train_case as corpus_train_case
    from benchmarks.fresh8.models import build_model

    return corpus_train_case(plan, out, build=build_case, model_fn=build_model, **doctor_kwargs)


def run_case(plan: Plan, out: str) -> dict[str, Any]:
    """The corpus's ``run_case`` row, field for field, trained by :func:`train_case`."""
    from benchmarks.corpus.run import run_case as corpus_run_case

    return corpus_run_case(plan, out, train=train_case)


def task(args: tuple[Plan, str]) -> dict[str, Any]:
    """A worker's job (this module's import registers the fresh8 sources in the worker)."""
    return run_case(*args)
