"""Keras models of the eighth fresh set: fresh2's models (``benchmarks/fresh2/models.py``,
the corpus's plus ``kernel_init``/``activation``), compiled again with what some fresh8
implementations need and the corpus's ``Spec`` has no field for (imports Keras).

``spec.extra`` (set by ``benchmarks/fresh8/faults*.py``) may hold:

- ``optimizer``: ``(name, kwargs)``, the optimiser class (``adam``, ``adamw``,
  ``adafactor``, ``lamb``) and its extra keyword arguments (e.g. ``beta_1``, ``beta_2``,
  ``weight_decay``), with the learning rate ``spec.lr`` (or the schedule below);
- ``schedule``: ``("inverse_time", decay_steps, decay_rate)`` (``InverseTimeDecay`` from
  ``spec.lr``);
- ``no_shuffle``: ``model.fit`` is called with ``shuffle=False`` (the training arrays are
  fed in file order);
- ``activation`` (fresh2's): the hidden activation of an MLP or CNN.

Metric names go to fresh2's ``_metric`` (plain Keras names such as
``sparse_categorical_accuracy`` or ``categorical_accuracy`` pass through unchanged).
Models without any of these keys are fresh2's, unchanged.
"""

from __future__ import annotations

from typing import Any

import keras

from benchmarks.corpus import models as corpus_models
from benchmarks.corpus.spec import Spec
from benchmarks.fresh2 import models as fresh2_models

OPTIMIZERS = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
              "adafactor": keras.optimizers.Adafactor, "lamb": keras.optimizers.Lamb}
KEYS = ("optimizer", "schedule")


def _learning_rate(spec: Spec, extra: dict) -> Any:
    kind = extra.get("schedule")
    if kind is None:
        return spec.lr
    if kind[0] == "inverse_time":
        return keras.optimizers.schedules.InverseTimeDecay(spec.lr, int(kind[1]), float(kind[2]))
    raise ValueError(f"unknown schedule {kind!r}")


def _optimizer(spec: Spec, extra: dict) -> keras.optimizers.Optimizer:
    name, kwargs = extra.get("optimizer", ("adam", {}))
    clip = {"clipnorm": spec.clipnorm} if spec.clipnorm else {}
    return OPTIMIZERS[name](_learning_rate(spec, extra), **kwargs, **clip)


def _unshuffled(model: keras.Model) -> None:
    fit = model.fit

    def fit_in_order(*args: Any, **kwargs: Any) -> Any:
        return fit(*args, **{**kwargs, "shuffle": False})

    model.fit = fit_in_order  # type: ignore[method-assign]


def build_model(spec: Spec, input_shape: tuple[int, ...], n_classes: int, vocab: int,
                seed: int) -> keras.Model:
    """The compiled model of ``spec``: fresh2's model, compiled again with fresh8's
    optimiser and schedule when ``spec.extra`` asks for them, fitted in file order when
    ``no_shuffle`` is set."""
    extra = getattr(spec, "extra", {}) or {}
    model = fresh2_models.build_model(spec, input_shape, n_classes, vocab, seed)
    if any(k in extra for k in KEYS):
        model.compile(optimizer=_optimizer(spec, extra), loss=corpus_models._loss(spec),
                      metrics=[fresh2_models._metric(m, spec, n_classes) for m in spec.metrics])
    if extra.get("no_shuffle"):
        _unshuffled(model)
    return model
