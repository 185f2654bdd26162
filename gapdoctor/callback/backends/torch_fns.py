"""PyTorch: the probes' functions run eagerly, predictions under ``torch.no_grad`` and the
gradient by ``torch.autograd.grad`` on the variables' parameters (``.grad`` fields, which
the user's optimizer reads, are left untouched). ``torch.compile`` is not used: its
compilation costs more than the few calls a fit makes. On a snapshot (a deferred epoch) the
model runs on copies of the parameters, mapped by a ``keras.StatelessScope``: the optimizer
updates the parameters themselves in place."""

from __future__ import annotations

import contextlib
from typing import Any

import keras
import numpy as np
import torch

from gapdoctor.callback.backends.common import flat, summarize, with_weights


def to_tensor(array: np.ndarray) -> Any:
    return keras.ops.convert_to_tensor(array)


def snapshot(model: Any) -> dict[int, Any]:
    """Every variable's current value, by ``id(variable)``: copies, as the optimizer updates
    the parameters in place."""
    with torch.no_grad():
        return {id(v): v.value.detach().clone() for v in model.variables}


def _mapped(variables: list[Any], values: dict[int, Any] | None) -> Any:
    """The model on the snapshot's values (see the module docstring), or as it is."""
    if values is None:
        return contextlib.nullcontext()
    return with_weights([(v, values[id(v)]) for v in variables])


def eval_function(model: Any, fn: Any, any_rows: bool = False) -> Any:
    def call(x: Any, values: dict[int, Any] | None = None) -> Any:
        with torch.no_grad(), _mapped(list(model.variables), values):
            return keras.tree.map_structure(keras.ops.convert_to_numpy, fn(x))

    return call


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray, head: Any) -> Any:
    x = keras.tree.map_structure(to_tensor, x)
    y = to_tensor(y)
    segment_ids = to_tensor(segments.astype(np.int64))
    with torch.no_grad():
        state = {"prev": flat([v.value for v in variables])}

    def call(snapshot: dict[int, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if snapshot is None:
            params, values = [v.value for v in variables], None
        else:  # leaves of their own for the gradient, sharing the snapshot's storage
            params = [snapshot[id(v)].detach().requires_grad_(True) for v in variables]
            values = {**snapshot, **{id(v): p for v, p in zip(variables, params, strict=True)}}
        with torch.enable_grad(), _mapped(list(model.variables), values):
            if extractor is not None:
                *acts, pred = extractor(x, training=False)
            else:
                acts, pred = [], head.pick(model(x, training=False))
            loss = head.loss_value(model, x, y, pred)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        with torch.no_grad():
            grads = [g if g is not None else torch.full_like(p, float("nan"))
                     for g, p in zip(grads, params, strict=True)]
            acts = [a.detach() for a in acts]
            out, dead, w = summarize(params, state["prev"], grads, acts, segment_ids,
                                     len(params))
        state["prev"] = w
        return (np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64),
                np.asarray(keras.ops.convert_to_numpy(dead), dtype=np.float64))

    return call
