"""The sixteenth fresh test set's plan and case builder: fresh16's own fault implementations
(``faults.py`` + ``faults2.py`` + ``faults3.py``, a fourteenth independent implementation of
every cause) on fresh16's sources (``sources.py``), with the corpus's machinery.

The plan is drawn by fresh2's ``draw_plan`` (every implementation's cases go, one by one, to
the compatible source used least so far, ties broken at random; families drawn with the
corpus's weights; severities stratified over an implementation's cases), with a new seed
(case seeds ``163010 + 37 k + i``). ``build_case`` is the corpus's builder (its split
``_split``, recipe ``_base_spec`` and ``Case``) with fresh16's registry; ``run_case`` is the
corpus's with fresh16's models (``models.py``), so records and manifest rows have the
corpus's format. Listing the plan needs no TensorFlow.
"""

from __future__ import annotations

from typing import Any

from benchmarks.corpus.cases import Plan
from benchmarks.fresh2.case_set import CaseSet
from benchmarks.fresh16 import faults2, faults3  # noqa: F401 - register parts 2 and 3
from benchmarks.fresh16.faults import IMPLEMENTATIONS
from benchmarks.fresh16.sources import FRESH16_SOURCES, NOT_LINEAR, NOT_MLP

REGISTRY = IMPLEMENTATIONS
SEED = 16301
MAX_PER_IMPLEMENTATION = 3   # counts are set per implementation in the registry (<= 3)

# Round 2 (fresh2's precedent): a cause left with fewer than 4 kept cases by check.py's one
# pass over round 1 may get more cases of its own implementations, drawn the same way and
# checked by the same rule; decided from check.py's output only. Appended, so round 1 does
# not move.
ROUND2: dict[str, int] = {}

SET = CaseSet(REGISTRY, FRESH16_SOURCES, SEED, ROUND2, NOT_LINEAR, NOT_MLP,
              models="benchmarks.fresh16.models")
design, build_case, train_case, run_case = SET.design, SET.build_case, SET.train_case, SET.run_case


def task(args: tuple[Plan, str]) -> dict[str, Any]:
    """A worker's job (this module's import registers the fresh16 sources in the worker)."""
    return run_case(*args)
