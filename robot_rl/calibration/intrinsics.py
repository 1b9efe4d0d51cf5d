"""Camera intrinsics from board views: calibrate, score every view, drop the poor ones, show coverage.

    detections = [boards.detect_file(spec, p) for p in images]
    report = calibrate_intrinsics(detections, sources=[p.name for p in images], camera_name="front")
    print(report.format())
    save_camera_info(report.intrinsics, "calibration/front.yaml")

Like ROS's cameracalibrator, the default model is plumb_bob with k1, k2, p1, p2 free and k3 fixed at 0
(``k_coefficients=2``); a wide-angle lens may want 3. A view is rejected when its RMS reprojection
error is above ``max(max_view_rms_px, reject_factor * median)``, then the camera is calibrated again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from robot_rl.calibration.boards import MIN_CORNERS, Detection
from robot_rl.calibration.camera_info import CameraIntrinsics
from robot_rl.calibration.errors import CalibrationDataError

MIN_VIEWS = 4
RECOMMENDED_VIEWS = 12
COVERAGE_GRID = 3  # the image is split into COVERAGE_GRID x COVERAGE_GRID regions for feedback
_ROWS = ("top", "middle", "bottom")
_COLS = ("left", "centre", "right")


@dataclass
class ViewResult:
    source: str
    corners: int
    rms_px: float | None  # None: board not found
    rejected: bool = False
    reason: str = ""


@dataclass
class Coverage:
    """How much of the image the accepted views' corners reach."""

    counts: NDArray[np.int64]  # (COVERAGE_GRID, COVERAGE_GRID) corners per region, row-major from top-left
    fraction: float  # share of a fine 8x8 grid with at least one corner

    def empty_regions(self, min_corners: int = 1) -> list[str]:
        names = []
        for r in range(COVERAGE_GRID):
            for c in range(COVERAGE_GRID):
                if self.counts[r, c] < min_corners:
                    names.append("centre" if (r, c) == (1, 1) else f"{_ROWS[r]}-{_COLS[c]}")
        return names


@dataclass
class IntrinsicsReport:
    intrinsics: CameraIntrinsics
    rms_px: float  # overall RMS reprojection error of the accepted views
    views: list[ViewResult]
    coverage: Coverage
    std_fx_fy_cx_cy: tuple[float, float, float, float]  # 1-sigma uncertainty from the solver
    warnings: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> list[ViewResult]:
        return [v for v in self.views if v.rms_px is not None and not v.rejected]

    def format(self) -> str:
        i = self.intrinsics
        s = self.std_fx_fy_cx_cy
        lines = [f"intrinsics of {i.camera_name or 'camera'} ({i.width}x{i.height}) from {len(self.accepted)} of "
                 f"{len(self.views)} views: RMS reprojection error {self.rms_px:.3f} px",
                 f"  fx = {i.fx:.2f} ± {s[0]:.2f}  fy = {i.fy:.2f} ± {s[1]:.2f}  "
                 f"cx = {i.cx:.2f} ± {s[2]:.2f}  cy = {i.cy:.2f} ± {s[3]:.2f}",
                 f"  distortion ({i.distortion_model}) = {np.round(i.distortion, 5).tolist()}",
                 f"  coverage: corners reach {self.coverage.fraction * 100:.0f}% of the image",
                 "  per view (RMS px):"]
        for v in self.views:
            state = "board not found" if v.rms_px is None else f"{v.rms_px:.3f} px, {v.corners} corners"
            mark = f"  REJECTED: {v.reason}" if v.rejected else ""
            lines.append(f"    {v.source:<24} {state}{mark}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def coverage(points: Sequence[NDArray[np.float32]], width: int, height: int) -> Coverage:
    counts = np.zeros((COVERAGE_GRID, COVERAGE_GRID), dtype=np.int64)
    fine = np.zeros((8, 8), dtype=bool)
    for pts in points:
        col = np.clip((pts[:, 0] / width * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
        row = np.clip((pts[:, 1] / height * COVERAGE_GRID).astype(int), 0, COVERAGE_GRID - 1)
        np.add.at(counts, (row, col), 1)
        fine[np.clip((pts[:, 1] / height * 8).astype(int), 0, 7), np.clip((pts[:, 0] / width * 8).astype(int), 0, 7)] = True
    return Coverage(counts=counts, fraction=float(fine.mean()))


def _calibrate(views: Sequence[Detection], size: tuple[int, int], k_coefficients: int,
               initial: CameraIntrinsics | None) -> tuple[float, NDArray[np.float64], NDArray[np.float64],
                                                          NDArray[np.float64], NDArray[np.float64]]:
    flags = cv2.CALIB_FIX_K3 if k_coefficients < 3 else 0
    if k_coefficients < 2:
        flags |= cv2.CALIB_FIX_K2
    if k_coefficients < 1:
        flags |= cv2.CALIB_FIX_K1 | cv2.CALIB_ZERO_TANGENT_DIST
    k0: Any = None
    d0: Any = None
    if initial is not None:
        flags |= cv2.CALIB_USE_INTRINSIC_GUESS
        k0, d0 = initial.camera_matrix.copy(), initial.dist_coeffs.copy()
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-9)
    rms, k, dist, _, _, std_intr, _, per_view = cv2.calibrateCameraExtended(
        [v.object_points.reshape(-1, 1, 3) for v in views], [v.image_points.reshape(-1, 1, 2) for v in views],
        size, k0, d0, flags=flags, criteria=criteria)
    return (float(rms), np.asarray(k, dtype=np.float64), np.asarray(dist, dtype=np.float64),
            np.asarray(per_view, dtype=np.float64).reshape(-1), np.asarray(std_intr, dtype=np.float64).reshape(-1))


def calibrate_intrinsics(detections: Sequence[Detection | None], sources: Sequence[str] | None = None,
                         camera_name: str = "", k_coefficients: int = 2, max_view_rms_px: float = 1.0,
                         reject_factor: float = 3.0, min_views: int = MIN_VIEWS,
                         initial: CameraIntrinsics | None = None) -> IntrinsicsReport:
    """Calibrate from one ``Detection`` (or None: board not found) per image.

    Raises ``CalibrationDataError`` when fewer than ``min_views`` usable views remain (naming the images
    where no board was found) or the images differ in size.
    """
    names = list(sources) if sources is not None else [d.source if d is not None and d.source else f"view {i}"
                                                       for i, d in enumerate(detections)]
    views = [ViewResult(source=n, corners=0 if d is None else len(d.ids), rms_px=None)
             for n, d in zip(names, detections)]
    usable = [i for i, d in enumerate(detections) if d is not None and len(d.ids) >= MIN_CORNERS]
    missing = [names[i] for i, d in enumerate(detections) if d is None or len(d.ids) < MIN_CORNERS]
    if len(usable) < min_views:
        detail = f"; the board was not found in {', '.join(missing)}" if missing else ""
        raise CalibrationDataError(
            f"intrinsics need at least {min_views} views with the board found, got {len(usable)}: add "
            f"{min_views - len(usable)} more (better {max(RECOMMENDED_VIEWS - len(usable), 0)} more, over the "
            f"whole image and tilted){detail}")
    sizes = {detections[i].image_size for i in usable}  # type: ignore[union-attr]
    if len(sizes) > 1:
        raise CalibrationDataError(f"images differ in size ({sorted(sizes)}): calibrate one camera resolution at a time")
    size = sizes.pop()
    active = list(usable)
    while True:
        rms, k, dist, per_view, std = _calibrate([detections[i] for i in active], size, k_coefficients,  # type: ignore[misc]
                                                 initial)
        for i, err in zip(active, per_view):
            views[i].rms_px = float(err)
        limit = max(max_view_rms_px, reject_factor * float(np.median(per_view)))
        worst = int(np.argmax(per_view))
        if per_view[worst] <= limit or len(active) - 1 < min_views:
            break
        views[active[worst]].rejected = True
        views[active[worst]].reason = f"{per_view[worst]:.2f} px > limit {limit:.2f} px (blurred, or a misdetection)"
        del active[worst]
    warnings = []
    if missing:
        warnings.append(f"board not found in {len(missing)} image(s): {', '.join(missing)}")
    if len(active) < RECOMMENDED_VIEWS:
        warnings.append(f"only {len(active)} views used: {RECOMMENDED_VIEWS}+ views give stabler intrinsics")
    cov = coverage([detections[i].image_points for i in active], size[0], size[1])  # type: ignore[union-attr]
    empty = cov.empty_regions()
    if empty:
        warnings.append(f"no board corners in the {', '.join(empty)} of the image: add views with the board there "
                        "(distortion there is extrapolated)")
    intr = CameraIntrinsics.from_opencv(k, dist, size[0], size[1], camera_name)
    std4 = (float(std[0]), float(std[1]), float(std[2]), float(std[3])) if len(std) >= 4 else (0.0, 0.0, 0.0, 0.0)
    return IntrinsicsReport(intrinsics=intr, rms_px=rms, views=views, coverage=cov, std_fx_fy_cx_cy=std4,
                            warnings=warnings)
