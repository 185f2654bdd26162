"""Known-fault training cases: the demo and the diagnosis benchmark train these.

Example:
    >>> from gapdoctor.faults import build_case, train_case    # doctest: +SKIP
    >>> doctor = train_case(build_case("label_noise"), "out")   # doctest: +SKIP
"""

from gapdoctor.faults.cases import ARCHS, FAULTS, Case, build_case, train_case
from gapdoctor.faults.data import DATASETS

__all__ = ["ARCHS", "DATASETS", "FAULTS", "Case", "build_case", "train_case"]
