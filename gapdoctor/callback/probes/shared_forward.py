"""The model's eval-mode forward pass giving its representation of each sample (the input of
the output layer, flattened) and its followed output, compiled once per fit and shared by the
predictions and the dynamics.

Sharing one function means one trace and one graph instantiation on TensorFlow, where the
function is traced for any number of rows (see ``eval_function(..., any_rows=True)``); on
JAX it is compiled once per chunk shape, as two separate functions were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from gapdoctor.callback.followed_output import output_layer
from gapdoctor.callback.state import RunState


@dataclass
class FeatureForward:
    """``fn(x) -> (representation (N, D), followed output)`` as numpy arrays (see
    :class:`~gapdoctor.callback.followed_output.Head`); without a representation (a
    subclassed model) both are the followed output."""

    fn: Any
    has_embedding: bool


def feature_forward(state: RunState) -> FeatureForward:
    """The fit's shared forward pass, built on first use (the model must be built)."""
    cached = state.compiled.get("features")
    if cached is None:
        cached = state.compiled["features"] = _build(state.model, state.head.position)
    return cached


def _build(model: Any, position: int = 0) -> FeatureForward:
    try:  # the output layer's input: the model's representation of a sample
        head = output_layer(model, position)
        if isinstance(head.input, (list, tuple, dict)):  # e.g. an Add head: no one input
            raise ValueError("the output layer has several inputs")
        feat = keras.Model(model.inputs, [head.input, model.outputs[position]])
        has_embedding = True
    except Exception:  # noqa: BLE001 - subclassed models: outputs only
        feat, has_embedding = model, False
    single = has_embedding and len(getattr(feat, "inputs", None) or []) == 1

    def forward(x: Any) -> Any:
        # a one-input functional model wants its input as a list of one (else Keras warns)
        out = feat([x] if single and not isinstance(x, (list, tuple, dict)) else x,
                   training=False)
        if has_embedding:
            emb, raw = out
            return keras.ops.reshape(emb, (keras.ops.shape(emb)[0], -1)), raw
        return keras.tree.flatten(out)[position], keras.tree.flatten(out)[position]

    from gapdoctor.callback.backends import eval_function

    return FeatureForward(eval_function(model, forward, any_rows=True), has_embedding)
