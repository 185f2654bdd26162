"""File names of a batch's reports: a run's own stem when no other input shares it, else its
path relative to the common folder of the inputs that share it.

``runs/a/history.json`` and ``runs/b/history.json`` become ``a-history`` and ``b-history``
(not ``history`` and ``history-2``, which nobody can map back to a folder). The names depend
only on the inputs, so a re-run over the same inputs writes the same files.

Example:
    >>> report_names(["runs/a/history.json", "runs/b/history.json", "runs/c/other.csv"])
    ['a-history', 'b-history', 'other']
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from gapdoctor.cli.common import safe_name, unique_names

SEPARATOR = "-"  # between folder names: a/history -> a-history


def run_stem(path: str) -> str:
    """The file or folder name of a run without its extension (and ``.gz``)."""
    name = Path(path.rstrip("/\\")).name
    name = name[:-3] if name.lower().endswith(".gz") else name
    return Path(name).stem or "run"


def report_names(paths: list[str]) -> list[str]:
    """A file-name-safe, unique name per input path (see the module docstring).

    Inputs whose stems collide are named by their path below the common folder of the
    colliding group, without the extension; where that still collides (``a.json`` beside
    ``a.csv``), with it. Any name left over twice gets a ``-2``, ``-3``, ... suffix.
    """
    stems = [safe_name(run_stem(p)) for p in paths]
    counts = Counter(stems)
    names = list(stems)
    for stem in (s for s, n in counts.items() if n > 1):
        group = [i for i, s in enumerate(stems) if s == stem]
        full = [os.path.abspath(paths[i].rstrip("/\\") or paths[i]) for i in group]
        root = os.path.commonpath(full)
        short = [_relative(f, root, keep_suffix=False) for f in full]
        clash = Counter(short)
        for i, f, name in zip(group, full, short, strict=True):
            names[i] = name if clash[name] == 1 else _relative(f, root, keep_suffix=True)
    return unique_names(names)


def _relative(path: str, root: str, keep_suffix: bool) -> str:
    parts = list(Path(os.path.relpath(path, root)).parts)
    if not parts:  # the same input named twice ("a.json", "./a.json")
        parts = [Path(path).name]
    if not keep_suffix:
        parts[-1] = run_stem(parts[-1])
    return safe_name(SEPARATOR.join(parts))


def summary_names(run_names: list[str | None], row_paths: list[str],
                  reports: dict[str, str]) -> list[str]:
    """Unique run names for the summary rows: each run's own name, except where runs share
    one (every ``history.json`` is "history"): those take their report's name.

    ``row_paths`` are the rows' inputs (``file.csv#fit2`` for one fit of an appended log);
    ``reports`` maps each input path to its report name (:func:`report_names`).
    """
    names = [n if isinstance(n, str) else Path(p).stem for n, p in zip(run_names, row_paths,
                                                                       strict=True)]
    counts = Counter(names)
    out = []
    for name, path in zip(names, row_paths, strict=True):
        base, _, fit = path.partition("#")
        report = reports.get(path) or reports.get(base)
        if counts[name] > 1 and report:
            name = f"{report}-{fit}" if fit and path not in reports else report
        out.append(name)
    return unique_names(out)
