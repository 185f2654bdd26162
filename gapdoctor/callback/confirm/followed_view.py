"""Confirmation for a model with several outputs: the experiments test the followed output.

The probes followed one output (``GapDoctor(output=...)``, ``meta["followed_output"]``); the
experiments ask whether a remedy moves *its* validation metric. They run on a one-output
view of the trained model (the same layers and weights, so the cheap checks predict what
the model predicts), and the retrainings clone that view and train it on the followed
output's labels and loss alone. The other outputs' losses are left out of the retrainings,
treated and control arms alike, so an effect is still measured against a like control; the
scope note says so, because a shared trunk trained without the other heads may learn
differently.

Example:
    >>> view, head = followed_view(model, {"key": "digit"})          # doctest: +SKIP
    >>> view.predict(x).shape                                       # doctest: +SKIP
    (100, 10)
"""

from __future__ import annotations

from typing import Any

import keras

from gapdoctor.callback.followed_output import Head, followed_head
from gapdoctor.errors import GapDoctorError


def followed_view(model: keras.Model, followed: dict[str, Any]) -> tuple[keras.Model, Head]:
    """A compiled one-output model over ``followed``'s output of ``model`` (shared weights),
    and the :class:`Head` that picks that output's labels.

    Raises:
        GapDoctorError: the model's outputs are not known (a subclassed model) or the
            followed output is no longer among them.
    """
    requested = followed.get("key", followed.get("position"))
    try:
        head = followed_head(model, requested)
        view = keras.Model(model.input, model.outputs[head.position],
                           name=f"{model.name}_{head.name or head.position}")
    except (ValueError, AttributeError, IndexError, TypeError) as exc:
        raise GapDoctorError(f"confirm() could not take the followed output {requested!r} of "
                             f"{type(model).__name__} ({exc}); the diagnosis stands without "
                             "the experiments") from exc
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(model.optimizer))
    view.compile(optimizer=optimizer, loss=head.loss)
    history = getattr(model, "history", None)
    if history is not None:   # the runner reads fit's steps per epoch from it
        view.history = history
    return view, head


def scope_note(head: Head) -> str:
    """What the experiments on a several-output model did, in one sentence."""
    return (f"The model has {head.n_outputs} outputs; the experiments test the followed "
            f"output {head.key!r}, retraining it alone on its own labels and loss (the other "
            "outputs' losses are left out of every arm, controls included).")
