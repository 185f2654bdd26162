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

import numpy as np
import pandas as pd

MIN_ROWS = 20  # fewer rows than this give no usable rate


def row_keys(x: np.ndarray) -> list[bytes]:
    """One key per row, equal for exactly equal rows (as float32)."""
    flat = np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(len(x), -1))
    return [row.tobytes() for row in flat]


def within_duplicate_share(x: np.ndarray | None) -> float:
    """Share of the rows of ``x`` that equal another row exactly (NaN without enough rows)."""
    if not isinstance(x, np.ndarray) or x.ndim < 1 or len(x) < MIN_ROWS:
        return float("nan")
    return float(pd.Series(row_keys(x)).duplicated(keep=False).mean())
