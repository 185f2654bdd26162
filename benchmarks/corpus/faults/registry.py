"""The registry of fault implementations and small helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.corpus.case import Case

ALL_LAYOUTS = ("vector", "image", "signal", "tokens")
# GRUs are the slow family: kept out of the long-training implementations
NO_GRU = ("linear", "mlp", "cnn2d", "cnn1d", "embed")
# sources so easy that a small training set still generalises (no overfitting story)
EASY = ("iris", "wine", "blobs_k4", "breast_cancer", "biopsy", "penguins")


@dataclass(frozen=True)
class Impl:
    """One way of injecting one cause, and where it applies."""

    id: str
    fn: Callable[[Case, float, np.random.Generator], None]
    count: int
    layouts: tuple[str, ...] = ALL_LAYOUTS
    families: tuple[str, ...] | None = None   # None: any family the layout allows
    classes: str = "any"                      # any | multi (>= 3) | binary
    sources: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()             # sources where the fault would not bite
    acceptable: str | None = None             # None: the cause alone
    premise: bool = False
    full_train: bool = False                  # keep the whole training split
    knob: str = ""

    @property
    def cause(self) -> str:
        return self.id.split("/")[0]

    @property
    def doc(self) -> str:
        return " ".join((self.fn.__doc__ or "").split())


IMPLEMENTATIONS: dict[str, Impl] = {}


def registrar(registry: dict[str, Impl]) -> Callable:
    """A decorator factory ``implementation(impl_id, count, **kwargs)`` that registers the
    decorated function into ``registry`` (each fresh set keeps a registry of its own)."""
    def implementation(impl_id: str, count: int, **kwargs: object) -> Callable:
        """Register the decorated function as implementation ``impl_id``."""
        def register(fn: Callable) -> Callable:
            registry[impl_id] = Impl(impl_id, fn, count, **kwargs)  # type: ignore[arg-type]
            return fn
        return register
    return implementation


implementation = registrar(IMPLEMENTATIONS)


def lerp(severity: float, mild: float, strong: float) -> float:
    """The knob value at ``severity`` between its mild and strong ends."""
    return mild + (strong - mild) * float(severity)


def features(case: Case, x: np.ndarray) -> np.ndarray:
    """A 2-D float view of inputs for geometry (tokens: bucketed token counts), z-scored with
    training statistics of the same view."""
    def view(a: np.ndarray) -> np.ndarray:
        if case.layout == "tokens":
            buckets = (a.astype(int) * 24) // max(case.source.vocab, 1)
            return np.stack([(buckets == b).sum(1) for b in range(24)], 1).astype(float)
        return np.nan_to_num(a.reshape(len(a), -1).astype(float))
    ref = view(case.x_train)
    return (view(x) - ref.mean(0)) / (ref.std(0) + 1e-6)


def projection(case: Case, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train and val inputs projected on a random mix of the top-3 principal directions."""
    from sklearn.decomposition import PCA

    ft, fv = features(case, case.x_train), features(case, case.x_val)
    pca = PCA(n_components=min(3, ft.shape[1]), random_state=case.seed).fit(ft)
    w = rng.normal(0, 1, pca.n_components_) * np.array([1.0, 0.6, 0.4][:pca.n_components_])
    return pca.transform(ft) @ w, pca.transform(fv) @ w


def pool(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """Both splits joined (for faults that redraw the split)."""
    return (np.concatenate([case.x_train, case.x_val]),
            np.concatenate([case.y_train, case.y_val]))


def set_split(case: Case, x: np.ndarray, y: np.ndarray, is_val: np.ndarray) -> None:
    """Replace the split by ``is_val`` over the pooled rows."""
    case.x_train, case.y_train = x[~is_val], y[~is_val]
    case.x_val, case.y_val = x[is_val], y[is_val]


def other_class(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly drawn different class for each label."""
    return (y + rng.integers(1, k, size=len(y))) % k
