"""The PDF reports: one run's diagnosis (``write_report``) and a batch overview.

Pure reportlab + matplotlib (Agg canvas, no pyplot); never imports TensorFlow or Keras.
Layout, fonts, colours and section texts come from ``gapdoctor/report_templates/report/styles.toml``.

Example:
    >>> from gapdoctor import diagnose, load_run               # doctest: +SKIP
    >>> from gapdoctor.report import write_report              # doctest: +SKIP
    >>> run = load_run("history.json")                         # doctest: +SKIP
    >>> write_report(run, diagnose(run), "report.pdf")         # doctest: +SKIP
"""

from gapdoctor.report.overview import write_overview
from gapdoctor.report.pdf import prebuild_sections, write_report

__all__ = ["prebuild_sections", "write_overview", "write_report"]
