"""Confirmation experiments that retrain the user's model (Keras). The decisions they feed
(outcomes, intervals, ranking) live in ``gapdoctor.confirm``, which needs no Keras."""

from gapdoctor.callback.confirm.api import confirm_run

__all__ = ["confirm_run"]
