"""Run gapdoctor on the real Keras histories in ``files/`` and compare with the hand labels.

Usage (from the repository root)::

    python benchmarks/real_histories/run.py [--json OUT] [--set DIR]

``--set`` scores another set of the same layout (``DIR/manifest.csv``, ``DIR/files/``), e.g.
``benchmarks/real_histories2``: histories collected and labelled after the rules were last
changed, so that set is a held-out look while this one is in-sample.

Prints one row per file (file, label, verdict, top cause and score) and a summary: false alarms on
the runs labelled healthy (any finding >= 0.5), how many never-learned and diverged runs get a
non-healthy verdict, load failures and diagnose crashes with their one-line error, and agreement
with the ``acceptable`` verdicts of ``manifest.csv`` on the rest. Needs no TensorFlow.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import gapdoctor
from gapdoctor.importers import load_runs

HERE = Path(__file__).resolve().parent
FLAG_SCORE = 0.5  # a finding at or above this is what a user sees as an alarm


def read_manifest(path: Path = HERE / "manifest.csv") -> list[dict[str, str]]:
    """The manifest rows, one per history file."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def diagnose_file(row: dict[str, str], folder: Path = HERE / "files") -> dict[str, Any]:
    """Load and diagnose one file of ``folder``; a failure is recorded, never raised."""
    result: dict[str, Any] = {"file": row["file"], "label": row["label"],
                              "acceptable": row["acceptable"].split(";"), "epochs": int(row["epochs"])}
    try:
        # a file of several runs keyed by name carries one label: the run that alarms most
        runs = load_runs(folder / row["file"])
    except Exception as exc:  # noqa: BLE001 - every importer failure is a result here
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result["stage"] = "load"
        return result
    try:
        d = max((gapdoctor.diagnose(run) for run in runs),
                key=lambda x: x.findings[0].score if x.findings else 0.0)
    except Exception as exc:  # noqa: BLE001
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result["stage"] = "diagnose"
        return result
    findings = [{"cause": f.cause, "score": round(float(f.score), 3)} for f in d.findings]
    top = findings[0] if findings else {"cause": "-", "score": 0.0}
    result.update(verdict=d.verdict, top_cause=top["cause"], top_score=top["score"],
                  findings=findings, agree=d.verdict in result["acceptable"])
    return result


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the issue asks for, from the per-file results."""
    loaded = [r for r in results if "error" not in r]
    healthy = [r for r in loaded if r["label"] == "healthy"]
    alarms = [r for r in healthy if r["top_score"] >= FLAG_SCORE]
    caught: dict[str, Any] = {}
    for label in ("never_learned", "diverged"):
        runs = [r for r in loaded if r["label"] == label]
        caught[label] = {"runs": len(runs), "non_healthy": sum(r["verdict"] != "healthy" for r in runs),
                         "missed": [r["file"] for r in runs if r["verdict"] == "healthy"],
                         "not_diagnosed": sum(r["label"] == label and "error" in r for r in results)}
    by_label: dict[str, list[int]] = {}
    for r in loaded:
        pair = by_label.setdefault(r["label"], [0, 0])
        pair[0] += r["agree"]
        pair[1] += 1
    return {
        "files": len(results), "loaded": len(loaded),
        "load_failures": [{"file": r["file"], "error": r["error"]}
                          for r in results if r.get("stage") == "load"],
        "diagnose_crashes": [{"file": r["file"], "error": r["error"]}
                             for r in results if r.get("stage") == "diagnose"],
        "healthy": len(healthy), "false_alarms": [r["file"] for r in alarms],
        "false_alarms_outside_acceptable": [r["file"] for r in alarms if not r["agree"]],
        "false_alarm_rate": round(len(alarms) / len(healthy), 3) if healthy else None,
        "caught": caught,
        "agreement": {"agree": sum(r["agree"] for r in loaded), "of": len(loaded),
                      "by_label": {k: {"agree": v[0], "of": v[1]} for k, v in sorted(by_label.items())}},
    }


def print_report(results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """The table and the summary on stdout."""
    print(f"{'file':36s} {'label':18s} {'verdict':22s} {'top cause':22s} score  ok")
    for r in results:
        if "error" in r:
            what = "LOAD FAILED" if r["stage"] == "load" else "DIAGNOSE CRASHED"
            print(f"{r['file']:36s} {r['label']:18s} {what}: {r['error']}")
            continue
        print(f"{r['file']:36s} {r['label']:18s} {r['verdict']:22s} {r['top_cause']:22s} "
              f"{r['top_score']:.2f}  {'yes' if r['agree'] else 'NO'}")
    s = summary
    print()
    print(f"files: {s['files']}, diagnosed: {s['loaded']}, failed to load: {len(s['load_failures'])}, "
          f"diagnose crashed: {len(s['diagnose_crashes'])}")
    for f in s["load_failures"]:
        print(f"  load failure {f['file']}: {f['error']}")
    for f in s["diagnose_crashes"]:
        print(f"  diagnose crash {f['file']}: {f['error']}")
    rate = "n/a" if s["false_alarm_rate"] is None else f"{s['false_alarm_rate']:.1%}"
    print(f"false alarms (finding >= {FLAG_SCORE}) on healthy runs: {len(s['false_alarms'])} of "
          f"{s['healthy']} ({rate})" + (f": {', '.join(s['false_alarms'])}" if s["false_alarms"] else ""))
    outside = s["false_alarms_outside_acceptable"]
    print(f"  of which the verdict is outside the acceptable set: {len(outside)}"
          + (f" ({', '.join(outside)})" if outside else ""))
    for label, c in s["caught"].items():
        missed = f" (called healthy: {', '.join(c['missed'])})" if c["missed"] else ""
        print(f"{label} runs with a non-healthy verdict: {c['non_healthy']} of {c['runs']} diagnosed"
              f"{missed}; not diagnosed (load failure or crash): {c['not_diagnosed']}")
    a = s["agreement"]
    print(f"verdict in the acceptable set: {a['agree']} of {a['of']}")
    for label, v in a["by_label"].items():
        print(f"  {label:18s} {v['agree']} of {v['of']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="OUT", help="write per-file results and the summary here")
    parser.add_argument("--set", metavar="DIR", type=Path, default=HERE,
                        help="a folder with manifest.csv and files/ (default: this set)")
    args = parser.parse_args(argv)
    results = [diagnose_file(row, args.set / "files") for row in read_manifest(args.set / "manifest.csv")]
    summary = summarise(results)
    print_report(results, summary)
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "results": results}, indent=1),
                                   encoding="utf-8")
    if "tensorflow" in sys.modules:  # the promise this benchmark relies on
        print("warning: tensorflow was imported", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
