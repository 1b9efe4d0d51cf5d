"""Where the camera node finds a camera's calibration, and whether it fits the stream.

The file format (camera_calibration_parsers' YAML) and ``CameraIntrinsics`` live in
``robot_rl.calibration.camera_info``; this module only locates files and checks them against the
camera's configured size.
"""
from __future__ import annotations

import sys
from pathlib import Path

from robot_rl.calibration.camera_info import CameraIntrinsics, how_to_create, load_camera_info
from robot_rl.calibration.errors import CalibrationFileInvalid, CalibrationFileMissing

__all__ = ["CameraIntrinsics", "check_matches", "load_camera_info", "resolve_calibration_path"]


def calibration_dirs() -> list[Path]:
    """``./calibration`` (a source checkout), the repository's ``calibration/``, the installed share."""
    return [
        Path.cwd() / "calibration",
        Path(__file__).resolve().parents[2] / "calibration",
        Path(sys.prefix) / "share" / "robot_rl" / "calibration",
    ]


def resolve_calibration_path(name: str, search_dirs: list[Path] | None = None) -> Path:
    """``name`` as given if absolute, else the first ``<dir>/name`` that exists among the calibration folders."""
    path = Path(name)
    if path.is_absolute():
        if not path.is_file():
            raise CalibrationFileMissing(path, how_to_create(path.stem))
        return path
    dirs = search_dirs if search_dirs is not None else calibration_dirs()
    for directory in dirs:
        if (directory / path).is_file():
            return directory / path
    raise CalibrationFileMissing(
        f"{name} (searched {', '.join(str(d) for d in dirs)})",
        f"{how_to_create(path.stem)}` or set the camera's calibration to '' to use the device's intrinsics`")


def check_matches(intrinsics: CameraIntrinsics, width: int, height: int, source: str) -> CameraIntrinsics:
    if (intrinsics.width, intrinsics.height) != (width, height):
        raise CalibrationFileInvalid(
            f"{source} is for {intrinsics.width}x{intrinsics.height} images but the camera streams "
            f"{width}x{height}: recalibrate at this size or change the camera's width/height")
    return intrinsics
