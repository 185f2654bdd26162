"""The rule registry: one module per cause id, each exporting one ``Rule`` subclass.

To add a cause: write ``gapdoctor/rules/<cause>.py``, a template in
``report_templates/causes/<cause>.toml``, and list the class here.
"""

from __future__ import annotations

from gapdoctor.rules.base import Rule

RULES: list[type[Rule]] = []

__all__ = ["RULES", "Rule"]
