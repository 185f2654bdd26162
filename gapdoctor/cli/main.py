"""``gapdoctor`` entry point: argument parsing, dispatch and exit codes.

Exit codes: 0 done; 1 a finding scored at or above ``--fail-on``; 2 bad input or usage
(one line on stderr, no traceback); 3 an internal error (a bug: the traceback is shown).

Example:
    $ gapdoctor analyze history.json --pdf report.pdf --fail-on 0.8
"""

from __future__ import annotations

import argparse
import atexit
import gc
import sys
import traceback
from collections.abc import Sequence

from gapdoctor.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAIL_ON,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    blas_without_threads,
    no_collections,
    print_error,
    quiet_library_warnings,
)
from gapdoctor.errors import GapDoctorError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAIL_ON", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK",
           "build_parser", "main"]

_EPILOG = f"""\
exit codes: {EXIT_OK} done; {EXIT_FAIL_ON} a finding scored >= --fail-on; {EXIT_BAD_INPUT} bad input \
or usage; {EXIT_INTERNAL} internal error.
Saved runs: a gapdoctor run directory (its record.json, or the output_dir holding runs:
the newest is read), a Keras History JSON (also pandas to_json, Hugging Face
trainer_state.json), a keras.callbacks.CSVLogger CSV (FILE#fit2 picks one fit of a file
appended by several), or a keras.callbacks.TensorBoard log directory; .gz files too."""


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a score in [0, 1], received {text!r}") \
            from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a score in [0, 1], received {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


MONITOR_HELP = ("the logged validation value to follow, e.g. val_f1_score (f1_score means "
                "val_f1_score when that is logged). Defaults to val_accuracy or the like, "
                "else val_loss (the total, for a model with several outputs)")


def build_parser() -> argparse.ArgumentParser:
    """The ``gapdoctor`` argument parser with its three subcommands."""
    parser = argparse.ArgumentParser(
        prog="gapdoctor", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Why is my validation metric stuck while my training loss keeps falling?")
    from gapdoctor import __version__

    parser.add_argument("--version", action="version", version=f"gapdoctor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    an = sub.add_parser(
        "analyze", help="diagnose saved runs and print a ranked summary",
        description="Diagnose each saved run and print its ranked findings. With several "
                    "PATHs, --pdf/--json name a directory (a value ending in '/', an existing "
                    "directory or a name without extension: one <run>.pdf per run) or a "
                    "suffix pattern (report.pdf -> report-<run>.pdf).")
    an.add_argument("paths", nargs="+", metavar="PATH", help="saved run(s)")
    an.add_argument("--pdf", metavar="FILE", help="write the PDF report here")
    an.add_argument("--json", metavar="FILE", help="write the diagnosis JSON here")
    an.add_argument("--fail-on", type=_score, metavar="SCORE",
                    help="exit 1 when any finding scores at or above SCORE (0..1)")
    an.add_argument("--monitor", metavar="NAME", help=MONITOR_HELP)
    an.set_defaults(func="analyze")

    ba = sub.add_parser(
        "batch", help="re-analyse many saved runs in parallel (summary.csv + PDFs)",
        description="Re-analyse many saved runs in parallel processes. Writes summary.csv "
                    "(one row per run, errors included), one PDF per run and overview.pdf. "
                    "Globs are expanded (quote them to use ** recursion); a directory that "
                    "is not itself a run is searched for runs one level down.")
    ba.add_argument("paths", nargs="+", metavar="PATH_OR_GLOB")
    ba.add_argument("--out", required=True, metavar="DIR", help="output directory")
    ba.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                    help="worker processes. Defaults to the number of CPUs")
    ba.add_argument("--no-pdf", action="store_true", help="write summary.csv only")
    ba.add_argument("--backend", choices=("local", "dask"), default="local",
                    help="where the work runs: local processes, or a dask.distributed "
                         "cluster (needs gapdoctor[cluster]). Defaults to local")
    ba.add_argument("--scheduler", metavar="ADDRESS",
                    help="the dask scheduler, e.g. tcp://host:8786 (with --backend dask; "
                         "without it a local cluster of --jobs workers is started)")
    ba.add_argument("--monitor", metavar="NAME", help=MONITOR_HELP)
    ba.set_defaults(func="batch")

    de = sub.add_parser(
        "demo", help="train a small model with a known fault and diagnose it (needs TF)",
        description="Train a small model on scikit-learn's digits with an injected fault, "
                    "diagnose it and write the report.")
    de.add_argument("--out", default="gapdoctor-demo", metavar="DIR",
                    help="output directory. Defaults to gapdoctor-demo")
    de.add_argument("--fault", default="label_noise", metavar="NAME",
                    help="the injected fault. Defaults to label_noise")
    de.set_defaults(func="demo")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.func == "analyze":
        from gapdoctor.cli.diagnosis_child import WarmChild

        # forked before numpy and pandas load: the child loads them and the diagnosis's
        # libraries while this process loads its own and the record (see WarmChild)
        warm = WarmChild.start()
        try:
            with no_collections(), blas_without_threads():  # numpy, pandas, the importers
                from gapdoctor.cli.analyze import run_analyze
        except BaseException:
            if warm is not None:
                warm.close()
            raise
        return run_analyze(args.paths, pdf=args.pdf, json_out=args.json, fail_on=args.fail_on,
                           warm=warm, monitor=args.monitor)
    if args.func == "batch":
        from gapdoctor.cli.batch import run_batch

        return run_batch(args.paths, out=args.out, jobs=args.jobs, pdf=not args.no_pdf,
                         backend=args.backend, scheduler=args.scheduler, monitor=args.monitor)
    from gapdoctor.cli.demo import run_demo

    return run_demo(out=args.out, fault=args.fault)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    # skip the interpreter's last collections at exit, which walk every object of pandas,
    # matplotlib, scipy, ... only to free memory the OS takes back anyway (0.1-0.3 s)
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    quiet_library_warnings()
    try:
        return _run(args)
    except GapDoctorError as exc:
        print_error(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gapdoctor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # a bug: show it, but never with exit code 1 (a CI gate reads 1)
        traceback.print_exc()
        print("gapdoctor: internal error (a bug; please report it with the traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
