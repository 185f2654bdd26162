"""One corpus case: raw data split, the recipe, the injected fault and the preprocessing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.corpus.sources import Source
from benchmarks.corpus.spec import Spec


@dataclass
class Case:
    """Data (raw until ``finalize``), recipe and labels of one training run."""

    case_id: str
    cause: str
    implementation: str
    source: Source
    severity: float
    seed: int
    spec: Spec
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    class_names: list[str]
    acceptable: str
    premise: bool = False
    description: str = ""
    post: list[Callable[[Case], None]] = field(default_factory=list)
    finalized: bool = False

    @property
    def layout(self) -> str:
        return self.source.layout

    def keep(self, part: str, rows: np.ndarray) -> None:
        """Keep only ``rows`` of the train or val split."""
        setattr(self, f"x_{part}", getattr(self, f"x_{part}")[rows])
        setattr(self, f"y_{part}", getattr(self, f"y_{part}")[rows])

    def relabel(self, classes: list[int]) -> None:
        """Keep only ``classes`` (in both splits) and renumber them 0..len-1."""
        lookup = {c: i for i, c in enumerate(classes)}
        for part in ("train", "val"):
            y = getattr(self, f"y_{part}")
            rows = np.flatnonzero(np.isin(y, classes))
            self.keep(part, rows)
            setattr(self, f"y_{part}", np.array([lookup[int(c)] for c in y[rows]], "int64"))
        self.class_names = [self.class_names[c] for c in classes]
        self.n_classes = len(classes)

    def finalize(self) -> None:
        """Preprocess with train statistics (as a correct pipeline would), then run the
        fault's post-preprocessing hooks."""
        if self.finalized:
            return
        if self.layout == "vector":
            mean = np.nanmean(self.x_train, 0)
            std = np.nanstd(self.x_train, 0) + 1e-6
            self.x_train = ((self.x_train - mean) / std).astype("float32")
            self.x_val = ((self.x_val - mean) / std).astype("float32")
        elif self.layout == "signal":
            mean, std = np.nanmean(self.x_train), np.nanstd(self.x_train) + 1e-6
            self.x_train = ((self.x_train - mean) / std).astype("float32")
            self.x_val = ((self.x_val - mean) / std).astype("float32")
        for hook in self.post:
            hook(self)
        self.finalized = True

    def record(self) -> dict[str, Any]:
        """The manifest fields of this case."""
        s = self.spec
        return {"case_id": self.case_id, "source": self.source.name,
                "source_kind": self.source.kind, "n_classes": self.n_classes,
                "n_train": len(self.y_train), "n_val": len(self.y_val),
                "class_balance": _balance(self.y_train, self.n_classes),
                "model_family": s.family, "optimizer": s.optimizer, "lr": s.lr,
                "schedule": s.schedule, "regularisation": s.regularisation(),
                "dropout": s.dropout, "batchnorm": int(s.batchnorm),
                "early_stopping": int(s.early_stopping), "class_weight": int(s.class_weight),
                "epochs": s.epochs, "batch_size": s.batch_size, "labels": s.labels,
                "metrics": "+".join(s.metrics), "cause": self.cause,
                "implementation": self.implementation, "severity": round(self.severity, 3),
                "seed": self.seed, "acceptable": self.acceptable,
                "premise": int(self.premise), "description": self.description}


def _balance(y: np.ndarray, k: int) -> float:
    """Smallest class share over largest (1 = balanced)."""
    counts = np.bincount(y, minlength=k)
    return round(float(counts.min() / max(counts.max(), 1)), 3)
