"""Checks of GapDoctor's constructor arguments: errors say what was received and expected."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from gapdoctor.callback.data_sampling import source_kind
from gapdoctor.callback.probes import Probe, as_probe


def check_count(name: str, value: Any) -> int:
    """``value`` as an int >= 1.

    Raises:
        TypeError: not an integer. ValueError: smaller than 1.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be a positive integer. "
                        f"Received: {name}={value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
    return int(value)


def check_groups(groups: Any) -> dict[str, np.ndarray] | None:
    """``groups`` as ``{name: 1-D bool or int array}``."""
    if groups is None:
        return None
    if not isinstance(groups, dict):
        raise TypeError("`groups` must be a dict mapping a name to a boolean mask or an index "
                        f"array over the validation samples. Received: {type(groups).__name__}")
    out = {}
    for name, spec in groups.items():
        array = np.asarray(spec)
        if array.ndim != 1 or not (array.dtype == bool or array.dtype.kind in "iu"
                                   or array.size == 0):
            raise ValueError(f"`groups[{name!r}]` must be a 1-D boolean mask or integer index "
                             f"array. Received: dtype={array.dtype}, shape={array.shape}")
        out[str(name)] = array
    return out


def check_probes(probes: Any) -> list[Probe]:
    """Extra probes as :class:`Probe` instances."""
    if probes is not None and not isinstance(probes, (list, tuple)):
        raise TypeError(f"`probes` must be a list. Received: probes of type "
                        f"{type(probes).__name__}")
    return [as_probe(p) for p in probes or []]


def check_arguments(validation_data: Any, train_data: Any, output_dir: Any, run_name: Any,
                    class_names: Any, verbose: Any, monitor: Any = None,
                    output: Any = None) -> None:
    """Raise TypeError/ValueError naming the received value of a malformed argument."""
    for name, data in (("validation_data", validation_data), ("train_data", train_data)):
        if data is not None and source_kind(data) is None:
            raise TypeError(f"`{name}` must be a tuple (x, y), a tf.data.Dataset or a "
                            f"keras.utils.PyDataset. Received: {name} of type "
                            f"{type(data).__name__}")
    if not isinstance(output_dir, (str, os.PathLike)):
        raise TypeError(f"`output_dir` must be a path. Received: output_dir={output_dir!r}")
    if run_name is not None and (not isinstance(run_name, str) or not run_name.strip()
                                 or os.sep in run_name or "/" in run_name):
        raise ValueError("`run_name` must be a non-empty name without path separators. "
                         f"Received: run_name={run_name!r}")
    if class_names is not None and (isinstance(class_names, str)
                                    or not hasattr(class_names, "__len__")):
        raise TypeError(f"`class_names` must be a list of names. Received: "
                        f"class_names={class_names!r}")
    if monitor is not None and (not isinstance(monitor, str) or not monitor.strip()):
        raise TypeError("`monitor` must be the name of a logged value, e.g. 'val_accuracy'. "
                        f"Received: monitor={monitor!r}")
    if output is not None and (isinstance(output, bool) or not isinstance(output, (str, int))):
        raise TypeError(f"`output` must be an output's name or position. Received: "
                        f"output={output!r}")
    if isinstance(verbose, bool) or not isinstance(verbose, int) or verbose < 0:
        raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
