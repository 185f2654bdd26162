"""Column names of real logs mapped to the names Keras writes.

Keras logs ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``. Hand-written and
PyTorch-style logs say ``Loss``, ``Val_Loss``, ``train_loss``, ``train_acc``, ``valid_loss``,
``eval_accuracy`` or ``val_acc``. The rules read the Keras names, so every other spelling is
renamed (and the renaming noted); a name that would collide with one already present is
left as it is.
"""

from __future__ import annotations

import re

_TRAIN_PREFIXES = ("training_", "train_", "trn_")
_VAL_PREFIXES = ("validation_", "valid_", "val_", "eval_", "dev_")
_STEMS = {"acc": "accuracy", "lr": "lr", "learning_rate": "learning_rate"}
_SEPARATORS = re.compile(r"[\s\-/]+")
# per-row counters of other trackers; the record's index is the epoch
INDEX_KEYS = ("epoch", "epochs")
STEP_KEYS = ("step", "steps", "global_step", "iteration", "iter", "batch")


def keras_name(name: str, test_as_val: bool = False) -> str:
    """The Keras spelling of one metric name (``Train_Acc`` -> ``accuracy``)."""
    key = _SEPARATORS.sub("_", name.strip()).lower()
    if test_as_val and key.startswith("test_"):
        key = "val_" + key[len("test_"):]
    for prefix in _VAL_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            stem = key[len(prefix):]
            return "val_" + _STEMS.get(stem, stem)
    for prefix in _TRAIN_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix):]
            break
    return _STEMS.get(key, key)


def keras_names(names: list[str], notes: list[str]) -> list[str]:
    """``names`` renamed to Keras's spelling, notes saying what was renamed.

    ``test_*`` is read as validation only when no other name is a validation one.
    """
    test_as_val = not any(keras_name(n).startswith("val_") for n in names) \
        and any(_SEPARATORS.sub("_", n.strip()).lower().startswith("test_") for n in names)
    wanted = [keras_name(n, test_as_val) for n in names]
    taken = {n for n, w in zip(names, wanted, strict=True) if n == w}
    out, renamed, kept = [], [], []
    for name, target in zip(names, wanted, strict=True):
        if name == target:
            out.append(name)
        elif target in taken:
            out.append(name)
            kept.append(f"{name} (would repeat {target})")
        else:
            taken.add(target)
            out.append(target)
            renamed.append(f"{name}->{target}")
    if renamed:
        notes.append("renamed to Keras's metric names: " + ", ".join(renamed[:8])
                     + (f" and {len(renamed) - 8} more" if len(renamed) > 8 else ""))
    if test_as_val and any(w.startswith("val_") for w in wanted):
        notes.append("no validation columns, so test_* was read as the validation split")
    if kept:
        notes.append("kept as written: " + ", ".join(kept[:5]))
    return out
