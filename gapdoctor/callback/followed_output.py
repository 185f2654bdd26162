"""Which output of the model the probes follow: the only one for most models; for a model
with several outputs, the one named by ``GapDoctor(output=...)`` or else its only
classification output.

A multi-output model returns a dict (flattened in sorted-key order, the order of
``model.outputs``) or a list; its labels come as a dict (keyed like the outputs, or by the
output layers' names) or a list. :class:`Head` picks the followed output from either, and
gives its loss for the gradient statistics.

Example:
    >>> head = Head(position=1, key="label", name="label", n_outputs=2, loss="mse")
    >>> head.labels({"label": [1, 0], "box": [[0.5], [0.2]]})
    [1, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

# Losses of a classifier's output (Keras names or class names, lower-cased, without "_"):
# the output a gap story is told about when the user does not say which
_CLASSIFICATION_LOSSES = (
    "sparsecategoricalcrossentropy", "categoricalcrossentropy", "binarycrossentropy",
    "categoricalfocalcrossentropy", "binaryfocalcrossentropy", "categoricalhinge",
    "kldivergence", "poisson")


@dataclass(frozen=True)
class Head:
    """The followed output: its place among the model's outputs and how labels and the
    compiled loss address it (a dict key, or a position in a list)."""

    position: int = 0
    key: str | int | None = None  # None: the model has one output
    name: str = ""
    n_outputs: int = 1
    loss: Any = None  # the followed output's loss as compiled (a name or a Loss)

    @property
    def single(self) -> bool:
        return self.n_outputs == 1

    def pick(self, outputs: Any) -> Any:
        """The followed output from what the model returned."""
        return keras.tree.flatten(outputs)[self.position]

    def labels(self, y: Any) -> Any:
        """The followed output's labels from the labels given (unchanged for one output)."""
        if self.single:
            return y
        if isinstance(y, dict):
            for k in (self.key, self.name):
                if k in y:
                    return y[k]
            raise TypeError(f"the labels are a dict with keys {sorted(map(str, y))} but "
                            f"none is the followed output {self.key!r}")
        if isinstance(y, (list, tuple)) and len(y) == self.n_outputs:
            return y[self.position]
        return y

    def loss_value(self, model: Any, x: Any, y: Any, pred: Any) -> Any:
        """The loss the gradient statistics differentiate: the compiled loss for one output;
        for several, the followed output's loss alone (the others' labels are not kept)."""
        if self.single:
            return model.compute_loss(x=x, y=y, y_pred=pred, training=False)
        return keras.ops.mean(keras.losses.get(self.loss)(y, pred))


def output_layer(model: Any, position: int = 0) -> Any:
    """The layer producing the model's output at ``position`` (the followed one), or None."""
    try:
        history = model.outputs[position]._keras_history
        return history.operation
    except (AttributeError, IndexError, TypeError, ValueError):
        layers = getattr(model, "layers", None) or []
        return layers[-1] if layers else None


def _output_keys(model: Any, n: int) -> list[str | int]:
    """How labels and the compiled loss address each output, in ``model.outputs`` order:
    the keys of a dict of outputs (flattened in sorted-key order), else positions."""
    try:
        structure = model.output
    except (AttributeError, TypeError, ValueError):
        structure = None
    if isinstance(structure, dict) and len(structure) == n:
        return sorted(structure)
    return list(range(n))


def _loss_of(model: Any, key: str | int, name: str) -> Any:
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        return loss.get(key, loss.get(name))
    if isinstance(loss, (list, tuple)):
        return loss[key] if isinstance(key, int) and key < len(loss) else None
    return loss  # one loss for every output


def _classification(loss: Any) -> bool:
    """Whether a compiled loss (a name, a Loss or a function) is a classifier's, by its name
    or its class."""
    if loss is None:
        return False
    names = [loss] if isinstance(loss, str) else [
        getattr(loss, "name", None), getattr(loss, "__name__", None), type(loss).__name__]
    return any(str(n).lower().replace("_", "") in _CLASSIFICATION_LOSSES for n in names if n)


def followed_head(model: Any, requested: str | int | None) -> Head:
    """The output the probes follow.

    Raises:
        ValueError: the model has several outputs and ``requested`` names none of them, or
            is None while not exactly one output has a classification loss; or
            ``requested`` is given for a model whose outputs are unknown (subclassed).
    """
    try:
        outputs = list(model.outputs)
    except (AttributeError, TypeError, ValueError):  # subclassed: not known before a call
        outputs = []
    if not outputs and requested is not None:
        raise ValueError(f"output={requested!r} needs a model whose outputs are known before "
                         "training (functional or Sequential); this one's are not (a "
                         "subclassed model): pass labels of one output instead")
    if len(outputs) <= 1:
        return Head()
    n = len(outputs)
    names = [str(getattr(output_layer(model, i), "name", "")) for i in range(n)]
    keys = _output_keys(model, n)
    if requested is None:
        chosen = [i for i in range(n)
                  if _classification(_loss_of(model, keys[i], names[i]))]
        if len(chosen) != 1:
            raise ValueError(
                f"the model has {n} outputs ({', '.join(map(str, keys))}) and "
                f"{'several' if chosen else 'none'} with a classification loss: pass "
                "GapDoctor(output=...) with the one whose validation metric is stuck")
        position = chosen[0]
    elif isinstance(requested, int) and not isinstance(requested, bool):
        if not 0 <= requested < n:
            raise ValueError(f"output={requested} but the model has {n} outputs "
                             f"({', '.join(map(str, keys))})")
        position = requested
    elif requested in keys:
        position = keys.index(requested)
    elif requested in names:
        position = names.index(requested)
    else:
        raise ValueError(f"output={requested!r} is none of the model's outputs "
                         f"({', '.join(map(str, keys))})")
    return Head(position=position, key=keys[position], name=names[position], n_outputs=n,
                loss=_loss_of(model, keys[position], names[position]))
