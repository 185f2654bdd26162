"""The ``gapdoctor`` command line: ``analyze``, ``batch`` and ``demo``.

Only ``demo`` imports TensorFlow; ``--help``, ``analyze`` and ``batch`` read saved runs
with pure Python/numpy/pandas.
"""
