"""Compiled models shared by the arms of one confirmation.

A fresh clone per arm makes TensorFlow trace new train, test and predict functions for every
retraining. Here one compiled model is kept per choice that changes the traced graph (L2 on
the kernels, gradient clipping, a learning-rate schedule); before each arm it gets the
weights a fresh clone from the arm's seed would start from, and the optimizer state it had
right after compiling, and the random state (shuffling, dropout) a fresh clone leaves. Under
TensorFlow an arm then trains exactly as on its own model; under JAX every arm skips the
shuffle a new model's first fit draws and discards, so arms still shuffle alike.
A learning-rate factor is assigned to the optimizer's learning-rate variable (it is read, not
traced). Whatever cannot be reset this way is built afresh per arm (``build``), and so is
every arm under PyTorch, which traces nothing.

Example:
    >>> models = ArmModels(model, None, (x[:1], y[:1]))      # doctest: +SKIP
    >>> new = models.get(Recipe("control", 0, 5, 32))        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.confirm.arms import Recipe, build, fresh
from gapdoctor.errors import GapDoctorError


@dataclass
class _Compiled:
    model: keras.Model
    optimizer_state: list[np.ndarray]
    learning_rate: Any | None   # the optimizer's learning-rate variable; None: a schedule


class ArmModels:
    """Hands out a compiled model per arm, reset to the arm's seed (see the module)."""

    def __init__(self, model: keras.Model, model_fn: Callable[[], keras.Model] | None,
                 sample: tuple[Any, Any]) -> None:
        """``sample``: one training batch ``(x, y)`` (JAX builds the loss from it)."""
        self.model, self.model_fn, self.sample = model, model_fn, sample
        self.compiled: dict[tuple, _Compiled] = {}
        self.reusing = keras.backend.backend() in ("tensorflow", "jax")

    def get(self, recipe: Recipe) -> keras.Model:
        """A compiled model with ``recipe``'s seed's initial weights and a fresh optimizer.

        Raises:
            GapDoctorError: the model cannot be cloned and no ``model_fn`` (from ``build``).
        """
        if self.reusing:
            try:
                return self._reset(recipe)
            except GapDoctorError:
                raise
            except Exception:  # noqa: BLE001 - an unusual model or optimizer: build per arm
                self.reusing = False
        return build(self.model, self.model_fn, recipe)

    def _reset(self, recipe: Recipe) -> keras.Model:
        entry = self._compiled(recipe)
        model = entry.model
        # the clone this arm would have trained, for its weights and the random state after it
        initial = fresh(self.model, self.model_fn, recipe).variables
        variables = model.variables
        if len(variables) != len(initial) or any(
                tuple(v.shape) != tuple(w.shape) for v, w in zip(variables, initial, strict=True)):
            raise ValueError("the arm model's variables differ from a fresh clone's")
        for v, w in zip(variables, initial, strict=True):
            v.assign(w.value)
        for v, w in zip(model.optimizer.variables, entry.optimizer_state, strict=True):
            v.assign(w)
        if entry.learning_rate is not None and recipe.lr_factor != 1.0:
            entry.learning_rate.assign(
                float(np.asarray(entry.learning_rate.numpy())) * recipe.lr_factor)
        return model

    def _compiled(self, recipe: Recipe) -> _Compiled:
        key = (recipe.l2, recipe.clipnorm)
        entry = self.compiled.get(key)
        if entry is not None and entry.learning_rate is None and recipe.lr_factor != 1.0:
            key = (*key, recipe.lr_factor)   # a schedule: the factor is compiled in
            entry = self.compiled.get(key)
        if entry is None:
            factor = 1.0 if len(key) == 2 else recipe.lr_factor
            model = build(self.model, self.model_fn, dataclasses.replace(recipe, lr_factor=factor))
            if not model.built or not model.variables:
                raise ValueError("the model builds its weights on its first batch")
            if keras.backend.backend() == "jax":
                # JAX's first fit builds the loss from a batch of a shuffle it then discards,
                # one numpy draw the later fits skip: built here, every arm shuffles alike
                model.evaluate(*self.sample, verbose=0)
            optimizer = model.optimizer
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
            lr = getattr(optimizer, "_learning_rate", None)
            lr = lr if isinstance(lr, keras.Variable) else None
            entry = _Compiled(model, [np.array(v.numpy()) for v in optimizer.variables], lr)
            self.compiled[key] = entry
            if len(key) == 2 and lr is None and recipe.lr_factor != 1.0:
                return self._compiled(recipe)
        return entry
