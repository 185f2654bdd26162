"""The Keras side of gapdoctor: the ``GapDoctor`` callback and its probes.

This package is the only part of gapdoctor that imports TensorFlow and Keras.
"""

from gapdoctor.callback.gapdoctor_callback import GapDoctor
from gapdoctor.callback.probes import FunctionProbe, Probe

__all__ = ["FunctionProbe", "GapDoctor", "Probe"]
