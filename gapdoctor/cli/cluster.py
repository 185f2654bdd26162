"""``gapdoctor batch --backend dask``: the batch's chunks run on a dask.distributed cluster.

The chunks go through joblib's dask backend (``joblib.parallel_config(backend="dask")``) to
the scheduler named by ``--scheduler`` (``tcp://host:8786``), or to a local cluster of
``--jobs`` worker processes when none is named. Workers import gapdoctor and read the
input paths and write the PDFs themselves, so on a real cluster the paths must be on a
filesystem that every worker sees; only the summary rows travel back.

Example:
    $ gapdoctor batch "/shared/sweep/*/history.json" --out /shared/report \\
          --backend dask --scheduler tcp://scheduler:8786
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gapdoctor.cli.common import UsageError

INSTALL = "pip install 'gapdoctor[cluster]'"


def _client(scheduler: str | None, jobs: int) -> Any:
    """A dask client of the named scheduler, or of a new local cluster of ``jobs`` workers."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError(f"--backend dask needs dask.distributed, which cannot be imported "
                         f"({exc}); install it with {INSTALL}") from None
    if scheduler is None:
        return Client(n_workers=jobs, threads_per_worker=1, dashboard_address=None)
    try:  # the connect timeout is dask's (distributed.comm.timeouts.connect, 30 s)
        return Client(scheduler)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise UsageError(f"--scheduler {scheduler!r}: no dask scheduler answered there "
                         f"({type(exc).__name__}: {exc}); expected an address such as "
                         "tcp://host:8786") from None


def run_on_dask(work: Callable[..., Any], tasks: list[Any],
                chunker: Callable[[list[Any], int], list[list[Any]]], keep_runs: bool,
                scheduler: str | None, jobs: int, done: Callable[[int], None]) -> list[Any]:
    """``work(chunk, keep_runs)`` for the chunks of ``tasks`` (cut by ``chunker`` for the
    cluster's thread count) on the cluster; returns the results in order, and calls
    ``done(n)`` as each chunk of ``n`` tasks comes back.

    Raises:
        UsageError: dask is missing, the scheduler does not answer, or the cluster failed.
    """
    client = _client(scheduler, jobs)
    try:
        import joblib

        chunks = chunker(tasks, max(1, sum(client.nthreads().values())))
        with joblib.parallel_config(backend="dask"):
            parallel = joblib.Parallel(n_jobs=-1, return_as="generator")
            results = []
            for chunk, result in zip(chunks, parallel(joblib.delayed(work)(chunk, keep_runs)
                                                      for chunk in chunks), strict=True):
                results.append(result)
                done(len(chunk))
            return results
    except Exception as exc:  # a worker lost, gapdoctor missing on the workers, ...
        where = scheduler or "the local dask cluster"
        raise UsageError(f"the batch failed on {where} ({type(exc).__name__}: "
                         f"{str(exc)[:300]})") from None
    finally:
        client.close()
