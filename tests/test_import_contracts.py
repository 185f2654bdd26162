"""Import boundaries: the contracts in ``.importlinter`` hold, and they would catch a breach.

``lint-imports`` reads every import statement, those inside functions included; what it
cannot see (a third-party package that imports TensorFlow itself, an import by string) is
covered by importing every analysis-side module in a fresh process. ``gapdoctor analyze``
and ``--help`` are checked the same way in tests/test_cli.py.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
TF_CONTRACT = "Only the callback and the fault cases that train models import TensorFlow/Keras"
CYCLE_CONTRACT = "No import cycles between sibling modules"


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run([str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"),
                           "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_import_contracts_hold() -> None:
    proc = _lint(ROOT, ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{TF_CONTRACT} KEPT" in proc.stdout and f"{CYCLE_CONTRACT} KEPT" in proc.stdout


def test_boundary_contract_covers_every_module() -> None:
    """A module added to gapdoctor/ must join the TensorFlow contract (or be allowed)."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:tensorflow-boundary"]["source_modules"].split())
    allowed = {"gapdoctor.callback", "gapdoctor.faults"}  # they train models
    package = ROOT / "gapdoctor"
    top = {f"gapdoctor.{p.stem}" for p in package.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert top - allowed <= listed, f"add to .importlinter: {sorted(top - allowed - listed)}"


def test_import_contracts_catch_a_breach(tmp_path: Path) -> None:
    """The same contracts on a copy with three breaches: each one is reported."""
    pkg = tmp_path / "gapdoctor"
    shutil.copytree(ROOT / "gapdoctor", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    with (pkg / "rules" / "base.py").open("a") as handle:  # a module-level import
        handle.write("\nimport tensorflow  # noqa\n")
    with (pkg / "cli" / "analyze.py").open("a") as handle:  # a lazy import in a function
        handle.write("\n\ndef _breach():\n    import keras  # noqa\n")
    with (pkg / "faults" / "models.py").open("a") as handle:  # the old cases <-> models cycle
        handle.write("\nfrom gapdoctor.faults.cases import Case  # noqa\n")
    proc = _lint(tmp_path, tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert f"{TF_CONTRACT} BROKEN" in proc.stdout and f"{CYCLE_CONTRACT} BROKEN" in proc.stdout
    assert "gapdoctor.rules.base -> tensorflow" in proc.stdout, proc.stdout
    assert "gapdoctor.cli.analyze -> keras" in proc.stdout, proc.stdout
    assert "No cycles are allowed in gapdoctor.faults" in proc.stdout, proc.stdout
    assert ".models -> .cases" in proc.stdout, proc.stdout


def test_analysis_side_modules_load_no_tensorflow() -> None:
    """Import every module right of the record (and their third-party dependencies)."""
    code = """
import importlib, sys
from pathlib import Path
import gapdoctor
root = Path(gapdoctor.__file__).parent
skip = ("gapdoctor.callback", "gapdoctor.faults", "gapdoctor.cli.demo")
names = [".".join(("gapdoctor", *f.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
         for f in sorted(root.rglob("*.py"))]
names = [n for n in names if not n.startswith(skip)]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print(len(names), loaded[:5])
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    count, loaded = proc.stdout.split(maxsplit=1)
    assert int(count) > 40 and loaded.strip() == "[]", proc.stdout
