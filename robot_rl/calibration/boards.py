"""Calibration boards: chessboards and ChArUco boards, their detection, and their pose in a camera.

A board is described by its number of *squares* in x and y (a 9x7-square chessboard has 8x6 inner
corners) and the square side in metres. Board coordinates: origin at the board's top-left outer
corner, x along the first row, y down the columns, z into the board, as OpenCV's ChArUco boards use.
ChArUco is the better choice for hand-eye work: every corner has an id, so partial and rotated views
give the same board frame, where a plain chessboard may come out turned by 180 degrees.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from robot_rl.calibration.camera_info import CameraIntrinsics
from robot_rl.calibration.errors import CalibrationDataError
from robot_rl.calibration.transforms import Matrix, make_transform

BOARD_KINDS = ("chessboard", "charuco")
MIN_CORNERS = 6  # fewer than this gives no reliable pose or homography


@dataclass(frozen=True)
class BoardSpec:
    """Geometry of a printed calibration board."""

    kind: str = "charuco"  # chessboard | charuco
    squares_x: int = 7  # squares along x (a row)
    squares_y: int = 5  # squares along y (a column)
    square_m: float = 0.04  # side of one square, measured on the print
    marker_m: float = 0.03  # ChArUco only: side of one ArUco marker
    dictionary: str = "DICT_5X5_100"  # ChArUco only: cv2.aruco predefined dictionary name

    def __post_init__(self) -> None:
        if self.kind not in BOARD_KINDS:
            raise CalibrationDataError(f"board kind {self.kind!r}: use chessboard or charuco")
        if self.squares_x < 3 or self.squares_y < 3:
            raise CalibrationDataError(f"board of {self.squares_x}x{self.squares_y} squares: use at least 3x3")
        if self.square_m <= 0:
            raise CalibrationDataError(f"board square size {self.square_m} m: must be > 0 (measure the print)")
        if self.kind == "charuco":
            if not 0 < self.marker_m < self.square_m:
                raise CalibrationDataError(
                    f"ChArUco marker size {self.marker_m} m must be > 0 and smaller than the square {self.square_m} m")
            if not hasattr(cv2.aruco, self.dictionary):
                raise CalibrationDataError(f"ArUco dictionary {self.dictionary!r} unknown: use e.g. DICT_5X5_100")

    @property
    def inner_corners(self) -> tuple[int, int]:
        return self.squares_x - 1, self.squares_y - 1

    @property
    def corner_count(self) -> int:
        return (self.squares_x - 1) * (self.squares_y - 1)

    def object_points(self) -> NDArray[np.float32]:
        """All inner corners in board coordinates, row by row (ChArUco ids follow this order)."""
        nx, ny = self.inner_corners
        grid = np.mgrid[1:nx + 1, 1:ny + 1].T.reshape(-1, 2) * self.square_m
        return np.hstack([grid, np.zeros((len(grid), 1))]).astype(np.float32)

    def describe(self) -> str:
        size = f"{self.squares_x}x{self.squares_y} squares of {self.square_m * 1000:.1f} mm"
        if self.kind == "charuco":
            return f"ChArUco {size}, markers {self.marker_m * 1000:.1f} mm, {self.dictionary}"
        return f"chessboard {size} ({self.inner_corners[0]}x{self.inner_corners[1]} inner corners)"


@dataclass
class Detection:
    """Corners of a board found in one image, with their board coordinates."""

    image_points: NDArray[np.float32]  # (N, 2) pixels
    object_points: NDArray[np.float32]  # (N, 3) metres, board frame
    ids: NDArray[np.int32]  # (N,) corner index into BoardSpec.object_points()
    image_size: tuple[int, int]  # (width, height)
    source: str = ""  # image file name, for messages


def _charuco_board(spec: BoardSpec) -> cv2.aruco.CharucoBoard:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, spec.dictionary))
    return cv2.aruco.CharucoBoard((spec.squares_x, spec.squares_y), spec.square_m, spec.marker_m, dictionary)


def _gray(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return image


def detect(spec: BoardSpec, image: NDArray[np.uint8], source: str = "") -> Detection | None:
    """The board's corners in ``image`` (BGR or gray), or None when the board is not found."""
    gray = _gray(image)
    size = (gray.shape[1], gray.shape[0])
    if spec.kind == "chessboard":
        flags = cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_ACCURACY
        found, corners = cv2.findChessboardCornersSB(gray, spec.inner_corners, flags=flags)
        if not found or corners is None:
            return None
        all_ids = np.arange(spec.corner_count, dtype=np.int32)
        return Detection(corners.reshape(-1, 2).astype(np.float32), spec.object_points(), all_ids, size, source)
    detector = cv2.aruco.CharucoDetector(_charuco_board(spec))
    charuco_corners, ids, _, _ = detector.detectBoard(gray)
    if charuco_corners is None or ids is None or len(ids) < MIN_CORNERS:
        return None
    found_ids = np.asarray(ids, dtype=np.int32).reshape(-1)
    corners = charuco_corners
    return Detection(corners.reshape(-1, 2).astype(np.float32), spec.object_points()[found_ids], found_ids, size,
                     source)


def detect_file(spec: BoardSpec, path: str | Path) -> Detection | None:
    """``detect`` on an image file; raises CalibrationDataError when the file cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise CalibrationDataError(f"{path}: cannot read this image (not an image file, or corrupt)")
    return detect(spec, np.asarray(image, dtype=np.uint8), source=Path(path).name)


def estimate_pose(detection: Detection, intrinsics: CameraIntrinsics) -> tuple[Matrix, float]:
    """Board pose in the camera frame (``T_cam_board``) and its reprojection RMS in pixels."""
    if len(detection.ids) < MIN_CORNERS:
        raise CalibrationDataError(f"{detection.source}: only {len(detection.ids)} board corners; need "
                                   f"{MIN_CORNERS} for a pose")
    k, dist = intrinsics.camera_matrix, intrinsics.dist_coeffs
    obj = detection.object_points.astype(np.float64)
    img = detection.image_points.astype(np.float64)
    ok, rvec, tvec = cv2.solvePnP(obj, img, k, dist, flags=cv2.SOLVEPNP_IPPE)
    if not ok:
        raise CalibrationDataError(f"{detection.source}: no board pose found (solvePnP failed)")
    rvec, tvec = cv2.solvePnPRefineLM(obj, img, k, dist, rvec, tvec)
    projected, _ = cv2.projectPoints(obj, rvec, tvec, k, dist)
    rms = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - img) ** 2, axis=1))))
    return make_transform(rvec.reshape(3), tvec.reshape(3)), rms


def board_texture(spec: BoardSpec, px_per_square: int = 40, margin_px: int = 20) -> NDArray[np.uint8]:
    """A printable image of the board; board point (x, y) lies at pixel
    ``(margin_px - 0.5 + x / square_m * px_per_square, ...)`` (pixel centres at integers)."""
    width = spec.squares_x * px_per_square + 2 * margin_px
    height = spec.squares_y * px_per_square + 2 * margin_px
    if spec.kind == "charuco":
        return np.asarray(_charuco_board(spec).generateImage((width, height), marginSize=margin_px), dtype=np.uint8)
    image = np.full((height, width), 255, dtype=np.uint8)
    for j in range(spec.squares_y):
        for i in range(spec.squares_x):
            if (i + j) % 2 == 0:
                y0, x0 = margin_px + j * px_per_square, margin_px + i * px_per_square
                image[y0:y0 + px_per_square, x0:x0 + px_per_square] = 0
    return image
