"""Sums of squares and dead-unit fractions in ``keras.ops``: traced by ``jax.jit``, run
eagerly by torch (the TensorFlow module keeps its own graph-friendly version); and the one
background thread on which the JAX and TensorFlow modules prepare their functions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from keras import ops


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
