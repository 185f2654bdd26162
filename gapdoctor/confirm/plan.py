"""Which causes to test, cheapest experiment first.

Example:
    >>> from gapdoctor.diagnosis import Diagnosis, Finding
    >>> d = Diagnosis(findings=[Finding("overfitting", .7, ""), Finding("pipeline_bug", .3, ""),
    ...                         Finding("optimization", .1, "")])
    >>> causes_to_test(d)
    ['pipeline_bug', 'overfitting']
"""

from __future__ import annotations

from gapdoctor.diagnosis import CONTENTION, Diagnosis

# Below this score a cause is not in contention: the evidence already argues against it,
# and testing it would spend the budget where it cannot change the verdict.
FLOOR = CONTENTION
# Experiments that read predictions of the trained model (seconds), run first.
NO_RETRAINING = ("small_validation_set", "metric_mismatch", "pipeline_bug", "distribution_shift")
# Experiments that retrain, at most this many causes: with two seeds and a control, each
# costs about two trainings, and the default budget is three. distribution_shift has both: a
# domain classifier first, then a re-split retraining if it is among the retrained causes.
RETRAINING = ("label_noise", "overfitting", "subgroup_underfitting", "optimization",
              "distribution_shift")
MAX_RETRAINED_CAUSES = 2


def plan_experiments(diagnosis: Diagnosis, floor: float = FLOOR,
                     max_retrained: int = MAX_RETRAINED_CAUSES,
                     only: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(causes checked without retraining, causes retrained): every no-retraining cause in
    contention, and the ``max_retrained`` best-scored causes that have a retraining. Nothing
    for a run that diverged or never learned (the premise, not a gap, is the story there).
    ``only``: the causes to test whatever their score."""
    if only is not None:   # the user names the causes: test those, in the cheap-first order
        contention = list(dict.fromkeys(c for c in (*NO_RETRAINING, *RETRAINING) if c in only))
    elif diagnosis.status != "ok":
        return [], []
    else:
        contention = [f.cause for f in diagnosis.findings if f.score >= floor]
    cheap = [c for c in contention if c in NO_RETRAINING]
    costly = [c for c in contention if c in RETRAINING][:max_retrained]
    return cheap, costly


def causes_to_test(diagnosis: Diagnosis, floor: float = FLOOR,
                   max_retrained: int = MAX_RETRAINED_CAUSES,
                   only: list[str] | None = None) -> list[str]:
    """Every cause :func:`plan_experiments` tests, cheap checks first, each once."""
    cheap, costly = plan_experiments(diagnosis, floor, max_retrained, only)
    return list(dict.fromkeys(cheap + costly))
