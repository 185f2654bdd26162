"""The long fuzzing profile: 10,000+ inputs across the importers and the record loader.

Runs the property of ``tests/test_fuzz.py`` (load, then ``diagnose`` and the CLI summary;
only ``GapDoctorError`` may escape) with hypothesis, randomly seeded, over History JSON,
CSVLogger CSV, TensorBoard event files and fuzzed ``record.json`` files, and prints per
target: inputs, clean errors, successes, unhandled (with the first tracebacks), and the
rules that raised inside ``diagnose`` (caught there, listed in ``Diagnosis.errors``).
Exit code 1 when anything was unhandled.

Usage:
    .venv/bin/python benchmarks/fuzz.py [--per-target 2500] [--seed N]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fixtures"))
from fuzz_binary import base_record, event_file_bytes, mutated_manifest  # noqa: E402
from fuzz_check import csv_case, events_case, history_case, record_case  # noqa: E402
from fuzz_inputs import csv_bytes, history_json_bytes  # noqa: E402


class Tally:
    """Counts of one target's outcomes, plus the first few unhandled tracebacks."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.tracebacks: list[str] = []
        self.rule_errors: collections.Counter[str] = collections.Counter()

    def run(self, case: Callable[[], tuple[str, list[dict[str, Any]]]], shown: Any) -> None:
        self.counts["inputs"] += 1
        try:
            kind, rule_errors = case()
        except Exception:  # the property failed: record it and keep fuzzing
            self.counts["unhandled"] += 1
            if len(self.tracebacks) < 3:
                self.tracebacks.append(f"input: {shown!r:.300}\n{traceback.format_exc()}")
            return
        self.counts["clean errors" if kind == "error" else "successes"] += 1
        for err in rule_errors:
            self.rule_errors[f"{err.get('cause')}: {str(err.get('error'))[:80]}"] += 1


def _profile(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def _target(tally: Tally, strategy: st.SearchStrategy[Any], case: Callable[[Any], Any],
            n: int, seed_value: int) -> Callable[[], None]:
    @seed(seed_value)
    @_profile(n)
    @given(strategy)
    def target(data: Any) -> None:
        tally.run(lambda: case(data), data)

    return target


def run(per_target: int, seed_value: int) -> dict[str, Tally]:
    tallies = {name: Tally() for name in ("history_json", "csv_logger", "tensorboard",
                                          "record_loader")}
    tmp = Path(tempfile.mkdtemp(prefix="gapdoctor-fuzz-"))
    base_dir = tmp / "base" / "run"
    manifest = base_record(base_dir)
    targets: list[tuple[str, st.SearchStrategy[Any], Callable[[Any], Any]]] = [
        ("history_json", history_json_bytes(), lambda d: history_case(tmp, d)),
        ("csv_logger", csv_bytes(), lambda d: csv_case(tmp, d)),
        ("tensorboard", st.tuples(event_file_bytes(), st.sampled_from(["train", "validation"])),
         lambda d: events_case(tmp, *d)),
        ("record_loader", mutated_manifest(manifest), lambda d: record_case(tmp, base_dir, d)),
    ]
    for name, strategy, case in targets:
        started = time.perf_counter()
        _target(tallies[name], strategy, case, per_target, seed_value)()
        print(f"  {name}: {tallies[name].counts['inputs']} inputs in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return tallies


def report(tallies: dict[str, Tally]) -> int:
    total: collections.Counter[str] = collections.Counter()
    print(f"{'target':<15}{'inputs':>8}{'clean errors':>14}{'successes':>11}{'unhandled':>11}")
    for name, tally in tallies.items():
        c = tally.counts
        total.update(c)
        print(f"{name:<15}{c['inputs']:>8}{c['clean errors']:>14}{c['successes']:>11}"
              f"{c['unhandled']:>11}")
    print(f"{'total':<15}{total['inputs']:>8}{total['clean errors']:>14}"
          f"{total['successes']:>11}{total['unhandled']:>11}")
    for name, tally in tallies.items():
        for text in tally.tracebacks:
            print(f"\n--- unhandled in {name} ---\n{text}")
        for what, n in tally.rule_errors.most_common(5):
            print(f"rule raised inside diagnose ({name}, {n}x): {what}")
    return 1 if total["unhandled"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-target", type=int, default=2500,
                        help="inputs per target (4 targets). Defaults to 2500")
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    args = parser.parse_args()
    print(f"fuzzing 4 targets x {args.per_target} inputs, seed {args.seed}", file=sys.stderr)
    warnings.simplefilter("ignore")  # the counts are the output; warnings are not failures
    return report(run(args.per_target, args.seed))


if __name__ == "__main__":
    sys.exit(main())
