"""What can go wrong with calibration data, as exceptions whose messages say how to fix it.

- ``CalibrationFileMissing`` (a ``FileNotFoundError``): a calibration file named in the config or on
  the command line does not exist; the message names the ``robot-rl calibrate`` command that writes it.
- ``CalibrationFileInvalid`` (a ``ValueError``): the file exists but is not valid YAML, misses a key,
  or holds values that cannot be right (a non-rotation, a box whose min is above its max, ...).
- ``CalibrationDataError`` (a ``ValueError``): the views or poses given to a solver cannot give a good
  result: too few of them (says how many more), a board not found (names the image), robot motions
  that do not excite every rotation axis (says which rotation is missing).
"""
from __future__ import annotations

from pathlib import Path


class CalibrationFileMissing(FileNotFoundError):
    """A calibration file does not exist; the message says which command creates it."""

    def __init__(self, path: str | Path, how_to_create: str) -> None:
        super().__init__(f"calibration file {path} not found: create it with `{how_to_create}`")
        self.path = Path(path)


class CalibrationFileInvalid(ValueError):
    """A calibration file cannot be read or holds impossible values; the message names file and fix."""


class CalibrationDataError(ValueError):
    """The calibration input (views, poses) cannot give a trustworthy result; the message says what to add."""
