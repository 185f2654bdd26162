"""Predictions on the validation sample and the train probe, in eval mode, every epoch.

Fills ``split_metrics``, ``per_class`` and ``groups`` rows, and the arrays ``margins``,
``correct``, ``confusion_val``, ``confusion_train``, ``score_hist_val``, ``val_proba_last``,
``val_proba_best``, ``probe_proba_last``; sets ``meta`` keys ``task``, ``n_classes``,
``label_format``, ``output``, ``class_names``.

Keras details:
    - Predictions come from one direct ``model(x, training=False)`` call per chunk inside a
      function compiled the backend's way (:func:`gapdoctor.callback.backends.eval_forward`:
      ``tf.function``, ``jax.jit``, ``torch.no_grad``); for a built model with one output,
      the forward pass the dynamics use too (:mod:`.features`: one trace on TensorFlow). That is several times cheaper than
      ``model.predict`` (which builds a data adapter, callbacks and its own function on every
      call) or eager TensorFlow calls.
    - The train probe and the validation sample are concatenated once into constant chunks
      (backend tensors) of one shape (the last padded), so the function is traced or
      compiled once and an epoch costs one or two calls and a few numpy reductions.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import keras
import numpy as np

from gapdoctor.callback import backends
from gapdoctor.callback.data_sampling import label_ints
from gapdoctor.callback.metrics import (
    HIST_BINS,
    class_table,
    confusion,
    expected_calibration_error,
    score_histogram,
    to_probabilities,
)
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.probes.model_info import loss_info, output_activation
from gapdoctor.callback.probes.shared_forward import feature_forward
from gapdoctor.callback.state import RunState

CHUNK = 1024


class PredictionsProbe(Probe):
    """Per-split loss/accuracy/ECE, per-class P/R/F1, confusion, margins and score histograms."""

    name = "predictions"

    def __init__(self) -> None:
        self.forward: Any = None
        self.chunks: list[Any] = []
        self.resolved = False
        self.skip = False
        self.best_loss = np.inf

    def on_train_begin(self, state: RunState) -> None:
        samples = [s for s in (state.train, state.val) if s is not None]
        if not samples:
            self.skip = True
            state.note("Without usable validation_data or train_data, no predictions were "
                       "recorded (no per-class metrics, calibration, margins or confusion "
                       "matrices).")
            return
        x = (keras.tree.map_structure(lambda *a: np.concatenate(a), *[s.x for s in samples])
             if len(samples) > 1 else samples[0].x)
        self.chunks, self.n_rows = backends.to_batches(x, CHUNK)
        shared = feature_forward(state) if state.model_built() else None
        # with a representation its output is the followed one; without (a subclassed
        # model) the predictions keep their own function
        self.with_embedding = shared is not None and shared.has_embedding
        if self.with_embedding:
            # the representation comes free with the outputs: the validation rows' one is
            # kept for the dynamics (neighbours across the two splits)
            self.forward = shared.fn
            backends.warm(shared.fn, self.chunks[0])
        else:
            self.forward = backends.eval_forward(state.model, state.head.position)
            if state.model_built():
                backends.warm(self.forward, self.chunks[0])
        self.n_train = state.train.n_rows if state.train is not None else 0
        self.y_train = label_ints(state.train.y) if state.train is not None else None
        self.y_val = label_ints(state.val.y) if state.val is not None else None

    def deferrable(self, state: RunState) -> bool:
        # the task, label format and output kind are resolved on the training thread
        return self.skip or (self.forward is not None and self.resolved)

    def _resolve(self, state: RunState, raw: np.ndarray) -> None:
        """Decide task, label format and output kind from the first predictions."""
        self.resolved = True
        meta, model = state.meta, state.model
        y_raw = (state.val or state.train).y
        labels = label_ints(y_raw)
        out_dim = int(raw.shape[-1]) if raw.ndim > 1 else 1
        activation = output_activation(model, state.head.position)
        from_logits = loss_info(model, state.head).get("from_logits")
        if out_dim == 1:
            values = np.unique(np.asarray(y_raw, dtype=np.float64))
            if not np.isin(values, (0.0, 1.0)).all():
                meta["task"] = "regression"
                self.skip = True
                state.note("The model has one output and labels other than 0/1: treated as "
                           "regression, so no classification probes were recorded.")
                _no_class_counts(state)
                return
            meta.update(task="binary", n_classes=2, label_format="binary")
        else:
            onehot = np.ndim(y_raw) >= 2 and np.shape(y_raw)[-1] == out_dim
            if onehot and np.any(np.asarray(y_raw, dtype=np.float64).sum(axis=-1) > 1.5):
                meta["task"] = "multilabel"
                self.skip = True
                state.note("Labels have several positive classes per sample (multilabel): "
                           "classification probes were not recorded.")
                _no_class_counts(state)
                return
            if labels.max(initial=0) >= out_dim or labels.min(initial=0) < 0:
                raise ValueError(f"labels range over [{labels.min()}, {labels.max()}] but the "
                                 f"model has {out_dim} outputs")
            meta.update(task="multiclass", n_classes=out_dim,
                        label_format="onehot" if onehot else "sparse")
        if from_logits or activation == "log_softmax":  # softmax(log_softmax(z)) = softmax(z)
            meta["output"] = "logits"
        elif activation in ("softmax", "sigmoid"):
            meta["output"] = "probabilities"
        else:
            finite = raw[np.isfinite(raw)]
            in_unit = finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1)
            meta["output"] = "probabilities" if in_unit else "logits"
            state.note(f"The output activation is {activation!r} and the loss does not say "
                       f"from_logits: outputs were taken as {meta['output']} from their range.")
        names = state.settings.get("class_names")
        n_classes = int(meta["n_classes"])
        if names is not None and len(names) != n_classes:
            state.settings_problem(f"class_names has {len(names)} entries but the model has "
                                   f"{n_classes} classes: class indices are used instead")
            names = None
        meta["class_names"] = [str(c) for c in names] if names else \
            [str(i) for i in range(n_classes)]

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        if self.skip or self.forward is None:
            return
        outs = [self.forward(c, state.values) for c in self.chunks]
        if self.with_embedding:
            raw = np.concatenate([o[1] for o in outs])[:self.n_rows]
            if self.y_val is not None:
                state.val_embedding = partial(_joined_rows, [o[0] for o in outs],
                                              slice(self.n_train, self.n_rows))
        else:
            raw = np.concatenate(outs)[:self.n_rows]
        if not self.resolved:
            self._resolve(state, raw)
            if self.skip:
                return
        meta = state.meta
        proba = to_probabilities(raw, str(meta["output"]))
        n_classes, names = int(meta["n_classes"]), meta["class_names"]
        series: dict[str, np.ndarray] = {}
        for split, y, p in (("train", self.y_train, proba[:self.n_train]),
                            ("val", self.y_val, proba[self.n_train:])):
            if y is None:
                continue
            pred = np.argmax(np.nan_to_num(p, nan=-1.0), axis=1)
            p_true = p[np.arange(len(y)), y]
            sample_loss = -np.log(np.clip(p_true, 1e-7, 1.0))
            cm = confusion(y, pred, n_classes)
            series[f"confusion_{split}"] = cm
            state.rows["split_metrics"].append(
                {"epoch": epoch, "split": split, "loss": float(np.mean(sample_loss)),
                 "accuracy": float(np.mean(pred == y)),
                 "ece": expected_calibration_error(p, y), "n": int(len(y))})
            for c, (prec, rec, f1, sup) in enumerate(class_table(cm)):
                state.rows["per_class"].append(
                    {"epoch": epoch, "split": split, "class_index": c, "class_name": names[c],
                     "precision": prec, "recall": rec, "f1": f1, "support": sup})
            if split == "train":
                others = np.where(np.eye(n_classes, dtype=bool)[y], -np.inf, p)
                series["margins"] = (p_true - others.max(axis=1)).astype(np.float32)
                series["correct"] = pred == y
                state.arrays["probe_proba_last"] = p.astype(np.float32)
            else:
                series["score_hist_val"] = score_histogram(p, y, HIST_BINS)
                state.arrays["val_proba_last"] = p.astype(np.float32)
                val_loss = float(np.mean(sample_loss))
                if np.isfinite(val_loss) and val_loss < self.best_loss:
                    self.best_loss = val_loss
                    state.arrays["val_proba_best"] = p.astype(np.float32)
                    meta["val_proba_best_epoch"] = int(epoch)
                for group, rows in state.groups.items():
                    state.rows["groups"].append(
                        {"epoch": epoch, "group": group, "n": int(len(rows)),
                         "accuracy": float(np.mean(pred[rows] == y[rows])) if len(rows)
                         else float("nan"),
                         "loss": float(np.mean(sample_loss[rows])) if len(rows)
                         else float("nan")})
        for name, value in series.items():
            state.series[name].append(value)
        state.series_epochs.append(int(epoch))


def _joined_rows(chunks: list[Any], rows: slice) -> np.ndarray:
    return np.concatenate([np.asarray(c) for c in chunks])[rows]


def _no_class_counts(state: RunState) -> None:
    """Labels that are not one class per sample (regression values, multi-hot rows): the
    per-class label counts taken from them at train begin (rounded values, argmaxes) would
    be invented classes, so they are dropped."""
    data = state.meta.get("data") or {}
    dropped = [key for key in ("train_label_counts", "val_label_counts")
               if data.get(key) is not None]
    for key in dropped:
        data[key] = None
    if dropped:
        state.note(f"No label counts per class were kept: the labels of this {state.meta['task']}"
                   " task are not one class per sample.")
