"""The second fresh test set's plan and case builder: fresh2's own fault implementations
(``faults.py``) on fresh2's own sources (``sources.py``), with the corpus's machinery.

The plan is drawn the way ``benchmarks/fresh/cases.py`` draws it: every implementation's
cases go, one by one, to the compatible source used least so far (ties broken at random),
families drawn with the corpus's weights ``PREFERRED``, severities stratified over an
implementation's cases. ``build_case`` mirrors ``benchmarks.corpus.cases.build_case`` (the
corpus's split ``_split`` and recipe ``_base_spec``, its ``Case``) with fresh2's registry;
``run_case`` mirrors ``benchmarks.corpus.run.run_case`` with fresh2's models, so records and
manifest rows have the corpus's format. Listing the plan needs no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import PREFERRED, Plan, compatible
from benchmarks.corpus.cases import build_case as corpus_build_case
from benchmarks.fresh2.faults import IMPLEMENTATIONS, Impl
from benchmarks.fresh2.sources import FRESH2_SOURCES, NOT_LINEAR

SEED = 3031


def _compatible(impl: Impl) -> list[tuple[str, tuple[str, ...]]]:
    names = list(impl.sources or [s for s in FRESH2_SOURCES if s not in impl.exclude])
    return compatible(impl, names, NOT_LINEAR)


# Round 2, added after check.py's one pass over round 1 (no diagnosis seen, implementations
# and bite rule unchanged): a cause left with fewer than 4 kept cases gets more cases of its
# own implementations, drawn the same way and checked by the same rule (benchmarks/fresh's
# precedent). Round 1 kept 1 of 6 metric_saturation and 2 of 6 metric_mismatch cases.
# Appended, so round 1 does not move.
ROUND2 = {"metric_saturation": 5, "metric_mismatch": 4}


def design() -> list[Plan]:
    """Every fresh2 case, in a fixed order (round 1 in the registry's order, then round 2)."""
    return draw_plan(IMPLEMENTATIONS, FRESH2_SOURCES, SEED, ROUND2, _compatible)


def draw_plan(registry: dict[str, Impl], sources: Any, seed: int, round2: dict[str, int],
              pairs_of: Callable[[Impl], list[tuple[str, tuple[str, ...]]]]) -> list[Plan]:
    """A fresh set's plan (this module's drawing; ``benchmarks/fresh3`` draws with it too):
    round 1 in ``registry``'s order, then ``round2``'s extra cases per cause."""
    plans: list[Plan] = []
    used = dict.fromkeys(sources, 0)
    keys = list(registry)
    for k, (impl_id, impl) in enumerate(registry.items()):
        _draw(registry, seed, pairs_of, impl_id, impl.count, k, 0, plans, used)
    for cause, count in round2.items():
        impls = [i for i in keys if i.split("/")[0] == cause]
        for j, impl_id in enumerate(impls):
            n = count // len(impls) + (j < count % len(impls))
            _draw(registry, seed, pairs_of, impl_id, n, keys.index(impl_id), 2, plans, used)
    return plans


def _draw(registry: dict[str, Impl], seed: int,
          pairs_of: Callable[[Impl], list[tuple[str, tuple[str, ...]]]], impl_id: str,
          count: int, k: int, round_: int, plans: list[Plan], used: dict[str, int]) -> None:
    impl = registry[impl_id]
    rng = np.random.default_rng([seed, k] if not round_ else [seed, k, round_])
    first = sum(p.implementation == impl_id for p in plans)   # case index offset
    pairs = pairs_of(impl)
    strata = rng.permutation(count) if count else []
    for i in range(count):
        least = min(used[s] for s, _ in pairs)
        tied = [pair for pair in pairs if used[pair[0]] == least]
        source, families = tied[int(rng.integers(len(tied)))]
        used[source] += 1
        weights = np.array([PREFERRED[f] for f in families], float)
        family = str(rng.choice(families, p=weights / weights.sum()))
        severity = float((strata[i] + rng.random()) / count)
        case_id = f"{impl_id.replace('/', '.')}-{source}-{family}-{first + i:02d}"
        plans.append(Plan(case_id, impl_id, source, family, round(severity, 3),
                          seed * 10 + k * 37 + first + i + (1000 if round_ else 0)))


def build_case(plan: Plan) -> Case:
    """Data (preprocessed, fault injected) and recipe of ``plan``: the corpus's builder with
    fresh2's implementations."""
    return corpus_build_case(plan, IMPLEMENTATIONS)


def train_case(plan: Plan, out: str, **doctor_kwargs: Any) -> tuple[Any, Any, Any, float]:
    """The corpus's ``train_case`` with fresh2's case builder and models."""
    from benchmarks.corpus.run import train_case as corpus_train_case
    from benchmarks.fresh2.models import build_model

    return corpus_train_case(plan, out, build=build_case, model_fn=build_model, **doctor_kwargs)


def run_case(plan: Plan, out: str) -> dict[str, Any]:
    """The corpus's ``run_case`` row, field for field, trained by :func:`train_case`."""
    from benchmarks.corpus.run import run_case as corpus_run_case

    return corpus_run_case(plan, out, train=train_case)


def task(args: tuple[Plan, str]) -> dict[str, Any]:
    """A worker's job (this module's import registers the fresh2 sources in the worker)."""
    return run_case(*args)
