"""PyTorch: the probes' functions run eagerly, predictions under ``torch.no_grad`` and the
gradient by ``torch.autograd.grad`` on the variables' parameters (``.grad`` fields, which
the user's optimizer reads, are left untouched). ``torch.compile`` is not used: its
compilation costs more than the few calls a fit makes."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import torch

from gapdoctor.callback.backends.common import flat, summarize


def to_tensor(array: np.ndarray) -> Any:
    return keras.ops.convert_to_tensor(array)


def snapshot(model: Any) -> None:
    """None: on torch every epoch is recorded on the training thread. Recording it on a
    worker thread on copies of the parameters gives the same record, but two threads
    running torch ops at once slowed the training itself 1.6x (benchmarks/overhead.py
    --backend torch --compare, 2026-11-28: wall 1.59 and 1.66 against 0.99 and 1.14 on the
    training thread, while the process's CPU time fell): its thread pool serves one caller
    at a time well, not two."""
    return None


def eval_function(model: Any, fn: Any, any_rows: bool = False) -> Any:
    def call(x: Any, values: None = None) -> Any:
        with torch.no_grad():
            return keras.tree.map_structure(keras.ops.convert_to_numpy, fn(x))

    return call


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray, head: Any) -> Any:
    x = keras.tree.map_structure(to_tensor, x)
    y = to_tensor(y)
    segment_ids = to_tensor(segments.astype(np.int64))
    with torch.no_grad():
        state = {"prev": flat([v.value for v in variables])}

    def call(snapshot: None = None) -> tuple[np.ndarray, np.ndarray]:
        params = [v.value for v in variables]
        with torch.enable_grad():
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
