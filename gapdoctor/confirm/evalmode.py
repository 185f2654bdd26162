"""pipeline_bug, train/eval mode: does the model's validation accuracy depend on which
samples share a batch, and does the accuracy ``fit`` logged match the model's own?

A model in evaluation mode gives each sample the same output in any batch. A normalisation
layer stuck in training mode (``bn(x, training=True)``, a subclassed model ignoring
``training``) normalises each batch by its own statistics instead: with a validation set
stored in class order, every batch is unlike the population and accuracy collapses in the
stored order, while random batches look like the population and score well.

Example:
    >>> import numpy as np
    >>> y = np.repeat(np.arange(4), 50)                  # stored sorted by class
    >>> good = np.eye(4)[y] * 0.9 + 0.025
    >>> bad = np.eye(4)[(y + 1) % 4] * 0.9 + 0.025       # what the stored order gave
    >>> evaluation_mode(EvalPredictions(bad, good, batch_size=32), y).outcome
    'confirmed'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gapdoctor.confirm.checks import predicted_class
from gapdoctor.confirm.outcome import MIN_EFFECT, Confirmation, decide, paired_effect

# Mean |Δ output| above which predictions of the same inputs differ: float32 re-ordering
# moves outputs by ~1e-7; batch statistics or active dropout move them by 1e-2 and more.
UNSTABLE = 1e-3


@dataclass
class EvalPredictions:
    """Validation outputs, each row in the stored (user's) order of the validation set.

    ``in_order``: predicted in the stored order and the batch size ``fit`` evaluated with;
    ``shuffled``: predicted in random batches of ``shuffled_batch_size``; ``repeat_change``:
    mean |Δ output| of the same batches predicted twice (None: not measured); ``layers``:
    names of the model's layers that act differently in training mode, by kind."""

    in_order: np.ndarray
    shuffled: np.ndarray
    batch_size: int
    shuffled_batch_size: int | None = None
    repeat_change: float | None = None
    layers: dict[str, list[str]] = field(default_factory=dict)


def mechanism(change: float, repeat_change: float | None) -> str | None:
    """'randomness' (the same batch twice differs: dropout or noise active at inference),
    'batch statistics' (only other batch-mates change a sample's output) or None."""
    if repeat_change is not None and repeat_change > UNSTABLE:
        return "randomness"
    return "batch statistics" if change > UNSTABLE else None


def logged_gap(now: np.ndarray, logged: Sequence[float],
               restorable: Sequence[int] = ()) -> dict | None:
    """Compare the validation accuracy ``fit`` logged at its last epoch with the model's own
    (``now``: per-sample correctness, same data, same batches). ``restorable``: epochs
    whose weights a restore-best callback may have put back; the model matching one of
    those exactly (within one sample) explains a difference. None without a logged value."""
    from scipy.stats import binomtest

    values = np.asarray(logged, float)
    if not values.size or not np.isfinite(values[-1]):
        return None
    n, k = int(now.size), int(now.sum())
    accuracy = k / n
    ci = binomtest(k, n).proportion_ci(method="wilson")
    last = float(values[-1])
    tolerance = 1.5 / n
    restored = None if abs(last - accuracy) <= tolerance else next(
        (int(e) for e in restorable
         if 0 <= e < values.size - 1 and abs(values[e] - accuracy) <= tolerance), None)
    clear = (not ci.low <= last <= ci.high and abs(accuracy - last) >= MIN_EFFECT
             and restored is None)
    return {"logged": last, "now": accuracy, "low": float(ci.low), "high": float(ci.high),
            "restored_epoch": restored, "clear": bool(clear)}


def evaluation_mode(p: EvalPredictions, labels: np.ndarray, logged: Sequence[float] | None = None,
                    restorable: Sequence[int] = (), seed: int = 0) -> Confirmation:
    """Confirmed when random batches score clearly better than the stored order (a paired
    interval over per-sample correctness), or when ``fit``'s logged accuracy clearly differs
    from the model's own; inconclusive when outputs depend on the batching but accuracy
    does not move; refuted when evaluation is deterministic and the order changes nothing."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    base = (predicted_class(p.in_order) == labels).astype(float)
    shuffled = (predicted_class(p.shuffled) == labels).astype(float)
    e = paired_effect(shuffled[None], base[None], seed=seed)
    order = decide(e.low, e.high, e.effect)
    change = float(np.mean(np.abs(np.asarray(p.in_order, float) - np.asarray(p.shuffled, float))))
    how = mechanism(change, p.repeat_change)
    lag = logged_gap(base, logged, restorable) if logged is not None else None
    if lag and how == "randomness":   # two random draws differ by more than one's interval
        lag.update(clear=False, random=True)
    details = {"batch_size": p.batch_size, "shuffled_batch_size": p.shuffled_batch_size,
               "output_change": change, "repeat_change": p.repeat_change, "mechanism": how,
               "layers": p.layers, "order_outcome": order, "logged": lag}
    text = _order_text(order, base.mean(), shuffled.mean(), e, p) + " " + _mechanism_text(
        how, change, p) + (" " + _logged_text(lag) if lag else "")
    common = {"specific": True, "text": text, "details": details}
    if order != "confirmed" and lag and lag["clear"]:
        return Confirmation("pipeline_bug", "evaluation_mode", "confirmed",
                            before=lag["logged"], after=lag["now"],
                            effect=lag["now"] - lag["logged"],
                            interval=(lag["low"] - lag["logged"], lag["high"] - lag["logged"]),
                            **common)
    outcome = "inconclusive" if order != "confirmed" and how is not None else order
    return Confirmation("pipeline_bug", "evaluation_mode", outcome, before=float(base.mean()),
                        after=float(shuffled.mean()), effect=e.effect, interval=(e.low, e.high),
                        **common)


def _order_text(outcome: str, before: float, after: float, e, p: EvalPredictions) -> str:
    size = p.shuffled_batch_size or p.batch_size
    head = (f"Evaluating the validation set in shuffled batches (random batches of {size}) "
            f"instead of its stored order (batches of {p.batch_size}, as fit evaluated it) "
            f"changes validation accuracy from {before:.3f} to {after:.3f} "
            f"({e.effect * 100:+.1f} points, 95 % interval {e.low * 100:+.1f} to "
            f"{e.high * 100:+.1f})")
    return head + {
        "confirmed": ": predictions depend on which samples share a batch, and the stored "
                     "order (sorted by class, say) makes batches unlike the population.",
        "refuted": ": the order of evaluation does not explain the gap.",
        "inconclusive": ": within noise; more validation data would settle it."}[outcome]


def _names(p: EvalPredictions, kind: str) -> str:
    names = p.layers.get(kind) or []
    return f" (layers: {', '.join(names[:4])})" if names else ""


def _mechanism_text(how: str | None, change: float, p: EvalPredictions) -> str:
    if how is None:
        return ("Outputs are the same in any batching: the model is in evaluation mode at "
                "inference.")
    if how == "randomness":
        return (f"The same batch predicted twice gives other outputs (mean |Δp| "
                f"{p.repeat_change:.2g}): dropout or noise is active at inference"
                f"{_names(p, 'dropout')}. If that is meant (Monte Carlo dropout), validation "
                "accuracy is one random draw; otherwise let the layer follow `training`.")
    return (f"The same batch predicted twice gives the same outputs, but a sample's output "
            f"changes with its batch-mates (mean |Δp| {change:.2g}): a normalisation layer "
            f"uses batch statistics at inference{_names(p, 'batch_norm')} - a "
            "BatchNormalization called with training=True or a model that ignores "
            "`training`. Pass `training` through to it.")


def _logged_text(lag: dict) -> str:
    logged, now = lag["logged"], lag["now"]
    if lag.get("random"):
        return (f"fit logged validation accuracy {logged:.3f} at its last epoch and the model "
                f"scores {now:.3f} now: with random outputs each is one draw, not compared.")
    if lag["restored_epoch"] is not None:
        return (f"fit logged validation accuracy {logged:.3f} at its last epoch; the model "
                f"scores {now:.3f}, as at epoch {lag['restored_epoch'] + 1} (weights "
                "restored from there).")
    if lag["clear"]:
        return (f"fit logged validation accuracy {logged:.3f} at its last epoch, but the model "
                f"scores {now:.3f} on the same validation data in the same batches (95 % "
                f"interval {lag['low']:.3f} to {lag['high']:.3f}): the evaluation path in fit "
                "differs from inference (other validation inputs or preprocessing passed to "
                "fit, a custom test_step, or a metric that is not plain accuracy).")
    return (f"fit's logged validation accuracy ({logged:.3f}) agrees with the model's own "
            f"({now:.3f}).")
