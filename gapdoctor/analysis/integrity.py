"""Validation columns that break the training data's schema: what a loader bug leaves and a
changed world rarely does.

A shift moves values: more of them here, fewer there. A bug on the validation path breaks the
column itself, the way data-validation tools (TFDV's schema checks, deepchecks' integrity
suite) read it:

- **stuck**: a column that varies in training is constant on validation, beyond what chance
  allows for that many rows (a flag parsed to one value, a category never matched);
- **point mass**: more than 10 % of validation rows share one value that under 1 % of
  training rows hold, beyond chance (a clip, a fill value, a failed parse turned into 0);
- **out of range**: more than 5 % of validation values lie beyond the training range by more
  than that range again, beyond chance (a byte order, a unit, a scale applied twice).

The last two need a training column that varies (under 90 % of its rows on one value).

Values training never shows are not a break by themselves: noise or blur on inputs with few
distinct values (8-bit pixels, counts) makes them too, and a small training sample misses
rare values of a column.

Only tables are checked (:func:`gapdoctor.analysis.inputs.integrity_of`): pixels, time steps,
token ids and randomly projected inputs are not columns with a schema.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x_tr = rng.normal(size=(300, 4)); x_va = rng.normal(size=(200, 4))
    >>> integrity(x_tr, x_va).share
    0.0
    >>> x_va[:, 0] = 0.0; x_va[:, 1] *= 1000
    >>> sorted(integrity(x_tr, x_va).broken)
    ['out of range', 'stuck']
    >>> x_va[:30, 2] = -1.0   # 15 % of the rows on one value training never holds
    >>> integrity(x_tr, x_va).describe()
    '3 of 4 columns: stuck (column 0); out of range (column 1); point mass (column 2)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_ROWS = 20          # per split: fewer finite values do not show a column's schema
MASS_SHARE = 0.10      # validation rows on one value ...
MASS_RARE = 0.01       # ... that this share of training rows at most holds
RANGE_SHARE = 0.05     # validation values beyond the training range by that range again
SPARSE = 0.9           # a training column this much on one value has no range to leave: a
                       # little noise on a mostly-blank pixel lands "far" beyond its few others
CHANCE = 1e-3          # a break must be this unlikely by chance, over all columns checked
# How the rules read the share of broken columns: one column in twenty is a start (a flag
# parsed wrong); from one in three the loader broke the split, not one field of it.
INTEGRITY_FACT = ("share of validation columns that break the training schema (constant where "
                  "training varies, piled on a value training hardly holds, or beyond twice "
                  "training's range), beyond chance")
INTEGRITY_RANGE = (0.05, 0.3)
# A column stuck on one value, or far beyond anything training holds, is a break a changed
# world hardly makes, however many other columns are intact (a date origin, a unit, a flag
# parsed to one value): counted per column, not as a share. A point mass is not one of them:
# a coarse instrument or an imputed outage piles values too.
HARD = ("stuck", "out of range")
HARD_FACT = ("validation columns stuck on one value where training varies, or beyond twice "
             "training's range, beyond chance (count)")
# Inputs that are no table (pixels, time steps, projected columns) have no per-column schema,
# but one range: a byte order, a decode into the wrong type or a scale applied twice carries
# most validation values past twice it; a changed world (fluorescence, a stronger baseline)
# lifts some values there, not most (fresh12's fluorescent stream: 6-8 % of the values).
FAR_FACT = ("share of validation input values beyond twice the training inputs' whole range "
            "(0.1-99.9 % quantiles)")
# from a fifth of the values (far above a shift's spikes), full at half (most of the inked ones)
FAR_RANGE = (0.2, 0.5)


@dataclass
class Integrity:
    """Columns checked, and per kind of break the columns that show it."""

    checked: int = 0
    broken: dict[str, list[int]] = field(default_factory=dict)

    @property
    def n_broken(self) -> int:
        return len({c for cols in self.broken.values() for c in cols})

    @property
    def n_hard(self) -> int:
        """Columns with a break of a :data:`HARD` kind."""
        return len({c for kind in HARD for c in self.broken.get(kind, [])})

    @property
    def share(self) -> float:
        """Share of checked columns with any break (NaN when none could be checked)."""
        return self.n_broken / self.checked if self.checked else float("nan")

    def kinds(self, limit: int = 3) -> str:
        """The breaks by kind, e.g. 'stuck (columns 4, 7); out of range (column 2)'."""
        parts = []
        for kind, cols in self.broken.items():
            shown = ", ".join(str(c) for c in cols[:limit]) + (", ..." if len(cols) > limit else "")
            parts.append(f"{kind} ({'column' if len(cols) == 1 else 'columns'} {shown})")
        return "; ".join(parts)

    def describe(self, limit: int = 3) -> str:
        """e.g. '3 of 12 columns: stuck (columns 4, 7); out of range (column 2)'."""
        found = self.kinds(limit)
        return f"{self.n_broken} of {self.checked} columns" + (f": {found}" if found else "")


def _unlikely(count: int, n: int, share: float, n_columns: int) -> bool:
    """``count`` of ``n`` validation rows or more, at a training share of ``share`` (at least
    one training row's worth): unlikely by chance in any of ``n_columns`` columns."""
    from scipy.stats import binom  # lazy: the analysis modules load without scipy.stats

    return bool(binom.sf(count - 1, n, share) < CHANCE / n_columns)


def _break(a: np.ndarray, b: np.ndarray, n_columns: int) -> str | None:
    """The first break column ``b`` (validation) shows against ``a`` (training), or None."""
    floor = 1.0 / len(a)
    found, counts = np.unique(b, return_counts=True)
    top = int(counts.argmax())
    share = max(float(np.mean(a == found[top])), floor)
    _, train_counts = np.unique(a, return_counts=True)
    if len(found) == 1 and len(train_counts) > 1 and _unlikely(len(b), len(b), share, n_columns):
        return "stuck"
    if train_counts.max() >= SPARSE * len(a):
        return None
    if counts[top] / len(b) > MASS_SHARE and share < MASS_RARE and \
            _unlikely(int(counts[top]), len(b), share, n_columns):
        return "point mass"
    lo, hi = float(a.min()), float(a.max())
    span = hi - lo
    far = int(np.sum((b < lo - span) | (b > hi + span)))
    if span > 0 and far / len(b) > RANGE_SHARE and _unlikely(far, len(b), floor, n_columns):
        return "out of range"
    return None


def integrity(x_train: np.ndarray, x_val: np.ndarray) -> Integrity:
    """Column by column, the breaks of ``x_val`` against ``x_train`` (2-D, same columns)."""
    x_train, x_val = np.asarray(x_train, float), np.asarray(x_val, float)
    out = Integrity()
    n_columns = x_train.shape[1] if x_train.ndim == 2 else 0
    for j in range(n_columns):
        a, b = x_train[:, j], x_val[:, j]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) < MIN_ROWS or len(b) < MIN_ROWS:
            continue
        out.checked += 1
        kind = _break(a, b, n_columns)
        if kind is not None:
            out.broken.setdefault(kind, []).append(j)
    return out


def far_values(x_train: np.ndarray, x_val: np.ndarray) -> float:
    """Share of finite validation values beyond the training values' range (their 0.1 and 99.9
    percentiles) widened by that range on each side; NaN with too few values or no range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((200, 64))
        >>> far_values(x, x[:50] * 1.5), round(far_values(x, x[:50] * 256), 2)
        (0.0, 0.99)
    """
    a, b = np.asarray(x_train, float).ravel(), np.asarray(x_val, float).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < MIN_ROWS or len(b) < MIN_ROWS:
        return float("nan")
    lo, hi = np.quantile(a, [0.001, 0.999])
    span = float(hi - lo)
    if span <= 0:
        return float("nan")
    return float(np.mean((b < lo - span) | (b > hi + span)))
