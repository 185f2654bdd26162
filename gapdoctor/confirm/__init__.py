"""Confirmation experiments: turn a ranked hypothesis into a measured effect.

The pure part lives here (no TensorFlow): what an outcome is and how it is decided
(``outcome``), the cheap checks that need only predictions (``checks``), which experiments
to run for a diagnosis (``plan``) and how their outcomes update it (``ranking``). The
retraining itself runs in ``gapdoctor.callback.confirm`` (it needs Keras).
"""

from gapdoctor.confirm.outcome import Confirmation, paired_effect
from gapdoctor.confirm.ranking import apply_confirmations

__all__ = ["Confirmation", "apply_confirmations", "paired_effect"]
