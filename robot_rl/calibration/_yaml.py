"""Reading and writing the YAML files of ``calibration/``: one place for the error messages."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from robot_rl.calibration.errors import CalibrationFileInvalid, CalibrationFileMissing


def read_mapping(path: str | Path, how_to_create: str) -> dict[str, Any]:
    """The top-level mapping of a YAML file; missing file or bad YAML raise with the fix in the message."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationFileMissing(path, how_to_create)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CalibrationFileInvalid(f"{path}: not valid YAML{where}; fix the file or recreate it with "
                                     f"`{how_to_create}`") from None
    if not isinstance(doc, dict):
        raise CalibrationFileInvalid(f"{path}: expected a YAML mapping at the top level; recreate it with "
                                     f"`{how_to_create}`")
    return doc


def write_with_header(path: str | Path, doc: dict[str, Any], header: str = "", flow: bool | None = None) -> Path:
    """Write ``doc`` as YAML with ``header`` as a leading ``#`` comment; creates parent folders.

    ``flow=None`` writes innermost lists inline (``data: [1, 0, ...]``), ``False`` everything as blocks."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()] if header.strip() else []
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=flow, width=100)
    path.write_text("\n".join(lines) + ("\n" if lines else "") + body)
    return path


def number_list(value: Any, count: int | None, what: str, path: Path, fix: str) -> list[float]:
    """``value`` as a list of floats (of length ``count`` when given), else CalibrationFileInvalid."""
    ok = isinstance(value, (list, tuple)) and (count is None or len(value) == count)
    if ok:
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            ok = False
    size = f"{count} numbers" if count is not None else "a list of numbers"
    raise CalibrationFileInvalid(f"{path}: {what} must be {size}, got {value!r}; {fix}")
