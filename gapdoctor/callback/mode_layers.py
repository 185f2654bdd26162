"""Which layers of a model may act differently in training mode (``training=True``).

fit's logged training metrics come from training-mode calls, the callback's probes from
inference-mode ones. Only these layers make the two differ for the same weights: batch
normalisation (batch statistics against moving ones), dropout and noise, augmentation layers
(active in training only), recurrent layers with dropout, and layers defined outside Keras
(their ``call`` may read ``training`` in any way).
"""

from __future__ import annotations

from typing import Any

import keras

_DROPOUT_CLASSES = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                    "GaussianNoise", "GaussianDropout", "AlphaDropout")


def all_layers(model: keras.Model) -> list[Any]:
    """Every layer of ``model``, nested ones included."""
    try:
        return list(model._flatten_layers(include_self=False, recursive=True))
    except Exception:  # noqa: BLE001 - a private Keras helper; the top level is enough
        return list(getattr(model, "layers", []))


def mode_layers(model: keras.Model) -> dict[str, list[str]]:
    """Names of the layers that may act differently in training mode, nested ones included,
    by kind: ``batch_norm`` and ``dropout`` (dropout and noise, and recurrent layers with a
    dropout rate) by class, subclasses included, or by name; ``augmentation``: Keras'
    ``Random*`` preprocessing layers; ``custom``: other layers whose class is defined outside
    Keras."""
    dropout = tuple(getattr(keras.layers, name) for name in _DROPOUT_CLASSES
                    if hasattr(keras.layers, name))
    found: dict[str, list[str]] = {}
    for layer in all_layers(model):
        kind, module = type(layer).__name__, type(layer).__module__ or ""
        rates = (getattr(layer, "dropout", 0), getattr(layer, "recurrent_dropout", 0))
        if isinstance(layer, keras.layers.BatchNormalization) or "BatchNorm" in kind:
            found.setdefault("batch_norm", []).append(layer.name)
        elif isinstance(layer, dropout) or "Dropout" in kind or "Noise" in kind or any(
                isinstance(rate, (int, float)) and rate > 0 for rate in rates):
            found.setdefault("dropout", []).append(layer.name)
        elif kind.startswith("Random") and module.startswith("keras"):
            found.setdefault("augmentation", []).append(layer.name)
        elif not module.startswith(("keras", "tf_keras", "tensorflow")):
            found.setdefault("custom", []).append(layer.name)
    return found
