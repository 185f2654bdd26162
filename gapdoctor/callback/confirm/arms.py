"""One retraining ("arm") of the user's model: the same architecture and compile
configuration, with at most one intervention, from a fixed seed.

Example:
    >>> recipe = Recipe("control", seed=0, epochs=5, batch_size=32)   # doctest: +SKIP
    >>> result = train_arm(model, None, recipe, train, val)           # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.confirm.data import class_ids, take
from gapdoctor.confirm.phase import patience
from gapdoctor.errors import GapDoctorError

# Keras' usual "strong" L2 on kernels; the overfitting experiment asks whether much more
# regularisation than the run had moves validation at all.
STRONG_L2 = 1e-3


@dataclass
class Recipe:
    """What differs in one arm. ``rows``: the training rows to keep (None: all);
    ``val_rows``: validation rows added to them; ``score_rows``: training rows to predict
    after fitting (``ArmResult.train_probs``); ``zero_rows``: training rows left in the
    batches with weight 0, so that arms of one seed that leave out different rows still see
    the same batches in the same order and differ only by which rows count."""

    name: str
    seed: int
    epochs: int
    batch_size: int
    rows: np.ndarray | None = None
    lr_factor: float = 1.0
    clipnorm: float | None = None
    l2: float | None = None
    class_weight: dict[int, float] | None = None
    validation: tuple[Any, Any] | None = None   # (x, y) evaluated every epoch (curves)
    early_stopping: bool = False                # restore-best on ``validation``'s loss
    dynamics_epochs: tuple[int, ...] = ()
    val_rows: np.ndarray | None = None
    score_rows: np.ndarray | None = None
    zero_rows: np.ndarray | None = None


@dataclass
class ArmResult:
    recipe: Recipe
    val_probs: np.ndarray
    history: dict[str, list[float]]
    seconds: float
    margins: list[np.ndarray] = field(default_factory=list)
    train_probs: np.ndarray | None = None


def progress(verbose: int, text: str) -> None:
    """One line of progress while the experiments run."""
    if verbose:
        print(f"GapDoctor confirm: {text}", flush=True)


def _with_l2(layer: keras.layers.Layer, l2: float) -> keras.layers.Layer:
    config = layer.get_config()
    if "kernel_regularizer" not in config:
        return layer.__class__.from_config(config)
    config["kernel_regularizer"] = keras.regularizers.L2(l2)
    return layer.__class__.from_config(config)


def _optimizer(compile_config: dict[str, Any], recipe: Recipe) -> Any:
    config = copy.deepcopy(compile_config["optimizer"])
    inner = config.get("config", {}) if isinstance(config, dict) else {}
    lr = inner.get("learning_rate")
    if recipe.lr_factor != 1.0:
        if isinstance(lr, (int, float)):
            inner["learning_rate"] = float(lr) * recipe.lr_factor
        elif isinstance(lr, dict) and "initial_learning_rate" in lr.get("config", {}):
            lr["config"]["initial_learning_rate"] *= recipe.lr_factor
    if recipe.clipnorm is not None:
        inner["clipnorm"], inner["global_clipnorm"] = None, recipe.clipnorm
    return keras.optimizers.deserialize(config)


def fresh(model: keras.Model, model_fn: Callable[[], keras.Model] | None,
          recipe: Recipe) -> keras.Model:
    """A freshly initialised, uncompiled copy of ``model`` (or ``model_fn()``) from
    ``recipe.seed``, with ``recipe.l2`` on its kernels.

    Raises:
        GapDoctorError: the model cannot be cloned (a subclassed model) and no ``model_fn``.
    """
    keras.utils.set_random_seed(recipe.seed)
    if model_fn is not None:
        return model_fn()
    try:
        clone_fn = (lambda layer: _with_l2(layer, recipe.l2)) if recipe.l2 else None
        return _clone_uncompiled(model, clone_fn)
    except Exception as exc:  # noqa: BLE001 - say what to do instead
        raise GapDoctorError(
            f"cannot clone {type(model).__name__} ({type(exc).__name__}: {exc}); pass "
            "model_fn=, a function returning a new model of the same architecture") from exc


def _clone_uncompiled(model: keras.Model, clone_fn: Callable | None) -> keras.Model:
    """``keras.models.clone_model`` without compiling the copy. Keras compiles the clone of a
    compiled model from its compile config, which fails on any custom metric or loss not
    registered for serialisation (``metrics=[my_f1]``); :func:`build` compiles the copy itself,
    with the user's live loss object."""
    compiled = getattr(model, "compiled", False)
    try:
        model.compiled = False
        return keras.models.clone_model(model, clone_function=clone_fn)
    finally:
        model.compiled = compiled


def build(model: keras.Model, model_fn: Callable[[], keras.Model] | None,
          recipe: Recipe) -> keras.Model:
    """:func:`fresh`, compiled as ``model``.

    Raises:
        GapDoctorError: the model cannot be cloned (a subclassed model) and no ``model_fn``.
    """
    try:
        compile_config = model.get_compile_config()
    except Exception:  # noqa: BLE001 - a model compiled with objects Keras cannot serialise
        compile_config = None
    new = fresh(model, model_fn, recipe)
    # the user's live loss object; no metrics: the arms are scored from their predictions
    if compile_config is not None and compile_config.get("optimizer") is not None:
        try:
            new.compile(optimizer=_optimizer(compile_config, recipe), loss=model.loss,
                        loss_weights=compile_config.get("loss_weights"))
            return new
        except Exception:  # noqa: BLE001 - fall back to the live optimizer below
            pass
    optimizer = model.optimizer.__class__.from_config(model.optimizer.get_config())
    if recipe.lr_factor != 1.0 and isinstance(optimizer.learning_rate, keras.Variable):
        optimizer.learning_rate.assign(float(optimizer.learning_rate.numpy()) * recipe.lr_factor)
    new.compile(optimizer=optimizer, loss=model.loss)
    return new


def margins(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p(given label) minus the largest other class probability, per sample."""
    probs = np.asarray(probs, float)
    if probs.ndim == 1 or probs.shape[1] == 1:
        p = probs.reshape(-1)
        given = np.where(labels == 1, p, 1 - p)
        return 2 * given - 1
    given = probs[np.arange(len(labels)), labels]
    other = probs.copy()
    other[np.arange(len(labels)), labels] = -np.inf
    return given - other.max(axis=1)


class _Dynamics(keras.callbacks.Callback):
    """Predicts the whole training set at a few epochs (for the area under the margin)."""

    def __init__(self, x: Any, labels: np.ndarray, epochs: tuple[int, ...], batch: int) -> None:
        super().__init__()
        self.x, self.labels, self.epochs, self.batch = x, labels, set(epochs), batch
        self.margins: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch in self.epochs:
            probs = self.model.predict(self.x, batch_size=max(self.batch, 256), verbose=0)
            self.margins.append(margins(probs, self.labels))


def train_arm(model: keras.Model, model_fn: Callable[[], keras.Model] | None, recipe: Recipe,
              train: tuple[Any, np.ndarray, np.ndarray | None],
              val: tuple[Any, np.ndarray, np.ndarray | None],
              models: Any | None = None) -> ArmResult:
    """Build (or take from ``models``, a :class:`~gapdoctor.callback.confirm.reuse.ArmModels`),
    train and predict the validation set for one arm."""
    start = time.perf_counter()
    x, y, w = train
    if recipe.zero_rows is not None:
        w = np.ones(len(y)) if w is None else np.array(w, dtype=float)
        w[recipe.zero_rows] = 0.0
    if recipe.rows is not None:
        x, y = take(x, recipe.rows), y[recipe.rows]
        w = w[recipe.rows] if w is not None else None
    if recipe.val_rows is not None:
        x, y, w = _with_validation_rows((x, y, w), val, recipe.val_rows)
    new = models.get(recipe) if models is not None else build(model, model_fn, recipe)
    callbacks: list[Any] = []
    dynamics = None
    if recipe.dynamics_epochs:
        dynamics = _Dynamics(x, class_ids(y), recipe.dynamics_epochs, recipe.batch_size)
        callbacks.append(dynamics)
    if recipe.early_stopping and recipe.validation is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            "val_loss", patience=patience(recipe.epochs), restore_best_weights=True))
    history = new.fit(x, y, sample_weight=w, epochs=recipe.epochs, batch_size=recipe.batch_size,
                      validation_data=recipe.validation, class_weight=recipe.class_weight,
                      callbacks=callbacks, verbose=0, shuffle=True)
    batch = max(recipe.batch_size, 256)
    probs = new.predict(val[0], batch_size=batch, verbose=0)
    scored = (np.asarray(new.predict(take(train[0], recipe.score_rows), batch_size=batch,
                                     verbose=0)) if recipe.score_rows is not None else None)
    return ArmResult(recipe, np.asarray(probs), {k: [float(v) for v in vs] for k, vs in
                                                 history.history.items()},
                     time.perf_counter() - start, dynamics.margins if dynamics else [],
                     train_probs=scored)


def _with_validation_rows(train: tuple[Any, np.ndarray, np.ndarray | None],
                          val: tuple[Any, np.ndarray, np.ndarray | None],
                          rows: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """Training arrays with validation ``rows`` appended (weights: the validation set's, or
    1 where only one side has them)."""
    x, y, w = train
    vx, vy, vw = take(val[0], rows), val[1][rows], val[2]
    x = keras.tree.map_structure(lambda a, b: np.concatenate([np.asarray(a), b]), x, vx)
    y = np.asarray(y)   # validation labels in the training labels' shape ((n,) vs (n, 1))
    y = np.concatenate([y, np.asarray(vy).astype(y.dtype).reshape((-1, *y.shape[1:]))])
    if w is not None or vw is not None:
        w = np.concatenate([w if w is not None else np.ones(len(y) - len(rows)),
                            vw[rows] if vw is not None else np.ones(len(rows))])
    return x, y, w
