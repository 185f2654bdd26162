"""Token-id inputs are compared as bags of tokens, not as numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import feature_facts
from gapdoctor.analysis.tokens import MAX_VOCAB, are_ids, bag_of_tokens, embeds_ids, token_views
from gapdoctor.record import RunRecord

VOCAB, LENGTH, CLASSES = 200, 30, 3


def _motifs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences with word-like (Zipf) frequencies, ids assigned in no order of
    frequency (as a hashed vocabulary does); each class plants its own three tokens."""
    y = rng.integers(0, CLASSES, n)
    ranks = np.arange(1, VOCAB - 9)
    ids = 10 + np.random.default_rng(99).permutation(len(ranks))
    x = ids[rng.choice(len(ranks), (n, LENGTH), p=(1 / ranks) / (1 / ranks).sum())]
    for i, label in enumerate(y):
        x[i, rng.choice(LENGTH, 3, replace=False)] = 1 + 3 * label + np.arange(3)
    return x, y


def _replace(x: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """``share`` of the tokens replaced by random ids (a noisy validation pipeline)."""
    hit = rng.random(x.shape) < share
    return np.where(hit, rng.integers(0, VOCAB, x.shape), x)


def test_bags_and_their_checks() -> None:
    # 5 is beyond a vocabulary of 4 and hashes to 1
    assert bag_of_tokens(np.array([[0, 1, 1, 5]]), 4).tolist() == [[0.25, 0.75, 0.0, 0.0]]
    tr, va = token_views(np.array([[3, 4000]]), np.array([[2, 2]]))
    assert tr.shape == va.shape == (1, MAX_VOCAB)
    assert are_ids(np.array([[0, 3], [2, 1]]), np.array([[7.0, 1.0]]))
    assert not are_ids(np.array([[0.5, 3]]))
    assert not are_ids(np.array([[-1, 3]]))
    assert not are_ids(np.zeros((2, 3, 4)))
    assert not are_ids(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize(("layers", "expected"), [
    ([{"class_name": "InputLayer"}, {"class_name": "Embedding"}, {"class_name": "GRU"}], True),
    ([{"class_name": "Embedding"}], True),
    ([{"class_name": "InputLayer"}, {"class_name": "Dense"}, {"class_name": "Embedding"}], False),
    ([], False),
    (None, False),
])
def test_embedding_first(layers: list | None, expected: bool) -> None:
    assert embeds_ids({"model": {"layers": layers}}) is expected


def test_noisy_validation_tokens_are_a_shift_only_as_bags() -> None:
    rng = np.random.default_rng(0)
    x_tr, y_tr = _motifs(512, rng)
    x_va, y_va = _motifs(512, rng)
    noisy = _replace(x_va, 0.3, rng)
    as_numbers = feature_facts(x_tr, y_tr, noisy, y_va)
    as_bags = feature_facts(*_pair(token_views(x_tr, noisy), y_tr), y_va)
    clean_bags = feature_facts(*_pair(token_views(x_tr, x_va), y_tr), y_va)
    assert as_numbers.domain_auc < 0.6  # ids as numbers: the replacement is invisible
    assert as_bags.domain_auc > 0.75
    assert clean_bags.domain_auc < 0.6
    # the reference model learns the motifs from bags, not from id values
    assert clean_bags.ref_val_accuracy > 0.9 > 0.6 > as_numbers.ref_cv_accuracy


def _pair(views: tuple[np.ndarray, np.ndarray], y_tr: np.ndarray) -> tuple:
    return views[0], y_tr, views[1]


def test_context_reads_embedded_ids_as_bags() -> None:
    rng = np.random.default_rng(1)
    x_tr, y_tr = _motifs(300, rng)
    x_va, y_va = _motifs(300, rng)
    run = RunRecord.empty(source="test", run_name="tokens")
    run.arrays.update(x_train=x_tr.astype(np.float32), x_val=_replace(x_va, 0.3, rng).astype(np.float32),
                      probe_labels=y_tr, y_val_features=y_va)
    run.meta["model"] = {"layers": [{"class_name": "InputLayer"}, {"class_name": "Embedding"}]}
    ctx = Context(run)
    assert ctx.token_inputs and ctx.column_reorder is None
    assert ctx.features.domain_auc > 0.75 and ctx.features.ref_view == "bags of tokens"
    run.meta["model"] = {"layers": [{"class_name": "Dense"}]}
    dense = Context(run)
    assert not dense.token_inputs and dense.features.domain_auc < 0.6
