"""Sums of squares and dead-unit fractions in ``keras.ops``: traced by ``jax.jit``, run
eagerly by torch (the TensorFlow module keeps its own graph-friendly version); a model run on
given weights (:func:`with_weights`); and the one background thread on which the JAX and
TensorFlow modules prepare their functions."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import keras
from keras import ops


def is_generator_state(variable: Any) -> bool:
    """Whether ``variable`` is a random generator's state (``keras.random.SeedGenerator``)."""
    return str(getattr(variable, "name", "")).endswith("seed_generator_state")


@contextmanager
def with_weights(pairs: list[tuple[Any, Any]]) -> Iterator[None]:
    """The model's variables read as the given values inside (``(variable, value)`` pairs;
    a ``keras.StatelessScope``). Random generators' states are left out of the mapping and
    advanced afterwards: a scope keeps assignments to itself, and a layer random at inference
    (Monte-Carlo dropout) must draw anew on every call, as in ``predict``."""
    generators = [v for v, _ in pairs if is_generator_state(v)]
    mapping = [(v, value) for v, value in pairs if not is_generator_state(v)]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        yield
    for v in generators:
        drawn = scope.get_current_value(v)
        if drawn is not None:
            v.assign(drawn)


def flat(tensors: list[Any]) -> Any:
    """Every tensor flattened to float32 and concatenated."""
    return ops.concatenate([ops.reshape(ops.cast(t, "float32"), (-1,)) for t in tensors], axis=0)


def dead_fraction(activation: Any) -> Any:
    """Share of units (last axis) that are <= 0 for every sample and position of the batch."""
    units = ops.reshape(activation, (-1, ops.shape(activation)[-1]))
    return ops.mean(ops.cast(ops.all(units <= 0, axis=0), "float32"))


def summarize(weights: list[Any], prev: Any, grads: list[Any], acts: list[Any],
              segments: Any, n_vars: int) -> tuple[Any, Any, Any]:
    """(per-variable sums of w², (w - prev)², g²; dead fractions; the flat weights)."""
    w = flat(weights)
    squares = ops.stack([ops.square(w), ops.square(w - prev), ops.square(flat(grads))], axis=1)
    per_var = ops.segment_sum(squares, segments, num_segments=n_vars)
    dead = [dead_fraction(a) for a in acts]
    return per_var, (ops.stack(dead) if dead else ops.zeros((0,))), w


_EXECUTOR: list[ThreadPoolExecutor] = []


def background() -> ThreadPoolExecutor:
    """The process's single thread for preparing compiled functions while training goes on
    (not a daemon: a preparation still running at exit is waited for, not killed mid-call)."""
    if not _EXECUTOR:
        _EXECUTOR.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="gapdoctor-warm"))
    return _EXECUTOR[0]
