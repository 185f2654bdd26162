"""The short summary GapDoctor prints when training ends (``verbose >= 1``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gapdoctor.diagnosis import score_text
from gapdoctor.record import RunRecord


def summary(record: RunRecord | None, diagnosis: Any, paths: dict[str, Path]) -> str:
    """Verdict, the top three findings with their scores, failures, and where files went.

    Example:
        >>> print(summary(None, None, {"record": Path("runs/r1")}))
        GapDoctor: no diagnosis (diagnose=False or it failed)
          record     runs/r1
    """
    lines = []
    if diagnosis is None:
        lines.append("GapDoctor: no diagnosis (diagnose=False or it failed)")
    else:
        lines.append(f"GapDoctor: verdict {diagnosis.verdict!r} for run {diagnosis.run_name}")
        for i, finding in enumerate(diagnosis.findings[:3], start=1):
            text = finding.summary.strip().splitlines()[0] if finding.summary else ""
            if len(text) > 90:
                text = text[:87] + "..."
            lines.append(f"  {i}. {finding.cause:<22} {score_text(finding.score)}  {text}")
        if not diagnosis.findings:
            lines.append("  no findings (no rule could weigh this record)")
        if getattr(diagnosis, "status", "ok") != "ok":
            lines.append(f"  status: {diagnosis.status.replace('_', ' ')}: {diagnosis.status_reason}")
        gap = getattr(diagnosis, "unexplained_gap", None)
        if gap:
            from gapdoctor.analysis.gap import gap_sentence

            lead = " and ".join(f"{c} {score_text(v)}" for c, v in gap["candidates"])
            lines.append(f"  but the gap is real: {gap_sentence(gap)}; no cause explains it "
                         f"with confidence (likeliest: {lead})")
        call = getattr(diagnosis, "close_call", None)
        if call:
            lines.append(f"  close call: {call['causes'][0]} and {call['causes'][1]} are "
                         f"{call['difference']:.2f} apart: {call['tell_apart']}")
    if record is not None and record.failures:
        probes = sorted({str(f.get("probe")) for f in record.failures})
        lines.append(f"  {len(record.failures)} probe failure(s) recorded: {', '.join(probes)}")
    for label, path in paths.items():
        lines.append(f"  {label:<10} {path}")
    return "\n".join(lines)
