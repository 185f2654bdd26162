"""Curves: every value of Keras ``logs``, the learning rate in effect and the epoch wall time.

TF/Keras details:
    - ``optimizer.learning_rate`` evaluates a ``LearningRateSchedule`` at
      ``optimizer.iterations``, i.e. the rate of the *next* step; the rate in effect for the
      epoch that just ended is the schedule at ``iterations - 1``, which is what is recorded.
    - A ``ReduceLROnPlateau`` placed before GapDoctor in ``callbacks`` has already lowered
      the rate when ``on_epoch_end`` reaches us; place GapDoctor first to record the rate
      the epoch actually used.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.followed_output import Head
from gapdoctor.callback.probes.base import Probe
from gapdoctor.callback.state import RunState
from gapdoctor.record.schema import metric_mode, pick_monitor


def followed_monitor(row: dict[str, Any], head: Head) -> str | None:
    """For a model with several outputs, the followed output's validation metric (its
    accuracy first, else another metric, else its loss), or None.

    Example:
        >>> followed_monitor({"val_loss": 1, "val_digit_loss": 1, "val_digit_accuracy": .9},
        ...                  Head(position=0, key="digit", name="digit", n_outputs=2))
        'val_digit_accuracy'
    """
    if head.single:
        return None
    names = [str(n) for n in dict.fromkeys((head.key, head.name)) if isinstance(n, str) and n]
    for name in names:
        own = [k for k in row if k.startswith(f"val_{name}_")]
        metrics = [k for k in own if not k.endswith("_loss")]
        accuracy = [k for k in metrics if k.endswith(("_accuracy", "_acc"))]
        for choice in (accuracy, metrics, own):
            if choice:
                return choice[0]
    return None


def current_learning_rate(optimizer: Any) -> float | None:
    """The learning rate the optimizer used for its last step, or None if unknown."""
    if optimizer is None:
        return None
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        step = max(int(optimizer.iterations.numpy()) - 1, 0)
        return float(np.asarray(schedule(step)))
    value = getattr(optimizer, "learning_rate", None)
    if value is None:
        return None
    return float(np.asarray(value))


def _scalar(value: Any) -> float | None:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array) if array.ndim == 0 else None


class CurvesProbe(Probe):
    """Records ``logs``, ``lr`` and ``epoch_time`` into the ``curves`` table."""

    name = "curves"

    def capture(self, state: RunState, epoch: int, logs: dict[str, Any]) -> float | None:
        """The learning rate in effect (a schedule moves it on with the next step)."""
        if "lr" in (logs or {}):
            return None
        return current_learning_rate(getattr(state.model, "optimizer", None))

    def deferrable(self, state: RunState) -> bool:
        return True

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        row: dict[str, Any] = {"epoch": int(epoch)}
        skipped = []
        for key, value in (logs or {}).items():
            number = _scalar(value)
            if number is None:
                skipped.append(str(key))
            else:
                row[str(key)] = number
        if skipped:
            state.note("Non-scalar logs values were not recorded: " + ", ".join(sorted(skipped))
                       + ".")
        if "lr" not in row:
            lr = state.captured["curves"] if "curves" in state.captured else \
                current_learning_rate(getattr(state.model, "optimizer", None))
            row["lr"] = lr if lr is not None else math.nan
        if state.epoch_time is not None:
            row["epoch_time"] = state.epoch_time
        if not state.curves and epoch > 0:  # a resumed fit (initial_epoch > 0)
            state.meta["first_epoch"] = int(epoch)
            state.note(f"This fit started at epoch {epoch} (initial_epoch={epoch}): epochs "
                       f"0-{epoch - 1} were trained by an earlier fit and are not in this "
                       "record.")
        state.curves.append(row)
        if not state.meta.get("monitor"):
            wanted = state.settings.get("monitor")
            if wanted is not None and f"val_{wanted}" in row:  # as `gapdoctor --monitor`
                wanted = f"val_{wanted}"
            monitor = wanted if wanted in row else (
                followed_monitor(row, state.head) or pick_monitor(row))
            if monitor is not None:
                state.meta.update(monitor=monitor, monitor_mode=metric_mode(
                    monitor, state.meta.get("metrics")))
            if wanted is not None and wanted != monitor:
                # a setting that cannot apply, not a failure of GapDoctor's work: a note in
                # the record, and the first line of the fit's one warning
                logged = ", ".join(sorted(k for k in row if k not in ("epoch", "epoch_time")))
                state.settings_problem(f"monitor={wanted!r} is not logged by this fit (it logs: "
                                       f"{logged}); {monitor or 'nothing'} is monitored instead")
