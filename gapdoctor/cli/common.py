"""Helpers shared by the subcommands: output paths, unique names and the text summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gapdoctor.diagnosis import Diagnosis
from gapdoctor.errors import GapDoctorError
from gapdoctor.record.schema import RunRecord


class UsageError(GapDoctorError):
    """A bad command-line value (an output that cannot be written, no inputs, ...)."""


def unique_names(names: list[str]) -> list[str]:
    """``names`` with repeats made unique by ``-2``, ``-3``, ... suffixes."""
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for name in names:
        if name in seen:
            n = seen[name] + 1
            while f"{name}-{n}" in taken:
                n += 1
            seen[name] = n
            out.append(f"{name}-{n}")
            taken.add(out[-1])
        else:
            seen[name] = 1
            out.append(name)
    return out


def safe_name(name: str) -> str:
    """A file-name-safe version of a run name."""
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name).strip(".")
    return cleaned or "run"


def output_path(value: str, run_name: str, n_runs: int, suffix: str) -> Path:
    """Where one run's output goes for a ``--pdf``/``--json`` value.

    A value ending in a path separator, naming an existing directory or without an
    extension is a directory (``DIR/<run><suffix>``); otherwise it is the file itself for
    one run, and a pattern ``<stem>-<run><ext>`` beside it for several runs.
    """
    target = Path(value)
    if value.endswith(("/", os.sep)) or target.is_dir() or not target.suffix:
        return target / f"{safe_name(run_name)}{suffix}"
    if n_runs == 1:
        return target
    return target.with_name(f"{target.stem}-{safe_name(run_name)}{target.suffix}")


def _one_line(text: str, width: int = 96) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def format_summary(path: str, run: RunRecord, diagnosis: Diagnosis) -> str:
    """A short ranked summary of one diagnosis, readable in a CI log."""
    s: dict[str, Any] = diagnosis.summary
    lines = [f"== {run.name}  ({run.meta.get('source', '?')}, {s.get('epochs', run.n_epochs)} "
             f"epochs)  {path}"]
    monitor = s.get("monitor")
    if monitor and s.get("best_value") is not None:
        lines.append(f"   {monitor}: best {s['best_value']:.4g} at epoch {s['best_epoch']}, "
                     f"last {s.get('last_value', float('nan')):.4g}")
    elif not monitor:
        lines.append("   no validation metric recorded")
    reported = diagnosis.reported
    if reported:
        lines.append(f"   verdict: {diagnosis.verdict}")
    else:
        lines.append(f"   verdict: healthy (no finding reached {diagnosis.threshold:.2f})")
    for finding in reported:
        lines.append(f"   {finding.score:4.2f}  {finding.cause:<22} {_one_line(finding.summary)}")
        if finding.fixes:
            lines.append(f"         {'':<22} fix: {_one_line(finding.fixes[0].title, 84)}")
    below = [f for f in diagnosis.findings if not f.reported][:4]
    if below:
        lines.append("   below threshold: " + ", ".join(f"{f.cause} {f.score:.2f}" for f in below))
    extra = f"   skipped {len(diagnosis.skipped)} rule(s) for missing data"
    if diagnosis.errors:
        extra += f"; {len(diagnosis.errors)} rule(s) failed: " + ", ".join(
            e.get("cause", "?") for e in diagnosis.errors)
    lines.append(extra)
    for note in (run.meta.get("notes") or [])[:3]:
        lines.append(f"   note: {_one_line(note, 100)}")
    return "\n".join(lines)
