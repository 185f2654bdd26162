"""Retracing warnings about GapDoctor's own experiment models stay off the console; every
other TensorFlow warning, and retracing warnings outside the experiments, still show."""

from __future__ import annotations

import logging

from gapdoctor.callback.confirm.quiet import quiet_retracing

RETRACING = ("5 out of the last 9 calls to <function one_step_on_data_distributed> triggered "
             "tf.function retracing. Tracing is expensive ...")


def test_only_the_retracing_warning_is_dropped_and_only_inside_the_block(caplog) -> None:
    tf_logger = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING):
        with quiet_retracing():
            tf_logger.warning(RETRACING)
            tf_logger.warning("Your input ran out of data")
        tf_logger.warning(RETRACING)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["Your input ran out of data", RETRACING]
    assert not tf_logger.filters  # nothing left behind


def test_the_filter_is_removed_when_the_experiments_raise(caplog) -> None:
    try:
        with quiet_retracing():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert not logging.getLogger("tensorflow").filters
