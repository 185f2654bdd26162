"""What every section builder shares: the run, its diagnosis, the theme and a few lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.diagnosis import Diagnosis
from gapdoctor.record.schema import RunRecord, metric_mode
from gapdoctor.report.styles import Theme, esc, fmt
from gapdoctor.templates import metric_words


@dataclass
class Page:
    """Inputs of one report plus the theme; section builders read from it."""

    run: RunRecord
    diagnosis: Diagnosis
    theme: Theme = field(default_factory=Theme)
    drawn: dict[str, list[Any]] = field(default_factory=dict)  # figures drawn beforehand

    @cached_property
    def curves(self) -> pd.DataFrame:
        curves = self.run.curves if isinstance(self.run.curves, pd.DataFrame) else pd.DataFrame()
        return curves.apply(pd.to_numeric, errors="coerce") if not curves.empty else curves

    @cached_property
    def monitor(self) -> str | None:
        try:
            return self.run.monitor
        except Exception:  # noqa: BLE001 - a malformed record must not stop the report
            return None

    @cached_property
    def best(self) -> tuple[int | None, float | None]:
        """(best epoch, best value) of the monitored validation metric, or (None, None).

        Read from the diagnosis (computed once in analysis, with the metric's direction from
        its recorded Keras class): the report never decides "best" on its own.
        """
        summary = self.diagnosis.summary or {}
        epoch, value = summary.get("best_epoch"), summary.get("best_value")
        if epoch is None or value is None:
            return None, None
        return int(epoch), float(value)

    def mode(self, name: str) -> str:
        """A metric's direction: 'max', 'min' or 'unknown' (recorded Keras class, then name)."""
        return metric_mode(name, self.run.meta.get("metrics"))

    @cached_property
    def class_names(self) -> list[str]:
        names = list(self.run.class_names)
        table = self.run.per_class
        if not names and isinstance(table, pd.DataFrame) and {"class_index", "class_name"} <= set(
                table.columns):
            pairs = table.drop_duplicates("class_index").sort_values("class_index")
            names = [str(n) for n in pairs["class_name"]]
        if not names:
            for key in ("confusion_val", "probe_proba_last", "val_proba_last"):
                array = self.run.arrays.get(key)
                if array is not None and array.ndim >= 2:
                    names = [str(i) for i in range(array.shape[-1])]
                    break
        return names

    def class_name(self, index: Any) -> str:
        try:
            i = int(index)
        except (TypeError, ValueError):
            return str(index)
        return self.class_names[i] if 0 <= i < len(self.class_names) else str(i)

    def data_meta(self) -> dict[str, Any]:
        data = self.run.meta.get("data")
        return data if isinstance(data, dict) else {}

    def h1(self, key: str, fallback: str) -> list[Any]:
        """A section heading and its intro sentence from styles.toml."""
        texts = self.theme.section(key)
        out = [self.theme.para(texts.get("title", fallback), "h1")]
        if texts.get("intro"):
            out.append(self.theme.para(texts["intro"], "muted"))
        return out

    def missing(self, key: str, default: str) -> Any:
        return self.theme.para(self.theme.section(key).get("missing", default), "body")

    def headline(self) -> str:
        """One sentence (escaped markup) of what the curves did."""
        curves, parts = self.curves, []
        n = self.run.n_epochs
        if "loss" in curves and curves["loss"].notna().any():
            loss = curves["loss"].replace([np.inf, -np.inf], np.nan).dropna()
            if len(loss) >= 2:
                parts.append(f"training loss went from {fmt(loss.iloc[0])} to "
                             f"{fmt(loss.iloc[-1])}")
            elif len(loss) == 1:
                parts.append(f"training loss was {fmt(loss.iloc[0])}")
        epoch, value = self.best
        if epoch is not None and self.monitor:
            last = curves[self.monitor].replace([np.inf, -np.inf], np.nan).dropna().iloc[-1]
            parts.append(f"validation {esc(metric_words(self.monitor))} was best at "
                         f"{fmt(value)} in epoch {epoch} and ended at {fmt(last)}")
        if not parts:
            return f"The record holds {n} epoch{'s' if n != 1 else ''} and no usable loss or " \
                   "validation curve."
        return f"Over {n} epoch{'s' if n != 1 else ''}, " + "; ".join(parts) + "."
