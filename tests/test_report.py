"""The PDF report and the batch overview, on hand-built records (no rules, no TensorFlow)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pypdf = pytest.importorskip("pypdf")

from gapdoctor.diagnosis import CAUSES, Diagnosis, Evidence, Finding, Fix  # noqa: E402
from gapdoctor.engine import diagnose  # noqa: E402
from gapdoctor.record.schema import RunRecord  # noqa: E402
from gapdoctor.report import write_overview, write_report  # noqa: E402
from gapdoctor.report.figures import gap_title  # noqa: E402
from gapdoctor.templates import causes, fill, load_template  # noqa: E402

# a "?" standing alone (a fact that was not filled in), or a placeholder left as written
PLACEHOLDER_LEAK = re.compile(r"(?:^|\s)\?(?=\s|$|[.,;:)])"
                              r"|\{[A-Za-z_]\w*(?:\|\w+(?:\([^)]*\))?)?(?::[^{}\s]*)?\}")

MARKUP_CLASS = "<b>cat & dog"
FIX_CODE = ("noisy = aum < 0.0  # flag & review\n"
            "model.fit(x[~noisy], y[~noisy], validation_data=(x_val, y_val))")


def make_run(epochs: int = 30, n_classes: int = 10, probe: int = 200, seed: int = 0,
             name: str = "sweep-lr3e-3") -> RunRecord:
    """A full gapdoctor record with the shapes of schema.py."""
    rng = np.random.default_rng(seed)
    e = np.arange(epochs)
    names = [f"class_{i}" for i in range(n_classes)]
    names[3] = MARKUP_CLASS
    curves = pd.DataFrame({
        "loss": 2.3 * np.exp(-e / 6) + 0.02, "accuracy": 1 - 0.9 * np.exp(-e / 5),
        "val_loss": 1.2 + 0.002 * (e - 10) ** 2, "val_accuracy": 0.78 - 0.0004 * (e - 12) ** 2,
        "lr": np.where(e < epochs // 2, 1e-3, 1e-4), "epoch_time": 0.4 + rng.random(epochs),
    }, index=pd.Index(e, name="epoch"))
    # the train probe's inference-mode accuracy follows the logged one, as in a real run
    split = pd.DataFrame([{"epoch": i, "split": s, "loss": 1.0, "ece": 0.05, "n": 360,
                           "accuracy": curves["accuracy"].iloc[i] if s == "train" else 0.8}
                          for i in e for s in ("train", "val")])
    rows = []
    for i in e:
        for s in ("train", "val"):
            for c in range(n_classes):
                learned = 0.1 if c == 3 else min(1.0, 0.3 + i / epochs)
                recall = learned if s == "val" else min(1.0, learned + 0.3)
                rows.append({"epoch": i, "split": s, "class_index": c, "class_name": names[c],
                             "precision": recall, "recall": recall, "f1": recall * 0.95,
                             "support": 36})
    layers = pd.DataFrame([{"epoch": i, "layer": f"dense_{k}", "weight_norm": 3.0 + k,
                            "update_ratio": 1e-3 * np.exp(-i / 10) * (k + 1),
                            "grad_norm": 0.5 * np.exp(-i / 8) / (k + 1),
                            "dead_fraction": 0.05 * k + 0.01 * i / epochs, "nonfinite": 0.0}
                           for i in e for k in range(4)])
    groups = pd.DataFrame([{"epoch": i, "group": "night & rain", "n": 40, "accuracy": 0.5,
                            "loss": 1.5} for i in e])
    labels = rng.integers(0, n_classes, probe)
    margins = rng.normal(0.4, 0.3, (epochs, probe)).astype("float32")
    margins[:, :12] -= 0.9
    proba = rng.dirichlet(np.ones(n_classes), probe).astype("float32")
    confusion = rng.integers(0, 5, (epochs, n_classes, n_classes))
    confusion[:, np.arange(n_classes), np.arange(n_classes)] += 30
    x_train = rng.normal(0, 1, (probe, 16)).astype("float32")
    x_val = rng.normal(0, 1, (100, 16)).astype("float32")
    x_val[:, 5] += 1.5
    counts = rng.integers(80, 200, n_classes)
    meta = {"schema": "gapdoctor.run", "version": "1.0", "source": "gapdoctor",
            "run_name": name, "task": "multiclass", "n_classes": n_classes,
            "class_names": names, "monitor": "val_accuracy", "monitor_mode": "max",
            "model": {"name": "mlp<&>", "n_params": 12345, "trainable_params": 12000,
                      "output_activation": "softmax", "layers": []},
            "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
            "metrics": [{"name": "accuracy"}],
            "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.001}},
            "data": {"n_train": 1437, "n_val": 360, "n_train_probe": probe, "n_val_used": 360,
                     "input_shape": [64], "train_label_counts": counts.tolist(),
                     "val_label_counts": {str(c): int(n) // 4 for c, n in enumerate(counts)},
                     "duplicates_val_in_train": 3},
            "epochs_planned": epochs, "completed": True, "notes": [],
            "versions": {"python": sys.version.split()[0], "keras": "3.6.0", "numpy": "2.1"}}
    return RunRecord(meta=meta, curves=curves, split_metrics=split, per_class=pd.DataFrame(rows),
                     layers=layers, groups=groups,
                     arrays={"margins": margins, "correct": margins > 0,
                             "probe_index": np.arange(probe) * 7, "probe_labels": labels,
                             "probe_proba_last": proba, "confusion_val": confusion,
                             "confusion_train": confusion, "x_train": x_train, "x_val": x_val},
                     failures=[{"probe": "gradients", "epoch": 4, "error": "ValueError: <oops>"}])


def make_diagnosis(name: str = "sweep-lr3e-3") -> Diagnosis:
    noise = Finding(
        cause="label_noise", score=0.87, title="Label noise",
        summary="12 of 200 probe samples (6%) keep a negative margin: likely wrong labels.",
        evidence=[Evidence("share of probe samples with AUM < 0", 0.06, "> 0.02 expected", True,
                           2.0),
                  Evidence("train accuracy on flagged samples", 0.91, "< 0.5 if no memorising",
                           False, -0.5),
                  Evidence("class with most flags", MARKUP_CLASS, "context", True, 0.0)],
        fixes=[Fix("Review the flagged samples", "Relabel or drop them.", FIX_CODE),
               Fix("Use label smoothing", "Softer targets resist wrong labels.",
                   "loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)")],
        confirm=["Relabel 20 flagged samples by hand: more than 5 wrong confirms it."])
    over = Finding(cause="overfitting", score=0.62, title="Overfitting",
                   summary="Validation loss turned up after epoch 10 while training loss fell.",
                   evidence=[Evidence("val loss rise", 0.25, "> 0.05", True, 1.5)],
                   fixes=[Fix("Stop early", "Keep the best epoch.",
                              "keras.callbacks.EarlyStopping(patience=5, "
                              "restore_best_weights=True)")],
                   confirm=["A smaller model with the same data closes the gap."])
    low = [Finding(cause=c, score=s, summary=f"Little sign of {c}.")
           for c, s in (("metric_mismatch", 0.31), ("optimization", 0.12))]
    return Diagnosis(findings=[noise, over, *low], run_name=name, source="gapdoctor",
                     skipped=[{"cause": "distribution_shift",
                               "reason": "the record has no x_val <features>"}],
                     errors=[{"cause": "pipeline_bug", "error": "KeyError: 'n'"}],
                     summary={"best_epoch": 12})


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(str(path))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


@pytest.fixture(autouse=True)
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing section raises in tests instead of rendering an apology."""
    monkeypatch.setenv("GAPDOCTOR_STRICT_REPORT", "1")


def test_full_report_contents(tmp_path: Path) -> None:
    out = write_report(make_run(), make_diagnosis(), tmp_path / "sub" / "report.pdf")
    assert out.exists() and out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    assert "Most likely cause: Label noise" in text
    ranked = text[text.index("How the causes rank"): text.index("What to try first")]
    order = [ranked.index(n) for n in ("Label noise", "Overfitting", "Metric mismatch",
                                       "Optimisation", "Distribution shift")]
    assert order == sorted(order) and "not checked" in ranked and "rule failed" in ranked
    assert MARKUP_CLASS in text
    assert "noisy = aum < 0.0 # flag & review" in text
    assert "the record has no x_val <features>" in text
    assert "KeyError: 'n'" in text and "ValueError: <oops>" in text
    assert "mlp<&>" in text and "night & rain" in text
    for heading in ("Learning curves", "Per class", "Inside the model", "Data", "Findings",
                    "Appendix"):
        assert heading in text
    assert "could not be drawn" not in text and "were not recorded" not in text
    assert "Also checked, below the threshold" in text and "Metric mismatch" in text


def test_suspects_from_finding_details(tmp_path: Path) -> None:
    d = make_diagnosis()
    d.finding("label_noise").details["suspects"] = [
        {"index": 4242, "given": 3, "predicted": 5, "aum": -0.71}]
    text = pdf_text(write_report(make_run(epochs=4, probe=40), d, tmp_path / "r.pdf"))
    assert "4242" in text and "-0.71" in text


@pytest.mark.parametrize("kind", ["curves_only", "single_epoch", "nan_values", "empty"])
def test_sparse_records_render(tmp_path: Path, kind: str) -> None:
    run = RunRecord.empty(source="keras_history", run_name=f"h-{kind}")
    epochs = {"curves_only": 12, "single_epoch": 1, "nan_values": 8, "empty": 0}[kind]
    if epochs:
        run.curves = pd.DataFrame({"loss": np.linspace(1, 0.2, epochs),
                                   "accuracy": np.linspace(0.5, 0.9, epochs),
                                   "val_loss": np.linspace(1.1, 0.9, epochs),
                                   "val_accuracy": np.linspace(0.4, 0.6, epochs)},
                                  index=pd.Index(range(epochs), name="epoch"))
    if kind == "nan_values":
        run.curves.iloc[::2, 2:] = np.nan
        run.curves.iloc[3, 0] = np.inf
        run.arrays["margins"] = np.full((epochs, 5), np.nan, dtype="float32")
    low = [Finding(cause="overfitting", score=0.2, summary="The gap is small.")]
    d = Diagnosis(findings=low if kind == "curves_only" else [], run_name=run.name,
                  source="keras_history",
                  skipped=[{"cause": c, "reason": "the record has no per_class"}
                           for c in CAUSES[1:]])
    text = pdf_text(write_report(run, d, tmp_path / f"{kind}.pdf"))
    if kind == "curves_only":
        assert "No cause reached the reporting threshold" in text
        assert "The gap is small." in text
    else:
        assert "No diagnosis: none of the causes could be checked" in text
    assert "Keras History JSON: per-epoch curves only" in text
    assert "No per-class measurements were recorded" in text
    assert "No per-layer measurements were recorded" in text
    assert "the record has no per_class" in text
    if kind == "empty":
        assert "No per-epoch curves were recorded" in text
    else:
        assert "No per-epoch curves were recorded" not in text


def test_report_imports_no_tensorflow_and_no_pyplot() -> None:
    code = ("import sys, gapdoctor.report; bad = [m for m in ('tensorflow', 'keras', "
            "'matplotlib.pyplot') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_report_of_100_epochs_renders(tmp_path: Path) -> None:
    """A long run renders (its speed is benchmarks/analyze_speed.py's job: a CPU-time
    assert here failed in a serial run, where TensorFlow threads left by earlier tests
    count towards the process's CPU time)."""
    run, d = make_run(epochs=100, probe=1000), make_diagnosis()
    text = pdf_text(write_report(run, d, tmp_path / "r100.pdf"))
    assert "Validation" in text and pages(tmp_path / "r100.pdf") >= 2


def test_overview_with_an_errored_run(tmp_path: Path) -> None:
    runs = {f"run-{i}": make_run(seed=i, name=f"run-{i}") for i in range(2)}
    rows = []
    for i, top in enumerate((0.55, 0.91)):
        row = {"path": f"/runs/run-{i}", "run_name": f"run-{i}", "source": "gapdoctor",
               "verdict": "label_noise", "monitor": "val_accuracy", "best_value": 0.78,
               "best_epoch": 12, "epochs": 30, "error": ""}
        row.update({f"score_{c}": 0.1 for c in CAUSES}, score_label_noise=top)
        rows.append(row)
    rows.append({"path": "/runs/<broken & bad>.json", "run_name": "<broken & bad>",
                 "error": "RecordError: truncated JSON <eof>"})
    summary = pd.DataFrame(rows).astype({"best_epoch": "Int64", "epochs": "Int64"})
    out = write_overview(summary, runs, tmp_path / "overview.pdf")
    text = pdf_text(out)
    assert "3 runs" in text and "<broken & bad>" in text and "truncated JSON <eof>" in text
    assert text.index("run-1") < text.index("run-0") < text.index("<broken & bad>")
    assert "Validation curves" in text and "<NA>" not in text


def pages(path: Path) -> int:
    return len(pypdf.PdfReader(str(path)).pages)


def test_demo_like_report_is_short_and_has_no_placeholders(tmp_path: Path) -> None:
    """The real rules on a full record: at most 4 pages and one per cause reported in full
    (its story, evidence and fixes), no "?" or "{fact}" anywhere."""
    run = make_run()
    run.curves["lr"] = 1e-3  # a constant rate is one sentence, not a plot
    d = diagnose(run)
    out = write_report(run, d, tmp_path / "demo.pdf")
    text = pdf_text(out)
    assert 1 <= len(d.reported) <= 2 and pages(out) <= 4 + len(d.reported)
    assert not PLACEHOLDER_LEAK.findall(text), PLACEHOLDER_LEAK.findall(text)
    assert "The learning rate stayed at 0.001 throughout" in text
    # the suspects table stays on its heading's page (a split would repeat its header row)
    texts = [page.extract_text() or "" for page in pypdf.PdfReader(str(out)).pages]
    holding = [i for i, t in enumerate(texts) if "mean margin (AUM)" in t]
    assert len(holding) == 1 and "Most suspicious training samples" in texts[holding[0]]
    assert "Optimization" not in text and "val_accuracy is ahead" not in text


def test_curves_only_report_has_no_placeholders(tmp_path: Path) -> None:
    """A History-like record lacks most facts: their sentences go, never as "?"."""
    run = RunRecord.empty(source="keras_history", run_name="history")
    e = np.arange(20)
    run.curves = pd.DataFrame({"loss": 1 / (e + 1) + 0.01 * (e % 3),
                               "accuracy": 1 - 0.5 / (e + 1),
                               "val_loss": 0.8 + 0.02 * e, "val_accuracy": 0.7 - 0.002 * e},
                              index=pd.Index(e, name="epoch"))
    text = pdf_text(write_report(run, diagnose(run), tmp_path / "history.pdf"))
    assert not PLACEHOLDER_LEAK.findall(text), PLACEHOLDER_LEAK.findall(text)
    assert "fell by -" not in text and "rose by -" not in text


def test_suspects_table_only_lists_flagged_samples(tmp_path: Path) -> None:
    run = make_run(epochs=6, probe=40)
    margins = np.abs(run.arrays["margins"]) + 0.2
    margins[:, [4, 9, 13]] = -0.5  # three samples keep a negative margin
    run.arrays.update(margins=margins, probe_index=np.arange(40) + 9000)
    d = make_diagnosis()
    d.findings.remove(d.finding("label_noise"))
    text = pdf_text(write_report(run, d, tmp_path / "flagged.pdf"))
    table = text[text.index("Most suspicious training samples"): text.index("5. Findings")]
    assert "all 3 are listed" in table
    assert {int(i) for i in re.findall(r"\b(90\d\d)\b", table)} == {9004, 9009, 9013}


def test_suspects_table_absent_when_nothing_is_flagged(tmp_path: Path) -> None:
    run = make_run(epochs=6, probe=40)
    run.arrays["margins"] = np.abs(run.arrays["margins"]) + 0.2  # every sample fits its label
    d = make_diagnosis()
    d.finding("label_noise").details["suspects"] = [
        {"index": 7, "given": 1, "predicted": 1, "aum": 0.8}]  # confidently correct: not a suspect
    text = pdf_text(write_report(run, d, tmp_path / "clean.pdf"))
    assert "Most suspicious training samples" not in text and "Look at these first" not in text
    assert "Suspicious training samples: none" in text


@pytest.mark.parametrize(("values", "says"), [
    ([-0.3, -0.1], "validation ahead of training"), ([0.2, 0.05], "behind training"),
    ([0.2, -0.1], "or ahead (< 0)")])
def test_gap_title_follows_the_sign(values: list[float], says: str) -> None:
    assert says in gap_title([pd.Series(values)])


def test_missing_facts_remove_their_sentence_and_signs_pick_the_verb() -> None:
    text = "The loss {drop|change(fell by,rose by):.0%}[ at rate {lr:.3g}]. It took {n} epochs."
    assert fill(text, {"drop": -0.09}) == "The loss rose by 9%."
    assert fill(text, {"drop": 0.2, "lr": 0.01, "n": 3}) == \
        "The loss fell by 20% at rate 0.01. It took 3 epochs."
    assert fill("Training {monitor|metric} leads.", {"monitor": "val_accuracy"}) == \
        "Training accuracy leads."


@pytest.mark.parametrize("cause", causes())
def test_templates_never_leak_a_placeholder(cause: str) -> None:
    """Every text of every template, filled with no facts at all."""
    template = load_template(cause)
    summary = template.get("summary", "")
    texts = list(summary.values()) if isinstance(summary, dict) else [summary]
    texts += template.get("confirm", []) + [template.get("story", "")]
    texts += [f.get(k, "") for f in template.get("fixes", []) for k in ("title", "why")]
    for text in texts:
        assert not PLACEHOLDER_LEAK.findall(fill(text, {})), text
    assert "Optimization" not in str(template) and "optimization problem" not in str(template)


def test_row_counts_in_the_appendix_read_as_counts_not_as_a_dict() -> None:
    from gapdoctor.report.findings import _data_value

    value = {"train": {"count": 0, "n": 1257, "width": 64, "scope": "probe"},
             "val": {"count": 3, "n": 360, "width": 64, "scope": "sample"}}
    assert _data_value("collapsed_rows", value) == "train 0 of 1257, val 3 of 360"
    assert _data_value("nonfinite_rows", {"val": {"count": 2}}) == "val 2"
    assert _data_value("n_train", 1257) == 1257
