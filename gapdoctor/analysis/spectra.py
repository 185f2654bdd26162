"""Signals and images seen by their spectra: what a simple reference model can learn from.

The reference model (:func:`gapdoctor.analysis.features.feature_facts`) is linear on the raw
inputs. On a signal whose class is a waveform at a random phase, or an image whose class is
a texture, that model sits at chance while the network is near perfect, and every check
built on it (labels misaligned with inputs, noisy training labels, a regained accuracy)
goes blind. The magnitude of the Fourier transform does not move when the pattern does, so
a linear model on it learns such classes; it is the first view a signal-processing
practitioner reaches for. It is only a candidate: the reference model keeps the raw view
unless this one predicts the training labels clearly better.

Example:
    >>> x = np.sin(np.linspace(0, 8 * np.pi, 32))[None, :]
    >>> int(spectral_view(x, [32, 1]).argmax())   # four periods: frequency bin 4
    4
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Shortest axis worth a spectrum: below 8 samples (4 frequency bins) there is no pattern to
# be invariant to; an 8x8 image still gives 8x5 bins.
MIN_AXIS = 8


def spectral_view(x: np.ndarray, input_shape: Sequence[int] | None) -> np.ndarray | None:
    """``log(1 + |FFT|)`` of each row of the flattened inputs ``x``: along the length of a
    ``(length, channels)`` signal, over height and width of a ``(height, width, channels)``
    image. None for tabular inputs (one axis), other layouts, or a shape that ``x`` does not
    have."""
    if input_shape is None or not isinstance(x, np.ndarray) or x.ndim != 2:
        return None
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        return None
    if len(shape) not in (2, 3) or math.prod(shape) != x.shape[1] or min(shape[:-1]) < MIN_AXIS:
        return None
    z = np.nan_to_num(np.asarray(x, float), posinf=0.0, neginf=0.0).reshape(len(x), *shape)
    z = z - z.mean(axis=tuple(range(1, z.ndim)), keepdims=True)  # no DC term to dominate
    if len(shape) == 2:
        magnitude = np.abs(np.fft.rfft(z, axis=1))
    else:
        magnitude = np.abs(np.fft.rfft2(z, axes=(1, 2)))
    return np.log1p(magnitude).reshape(len(x), -1)
