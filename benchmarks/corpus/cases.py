"""The corpus design: which implementation runs on which source and model family, with
which severity and recipe; and ``build_case``, which turns a plan into data and a recipe.

The design is seeded and balanced (every implementation cycles through its compatible
sources and families), not a full grid. Listing it needs no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.faults import IMPLEMENTATIONS, Impl
from benchmarks.corpus.sources import SOURCES, load_source
from benchmarks.corpus.spec import FAMILIES, Spec

CAUSES = ("healthy", "overfitting", "label_noise", "metric_mismatch", "distribution_shift",
          "subgroup_underfitting", "pipeline_bug", "small_validation_set", "optimization",
          "metric_saturation")
BIG = ("clf_k20_big", "credit_default")
MAX_TRAIN, MAX_VAL = 2000, 600
NOT_LINEAR = ("circles", "textures16")   # no linear model can learn these


@dataclass(frozen=True)
class Plan:
    """What one case is, before any data is made."""

    case_id: str
    implementation: str
    source: str
    family: str
    severity: float
    seed: int


def compatible(impl: Impl, names: list[str] | None = None,
               not_linear: tuple[str, ...] = NOT_LINEAR) -> list[tuple[str, tuple[str, ...]]]:
    """(source, families) pairs an implementation can run on, among ``names`` (default: its
    own sources, or every corpus source it does not exclude); no linear model on
    ``not_linear`` sources."""
    out = []
    for name in names if names is not None else (
            impl.sources or [s for s in SOURCES if s not in impl.exclude]):
        src = load_source(name, 0)
        families = tuple(f for f in FAMILIES[src.layout]
                         if (impl.families is None or f in impl.families)
                         and not (f == "linear" and name in not_linear))
        if src.layout not in impl.layouts or not families:
            continue
        if (impl.classes == "multi" and src.n_classes < 3) or (
                impl.classes == "binary" and src.n_classes != 2):
            continue
        out.append((name, families))
    return out


# the big sources join only a few implementations (their runs are the slow ones)
ALLOW_BIG = ("healthy/large", "label_noise/uniform", "distribution_shift/input_noise",
             "small_validation_set/random", "metric_mismatch/rare_recall",
             "pipeline_bug/remapped_labels", "optimization/lr_high")
# layouts in rotation (tabular twice), and the families a layout prefers
LAYOUT_TURNS = ("vector", "image", "vector", "signal", "tokens")
PREFERRED = {"cnn2d": 3, "cnn1d": 2, "mlp": 2, "embed": 1, "gru": 1, "linear": 1}


def _order(pairs: list[tuple[str, tuple[str, ...]]], count: int,
           rng: np.random.Generator) -> list[tuple[str, tuple[str, ...]]]:
    """``count`` (source, families) picks: layouts in turn, sources in turn within each."""
    from benchmarks.corpus.sources import _LAYOUT

    by_layout: dict[str, list] = {}
    for pair in pairs:
        by_layout.setdefault(_LAYOUT[pair[0]], []).append(pair)
    for group in by_layout.values():
        rng.shuffle(group)
    turns = [t for t in LAYOUT_TURNS if t in by_layout]
    start = int(rng.integers(len(turns)))
    used = dict.fromkeys(by_layout, 0)
    order = []
    for i in range(count):
        layout = turns[(start + i) % len(turns)]
        group = by_layout[layout]
        order.append(group[used[layout] % len(group)])
        used[layout] += 1
    return order


def design(seed: int = 0) -> list[Plan]:
    """Every case of the corpus, in a fixed order."""
    plans = []
    for k, impl in enumerate(IMPLEMENTATIONS.values()):
        rng = np.random.default_rng([seed, k])
        pairs = [p for p in compatible(impl) if impl.id in ALLOW_BIG or p[0] not in BIG]
        order = _order(pairs, impl.count, rng)
        strata = rng.permutation(impl.count)
        for i in range(impl.count):
            source, families = order[i]
            weights = np.array([PREFERRED[f] for f in families], float)
            family = str(rng.choice(families, p=weights / weights.sum()))
            severity = float((strata[i] + rng.random()) / impl.count)
            case_id = f"{impl.id.replace('/', '.')}-{source}-{family}-{i:02d}"
            plans.append(Plan(case_id, impl.id, source, family, round(severity, 3),
                              seed * 1000 + k * 37 + i))
    return plans


def _base_spec(family: str, binary: bool, imbalance: float, n_train: int,
               rng: np.random.Generator) -> Spec:
    """A random, sensible recipe (what a practitioner might have written)."""
    s = Spec(family=family)
    s.width = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
    s.depth = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
    if family != "linear":
        s.dropout = float(rng.uniform(0.1, 0.4)) if rng.random() < 0.3 else 0.0
        s.batchnorm = bool(rng.random() < 0.25)
    s.optimizer = str(rng.choice(["adam", "sgd", "rmsprop", "adamw"], p=[0.4, 0.2, 0.2, 0.2]))
    s.lr = {"adam": 1e-3 * rng.uniform(1, 3), "sgd": rng.uniform(0.01, 0.05),
            "rmsprop": 1e-3, "adamw": 1e-3 * rng.uniform(1, 2)}[s.optimizer]
    if family in ("embed", "gru"):
        s.optimizer, s.lr = "adam", 3e-3
    s.schedule = str(rng.choice(["constant", "cosine", "plateau"], p=[0.5, 0.25, 0.25]))
    s.epochs = int(rng.integers(8, 17)) if family != "gru" else int(rng.integers(6, 11))
    if rng.random() < 0.2:
        s.early_stopping, s.patience = True, int(rng.integers(4, 7))
        s.epochs = min(2 * s.epochs, 40)
    sizes = [b for b in (32, 64, 128) if n_train / b >= 10] or [16]
    s.batch_size = int(rng.choice(sizes))
    if (n_train < 400 or family == "linear") and s.optimizer != "sgd":
        s.lr *= 3   # enough progress in a few hundred steps
    if binary:
        s.set_binary(bool(rng.random() < 0.5))
    elif rng.random() < 0.3:
        s.labels = "onehot"
    s.class_weight = bool(imbalance > 2 and s.labels != "onehot" and rng.random() < 0.4)
    if binary and imbalance > 5:   # accuracy alone would sit at the majority rate
        s.set_binary(True)
        s.metrics = ["auc", "accuracy"]
    return s


def _split(x: np.ndarray, y: np.ndarray, seed: int, large: bool, full: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    n_val = min(MAX_VAL if not large else 2 * MAX_VAL, max(int(0.25 * len(y)), 30))
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=n_val, stratify=y,
                                              random_state=seed)
    rng = np.random.default_rng(seed)
    cap = len(y_tr) if large else MAX_TRAIN
    n = len(y_tr) if large or full or rng.random() < 0.5 else int(rng.uniform(0.3, 0.8) * len(y_tr))
    keep = np.sort(rng.permutation(len(y_tr))[: max(min(n, cap), min(50, len(y_tr)))])
    return x_tr[keep], y_tr[keep], x_va, y_va


def build_case(plan: Plan, registry: dict[str, Impl] | None = None) -> Case:
    """Data (preprocessed, fault injected) and recipe of ``plan``; ``registry`` holds its
    implementation when that is not the corpus's (benchmarks/fresh2)."""
    impl = (registry or IMPLEMENTATIONS)[plan.implementation]
    src = load_source(plan.source, plan.seed % 2)
    rng = np.random.default_rng(plan.seed)
    x_tr, y_tr, x_va, y_va = _split(src.x, src.y, plan.seed, impl.id == "healthy/large",
                                    impl.full_train)
    spec = _base_spec(plan.family, src.n_classes == 2, src.imbalance, len(y_tr), rng)
    case = Case(plan.case_id, impl.cause, impl.id, src, plan.severity, plan.seed, spec,
                x_tr, y_tr, x_va, y_va, src.n_classes, list(src.class_names),
                acceptable=impl.acceptable or impl.cause, premise=impl.premise)
    impl.fn(case, plan.severity, rng)
    case.finalize()
    steps = int(np.ceil(len(case.y_train) / case.spec.batch_size))
    case.spec.decay_steps = max(1, steps * case.spec.epochs)
    return case
