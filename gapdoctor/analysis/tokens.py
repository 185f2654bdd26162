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
