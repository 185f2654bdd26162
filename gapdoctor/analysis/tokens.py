"""Token-id inputs read as what they mean: which tokens a sequence holds, not their id values.

A model whose first layer is an ``Embedding`` reads its inputs as ids. Compared as numbers
(id 17 "close to" id 18, position by position), two splits of one distribution and two
different ones look alike, and a linear reference model is near chance. A bag of tokens
(each id's share of the sequence, ids beyond ``MAX_VOCAB`` hashed into it) gives the
domain classifier and the reference model the representation a text practitioner would
use first.

Example:
    >>> bag_of_tokens(np.array([[1, 1, 2], [0, 2, 2]]), 3).round(2).tolist()
    [[0.0, 0.67, 0.33], [0.33, 0.0, 0.67]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Columns of the bag: enough for the vocabularies of small text models without hashing;
# larger ones share columns (ids modulo this), which keeps frequent tokens apart enough for a
# domain classifier on 512 rows.
MAX_VOCAB = 1024


def embeds_ids(meta: dict[str, Any]) -> bool:
    """Whether the recorded model's first layer after its input is an ``Embedding``."""
    layers = (meta.get("model") or {}).get("layers") or []
    for layer in layers:
        name = str(layer.get("class_name", "")) if isinstance(layer, dict) else ""
        if name == "InputLayer":
            continue
        return name == "Embedding"
    return False


def are_ids(*arrays: np.ndarray) -> bool:
    """2-D arrays of non-negative whole numbers (what an ``Embedding`` accepts)."""
    for x in arrays:
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.size == 0:
            return False
        if not np.isfinite(x).all() or (x < 0).any() or (x != np.round(x)).any():
            return False
    return True


def bag_of_tokens(x: np.ndarray, vocab: int) -> np.ndarray:
    """(rows, vocab) share of each id in each row; ids at or above ``vocab`` hashed into it."""
    ids = np.asarray(x, dtype=np.int64) % vocab
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    counts = np.zeros((len(ids), vocab))
    np.add.at(counts, (rows, ids.ravel()), 1.0)
    return counts / max(1, ids.shape[1])


def token_views(x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits as bags over one shared vocabulary (the largest id seen, at most MAX_VOCAB)."""
    vocab = int(min(MAX_VOCAB, max(x_train.max(), x_val.max()) + 1))
    return bag_of_tokens(x_train, vocab), bag_of_tokens(x_val, vocab)


# A fill is a run of this many equal ids at a sequence's end or start: padding, or what a
# loader put in its place. Text does not end in "the the the".
FILL_RUN = 3
# A fill id that fills under this share of training sequences (at the same end) is new.
FILL_RARE = 0.01
NEW_FILL_FACT = ("validation sequences that end or start in a run of one id that fills under 1 % "
                 "of training sequences (share)")
# From 5 % of the sequences (chance runs of a class's own tokens reach 1-3 %), full at a
# fifth (a loader step touches whole files, not a few rows).
NEW_FILL_RANGE = (0.05, 0.2)


def _fills(x: np.ndarray, end: bool) -> np.ndarray:
    """Per row, the id of a run of :data:`FILL_RUN` equal ids at its end (or start); -1 if none."""
    edge = x[:, ::-1][:, :FILL_RUN] if end else x[:, :FILL_RUN]
    run = (edge == edge[:, :1]).all(axis=1)
    return np.where(run, edge[:, 0], -1)


def new_fill(x_train: np.ndarray, x_val: np.ndarray) -> float:
    """Share of validation sequences filled at one end with an id that training sequences are
    (almost) never filled with: a pad id changed, a truncation, a de-duplication or an
    out-of-vocabulary map on the validation path. NaN with too few or too short sequences.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> tr = np.hstack([rng.integers(2, 50, (100, 8)), np.zeros((100, 4), int)])
        >>> va = tr[:40].copy()
        >>> new_fill(tr, va)
        0.0
        >>> va[:10, 8:] = 1          # a quarter padded with the unknown id
        >>> new_fill(tr, va)
        0.25
    """
    x_train, x_val = np.asarray(x_train), np.asarray(x_val)
    if x_train.ndim != 2 or x_val.ndim != 2 or min(x_train.shape[1], x_val.shape[1]) < 2 * FILL_RUN \
            or len(x_train) < 20 or len(x_val) < 20:
        return float("nan")
    new = np.zeros(len(x_val), bool)
    for end in (True, False):
        train_fill, val_fill = _fills(x_train, end), _fills(x_val, end)
        for fill in np.unique(val_fill[val_fill >= 0]):
            if np.mean(train_fill == fill) < FILL_RARE:
                new |= val_fill == fill
    return float(new.mean())
