"""Errors gapdoctor raises on bad input; the CLI turns each into one line and exit code 2."""


class GapDoctorError(Exception):
    """Base of every error gapdoctor raises on purpose."""


class RecordError(GapDoctorError, ValueError):
    """A run record or saved log could not be read: names the file and what was wrong."""
