"""Training dynamics of EVERY training sample, on a few well-placed epochs, at little cost.

On a planned schedule (dense early, sparse late; 8 passes by default) one eval-mode forward
pass over the whole training set records, per sample, the margin of its given label (its
logit minus the largest other logit: area under the margin when averaged), the probability
of its given label (data-map confidence and variability when averaged / spread), the mean
class probabilities, and the model's representation (the input of the output layer,
projected to at most 64 numbers) at the pass with the lowest validation loss.

A pass is skipped when it would lift GapDoctor's dynamics cost above ``budget`` (a share of
the training time so far), so the cost stays bounded whatever the model.

Fills ``arrays``: ``dyn_epochs``, ``dyn_margin``, ``dyn_p_given``, ``dyn_proba_mean``,
``dyn_embedding``, ``dyn_val_embedding`` (the validation
sample, same projection and epoch), ``dyn_labels``, ``dyn_ids``; ``meta["dynamics"]``.

Backend: the forward pass is one ``model(x, training=False)`` call per chunk, compiled the
backend's way (``tf.function``, ``jax.jit``; called directly on torch) for the one chunk
shape it ever sees (the last chunk is padded); the per-sample arithmetic is numpy.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.data_sampling import label_ints, read_source, source_kind
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.probes.model_info import loss_info, output_activation
from gapdoctor.callback.probes.shared_forward import feature_forward
from gapdoctor.callback.state import RunState

CHUNK = 2048
MAX_SAMPLES = 200_000  # a dataset is read up to this many samples
EMBED_DIM = 64


def plan_epochs(epochs: int, passes: int = 8) -> list[int]:
    """Epochs (0-based) of the scheduled passes: spaced as (i/passes)^1.5, always the last.

    Example:
        >>> plan_epochs(30)
        [1, 3, 6, 10, 14, 19, 24, 29]
    """
    if epochs <= passes:
        return list(range(epochs))
    return sorted({max(0, math.ceil(epochs * ((i + 1) / passes) ** 1.5) - 1)
                   for i in range(passes)})


def per_sample(raw: np.ndarray, labels: np.ndarray, output: str) -> tuple[np.ndarray, ...]:
    """(logit margin, p(given label), probabilities) of each row of model outputs.

    Probabilities are turned into logits by their log (a sigmoid output into [0, logit]), so
    the margin is always a difference of logits, as in Pleiss et al. (2020).
    """
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)
    if raw.shape[1] == 1:
        z = raw[:, 0] if output == "logits" else np.log(np.clip(raw[:, 0], 1e-7, 1 - 1e-7)) \
            - np.log(np.clip(1 - raw[:, 0], 1e-7, 1))
        logits = np.stack([np.zeros_like(z), z], axis=1)
    else:
        logits = raw if output == "logits" else np.log(np.clip(raw, 1e-12, 1.0))
    logits = np.nan_to_num(logits, nan=0.0, posinf=50.0, neginf=-50.0)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba = shifted / shifted.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    others = logits.copy()
    others[rows, labels] = -np.inf
    margin = logits[rows, labels] - others.max(axis=1)
    return margin.astype(np.float32), proba[rows, labels].astype(np.float32), proba


class DynamicsProbe(Probe):
    """Per-sample dynamics of the whole training set (see the module docstring).

    Reads ``state.settings["dynamics"]``: ``{"data": train data, "sample_ids": None | array
    | dict key, "budget": share of training time, "passes": int}``; does nothing without it.
    """

    name = "dynamics"

    def __init__(self) -> None:
        self.x: Any = None
        self.forward: Any = None
        self.done: list[int] = []

    # -- reading the training set --------------------------------------------------------
    def on_train_begin(self, state: RunState) -> None:
        self.x, self.forward, self.done = None, None, []
        cfg = state.settings.get("dynamics") or {}
        data = cfg.get("data")
        if data is None or not cfg.get("enabled", True):
            return
        if any(f.get("probe") == "train_data" for f in state.record.failures):
            return   # the train_data failure already says why; one failure, not two
        ids_spec = cfg.get("sample_ids")
        kind = source_kind(data)
        if kind == "tf.data" and not isinstance(ids_spec, str) and _reshuffles(data):
            state.note("Training dynamics were not recorded: train_data is a tf.data pipeline "
                       "that reshuffles on every pass, so sample positions do not name your "
                       "samples. Pass GapDoctor(train_data=<the same dataset without "
                       ".shuffle()>) or an id per sample inside x with sample_ids='<key>'.")
            return
        source = read_source(data, limit=MAX_SAMPLES, what="train_data",
                             labels=state.head.labels)
        x, ids = source.x, source.index
        if isinstance(ids_spec, str):
            if not isinstance(x, dict) or ids_spec not in x:
                raise ValueError(f"sample_ids={ids_spec!r} names no input of train_data; "
                                 f"received inputs {sorted(x) if isinstance(x, dict) else 'array'}")
            x = dict(x)
            ids = np.asarray(x.pop(ids_spec)).reshape(source.n_rows)
        elif ids_spec is not None:
            given = np.asarray(ids_spec)
            if given.ndim != 1 or source.n_total is None or len(given) != source.n_total:
                raise ValueError(f"sample_ids must hold one id per training sample "
                                 f"({source.n_total or 'unknown'}); received shape {given.shape}")
            ids = given[source.index]
        for note in source.notes:
            state.note(note)
        self.x, self.labels, self.ids = x, label_ints(source.y), ids
        self.n = source.n_rows
        self.plan = set(plan_epochs(int(state.meta.get("epochs_planned") or 1),
                                    int(cfg.get("passes", 8))))
        self.budget = float(cfg.get("budget", 0.03))
        self.margins: list[np.ndarray] = []
        self.p_given: list[np.ndarray] = []
        self.proba_sum: np.ndarray | None = None
        self.best_val, self.train_seconds, self.spent = np.inf, 0.0, 0.0
        self.last_pass, self.seconds = 0.0, 0.0
        state.meta["dynamics"] = {"n": self.n, "source": kind, "planned": sorted(self.plan),
                                  "ids": "sample_ids" if ids_spec is not None else "position"}
        self.output = None
        if state.model_built():
            self._build(state)

    # -- the compiled forward pass -------------------------------------------------------
    def _build(self, state: RunState) -> None:
        from gapdoctor.callback.backends import chunk_bounds, padded, warm

        # compiled per backend (tf.function / jax.jit / torch.no_grad), numpy out, shared
        # with the predictions; one chunk shape (the last chunk padded) of its own
        shared = feature_forward(state)
        self.forward, self.has_embedding = shared.fn, shared.has_embedding
        self.bounds = chunk_bounds(self.n, CHUNK)
        start, stop = self.bounds[-1]
        warm(self.forward, padded(self.x, start, stop, self.bounds[0][1] - self.bounds[0][0]))

    def _pass(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        if self.forward is None:
            self._build(state)
        from gapdoctor.callback.backends import padded

        embs, raws = [], []
        rows = self.bounds[0][1] - self.bounds[0][0]
        for start, stop in self.bounds:
            emb, raw = self.forward(padded(self.x, start, stop, rows), state.values)
            embs.append(np.asarray(emb[:stop - start], dtype=np.float32))
            raws.append(np.asarray(raw[:stop - start]))
        if self.output is None:  # as the predictions resolved it, else as the model says
            self.output = state.meta.get("output") or _output_kind(state)
        if self.output is None:  # neither the loss nor the activation says: by the range
            finite = np.concatenate(raws)
            finite = finite[np.isfinite(finite)]
            in_unit = finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1)
            self.output = "probabilities" if in_unit else "logits"
        margin, p_given, proba = per_sample(np.concatenate(raws), self.labels, self.output)
        self.margins.append(margin)
        self.p_given.append(p_given)
        self.proba_sum = proba if self.proba_sum is None else self.proba_sum + proba
        self.done.append(epoch)
        val_loss = logs.get("val_loss")
        score = float(val_loss) if val_loss is not None and np.isfinite(val_loss) else -epoch
        if self.has_embedding and score <= self.best_val:  # before memorisation sets in
            self.best_val = score
            state.arrays["dyn_embedding"] = _half(_project(np.concatenate(embs)))
            # this epoch's (the predictions ran first), through the same map
            val = state.val_embedding() if state.val_embedding is not None else None
            if val is not None and val.shape[1:] == embs[0].shape[1:]:
                state.arrays["dyn_val_embedding"] = _half(_project(val))
            state.meta["dynamics"]["embedding_epoch"] = int(epoch)
        state.arrays.update(
            dyn_epochs=np.asarray(self.done, dtype=np.int64), dyn_margin=np.stack(self.margins),
            dyn_p_given=np.stack(self.p_given), dyn_labels=self.labels, dyn_ids=self.ids,
            dyn_proba_mean=(self.proba_sum / len(self.done)).astype(np.float32))

    def _not_classes(self, state: RunState) -> bool:
        """Whether the task has no one class label per sample (regression, multilabel, as
        the predictions resolved it): margins of a given label would be invented, so the
        dynamics stop, keeping nothing."""
        task = state.meta.get("task")
        if task not in ("regression", "multilabel"):
            return False
        self.x = None
        for name in [k for k in state.arrays if k.startswith("dyn_")]:
            del state.arrays[name]
        state.meta.pop("dynamics", None)
        state.note(f"Training dynamics (per-sample margins, suspects.csv) were not recorded: "
                   f"they need one class label per sample, and this is a {task} task.")
        return True

    def deferrable(self, state: RunState) -> bool:
        return self.x is None or self.forward is not None  # built on the training thread

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        if self.x is None or self._not_classes(state):
            return
        self.train_seconds += state.epoch_time or 0.0
        last = epoch + 1 >= int(state.meta.get("epochs_planned") or 0)
        if epoch not in self.plan and not last:
            return
        # pace by the steady cost of a pass; the first one's one-time tracing is not paced
        if self.done and not last and \
                self.spent + self.last_pass > self.budget * self.train_seconds:
            return  # over budget: skip this pass
        start = time.perf_counter()
        self._pass(state, epoch, logs)
        self.last_pass = time.perf_counter() - start
        self.spent += self.last_pass if len(self.done) > 1 else 0.0
        self.seconds += self.last_pass
        state.meta["dynamics"].update(epochs=list(self.done), seconds=round(self.seconds, 4))

    def on_train_end(self, state: RunState) -> None:
        if self.x is not None and self._not_classes(state):
            return
        if self.x is not None and not self.done and state.model_built():
            self._pass(state, int(state.meta.get("epochs_completed") or 1) - 1, {})
        self.x = None  # free the copy of the training set


def _output_kind(state: RunState) -> str | None:
    """'logits' or 'probabilities' as the loss or the output activation says, else None."""
    model, head = state.model, state.head
    activation = output_activation(model, head.position)
    if loss_info(model, head).get("from_logits") or activation == "log_softmax":
        return "logits"
    if activation in ("softmax", "sigmoid"):
        return "probabilities"
    return None


def _project(emb: np.ndarray) -> np.ndarray:
    """At most EMBED_DIM columns (a fixed Gaussian projection keeps neighbours' distances)."""
    if emb.shape[1] <= EMBED_DIM:
        return emb
    rng = np.random.default_rng(0)
    return emb @ (rng.standard_normal((emb.shape[1], EMBED_DIM)) / np.sqrt(EMBED_DIM))


def _half(x: np.ndarray) -> np.ndarray:
    """``x`` stored as float16; values beyond its range (a diverging run's) become inf
    quietly, as the readers expect, instead of a numpy warning in the user's console."""
    with np.errstate(over="ignore", invalid="ignore"):
        return x.astype(np.float16)


def _reshuffles(data: Any) -> bool:
    """Whether two passes over a tf.data pipeline start with different first batches."""
    first = [keras.tree.flatten(next(iter(data))) for _ in range(2)]
    return not all(np.array_equal(np.asarray(a), np.asarray(b))
                   for a, b in zip(*first, strict=True))
