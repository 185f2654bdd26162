"""``python -m gapdoctor ...``: the ``gapdoctor`` command, for environments without its script
on PATH (a venv that is not activated, a notebook's ``!python -m gapdoctor analyze run/``)."""

import sys

from gapdoctor.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
