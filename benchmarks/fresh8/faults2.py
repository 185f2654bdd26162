"""Fault implementations of the eighth fresh test set, part 2: optimization,
small_validation_set, subgroup_underfitting, metric_saturation and healthy runs. They
register into ``benchmarks.fresh8.faults.IMPLEMENTATIONS`` (see that module's docstring).
"""

from __future__ import annotations

import numpy as np

from benchmarks.corpus.case import Case
from benchmarks.corpus.cases import MAX_TRAIN
from benchmarks.corpus.faults.registry import lerp
from benchmarks.fresh5.faults import bare, extra  # the same recipe helpers
from benchmarks.fresh6.faults2 import sized, small  # the same recipe helpers
from benchmarks.fresh7.faults import continuous_columns  # the same data helper
from benchmarks.fresh7.faults2 import plain, pooled, steps_per_epoch  # the same helpers
from benchmarks.fresh8.faults import ACTIONS, FILLER, NO_GRU, OBJECTS, implementation

# == optimization ==============================================================================

@implementation("optimization/sorted_no_shuffle", count=2, families=NO_GRU,
                knob="Adam lr 1e-3 - 5e-3")
def sorted_no_shuffle(case: Case, severity: float, rng: np.random.Generator) -> None:
    """The training file is sorted by label (exported ``ORDER BY label``) and fed with
    ``shuffle=False`` (a streaming loader): every batch holds one class, so each epoch the
    model is pulled towards one class after another and ends pointing at the last one."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr, s.class_weight = "adam", lerp(severity, 1e-3, 5e-3), False
    order = np.argsort(case.y_train, kind="stable")
    case.keep("train", order)
    extra(case)["no_shuffle"] = True
    case.description = f"training sorted by label, shuffle=False, Adam {s.lr:.1e}"


@implementation("optimization/decay_scaled", count=2, families=NO_GRU,
                knob="AdamW weight_decay 5-60 (lr 2e-3)")
def decay_scaled(case: Case, severity: float, rng: np.random.Generator) -> None:
    """An L2 coefficient converted for AdamW by multiplying it by the number of training
    rows (``weight_decay = lam * N``): the decoupled decay shrinks every weight by
    lr x weight_decay (1-12 %) per step and pins the weights near zero; the logged loss has
    no penalty term (it is the true loss)."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adamw", 2e-3
    wd = lerp(severity, 5.0, 60.0)
    extra(case)["optimizer"] = ("adamw", {"weight_decay": wd})
    case.description = f"AdamW 2e-3 with weight_decay {wd:.0f}"


@implementation("optimization/swapped_betas", count=2, families=NO_GRU,
                knob="Adam lr 3e-3 - 2e-2 with beta_1 0.999, beta_2 0.9")
def swapped_betas(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``Adam(beta_1=0.999, beta_2=0.9)``: the two decay rates typed the wrong way round.
    The first moment averages a thousand steps (stale directions) while the second moment
    forgets within ten, so steps are mis-sized and training oscillates."""
    plain(case)
    s = case.spec
    s.optimizer, s.lr = "adam", float(10 ** lerp(severity, np.log10(3e-3), np.log10(2e-2)))
    extra(case)["optimizer"] = ("adam", {"beta_1": 0.999, "beta_2": 0.9})
    case.description = f"Adam {s.lr:.1e} with beta_1=0.999, beta_2=0.9"


# == small_validation_set ======================================================================

@implementation("small_validation_set/validation_split_fraction", count=2,
                knob="validation rows 50-15 (validation_split ~0.5-2 %)")
def validation_split_fraction(case: Case, severity: float, rng: np.random.Generator) -> None:
    """``model.fit(x, y, validation_split=f)`` with ``f`` written as 0.01 where 0.1 was meant:
    Keras holds out the last ``f`` of the (shuffled at load) arrays, 15-50 rows; the rest
    trains."""
    x, y = pooled(case)
    n = max(int(round(lerp(severity, 50, 15))), case.n_classes)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    tr = np.arange(len(y) - n)[:MAX_TRAIN]
    case.x_train, case.y_train = x[tr], y[tr]
    case.x_val, case.y_val = x[-n:], y[-n:]
    case.description = f"validation_split={n / len(y):.3f}: the last {n} rows"


@implementation("small_validation_set/eval_buffer", count=2, knob="buffer length 48-16")
def eval_buffer(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Validation rows are collected in a ``collections.deque(maxlen=k)`` meant as a batch
    buffer, so only the last ``k`` (16-48) held-out records of the (random-order) stream
    remain for evaluation; training is untouched."""
    k = int(round(lerp(severity, 48, 16)))
    order = rng.permutation(len(case.y_val))
    case.keep("val", np.sort(order[-k:]))
    case.description = f"validation = the last {k} held-out records"


# == subgroup_underfitting =====================================================================

@implementation("subgroup_underfitting/legacy_units", count=3, layouts=("vector", "signal"),
                families=("linear", "mlp", "cnn1d"), knob="legacy share 20 %-10 %; epochs 15-6")
def legacy_units(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the records (both splits alike) come from a legacy system: tables store
    the continuous fields in other units (x0.1), the old vibration sensor has a quarter of
    the gain and the opposite polarity. A small model trained briefly fits the main system
    and under-fits the legacy sub-group."""
    share = lerp(severity, 0.20, 0.10)
    cols = continuous_columns(case.x_train) if case.layout == "vector" else None
    mid = float(np.mean(case.x_train))
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").astype("float32").copy()
        rows = rng.random(len(x)) < share
        if case.layout == "vector":
            x[np.ix_(rows, cols)] *= 0.1
        else:
            x[rows] = mid - 0.25 * (x[rows] - mid)
        setattr(case, f"x_{part}", x)
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    small(case, int(round(lerp(severity, 15, 6))))
    case.description = f"{share:.0%} legacy records in both splits; small model"


@implementation("subgroup_underfitting/second_language", count=2, sources=("tokens_intent",),
                families=("embed",), knob="second-language share 25 %-10 %; epochs 12-6")
def second_language(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A share of the users (both splits alike) give their commands in a second language:
    its action and object words are other ids (taken from the rare end of the filler
    vocabulary). A small model trained briefly learns the main language's words and
    under-fits the second language."""
    share = lerp(severity, 0.25, 0.10)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        rows = np.flatnonzero(rng.random(len(x)) < share)
        sub = x[rows]
        act = (sub >= ACTIONS[0]) & (sub < ACTIONS[1])
        obj = (sub >= OBJECTS[0]) & (sub < OBJECTS[1])
        sub[act] = sub[act] - ACTIONS[0] + 216
        sub[obj] = sub[obj] - OBJECTS[0] + 204
        x[rows] = sub
        setattr(case, f"x_{part}", x.astype("int32"))
    case.spec.set_binary(False)
    case.spec.labels, case.spec.metrics = "sparse", ["accuracy"]
    small(case, int(round(lerp(severity, 12, 6))))
    case.description = f"{share:.0%} of commands in a second language; small model"


# == metric_saturation =========================================================================

def _target(case: Case, names: list[str], epochs: int) -> None:
    case.n_classes, case.class_names = 2, names
    case.spec.labels, case.spec.output, case.spec.metrics = "sparse", "softmax", ["accuracy"]
    bare(case, epochs=epochs)


@implementation("metric_saturation/shuffled_columns_detector", count=3,
                sources=("ripple16", "bearing", "fishing_mode"),
                families=("mlp", "cnn2d", "cnn1d"), knob="epochs 30-60")
def shuffled_columns_detector(case: Case, severity: float, rng: np.random.Generator) -> None:
    """A synthetic-data check: half the rows of both splits are replaced by 'synthetic'
    records made by drawing every column (pixel, sample) independently from the training
    rows (a column-wise shuffle that keeps every marginal and breaks every dependence); the
    target is real vs synthetic. Easy, so at its ceiling early; trained far past it."""
    pool = case.x_train.copy()
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        fake = rng.random(len(x)) < 0.5
        flat = x.reshape(len(x), -1)
        src = pool.reshape(len(pool), -1)
        idx = rng.integers(0, len(src), (int(fake.sum()), flat.shape[1]))
        flat[fake] = src[idx, np.arange(flat.shape[1])[None, :]]
        setattr(case, f"x_{part}", flat.reshape(x.shape).astype(x.dtype))
        setattr(case, f"y_{part}", fake.astype("int64"))
    _target(case, ["real", "synthetic"], int(round(lerp(severity, 30, 60))))
    case.description = f"real vs column-shuffled records, {case.spec.epochs} epochs"


@implementation("metric_saturation/language_id", count=3, sources=("tokens_intent",),
                knob="epochs 30-60")
def language_id(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Language identification: half the commands of both splits are in a second language
    whose filler words are the same ids in another frequency order (a fixed permutation of
    the filler vocabulary); the target is the language. Word frequencies give it away
    almost perfectly; trained far past the ceiling."""
    vocab = case.source.vocab
    mapping = np.arange(vocab)
    mapping[FILLER:] = FILLER + rng.permutation(vocab - FILLER)
    for part in ("train", "val"):
        x = getattr(case, f"x_{part}").copy()
        other = rng.random(len(x)) < 0.5
        x[other] = mapping[x[other]]
        setattr(case, f"x_{part}", x.astype("int32"))
        setattr(case, f"y_{part}", other.astype("int64"))
    _target(case, ["first", "second"], int(round(lerp(severity, 30, 60))))
    case.description = f"which of two languages, {case.spec.epochs} epochs"


# == healthy ===================================================================================

def _healthy(case: Case, name: str, lr: float, epochs: int, **kwargs: object) -> None:
    sized(case)
    s = case.spec
    s.optimizer, s.lr, s.schedule, s.epochs, s.early_stopping = name, lr, "constant", epochs, False
    extra(case)["optimizer"] = (name, dict(kwargs))


@implementation("healthy/adafactor", count=3, full_train=True, knob="lr 1e-3 - 3e-3")
def adafactor(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adafactor (factored second moments) at a constant 1e-3 - 3e-3, 15 epochs."""
    lr = lerp(severity, 1e-3, 3e-3)
    _healthy(case, "adafactor", lr, 15)
    case.description = f"Adafactor {lr:.1e}, 15 epochs"


@implementation("healthy/lamb", count=3, full_train=True, knob="lr 1e-3 - 4e-3")
def lamb(case: Case, severity: float, rng: np.random.Generator) -> None:
    """LAMB (layer-wise trust ratios on Adam updates) at a constant 1e-3 - 4e-3, 15 epochs."""
    lr = lerp(severity, 1e-3, 4e-3)
    _healthy(case, "lamb", lr, 15)
    case.description = f"LAMB {lr:.1e}, 15 epochs"


@implementation("healthy/inverse_time", count=2, full_train=True,
                knob="rate halves after 2-6 epochs")
def inverse_time(case: Case, severity: float, rng: np.random.Generator) -> None:
    """Adam from 2e-3 with inverse-time decay (lr / (1 + t / T), T = 2-6 epochs), 16 epochs."""
    _healthy(case, "adam", 2e-3, 16)
    epochs = int(round(lerp(severity, 2, 6)))
    case.spec.schedule = "inverse_time"
    extra(case)["schedule"] = ("inverse_time", epochs * steps_per_epoch(case), 1.0)
    case.description = f"Adam 2e-3, inverse-time decay (halved after {epochs} epochs), 16 epochs"


@implementation("healthy/gelu", count=2, full_train=True, families=("mlp", "cnn2d", "cnn1d"),
                knob="epochs 10-20")
def gelu(case: Case, severity: float, rng: np.random.Generator) -> None:
    """GELU hidden activations (a transformer habit) with Adam 1e-3, constant."""
    epochs = int(round(lerp(severity, 10, 20)))
    _healthy(case, "adam", 1e-3, epochs)
    extra(case)["activation"] = "gelu"
    case.description = f"GELU activations, Adam 1e-3, {epochs} epochs"
