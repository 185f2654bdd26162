"""Diagnose a saved Keras log from Python (no TensorFlow): load, diagnose, report.

Run:  python examples/offline_api.py LOG [--pdf report.pdf]
LOG is a History JSON, a CSVLogger CSV, a TensorBoard log dir or a gapdoctor run dir
(``python examples/make_sample_logs.py`` writes some to try).
"""

from __future__ import annotations

import argparse

from gapdoctor import diagnose, load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="a saved training log")
    parser.add_argument("--pdf", help="also write the PDF report here")
    args = parser.parse_args()

    run = load_run(args.log)          # detects the format; raises RecordError if unreadable
    diagnosis = diagnose(run)
    print(f"{run.name}: {run.n_epochs} epochs, verdict {diagnosis.verdict}")
    for finding in diagnosis.reported:             # score >= diagnosis.threshold
        print(f"\n{finding.score:.2f} {finding.cause}: {finding.summary}")
        for item in finding.evidence:
            side = "for" if item.supports else "against"
            print(f"   {side:<8} {item.name} = {item.value}  ({item.comparison})")
        if finding.fixes:
            print(f"   first fix: {finding.fixes[0].title}")
    for skipped in diagnosis.skipped:
        print(f"not checked: {skipped.get('cause')} ({skipped.get('reason')})")
    if args.pdf:
        from gapdoctor.report import write_report

        print(f"report: {write_report(run, diagnosis, args.pdf)}")


if __name__ == "__main__":
    main()
