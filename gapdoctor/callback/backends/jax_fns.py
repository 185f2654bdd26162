"""JAX: the probes' functions under ``jax.jit``.

Keras variables are plain state outside a traced function, so every compiled function takes
the variables' current values as arguments (a ``keras.StatelessScope`` maps each variable to
its traced value); a closure over ``model`` alone would freeze the weights of the first
trace. The JAX trainer writes its state
back to the variables before ``on_epoch_end`` (``jax_state_sync``), so the values read there
are the ones training reached.

Compilation, not running, is what these functions cost: a fit calls each a few dozen times at
most, while XLA's CPU backend spends ~0.5 s optimising even an MLP's gradient. They are
therefore compiled ahead of time, once per argument shape, with XLA's optimisation turned
down (:data:`FAST_COMPILE`: about 3x faster to compile, a fraction of a millisecond slower
per call), which leaves the user's own jitted training untouched.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np

from gapdoctor.callback.backends.common import background, flat, summarize

FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}


def to_tensor(array: np.ndarray) -> Any:
    return jnp.asarray(array)


def _dtype(value: Any) -> np.dtype:
    """The dtype of an array of any library, or of a Python number."""
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(value)


def _jit(fn: Any) -> Any:
    """``jax.jit(fn)`` compiled ahead of time with :data:`FAST_COMPILE`, once per argument
    structure and shapes. ``call.warm(*args)`` traces now and lowers and compiles on a
    background thread (XLA releases the GIL, so the training goes on meanwhile); the first
    call waits for that compilation. Tracing stays on the caller's thread: it runs the Keras
    layers."""
    jitted, cache = jax.jit(fn), {}

    def key_of(args: tuple[Any, ...]) -> Any:
        leaves, tree = jax.tree_util.tree_flatten(args)
        # a JAX array's own dtype: np.result_type(jax_array) converts it to numpy first,
        # which numpy 2.4 deprecates (a warning per probe call, an error to come)
        return tree, tuple((np.shape(a), _dtype(a).str) for a in leaves)

    def compiler(args: tuple[Any, ...]) -> Any:
        # tracing runs the Keras layers: here; lowering the traced program to XLA is JAX's
        # alone and goes with the compilation (on the background thread for ``warm``)
        traced = jitted.trace(*args)

        def compile_() -> Any:
            lowered = traced.lower()
            try:
                return lowered.compile(compiler_options=FAST_COMPILE)
            except Exception:  # noqa: BLE001 - an XLA without these options: its defaults
                return lowered.compile()

        return compile_

    def warm(*args: Any) -> None:
        key = key_of(args)
        if key not in cache:
            cache[key] = background().submit(compiler(args))

    def call(*args: Any) -> Any:
        key = key_of(args)
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = compiler(args)()
        elif isinstance(compiled, Future):
            compiled = cache[key] = compiled.result()
        return compiled(*args)

    call.warm = warm
    return call


def _values(variables: list[Any], snapshot: dict[int, Any] | None = None) -> list[Any]:
    if snapshot is not None:
        return [snapshot[id(v)] for v in variables]
    return [v.value for v in variables]


def snapshot(model: Any) -> dict[int, Any] | None:
    """Every variable's current value, by ``id(variable)``: copies, because the trainer
    donates its state's buffers to the next training step (the copies are dispatched
    asynchronously, ahead of that step). None under a ``keras.distribution`` layout."""
    if keras.distribution.distribution() is not None:
        return None
    return {id(v): jnp.copy(v.value) for v in model.variables}


def eval_function(model: Any, fn: Any, any_rows: bool = False) -> Any:
    variables = list(model.variables)  # views of the model share these

    def traced(values: list[Any], x: Any) -> Any:
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
            return fn(x)

    compiled = _jit(traced)

    def call(x: Any, values: dict[int, Any] | None = None) -> Any:
        return keras.tree.map_structure(np.asarray, compiled(_values(variables, values), x))

    call.warm = lambda x: compiled.warm(_values(variables), x)
    return call


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray, head: Any) -> Any:
    trainable = list(variables)
    ids = {id(v) for v in trainable}
    other = [v for v in model.variables if id(v) not in ids]
    x = keras.tree.map_structure(jnp.asarray, x)
    y = jnp.asarray(y)
    segment_ids = jnp.asarray(segments, dtype=jnp.int32)

    def loss_and_acts(tv: list[Any], ov: list[Any], x: Any, y: Any) -> tuple[Any, list[Any]]:
        mapping = list(zip(trainable, tv, strict=True)) + list(zip(other, ov, strict=True))
        with keras.StatelessScope(state_mapping=mapping):
            if extractor is not None:
                *acts, pred = extractor(x, training=False)
            else:
                acts, pred = [], head.pick(model(x, training=False))
            loss = head.loss_value(model, x, y, pred)
        return loss, acts

    def traced(tv: list[Any], ov: list[Any], prev: Any, x: Any, y: Any) -> Any:
        (_, acts), grads = jax.value_and_grad(loss_and_acts, has_aux=True)(tv, ov, x, y)
        return summarize(tv, prev, grads, acts, segment_ids, len(trainable))

    stats = _jit(traced)

    state = {"prev": flat(_values(trainable))}

    def call(snapshot: dict[int, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        out, dead, w = stats(_values(trainable, snapshot), _values(other, snapshot),
                             state["prev"], x, y)
        state["prev"] = w
        return np.asarray(out, dtype=np.float64), np.asarray(dead, dtype=np.float64)

    call.warm = lambda: stats.warm(_values(trainable), _values(other), state["prev"], x, y)
    return call
