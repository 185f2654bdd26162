"""One fresh set's plan and case builder, from its registry, sources and seed: what fresh6,
fresh7 and fresh8 share (fresh2's ``draw_plan``, the corpus's builder, trainer and runner).

A set's ``cases.py`` declares its parts and exposes the set's functions under the names the
runner, ``check.py`` and the confirmation benchmark import::

    SET = CaseSet(IMPLEMENTATIONS, FRESH8_SOURCES, 9097, {}, NOT_LINEAR, NOT_MLP,
                  models="benchmarks.fresh8.models")
    design, build_case, train_case, run_case = (SET.design, SET.build_case,
                                                 SET.train_case, SET.run_case)

Listing a plan needs no TensorFlow (the models module is imported only to train).
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import Plan, compatible
from benchmarks.corpus.cases import build_case as corpus_build_case
from benchmarks.fresh2.cases import draw_plan


@dataclass(frozen=True)
class CaseSet:
    """A fresh set's implementations (``registry``), ``sources``, plan ``seed`` and round-2
    counts, with the sources where no linear model (``not_linear``) or MLP (``not_mlp``)
    learns the data; ``models`` names the module whose ``build_model`` builds its models."""

    registry: Mapping[str, Any]
    sources: Mapping[str, Any]
    seed: int
    round2: Mapping[str, int]
    not_linear: Collection[str]
    not_mlp: Collection[str] = field(default_factory=frozenset)
    models: str = ""

    def compatible(self, impl: Any) -> list[tuple[str, tuple[str, ...]]]:
        """(source, model families) an implementation may be drawn on."""
        names = list(impl.sources or [s for s in self.sources if s not in impl.exclude])
        pairs = compatible(impl, names, self.not_linear)
        pairs = [(s, tuple(f for f in fams if not (f == "mlp" and s in self.not_mlp)))
                 for s, fams in pairs]
        return [(s, fams) for s, fams in pairs if fams]

    def design(self) -> list[Plan]:
        """Every case, in a fixed order (round 1 in the registry's order, then round 2)."""
        return draw_plan(self.registry, self.sources, self.seed, self.round2, self.compatible)

    def build_case(self, plan: Plan) -> Case:
        """Data (preprocessed, fault injected) and recipe of ``plan``: the corpus's builder
        with this set's implementations."""
        return corpus_build_case(plan, self.registry)

    def train_case(self, plan: Plan, out: str, **doctor_kwargs: Any) -> tuple[Any, Any, Any, float]:
        """The corpus's ``train_case`` with this set's case builder and models."""
        from benchmarks.corpus.run import train_case as corpus_train_case

        build_model = importlib.import_module(self.models).build_model
        return corpus_train_case(plan, out, build=self.build_case, model_fn=build_model,
                                 **doctor_kwargs)

    def run_case(self, plan: Plan, out: str) -> dict[str, Any]:
        """The corpus's ``run_case`` row, field for field, trained by :meth:`train_case`."""
        from benchmarks.corpus.run import run_case as corpus_run_case

        return corpus_run_case(plan, out, train=self.train_case)
