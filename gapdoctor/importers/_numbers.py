"""Numbers as real logs store them: plain, as strings, or as the repr of a framework scalar.

``json.dump(history, default=str)`` is the usual workaround for float32 values and writes
``"0.27"``; printing a numpy or torch scalar writes ``"np.float32(0.27)"`` or
``"tensor(0.2700, grad_fn=<...>)"``. All of these are read as the number they show.
Integers too large for a float (310+ digits) become +-inf instead of raising OverflowError.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_FORMS = (
    re.compile(rf"\s*(?P<n>{_NUM})\s*", re.I),
    # np.float32(0.27), tensor(0.27, device='cuda:0'), Decimal('0.27'), array(0.27, ...)
    re.compile(rf"\s*[A-Za-z_][\w.]*\(\s*['\"]?(?P<n>{_NUM})['\"]?\s*(?:,[^\n]*)?\)\s*", re.I),
    # <tf.Tensor: shape=(), dtype=float32, numpy=0.27>
    re.compile(rf"\s*<tf\.Tensor:[^>]*numpy=(?P<n>{_NUM})\s*>\s*", re.I),
)
_MAX_TEXT = 200  # longer strings are not numbers a logger wrote


def parse_number_text(text: str) -> float | None:
    """The number a string shows (``"0.27"``, ``"np.float32(0.27)"``, ...), else None."""
    if len(text) > _MAX_TEXT:
        return None
    for form in _FORMS:
        match = form.fullmatch(text)
        if match:
            return float(match.group("n"))
    return None


def int_to_float(value: int) -> float:
    """``float(value)``, or +-inf for an integer beyond the float range."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_float(value: Any) -> float | None:
    """A JSON value as a float: numbers, numeric strings; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int_to_float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return parse_number_text(value)
    return None


def numeric_series(series: pd.Series) -> tuple[pd.Series, bool]:
    """A column of strings as floats (NaN where not a number) and whether any cell needed
    the string forms (``np.float32(...)``, ``tensor(...)``) to be read."""
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.dtype.kind not in "f":
        numeric = pd.Series([to_float(v) if isinstance(v, str) else
                             (int_to_float(v) if isinstance(v, int) else v)
                             for v in numeric], index=series.index, dtype=object)
        numeric = pd.to_numeric(numeric, errors="coerce").astype(float)
    bad = series.notna() & numeric.isna()
    if not bad.any():
        return numeric.astype(float), False
    parsed = series[bad].map(lambda v: parse_number_text(str(v)))
    if parsed.isna().all():
        return numeric.astype(float), False
    numeric = numeric.astype(float).copy()
    numeric[bad] = parsed.astype(float)
    return numeric, True


def is_finite_int(value: float, limit: float = 1e9) -> bool:
    """Whether ``value`` is a whole number in [0, limit): a plausible epoch number."""
    return bool(np.isfinite(value)) and value == int(value) and 0 <= value < limit
