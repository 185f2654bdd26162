"""Per-backend compiled functions of the probes: one module per Keras backend.

The probes ask this package for two things, and each backend builds them its own way:

- ``eval_function(model, fn, example)`` / ``eval_forward(model, example)``: ``fn(x)`` (e.g.
  ``model(x, training=False)``) for any batch size, compiled once (``tf.function`` with a
  free batch dimension, ``jax.jit`` with the variables passed in as arguments,
  ``torch.no_grad`` on torch), returning numpy arrays;
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


def eval_function(model: Any, fn: Any, example: Any) -> Any:
    """``fn(x)`` (which calls ``model`` or views sharing its variables with
    ``training=False``) compiled for any batch size; returns its outputs as numpy arrays.

    ``example`` is a batch of the input structure (only its shapes and dtypes are used).
    """
    return implementation().eval_function(model, fn, example)


def eval_forward(model: Any, example: Any) -> Any:
    """A function ``batch -> numpy array`` of the model's first output in eval mode."""
    return eval_function(model, lambda x: keras.tree.flatten(model(x, training=False))[0],
                         example)


def to_batches(x: Any, size: int) -> list[Any]:
    """``x`` (an array or a nest of arrays) cut into backend tensors of ``size`` rows."""
    convert = implementation().to_tensor
    n = int(len(keras.tree.flatten(x)[0]))
    return [keras.tree.map_structure(lambda a, i=i: convert(np.asarray(a)[i:i + size]), x)
            for i in range(0, n, size)]


def layer_stats(model: Any, extractor: Any, variables: list[Any], x: Any, y: np.ndarray,
                segments: np.ndarray) -> Any:
    """A function ``() -> (per_variable (V, 3), dead (A,))`` as float64 numpy arrays.

    Columns of ``per_variable``: sum of squared weights, of squared change since the
    previous call (the first call compares with the weights at construction) and of squared
    gradient. ``segments`` maps every flattened weight to its variable's position.
    """
    return implementation().layer_stats(model, extractor, variables, x, y, segments)
