"""Camera intrinsics and the camera_calibration_parsers YAML format that ROS calibration tools write.

``ros2 run camera_calibration cameracalibrator`` saves ``ost.yaml`` in this format, so a file from
that tool can be dropped under ``calibration/`` and named in ``cameras.devices.<name>.calibration``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class CalibrationError(ValueError):
    """A calibration file is missing, malformed or does not match the camera's image size."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics plus distortion, as sensor_msgs/CameraInfo carries them."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = "plumb_bob"
    distortion: list[float] = field(default_factory=lambda: [0.0] * 5)
    rectification: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    projection: list[float] | None = None  # 3x4 row-major; None = [K | 0] (a monocular camera)
    camera_name: str = ""

    @property
    def k(self) -> list[float]:
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def p(self) -> list[float]:
        if self.projection is not None:
            return list(self.projection)
        return [self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0]


def _matrix(doc: dict, key: str, rows: int, cols: int, path: Path) -> list[float]:
    entry = doc.get(key)
    data = entry.get("data") if isinstance(entry, dict) else None
    if not isinstance(data, list) or len(data) != rows * cols:
        raise CalibrationError(f"{path}: '{key}' must be a {rows}x{cols} matrix ({{rows, cols, data: [...]}})")
    return [float(v) for v in data]


def load_camera_info_yaml(path: str | Path) -> CameraIntrinsics:
    """Read a camera_calibration_parsers YAML file."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"calibration file {path} not found")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise CalibrationError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(doc, dict) or "image_width" not in doc or "camera_matrix" not in doc:
        raise CalibrationError(f"{path}: not a camera_calibration_parsers file (needs image_width, camera_matrix)")
    k = _matrix(doc, "camera_matrix", 3, 3, path)
    dist_entry = doc.get("distortion_coefficients", {"data": []})
    distortion = [float(v) for v in (dist_entry.get("data") or [])] if isinstance(dist_entry, dict) else []
    return CameraIntrinsics(
        width=int(doc["image_width"]), height=int(doc["image_height"]),
        fx=k[0], fy=k[4], cx=k[2], cy=k[5],
        distortion_model=str(doc.get("distortion_model", "plumb_bob")),
        distortion=distortion,
        rectification=_matrix(doc, "rectification_matrix", 3, 3, path) if "rectification_matrix" in doc
        else [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        projection=_matrix(doc, "projection_matrix", 3, 4, path) if "projection_matrix" in doc else None,
        camera_name=str(doc.get("camera_name", "")),
    )


def save_camera_info_yaml(intrinsics: CameraIntrinsics, path: str | Path) -> None:
    """Write ``intrinsics`` in the format ``load_camera_info_yaml`` (and ROS's tools) read."""
    doc = {
        "image_width": intrinsics.width,
        "image_height": intrinsics.height,
        "camera_name": intrinsics.camera_name,
        "camera_matrix": {"rows": 3, "cols": 3, "data": intrinsics.k},
        "distortion_model": intrinsics.distortion_model,
        "distortion_coefficients": {"rows": 1, "cols": len(intrinsics.distortion), "data": list(intrinsics.distortion)},
        "rectification_matrix": {"rows": 3, "cols": 3, "data": list(intrinsics.rectification)},
        "projection_matrix": {"rows": 3, "cols": 4, "data": intrinsics.p},
    }
    Path(path).write_text(yaml.safe_dump(doc, sort_keys=False))


def resolve_calibration_path(name: str, search_dirs: list[Path] | None = None) -> Path:
    """``name`` as given if absolute, else the first ``<dir>/name`` that exists among the calibration folders.

    Searched in order: ``./calibration`` (a source checkout), the repository's ``calibration/``, and
    the installed ``share/robot_rl/calibration``.
    """
    path = Path(name)
    if path.is_absolute():
        if not path.is_file():
            raise CalibrationError(f"calibration file {path} not found")
        return path
    dirs = search_dirs if search_dirs is not None else [
        Path.cwd() / "calibration",
        Path(__file__).resolve().parents[2] / "calibration",
        Path(sys.prefix) / "share" / "robot_rl" / "calibration",
    ]
    for directory in dirs:
        if (directory / path).is_file():
            return directory / path
    raise CalibrationError(
        f"calibration file {name!r} not found in {[str(d) for d in dirs]}: calibrate the camera "
        "(camera_calibration's cameracalibrator writes this format) or set calibration to '' to use the "
        "device's intrinsics")


def check_matches(intrinsics: CameraIntrinsics, width: int, height: int, source: str) -> CameraIntrinsics:
    if (intrinsics.width, intrinsics.height) != (width, height):
        raise CalibrationError(
            f"{source} is for {intrinsics.width}x{intrinsics.height} images but the camera streams "
            f"{width}x{height}: recalibrate at this size or change the camera's width/height")
    return intrinsics
