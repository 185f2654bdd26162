"""Per-diagnosis cache of shared measurements, so no two rules compute the same thing."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from gapdoctor.record.schema import RunRecord, metric_mode


class Context:
    """Lazily computed measurements of one run, shared by every rule of one ``diagnose``."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run

    @cached_property
    def monitor(self) -> str | None:
        return self.run.monitor

    def run_summary(self) -> dict[str, Any]:
        """Headline numbers: epochs, monitored metric, its best value and epoch."""
        run, monitor = self.run, self.monitor
        out: dict[str, Any] = {"epochs": run.n_epochs, "monitor": monitor}
        if monitor and run.has(f"curve:{monitor}"):
            series = run.curves[monitor].astype(float)
            best = series.idxmax() if metric_mode(monitor) == "max" else series.idxmin()
            out.update(best_value=float(series[best]), best_epoch=int(best),
                       last_value=float(series.dropna().iloc[-1]))
        if run.has("curve:loss"):
            losses = run.curves["loss"].astype(float).dropna()
            out.update(first_loss=float(losses.iloc[0]), last_loss=float(losses.iloc[-1]))
        out["nonfinite_loss"] = bool(run.has("curves") and "loss" in run.curves
                                     and not np.isfinite(run.curves["loss"].astype(float)).all())
        return out
