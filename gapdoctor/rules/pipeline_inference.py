"""pipeline_bug's inference-side evidence: the model computes something else when it predicts
than when it trains (BatchNorm statistics that lag, dropout or noise left on, batch-mates that
change predictions). The data-side checks are in :mod:`gapdoctor.rules.pipeline_bug`, which
weighs these too."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Tags, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp

E = "pipeline_bug."
# The smallest accuracy effect a confirmation experiment calls confirmed
# (gapdoctor.confirm.outcome.MIN_EFFECT; rules may not import confirm, a test keeps them equal).
MIN_EFFECT = 0.02

EVAL_MODE = Ramp(E + "eval_mode", "eval-mode loss on training samples / logged training loss", 2.0, 4.0, 3.0,
                 "BatchNorm statistics or a layer that behaves differently at inference (dropout lowers eval loss instead)")
INFERENCE_GAP = Ramp(E + "inference_gap", "share of the gap between the logged training accuracy (training mode) "
                     "and validation accuracy already there on training samples in inference mode", 0.5, 0.8, 5.0,
                     "measured: without train/inference differences the two accuracies on training samples stay "
                     "close (the epoch's average, dropout and augmentation lower the logged one; memorised wrong "
                     "labels moved a corpus run's inference accuracy 8 points below it, 39% of its gap), so the "
                     "gap lies between training and validation samples; when most of it is already on training "
                     "samples, inference computes something else (BatchNorm moving statistics that lag, as with "
                     "momentum 0.999 over a few hundred steps)")
BATCH_ORDER = Ramp(E + "batch_order", "validation accuracy in random batches minus in the stored order, "
                   "the lower end of its 95 % interval (same model, same samples)", 0.0, MIN_EFFECT,
                   5.0, "measured, not inferred: a model in evaluation mode predicts each sample alike "
                   "in any batch, so an interval clear of zero means batch-mates change predictions; "
                   "full from 2 points, the effect a confirmation experiment calls confirmed")
RANDOM_INFERENCE = Ramp(E + "random_inference", "validation accuracy of 5 predictions averaged minus one "
                        "(outputs random at inference), the lower end of its 95 % interval", 0.0,
                        MIN_EFFECT, 4.0, "measured: a model in evaluation mode gives the same output "
                        "every time; when the mean of its random outputs scores clearly better, the "
                        "single draw fit validates with costs accuracy (dropout or noise active at "
                        "inference); full from 2 points, as for a confirmed experiment")

def weigh_eval_mode(w: Weighing, run: RunRecord, ctx: Context, tags: Tags) -> None:
    """The eval-mode loss on training samples against the logged one, and the inference-mode
    accuracy against fit's logged accuracy (:func:`_inference_accuracy`)."""
    _inference_accuracy(w, ctx, tags)
    column = ctx.logged_cross_entropy  # the same quantity as the probe's loss, or None
    if not run.has("split_metrics") or column is None:
        return
    probe = run.split_metrics[run.split_metrics["split"] == "train"].set_index("epoch")["loss"]
    logged = run.curves[column].astype(float)
    joint = np.array([(logged.get(e, np.nan), probe.get(e, np.nan)) for e in probe.index[-3:]], float)
    if not len(joint) or not np.isfinite(joint).all() or joint[:, 0].mean() <= 0:
        return
    ratio = float(joint[:, 1].mean() / joint[:, 0].mean())
    w.facts["eval_train_loss_ratio"] = ratio
    if w.use(EVAL_MODE, ratio):
        tags.add(w, "eval_mode")

def _inference_accuracy(w: Weighing, ctx: Context, tags: Tags) -> None:
    """fit's logged training accuracy against the callback's inference-mode accuracy on
    training and on validation samples, over the same last epochs."""
    if "nonfinite" in tags:   # poisoned weights predict nothing in either mode
        return
    logged, probe, val = (ctx.logged_train_accuracy(), ctx.train_accuracy_series(),
                          ctx.val_accuracy_series())
    epochs = [e for e in probe.index[-3:] if e in logged.index and e in val.index]
    sm = ctx.run.split_metrics if ctx.run.has("split_metrics") else None
    losses = (sm[sm["split"] == "train"].set_index("epoch")["loss"].reindex(epochs)
              if sm is not None else None)
    if not epochs or losses is None or not np.isfinite(losses.to_numpy(float)).all():
        return   # no inference-mode loss: non-finite outputs (their arg-max means nothing)
    trained, inferred, validated = (float(s.loc[epochs].mean()) for s in (logged, probe, val))
    w.facts.update(logged_train_accuracy=trained, inference_train_accuracy=inferred,
                   inference_val_accuracy=validated)
    gap = trained - validated
    if not finite(gap) or gap <= 0:
        return
    share = (trained - inferred) / gap
    # a share of the gap: inference ahead of the logged accuracy is none of it, inference
    # below validation all of it (a small gap makes the raw ratio run to -7 or +12)
    w.facts["inference_gap_share"] = min(1.0, max(0.0, share))
    # the logged accuracy is over every training row, the probe's over its sample: a
    # shortfall within 2 of the sample's standard errors is its noise (full from 4)
    n = len(ctx.run.arrays.get("probe_labels", ())) if ctx.run.has("probe_labels") else 0
    z = (trained - inferred) / max(1e-6, np.sqrt(inferred * (1 - inferred) / n)) if n else 0.0
    reason = f"the shortfall is {z:.1f} standard errors of the {n}-sample probe"
    # without a layer that acts differently in training mode the two modes compute the
    # same function: the shortfall is then the epoch's running mean against its last
    # weights (small noisy SGD batches show 7-9 points), not a pipeline fault
    layers = ctx.mode_layers
    if layers is not None:
        reason += ("; layers that act differently in training mode: "
                   + (", ".join(layers[:4]) if layers else "none (counts for nothing)"))
    if w.use(INFERENCE_GAP, share, gate=ramp(z, 2.0, 4.0) * (layers != []),
             gate_reason=reason,
             shown=f"{max(share, 0):.0%} (training accuracy {trained:.3f} as logged, "
                   f"{inferred:.3f} on training samples in inference mode, validation "
                   f"{validated:.3f})"):
        tags.add(w, "inference")


def weigh_batch_order(w: Weighing, run: RunRecord, tags: Tags) -> None:
    """Validation accuracy in random batches against the stored order, and the mean of
    several predictions against one (``meta["batch_order"]``, measured at the end of fit)."""
    check = run.meta.get("batch_order") or {}
    if not check.get("checked") or not finite(check.get("low")):
        return
    w.facts.update(batch_accuracy_stored=float(check["accuracy_stored"]),
                   batch_accuracy_shuffled=float(check["accuracy_shuffled"]),
                   batch_mechanism=str(check.get("mechanism") or "none"),
                   batch_size=int(check.get("batch_size") or 0),
                   batch_layers=", ".join(check.get("layers") or []) or "n/a")
    shown = (f"{check['effect']:+.3f} ({check['accuracy_stored']:.3f} stored, "
             f"{check['accuracy_shuffled']:.3f} random; 95 % interval {check['low']:+.3f} "
             f"to {check['high']:+.3f})")
    if w.use(BATCH_ORDER, float(check["low"]), shown=shown):
        tags.add(w, "batch_order")
    averaged = check.get("averaged") or {}
    if finite(averaged.get("low")):
        w.facts.update(random_single=float(averaged["accuracy_single"]),
                       random_averaged=float(averaged["accuracy_averaged"]),
                       random_passes=int(averaged["passes"]))
        shown = (f"{averaged['effect']:+.3f} ({averaged['accuracy_single']:.3f} one, "
                 f"{averaged['accuracy_averaged']:.3f} the mean of {averaged['passes']}; 95 % "
                 f"interval {averaged['low']:+.3f} to {averaged['high']:+.3f})")
        if w.use(RANDOM_INFERENCE, float(averaged["low"]), shown=shown):
            tags.add(w, "random_inference")
