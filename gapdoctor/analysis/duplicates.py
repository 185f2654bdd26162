"""How often training rows repeat each other exactly: the data's own duplicate rate.

Data with a few discrete features (ratings 1-10, counts, categories) repeats whole rows:
in MASS::biopsy 40-54 % of training rows have an exact twin. A random split then puts
that share of validation rows "also in training" without any leak. A leak shows as
validation rows found in training beyond this rate.

Example:
    >>> x = np.arange(40, dtype="float32").reshape(20, 2)
    >>> x[1] = x[0]   # one pair of twins among 20 rows
    >>> within_duplicate_share(x)
    0.1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_ROWS = 20  # fewer rows than this give no usable rate


def row_keys(x: np.ndarray) -> list[bytes]:
    """One key per row, equal for exactly equal rows (as float32; text as its characters).

    Example:
        >>> row_keys(np.array([[b"a b"], [b"a b"]]))[0] == row_keys(np.array([["a b"]]))[0]
        True
    """
    x = np.asarray(x)
    if x.dtype.kind in "USO":  # text: bytes from tf.data, str from numpy, or objects
        rows = x.reshape(len(x), -1)
        return ["\x1f".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                             for v in row).encode("utf-8") for row in rows]
    flat = np.ascontiguousarray(x.astype(np.float32).reshape(len(x), -1))
    return [row.tobytes() for row in flat]


def within_duplicate_share(x: np.ndarray | None) -> float:
    """Share of the rows of ``x`` that equal another row exactly (NaN without enough rows)."""
    if not isinstance(x, np.ndarray) or x.ndim < 1 or len(x) < MIN_ROWS:
        return float("nan")
    return float(pd.Series(row_keys(x)).duplicated(keep=False).mean())


@dataclass(frozen=True)
class LeakShares:
    """Validation rows found in training, against the rate the data repeats itself.

    ``counted``: validation rows with an exact twin among all training rows scanned;
    ``share``: the same among the rows ``basis`` names; ``natural``: training rows with a
    twin among as many training rows; ``excess``: ``share`` beyond ``natural``."""

    counted: float
    share: float
    natural: float
    excess: float
    basis: str


def leak_shares(meta_data: dict, n_val: int | None, x_train: np.ndarray | None,
                x_val: np.ndarray | None) -> LeakShares:
    """The leak evidence of a record, each rate counted among the same number of rows.

    A twin is likelier among 2,000 rows than among 512: the callback counts validation rows
    against all the training rows it scanned, so the data's own rate must come from as many.
    Records from before the callback counted that rate (``duplicates_within_train``) hold
    only a sample of training rows; when the sample is smaller than the training set, both
    rates are taken within the recorded rows (a leak then shows diluted by the sample's
    share, but natural repeats do not read as one).
    """
    nan = float("nan")
    dup = meta_data.get("duplicates_val_in_train")
    if not isinstance(dup, (int, float)) or not n_val:
        return LeakShares(nan, nan, nan, nan, "")
    share = dup / n_val
    within, rows = meta_data.get("duplicates_within_train"), meta_data.get("duplicates_train_rows")
    if isinstance(within, (int, float)) and isinstance(rows, (int, float)) and rows > 0:
        natural = within / rows
        return LeakShares(share, share, natural, share - natural, "all scanned training rows")
    natural = within_duplicate_share(x_train)
    if not np.isfinite(natural):
        return LeakShares(share, share, nan, share, "no training sample to compare")
    n_train = meta_data.get("n_train")
    if isinstance(n_train, (int, float)) and n_train <= len(x_train):
        return LeakShares(share, share, natural, share - natural, "all training rows")
    if not isinstance(x_val, np.ndarray) or len(x_val) < MIN_ROWS:
        return LeakShares(share, share, natural, share - natural, "a training sample")
    recorded = set(row_keys(x_train))
    in_sample = float(np.mean([key in recorded for key in row_keys(x_val)]))
    return LeakShares(share, in_sample, natural, in_sample - natural,
                      f"the {len(x_train)} recorded training rows")
