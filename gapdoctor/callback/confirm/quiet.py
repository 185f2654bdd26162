"""Keeps TensorFlow's retracing warnings about GapDoctor's own experiments off the console.

Every retraining builds a fresh model and predicts on splits of several sizes, so
TensorFlow logs "N out of the last M calls to <function ...> triggered tf.function
retracing" for functions the user never wrote and cannot change. Only that message, only
while the experiments run; every other TensorFlow warning still reaches the user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_RETRACING = "triggered tf.function retracing"


class _DropRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _RETRACING not in record.getMessage()


@contextmanager
def quiet_retracing() -> Iterator[None]:
    """Drop TensorFlow's retracing warnings inside the ``with`` block (see the module)."""
    logger, drop = logging.getLogger("tensorflow"), _DropRetracing()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
