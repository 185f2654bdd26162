"""What kind of model a run trained, so that a fix's code fits it (label smoothing, augmentation).

Derived once from ``run.meta`` (see ``gapdoctor.record.schema.META_DOC``): the kind of
target (``binary`` sigmoid, ``sparse`` integer labels, ``onehot`` labels, ``multilabel``,
``regression``) and of input (``image`` for rank-3 samples, ``sequence`` for rank-2 samples
or token inputs, ``tabular`` for flat feature vectors). A template fix declares
``when_model = "binary"`` or a list of such tags; ``target_unknown`` / ``input_unknown``
match records that do not say (e.g. a Keras History file).

Example:
    >>> kind = model_kind({"task": "binary", "data": {"input_shape": [8]}})
    >>> kind.target, kind.inputs, sorted(kind.tags)
    ('binary', 'tabular', ['binary', 'classification', 'tabular'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TARGETS = ("binary", "sparse", "onehot", "multilabel", "regression")
INPUTS = ("image", "sequence", "tabular")
CLASSIFICATION = ("binary", "sparse", "onehot", "multilabel")
# every tag a template's when_model may name
TAGS = frozenset(TARGETS + INPUTS + ("classification", "logits", "target_unknown",
                                     "input_unknown"))

_LOSS_TARGET = (("sparse_categorical", "sparse"), ("binary", "binary"),
                ("categorical", "onehot"), ("squared", "regression"),
                ("absolute", "regression"), ("huber", "regression"), ("log_cosh", "regression"))
_METRIC_TARGET = (("sparse_categorical", "sparse"), ("binary_accuracy", "binary"),
                  ("categorical_accuracy", "onehot"), ("mean_absolute", "regression"),
                  ("mae", "regression"), ("mse", "regression"), ("rmse", "regression"))
_IMAGE_LAYERS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                 "SeparableConv2D", "DepthwiseConv2D", "RandomFlip", "Rescaling")
_SEQUENCE_LAYERS = ("Embedding", "LSTM", "GRU", "SimpleRNN", "Conv1D", "TextVectorization",
                    "MultiHeadAttention")
_LOSS_CLASS = {"binary": "BinaryCrossentropy", "multilabel": "BinaryCrossentropy",
               "sparse": "SparseCategoricalCrossentropy", "onehot": "CategoricalCrossentropy"}


@dataclass(frozen=True)
class ModelKind:
    """The target and input kind of a run, plus what its loss says about logits."""

    target: str = "unknown"
    inputs: str = "unknown"
    from_logits: bool | None = None
    output_activation: str | None = None

    @property
    def tags(self) -> frozenset[str]:
        """The tags a fix's ``when_model`` is matched against."""
        tags = {self.target if self.target in TARGETS else "target_unknown",
                self.inputs if self.inputs in INPUTS else "input_unknown"}
        if self.target in CLASSIFICATION:
            tags.add("classification")
        if self.from_logits:
            tags.add("logits")
        return frozenset(tags)

    def code_facts(self) -> dict[str, Any]:
        """Facts code snippets use: ``loss_class``, ``from_logits``, ``output_from_logits``
        (what from_logits should be for the output activation) and ``int_labels`` (the
        suffix that turns a label array into class ids)."""
        facts: dict[str, Any] = {"from_logits": bool(self.from_logits),
                                 "int_labels": ".argmax(-1)" if self.target == "onehot"
                                 else ".ravel()"}
        if self.target in _LOSS_CLASS:
            facts["loss_class"] = _LOSS_CLASS[self.target]
        if self.output_activation in ("softmax", "sigmoid"):
            facts["output_from_logits"] = False
        elif self.output_activation == "linear":
            facts["output_from_logits"] = True
        return facts


def _match(name: str, table: Iterable[tuple[str, str]]) -> str | None:
    name = name.lower()
    return next((kind for key, kind in table if key in name), None)


def _target(meta: dict[str, Any], columns: Iterable[str]) -> str:
    task, fmt = meta.get("task"), meta.get("label_format")
    if task in ("regression", "multilabel"):
        return str(task)
    if task == "binary" or fmt == "binary":
        return "binary"
    if fmt in ("sparse", "onehot"):
        return str(fmt)
    loss = meta.get("loss") if isinstance(meta.get("loss"), dict) else {}
    found = _match(str(loss.get("name") or loss.get("class_name") or ""), _LOSS_TARGET)
    if found:
        return found
    names = [str(m.get("class_name") or m.get("name", "")) if isinstance(m, dict) else str(m)
             for m in meta.get("metrics") or []] + [str(c) for c in columns]
    for name in names:
        found = _match(name, _METRIC_TARGET)
        if found:
            return found
    return "unknown"


def _layers(meta: dict[str, Any]) -> list[dict[str, Any]]:
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    layers = model.get("layers") or []
    return [layer for layer in layers if isinstance(layer, dict)]


def _inputs(meta: dict[str, Any]) -> str:
    classes = {str(layer.get("class_name")) for layer in _layers(meta)}
    if classes & set(_SEQUENCE_LAYERS):
        return "sequence"
    data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    shape = data.get("input_shape")
    if not isinstance(shape, (list, tuple)) or not shape:
        first = next(iter(_layers(meta)), {})
        out = first.get("output_shape") if first.get("class_name") == "InputLayer" else None
        shape = list(out[1:]) if isinstance(out, (list, tuple)) and len(out) > 1 else None
    if shape:
        return {1: "tabular", 2: "sequence", 3: "image"}.get(len(shape), "unknown")
    if classes & set(_IMAGE_LAYERS):
        return "image"
    return "unknown"


def model_kind(meta: dict[str, Any], columns: Iterable[str] = ()) -> ModelKind:
    """The kind of model a run's ``meta`` describes; ``columns`` (curve names such as
    ``binary_accuracy``) help when the meta does not say."""
    meta = meta if isinstance(meta, dict) else {}
    loss = meta.get("loss") if isinstance(meta.get("loss"), dict) else {}
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    logits = loss.get("from_logits")
    if logits is None and meta.get("output") in ("logits", "probabilities"):
        logits = meta["output"] == "logits"
    activation = model.get("output_activation")
    return ModelKind(target=_target(meta, columns), inputs=_inputs(meta),
                     from_logits=None if logits is None else bool(logits),
                     output_activation=str(activation) if activation else None)
