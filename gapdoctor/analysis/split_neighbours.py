"""Do the two splits' labels agree with each other as well as each agrees with itself?

In the model's representation (``dyn_embedding`` and ``dyn_val_embedding``: the same epoch,
the one of lowest validation loss, and the same projection) every sample's label is compared
with the labels of its ``k`` nearest samples of its own split (itself left out) and of the
other split. Each split keeps one row per distinct (representation, label), so repeated rows
do not vote for themselves, and both are drawn with the same number of rows of each class
(validation's class shares), so a neighbour lies as far in either and a difference in class
shares alone (a minority class in training) is no disagreement.

When both splits draw labels from one P(label | input), the agreement across the splits
follows from each split's label purity q (the share of rows carrying their region's label,
the rest spread over the other K - 1 classes): within a split two neighbours agree with
probability q^2 + (1 - q)^2 / (K - 1), across the splits q_t q_v + (1 - q_t)(1 - q_v) / (K - 1).
The purities are read back from the within-split agreements, so a model that fitted the
training rows better than the validation rows (a purer training side) does not read as
disagreement; the plain mean of the two within-split agreements would, by about
(q_t - q_v)^2 / 2.

Labels that differ between the splits in one region, consistently (look-alikes flipped
together, a cluster renamed, a boundary moved), leave each split agreeing with itself while
the two disagree: cross falls below what the purities predict by about the share of rows
in that region. Scattered wrong labels lower within_train and cross alike, so this fact is for the
consistent kind (the neighbour vote in :mod:`label_dynamics` catches the scattered kind).
Which split is wrong cannot be read from labels alone; inputs that differ between the splits
put cross-split neighbours further away and lower cross agreement too, so the rules gate
this fact by the domain classifier.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(800, 2)); y = (x[:, 0] > 0).astype(int)
    >>> same = split_neighbours(x[:400], y[:400], x[400:], y[400:])
    >>> abs(same.z) < 3
    True
    >>> wrong = y[:400].copy(); wrong[x[:400, 1] > 1] ^= 1   # a region renamed in training
    >>> split_neighbours(x[:400], wrong, x[400:], y[400:]).z > 5
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

POOL_MAX = 2000  # rows of each split per draw: neighbours of 2,000 x 2,000 rows stay cheap
DRAWS = 3  # training pools drawn when training is the larger split (their mean is steadier)
MIN_ROWS = 40  # fewer rows a split: a share of k neighbours is too coarse to compare


@dataclass(frozen=True)
class SplitNeighbours:
    """Mean share of a sample's neighbours carrying its label, within each split and across."""

    within_train: float
    within_val: float
    cross: float
    se: float  # bootstrap standard error of the excess
    n: int  # rows of each split per draw
    k: int
    n_classes: int
    domain_auc: float  # the two splits told apart by their neighbours in the representation
    within_se: float = float("nan")  # standard error of within_val - within_train

    @property
    def purity_lead(self) -> float:
        """How much more validation rows' neighbours agree with their labels than training
        rows' do, each within its own split: memorising training labels makes training
        neighbourhoods purer (negative); wrong training labels make them less pure."""
        return self.within_val - self.within_train

    @property
    def purity_lead_z(self) -> float:
        se = self.within_se
        return self.purity_lead / se if se == se and se > 0 else float("nan")

    @property
    def expected_cross(self) -> float:
        """Cross-split agreement if both splits label inputs alike (from their purities)."""
        return expected_cross(self.within_train, self.within_val, self.n_classes)

    @property
    def excess(self) -> float:
        return self.expected_cross - self.cross

    @property
    def z(self) -> float:
        return self.excess / self.se if self.se > 0 else float("nan")


def purity(agreement: float, n_classes: int) -> float:
    """The label purity q whose two draws agree with probability ``agreement``:
    q^2 + (1 - q)^2 / (K - 1) = agreement, solved for q >= 1/K (1/K at or below chance).

    Example:
        >>> round(purity(0.905, 2), 3), round(purity(1.0, 10), 3), round(purity(0.1, 10), 3)
        (0.95, 1.0, 0.1)
    """
    k = max(2, n_classes)
    inside = 1 - k + k * (k - 1) * agreement
    return (1 + math.sqrt(max(inside, 0.0))) / k


def expected_cross(within_train: float, within_val: float, n_classes: int) -> float:
    """Agreement across the splits when both label inputs alike, from each one's purity."""
    k = max(2, n_classes)
    qt, qv = purity(within_train, k), purity(within_val, k)
    return qt * qv + (1 - qt) * (1 - qv) / (k - 1)


def split_neighbours(train_emb: np.ndarray, train_labels: np.ndarray, val_emb: np.ndarray,
                     val_labels: np.ndarray, seed: int = 0) -> SplitNeighbours | None:
    """Within- against cross-split label agreement of nearest neighbours (cosine, after
    centring both splits on their common mean); None when a split has too few distinct rows."""
    from gapdoctor.analysis.features import distinct_rows

    t_emb, v_emb = _finite_rows(train_emb), _finite_rows(val_emb)
    t_lab, v_lab = np.asarray(train_labels).astype(np.int64), np.asarray(val_labels).astype(np.int64)
    if t_emb is None or v_emb is None or len(t_emb) != len(t_lab) or len(v_emb) != len(v_lab) \
            or t_emb.shape[1] != v_emb.shape[1]:
        return None
    t_keep, v_keep = distinct_rows(t_emb, t_lab), distinct_rows(v_emb, v_lab)
    t_emb, t_lab, v_emb, v_lab = t_emb[t_keep], t_lab[t_keep], v_emb[v_keep], v_lab[v_keep]
    quota = _class_quota(t_lab, v_lab)
    n = int(quota.sum())
    if n < MIN_ROWS:
        return None
    k = max(5, min(int(math.sqrt(n)), 25))
    rng = np.random.default_rng(seed)
    draws = DRAWS if len(t_lab) > n else 1
    v_rows = _draw(v_lab, quota, rng)
    parts, domain_auc = [], float("nan")
    for _ in range(draws):
        t_rows = _draw(t_lab, quota, rng)
        a, b = t_emb[t_rows], v_emb[v_rows]
        centre = np.concatenate([a, b]).mean(axis=0)
        a, b = _unit(a - centre), _unit(b - centre)
        la, lb = t_lab[t_rows], v_lab[v_rows]
        if not parts:
            domain_auc = _domain_auc(a, b, k)
        parts.append((_agreement(a, la, a, la, k, own=True), _agreement(b, lb, b, lb, k, own=True),
                      _agreement(a, la, b, lb, k, own=False), _agreement(b, lb, a, la, k, own=False)))
    n_classes = int(np.union1d(t_lab, v_lab).size)
    wt, wv, ct, cv = (float(np.mean([p[i].mean() for p in parts])) for i in range(4))
    return SplitNeighbours(wt, wv, (ct + cv) / 2, _bootstrap_se(parts[0], k, n_classes, rng),
                           n, k, n_classes, domain_auc, _within_se(parts[0], k))


def _within_se(part: tuple[np.ndarray, ...], k: int) -> float:
    """Standard error of the two within-split agreements' difference, rows taken as
    independent, never below one neighbour step's (the cross-split reading's floor)."""
    wt, wv = part[0], part[1]
    n = len(wt)
    spread = math.sqrt(float(np.var(wt, ddof=1) + np.var(wv, ddof=1)) / n) if n > 1 else 0.0
    return max(spread, 1.0 / k / math.sqrt(2 * n))


def _bootstrap_se(part: tuple[np.ndarray, ...], k: int, n_classes: int, rng: np.random.Generator,
                  repeats: int = 200) -> float:
    """Standard error of the excess over rows drawn again with replacement (each split's rows
    with both their agreements); a share of k neighbours moves in steps of 1/k, so the
    error is never read below one step's (splits that agree everywhere do not vary at all)."""
    wt, wv, ct, cv = part
    n = len(wt)
    values = np.empty(repeats)
    for i in range(repeats):
        t, v = rng.integers(0, n, n), rng.integers(0, n, n)
        values[i] = expected_cross(wt[t].mean(), wv[v].mean(), n_classes) \
            - (ct[t].mean() + cv[v].mean()) / 2
    return max(float(values.std(ddof=1)), 1.0 / k / math.sqrt(2 * n))


def _class_quota(t_lab: np.ndarray, v_lab: np.ndarray) -> np.ndarray:
    """Rows per class of both pools: validation's class shares, as many rows as both splits
    can fill (at most POOL_MAX). Equal class counts on both sides keep a difference in class
    shares (a minority class in training, a prior shift) from reading as disagreement: where
    two classes overlap, the majority of a region follows the shares."""
    classes = np.arange(int(max(t_lab.max(initial=0), v_lab.max(initial=0))) + 1)
    have_t = np.bincount(t_lab, minlength=len(classes))
    have_v = np.bincount(v_lab, minlength=len(classes))
    share = have_v / max(1, have_v.sum())
    fits = [have_t[c] / share[c] for c in classes if share[c] > 0]
    n = min(len(v_lab), POOL_MAX, int(min(fits)) if fits else 0)
    return np.minimum(np.floor(share * n).astype(np.int64), np.minimum(have_t, have_v))


def _draw(labels: np.ndarray, quota: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``quota[c]`` random rows of each class c, in random order: rows at equal
    distance (a representation with ties) are then taken at random, never by their place in
    the data, which may follow the labels."""
    rows = np.concatenate([rng.choice(np.flatnonzero(labels == c), q, replace=False)
                           for c, q in enumerate(quota) if q > 0])
    return rng.permutation(rows)


def _nearest(query: np.ndarray, ref: np.ndarray, k: int, own: bool,
             chunk: int = 1024) -> np.ndarray:
    """(len(query), k) positions in ``ref`` of each query row's ``k`` nearest rows (``own``:
    query and ref are the same rows, each leaves itself out)."""
    out = np.empty((len(query), k), dtype=np.int64)
    for start in range(0, len(query), chunk):
        rows = np.arange(start, min(len(query), start + chunk))
        sims = query[rows] @ ref.T
        if own:
            sims[np.arange(len(rows)), rows] = -np.inf
        out[rows] = np.argpartition(-sims, k, axis=1)[:, :k]
    return out


def _agreement(query: np.ndarray, q_labels: np.ndarray, ref: np.ndarray, r_labels: np.ndarray,
               k: int, own: bool) -> np.ndarray:
    """Per query row: the share of its ``k`` nearest ``ref`` rows carrying its label."""
    return (r_labels[_nearest(query, ref, k, own)] == q_labels[:, None]).mean(axis=1)


def _domain_auc(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """ROC AUC of telling the two pools apart by the share of ``b`` rows among each row's
    ``k`` nearest of both pools: 0.5 when the representation mixes the splits."""
    from sklearn.metrics import roc_auc_score

    both = np.concatenate([a, b])
    share = (_nearest(both, both, k, own=True) >= len(a)).mean(axis=1)
    return float(roc_auc_score(np.r_[np.zeros(len(a)), np.ones(len(b))], share))


def _finite_rows(emb: np.ndarray | None) -> np.ndarray | None:
    if not isinstance(emb, np.ndarray) or emb.ndim != 2 or not len(emb):
        return None
    emb = emb.astype(np.float32)
    return emb if np.isfinite(emb).all() else None


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)


def split_neighbours_of(run: object) -> SplitNeighbours | None:
    """The fact for a record (None without both representations), computed once per run."""
    arrays = getattr(run, "arrays", None) or {}
    cached = run.__dict__.get("_split_neighbours")
    key = (id(arrays.get("dyn_embedding")), id(arrays.get("dyn_val_embedding")))
    if cached is not None and cached[0] == key:
        return cached[1]
    fact = None
    if all(isinstance(arrays.get(name), np.ndarray) for name in
           ("dyn_embedding", "dyn_labels", "dyn_val_embedding", "val_labels")):
        fact = split_neighbours(arrays["dyn_embedding"], arrays["dyn_labels"],
                                arrays["dyn_val_embedding"], arrays["val_labels"])
    run.__dict__["_split_neighbours"] = (key, fact)
    return fact
