"""Fault implementations of the corpus, registered by id ("cause/variant").

Each implementation is a function ``inject(case, severity, rng)`` that changes a case's raw
data and recipe in place; ``severity`` in [0, 1] is mapped to the implementation's own knob.
The modules are split by cause and import ``implementation`` from ``registry``.

The import order is the registration order, and a case's seed depends on its
implementation's position: modules added later are imported after the rest, not sorted in.
"""
# ruff: noqa: I001

from benchmarks.corpus.faults import (  # noqa: F401 - importing registers the implementations
    healthy,
    label_noise,
    metric_faults,
    optimisation,
    pipeline,
    setup_faults,
    shift,
    subgroup,
)
from benchmarks.corpus.faults import healthy_recipes  # noqa: F401 - registered last

from benchmarks.corpus.faults.registry import IMPLEMENTATIONS, Impl

__all__ = ["IMPLEMENTATIONS", "Impl"]
