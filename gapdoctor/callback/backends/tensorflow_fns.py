"""TensorFlow: the probes' functions as ``tf.function`` graphs.

- Predictions: one direct ``model(x, training=False)`` per chunk inside a ``tf.function``
  traced once for the fixed chunk shape the callers keep, several times cheaper than
  ``model.predict`` or eager calls.
- Layer statistics: ONE ``tf.function`` per epoch holds the forward pass, the loss via
  ``model.compute_loss``, the ``tf.GradientTape`` gradient, the norms and the flat weights
  kept for the next update ratio. The variables' values are passed in as tensors and mapped
  onto the model by a ``keras.StatelessScope``: under ``tf.distribute`` a fit inside
  ``strategy.scope()`` calls the callback in the cross-replica context, where a tape cannot
  watch a distributed variable; Keras's per-replica loss scaling is undone there, so the
  numbers are those of a single device. Per-variable sums are one reduction per variable;
  the previous weights are the values read at the previous call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gapdoctor.callback.backends.common import background


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


def to_tensor(array: np.ndarray) -> Any:
    return tf.constant(array)


def _warm(function: Any, *args: Any) -> None:
    """Trace ``function`` for ``args`` now, on this thread (tracing runs the Keras layers,
    under the caller's distribution strategy), and make its first call, which builds and
    optimises the graph (TensorFlow releases the GIL there), on the background thread while
    the first epoch trains. The result is dropped: the function reads or takes weights, it
    changes nothing."""
    concrete = function.get_concrete_function(*args)
    background().submit(concrete, *args)


def snapshot(model: Any) -> dict[int, Any] | None:
    """Every variable's current value, by ``id(variable)``. A value read is a snapshot: the
    optimizer's later in-place updates copy the buffer of a variable whose value is still
    held (copy-on-write), so these stay the values of this moment. None under a
    distribution strategy: its variables are read in the replica context of this call."""
    if getattr(model, "_distribute_strategy", None) is not None or \
            tf.distribute.has_strategy():
        return None
    return {id(v): value for v, value in zip(model.variables, _read(model.variables),
                                             strict=True)}


def eval_function(model: Any, fn: Any, any_rows: bool = False) -> Any:
    # the variables' values are arguments, mapped onto the model by a StatelessScope, so a
    # call can read a snapshot taken earlier (a deferred epoch) or the live values.
    # Traced per input shape, the callers keeping one chunk shape; with ``any_rows`` traced
    # once with the first axis unknown, which later calls of every length find (TF matches
    # a call to a traced function whose inputs are more general); per call no slower
    held: list[list[Any]] = []

    def variables() -> list[Any]:
        if not held:  # on first use: a model built by its first step has none before
            held.append(list(getattr(model, "variables", None) or []))
        return held[0]

    def traced(values: list[Any], x: Any) -> Any:
        with with_weights(list(zip(variables(), values, strict=True))):
            return fn(x)

    compiled = tf.function(traced, autograph=False)
    relaxed: list[bool] = []

    def relax(values: list[Any], x: Any) -> None:
        if any_rows and not relaxed:
            relaxed.append(True)
            try:
                compiled.get_concrete_function([tf.TensorSpec.from_tensor(v) for v in values],
                                               keras.tree.map_structure(_any_rows, x))
            except Exception:  # noqa: BLE001 - a model needing a known batch size: per shape
                pass

    def arguments(values: dict[int, Any] | None) -> list[Any]:
        return _read(variables()) if values is None else [values[id(v)] for v in variables()]

    def call(x: Any, values: dict[int, Any] | None = None) -> Any:
        args = arguments(values)
        relax(args, x)
        return keras.tree.map_structure(np.asarray, compiled(args, x))

    def warm(x: Any) -> None:
        args = arguments(None)
        relax(args, x)
        _warm(compiled, args, x)

    call.warm = warm
    return call


def _any_rows(array: Any) -> Any:
    shape = tuple(array.shape)
    return tf.TensorSpec((None, *shape[1:]) if shape else (), tf.as_dtype(array.dtype))


def _replicas() -> int:
    """Replicas of the strategy in scope: Keras divides each loss by it (per-replica loss
    scaling, undone when the replicas' gradients are summed), 1 outside a strategy."""
    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray, head: Any) -> Any:
    ids = {id(v) for v in variables}
    other = [v for v in model.variables if id(v) not in ids]
    x = keras.tree.map_structure(tf.constant, x)
    y = tf.constant(y)

    def stats(tv: list[Any], ov: list[Any], prev: list[Any], x: Any,
              y: Any) -> tuple[Any, Any]:
        mapping = list(zip(variables, tv, strict=True)) + list(zip(other, ov, strict=True))
        with tf.GradientTape() as tape:
            tape.watch(tv)
            with keras.StatelessScope(state_mapping=mapping):
                if extractor is not None:
                    *acts, pred = extractor(x, training=False)
                else:
                    acts, pred = [], head.pick(model(x, training=False))
                loss = head.loss_value(model, x, y, pred)
            replicas = _replicas()
            if replicas > 1:  # a fit inside strategy.scope(): the full batch's gradient
                loss = loss * tf.cast(replicas, loss.dtype)
        grads = tape.gradient(loss, tv)
        grads = [g if g is not None else tf.fill(tf.shape(t), np.nan) for g, t in
                 zip(grads, tv, strict=True)]
        # one reduction per variable: cheaper per call than flattening every weight and
        # gradient into one vector for a segment sum, and no slower to trace (re-measured
        # on the benchmark's MLP and CNN)
        out = tf.stack([_sums_of_squares(tv), _sums_of_squares(
            [tf.cast(t, tf.float32) - tf.cast(p, tf.float32) for t, p in
             zip(tv, prev, strict=True)]), _sums_of_squares(grads)], 1)
        dead = [tf.reduce_mean(tf.cast(tf.reduce_all(
            tf.reshape(a, (-1, tf.shape(a)[-1])) <= 0, axis=0), tf.float32)) for a in acts]
        return out, (tf.stack(dead) if dead else tf.zeros((0,)))

    fn = tf.function(stats, autograph=False)
    # the values read are snapshots: the optimizer's later in-place updates copy the buffer
    # of a variable whose value is still held here, so these stay the previous weights
    state = {"prev": _read(variables)}

    def call(snapshot: dict[int, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        values, others = ((_read(variables), _read(other)) if snapshot is None else
                          ([snapshot[id(v)] for v in variables], [snapshot[id(v)] for v in other]))
        out, dead = fn(values, others, state["prev"], x, y)
        state["prev"] = values
        return np.asarray(out, dtype=np.float64), np.asarray(dead, dtype=np.float64)

    call.warm = lambda: _warm(fn, _read(variables), _read(other), state["prev"], x, y)
    return call


def _sums_of_squares(tensors: list[Any]) -> Any:
    """(len(tensors),) float32: the sum of squares of each tensor (``l2_loss`` is half of
    it in one op: fewer ops to trace than square + sum)."""
    if not tensors:
        return tf.zeros((0,))
    return 2.0 * tf.stack([tf.nn.l2_loss(tf.cast(t, tf.float32)) for t in tensors])


def _read(variables: list[Any]) -> list[Any]:
    """Current values as tensors; under ``tf.distribute`` the local copy (read outside the
    replica context, where a distributed variable cannot be watched by a tape)."""
    return [tf.convert_to_tensor(v.value) for v in variables]
