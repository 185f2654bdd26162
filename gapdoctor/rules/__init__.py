"""The rule registry: one module per cause id, each exporting one ``Rule`` subclass.

To add a cause: write ``gapdoctor/rules/<cause>.py``, a template in
``gapdoctor/report_templates/causes/<cause>.toml``, and list the class here.
"""

from __future__ import annotations

from gapdoctor.rules.base import Rule
from gapdoctor.rules.distribution_shift import DistributionShiftRule
from gapdoctor.rules.label_noise import LabelNoiseRule
from gapdoctor.rules.metric_mismatch import MetricMismatchRule
from gapdoctor.rules.metric_saturation import MetricSaturationRule
from gapdoctor.rules.optimization import OptimizationRule
from gapdoctor.rules.overfitting import OverfittingRule
from gapdoctor.rules.pipeline_bug import PipelineBugRule
from gapdoctor.rules.small_validation_set import SmallValidationSetRule
from gapdoctor.rules.subgroup_underfitting import SubgroupUnderfittingRule

RULES: list[type[Rule]] = [
    OverfittingRule, LabelNoiseRule, MetricMismatchRule, DistributionShiftRule,
    SubgroupUnderfittingRule, PipelineBugRule, SmallValidationSetRule, OptimizationRule,
    MetricSaturationRule,
]

__all__ = ["RULES", "Rule"]
