"""Camera intrinsics in camera_calibration_parsers' YAML format (what ROS's cameracalibrator writes).

    image_width: 640
    image_height: 480
    camera_name: front
    camera_matrix: {rows: 3, cols: 3, data: [fx, 0, cx, 0, fy, cy, 0, 0, 1]}
    distortion_model: plumb_bob
    distortion_coefficients: {rows: 1, cols: 5, data: [k1, k2, p1, p2, k3]}
    rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}
    projection_matrix: {rows: 3, cols: 4, data: [fx, 0, cx, 0, 0, fy, cy, 0, 0, 0, 1, 0]}

One file per camera under ``calibration/`` (``calibration/<camera>.yaml``), named by
``cameras.devices.<camera>.calibration``. The field names of ``CameraIntrinsics`` match
``robot_rl.perception.camera_info.CameraIntrinsics`` so either reads the other's files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from robot_rl.calibration._yaml import read_mapping, write_with_header
from robot_rl.calibration.errors import CalibrationFileInvalid

DISTORTION_MODELS = ("plumb_bob", "rational_polynomial", "equidistant")
IDENTITY_3X3 = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics and distortion of one camera, as sensor_msgs/CameraInfo carries them."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = "plumb_bob"
    distortion: list[float] = field(default_factory=lambda: [0.0] * 5)  # plumb_bob: k1 k2 p1 p2 k3
    rectification: list[float] = field(default_factory=lambda: list(IDENTITY_3X3))  # R, 3x3 row-major
    projection: list[float] | None = None  # P, 3x4 row-major; None = [K | 0] (a monocular camera)
    camera_name: str = ""

    @property
    def k(self) -> list[float]:
        """K, 3x3 row-major, as CameraInfo.k."""
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def p(self) -> list[float]:
        """P, 3x4 row-major, as CameraInfo.p."""
        if self.projection is not None:
            return list(self.projection)
        return [self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0]

    @property
    def camera_matrix(self) -> NDArray[np.float64]:
        """K as a 3x3 array (OpenCV's cameraMatrix)."""
        return np.array(self.k, dtype=np.float64).reshape(3, 3)

    @property
    def dist_coeffs(self) -> NDArray[np.float64]:
        """Distortion as OpenCV's distCoeffs (1xN)."""
        return np.array(self.distortion, dtype=np.float64).reshape(1, -1)

    @classmethod
    def from_opencv(cls, camera_matrix: NDArray[np.float64], dist_coeffs: NDArray[np.float64],
                    width: int, height: int, camera_name: str = "") -> CameraIntrinsics:
        k = np.asarray(camera_matrix, dtype=np.float64)
        dist = [float(v) for v in np.asarray(dist_coeffs, dtype=np.float64).ravel()]
        model = "plumb_bob" if len(dist) <= 5 else "rational_polynomial"
        if model == "plumb_bob":
            dist = (dist + [0.0] * 5)[:5]
        return cls(width=int(width), height=int(height), fx=float(k[0, 0]), fy=float(k[1, 1]),
                   cx=float(k[0, 2]), cy=float(k[1, 2]), distortion_model=model, distortion=dist,
                   camera_name=camera_name)

    @classmethod
    def from_fovy(cls, width: int, height: int, fovy_deg: float, camera_name: str = "") -> CameraIntrinsics:
        """An ideal pinhole (square pixels, centred, no distortion), as MuJoCo renders a camera."""
        f = (height / 2.0) / np.tan(np.radians(fovy_deg) / 2.0)
        return cls(width=width, height=height, fx=float(f), fy=float(f), cx=(width - 1) / 2.0,
                   cy=(height - 1) / 2.0, camera_name=camera_name)


def how_to_create(camera: str = "<camera>") -> str:
    return f"robot-rl calibrate intrinsics --camera {camera} --images <folder of board images>"


def _matrix(doc: dict, key: str, rows: int, cols: int, path: Path, fix: str) -> list[float]:
    entry = doc.get(key)
    data = entry.get("data") if isinstance(entry, dict) else None
    if not isinstance(data, list) or len(data) != rows * cols:
        raise CalibrationFileInvalid(
            f"{path}: '{key}' must be a {rows}x{cols} matrix written {{rows: {rows}, cols: {cols}, data: "
            f"[{rows * cols} numbers]}}; {fix}")
    try:
        return [float(v) for v in data]
    except (TypeError, ValueError):
        raise CalibrationFileInvalid(f"{path}: '{key}' data must be numbers; {fix}") from None


def load_camera_info(path: str | Path) -> CameraIntrinsics:
    """Read a camera_calibration_parsers YAML file.

    Raises ``CalibrationFileMissing`` (a FileNotFoundError) when it does not exist and
    ``CalibrationFileInvalid`` (a ValueError) when it is not a usable camera_info file.
    """
    path = Path(path)
    camera = path.stem
    fix = f"fix the file or recreate it with `{how_to_create(camera)}`"
    doc = read_mapping(path, how_to_create(camera))
    for key in ("image_width", "image_height", "camera_matrix"):
        if key not in doc:
            raise CalibrationFileInvalid(f"{path}: no '{key}' (not a camera_calibration_parsers file); {fix}")
    try:
        width, height = int(doc["image_width"]), int(doc["image_height"])
    except (TypeError, ValueError):
        raise CalibrationFileInvalid(f"{path}: image_width/image_height must be integers; {fix}") from None
    if width <= 0 or height <= 0:
        raise CalibrationFileInvalid(f"{path}: image size {width}x{height} must be positive; {fix}")
    k = _matrix(doc, "camera_matrix", 3, 3, path, fix)
    if k[0] <= 0 or k[4] <= 0:
        raise CalibrationFileInvalid(f"{path}: focal lengths fx={k[0]}, fy={k[4]} must be positive; {fix}")
    model = str(doc.get("distortion_model", "plumb_bob"))
    if model not in DISTORTION_MODELS:
        raise CalibrationFileInvalid(f"{path}: distortion_model {model!r}: use one of {', '.join(DISTORTION_MODELS)}")
    distortion: list[float] = [0.0] * 5
    if doc.get("distortion_coefficients") is not None:
        entry = doc["distortion_coefficients"]
        data = entry.get("data") if isinstance(entry, dict) else entry  # some tools write a bare list
        if not isinstance(data, list):
            raise CalibrationFileInvalid(f"{path}: distortion_coefficients must be {{rows, cols, data: [...]}}; {fix}")
        try:
            distortion = [float(v) for v in data]
        except (TypeError, ValueError):
            raise CalibrationFileInvalid(f"{path}: distortion_coefficients must be numbers; {fix}") from None
    return CameraIntrinsics(
        width=width, height=height, fx=k[0], fy=k[4], cx=k[2], cy=k[5],
        distortion_model=model, distortion=distortion,
        rectification=_matrix(doc, "rectification_matrix", 3, 3, path, fix)
        if "rectification_matrix" in doc else list(IDENTITY_3X3),
        projection=_matrix(doc, "projection_matrix", 3, 4, path, fix) if "projection_matrix" in doc else None,
        camera_name=str(doc.get("camera_name") or ""),
    )


def save_camera_info(intrinsics: CameraIntrinsics, path: str | Path, header: str = "") -> Path:
    """Write ``intrinsics`` as camera_calibration_parsers YAML (``header`` becomes a leading comment)."""
    doc = {
        "image_width": intrinsics.width,
        "image_height": intrinsics.height,
        "camera_name": intrinsics.camera_name,
        "camera_matrix": {"rows": 3, "cols": 3, "data": _rounded(intrinsics.k)},
        "distortion_model": intrinsics.distortion_model,
        "distortion_coefficients": {"rows": 1, "cols": len(intrinsics.distortion),
                                    "data": _rounded(intrinsics.distortion)},
        "rectification_matrix": {"rows": 3, "cols": 3, "data": _rounded(intrinsics.rectification)},
        "projection_matrix": {"rows": 3, "cols": 4, "data": _rounded(intrinsics.p)},
    }
    return write_with_header(path, doc, header)


def _rounded(values: list[float]) -> list[float]:
    return [round(float(v), 9) for v in values]
