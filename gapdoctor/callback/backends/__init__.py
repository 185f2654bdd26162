"""Per-backend compiled functions of the probes: one module per Keras backend.

The probes ask this package for two things, and each backend builds them its own way:

- ``eval_function(model, fn)`` / ``eval_forward(model)``: ``fn(x)`` (e.g.
  ``model(x, training=False)``) compiled once per input shape (``tf.function``, ``jax.jit``
  with the variables passed in as arguments, ``torch.no_grad`` on torch), returning numpy
  arrays; callers feed equal chunks (:func:`to_batches`, :func:`padded`) so that one shape,
  hence one trace, serves a whole fit;
- ``layer_stats(model, extractor, variables, x, y, segments)``: per-variable sums of squares
  of the weights, their change since the last call and the eval-mode gradient of the compiled
  loss on a fixed batch, plus the dead-unit fraction of each ReLU-like activation
  (``tf.GradientTape`` in a ``tf.function``; ``jax.value_and_grad`` under ``jax.jit`` with the
  variables passed in through a ``keras.StatelessScope``; torch autograd).

A backend module is imported only when a probe needs it, so TensorFlow is never imported
under ``KERAS_BACKEND=jax`` or ``torch``.
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata
from types import ModuleType
from typing import Any

import keras
import numpy as np

_MODULES = {"tensorflow": "tensorflow_fns", "jax": "jax_fns", "torch": "torch_fns"}
_DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",),
                  "torch": ("torch",), "numpy": ("numpy",)}


def backend_name() -> str:
    """The Keras backend of this process ('tensorflow', 'jax', 'torch', ...)."""
    return str(keras.backend.backend())


def versions() -> dict[str, str]:
    """``{"backend": name, name: version}`` of the running Keras backend."""
    name = backend_name()
    out = {"backend": name}
    module = sys.modules.get(name)  # keras imported its backend already
    if isinstance(getattr(module, "__version__", None), str):
        out[name] = module.__version__
        return out
    for distribution in _DISTRIBUTIONS.get(name, (name,)):
        try:
            out[name] = metadata.version(distribution)
            break
        except metadata.PackageNotFoundError:
            continue
    return out


def implementation() -> ModuleType:
    """The module of compiled functions for the running backend.

    Raises:
        NotImplementedError: a backend other than tensorflow, jax or torch.
    """
    name = backend_name()
    module = _MODULES.get(name)
    if module is None:
        raise NotImplementedError(
            f"GapDoctor's model probes support the tensorflow, jax and torch backends of "
            f"Keras; this run uses {name!r}")
    return importlib.import_module(f"gapdoctor.callback.backends.{module}")


def snapshot(model: Any) -> dict[int, Any] | None:
    """The model's variables' values at this moment, by ``id(variable)``, for the functions
    below to read later on another thread (``values=`` / ``snapshot=``); None where the
    backend updates them in place (torch): those functions must then run now."""
    return implementation().snapshot(model)


def eval_function(model: Any, fn: Any, any_rows: bool = False) -> Any:
    """``fn(x, values=None)`` (``fn`` calls ``model`` or views sharing its variables with
    ``training=False``) compiled per input shape; returns its outputs as numpy arrays. With
    ``values`` (a :func:`snapshot`) the model has those weights, else its current ones.
    ``any_rows``: TensorFlow traces it once for any number of rows (callers with chunks of
    different lengths share one graph); JAX still compiles per shape."""
    return implementation().eval_function(model, fn, any_rows=any_rows)


def eval_forward(model: Any, position: int = 0) -> Any:
    """A function ``batch -> numpy array`` of the model's output at ``position`` (in
    ``model.outputs`` order; the followed one) in eval mode."""
    return eval_function(model,
                         lambda x: keras.tree.flatten(model(x, training=False))[position])


def chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of ``ceil(n / size)`` chunks of equally many rows (the last may have
    fewer; :func:`padded` fills it up)."""
    count = max(1, -(-n // size))
    rows = -(-n // count)
    return [(i, min(i + rows, n)) for i in range(0, max(n, 1), rows)]


def padded(x: Any, start: int, stop: int, rows: int) -> Any:
    """Rows ``start:stop`` of ``x`` (a nest of arrays) with the last row repeated up to
    ``rows``: every call of a compiled function then sees one shape, so ``jax.jit`` compiles
    once per fit (on TensorFlow, re-measured, a fixed shape costs the same per call)."""
    def cut(a: Any) -> np.ndarray:
        part = np.asarray(a[start:stop])
        if len(part) < rows:
            part = np.concatenate([part, np.repeat(part[-1:], rows - len(part), axis=0)])
        return part

    return keras.tree.map_structure(cut, x)


def to_batches(x: Any, size: int) -> tuple[list[Any], int]:
    """``x`` (an array or a nest of arrays) as backend tensors of equally many rows (at most
    ``size``, the last padded), and the number of real rows."""
    convert = implementation().to_tensor
    n = int(len(keras.tree.flatten(x)[0]))
    bounds = chunk_bounds(n, size)
    rows = bounds[0][1] - bounds[0][0]
    return [keras.tree.map_structure(convert, padded(x, a, b, rows)) for a, b in bounds], n


def warm(fn: Any, *args: Any) -> None:
    """Prepare ``fn`` (from :func:`eval_function` or :func:`layer_stats`) for these
    arguments where the backend can do it ahead: JAX traces now and compiles on a background
    thread while the first epoch trains; elsewhere nothing happens."""
    prepare = getattr(fn, "warm", None)
    if prepare is None:
        return
    try:
        prepare(*args)
    except Exception:  # noqa: BLE001 - the first real call meets the problem and reports it
        pass


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray, head: Any = None) -> Any:
    """A function ``(snapshot=None) -> (per_variable (V, 3), dead (A,))`` as float64 numpy
    arrays, of the weights in ``snapshot`` (see :func:`snapshot`) or the current ones.

    Columns of ``per_variable``: sum of squared weights, of squared change since the
    previous call (the first call compares with the weights at construction) and of squared
    gradient. ``segments`` maps every flattened weight to its variable's position.
    ``head`` (a :class:`~gapdoctor.callback.followed_output.Head`) picks the output and the
    loss of a model with several outputs; the extractor's last output is that output.
    """
    from gapdoctor.callback.followed_output import Head

    return implementation().layer_stats(model, extractor, variables, x, y, segments,
                                        head if head is not None else Head())
