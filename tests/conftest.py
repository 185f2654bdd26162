"""How the suite is spread over xdist workers (``pytest -n 2``).

A module-scoped fixture is built once per worker that runs any of its module's tests, and
xdist's plain ``load`` spreads a module's tests over both workers: the fast benchmark's
fixture (eleven trainings, 80-90 s) was built twice, the backends' (three backends, 47 s)
likewise. Here a module with a module-scoped fixture is one unit of work, sent whole to one
worker; every other test is a unit of its own, so the rest still balances test by test.
The grouped modules go first (xdist orders units by size), so no long module is left for
last. ``loadfile`` for every module ran slower here (one worker alone at the end), and
``loadgroup`` marks are not applied by xdist 3.8 under pytest 9.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def _has_module_fixture(module: str) -> bool:
    path = ROOT / module
    return path.suffix == ".py" and path.is_file() and 'scope="module"' in path.read_text()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "load":  # an explicit --dist choice wins
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if _has_module_fixture(module) else nodeid

    return ModuleFixtureScheduling(config, log)
