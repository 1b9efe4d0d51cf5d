"""Intrinsics from rendered board images of known truth; view rejection, coverage feedback, bad input."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from robot_rl.calibration.boards import BoardSpec, Detection, detect
from robot_rl.calibration.camera_info import CameraIntrinsics
from robot_rl.calibration.errors import CalibrationDataError
from robot_rl.calibration.intrinsics import calibrate_intrinsics
from robot_rl.calibration.synthetic import random_board_poses, render_view

TRUTH = CameraIntrinsics(640, 480, 600.0, 604.0, 323.0, 236.5, distortion=[-0.18, 0.07, 0.0008, -0.0005, 0.0])
BOARDS = {"charuco": BoardSpec("charuco", 7, 5, 0.04, 0.03), "chessboard": BoardSpec("chessboard", 9, 7, 0.03)}


@pytest.mark.parametrize("kind,views", [("charuco", 12), ("chessboard", 10)])
def test_intrinsics_from_rendered_views(kind: str, views: int) -> None:
    spec = BOARDS[kind]
    rng = np.random.default_rng(11)
    images = [render_view(spec, TRUTH, pose, rng=rng) for pose in random_board_poses(spec, TRUTH, views, rng)]
    report = calibrate_intrinsics([detect(spec, image) for image in images], camera_name="front")
    got = report.intrinsics
    focal_err = max(abs(got.fx - TRUTH.fx) / TRUTH.fx, abs(got.fy - TRUTH.fy) / TRUTH.fy)
    pp_err = max(abs(got.cx - TRUTH.cx), abs(got.cy - TRUTH.cy))
    print(f"{kind}: focal {focal_err * 100:.3f}%  principal point {pp_err:.3f} px  rms {report.rms_px:.3f} px")
    assert focal_err < 0.01 and pp_err < 2.0
    assert report.rms_px < 0.3 and len(report.accepted) == views
    assert np.allclose(got.distortion[:2], TRUTH.distortion[:2], atol=0.02)


def _projected(spec: BoardSpec, count: int, rng: np.random.Generator) -> list[Detection]:
    """Exact corner projections (no rendering), for fast tests of the bookkeeping."""
    out = []
    for i, pose in enumerate(random_board_poses(spec, TRUTH, count, rng)):
        obj = spec.object_points()
        px = cv2.projectPoints(obj.astype(np.float64), cv2.Rodrigues(pose[:3, :3])[0], pose[:3, 3],
                               TRUTH.camera_matrix, TRUTH.dist_coeffs)[0].reshape(-1, 2).astype(np.float64)
        px = px + rng.normal(0, 0.1, px.shape)
        out.append(Detection(px.astype(np.float32), obj, np.arange(len(obj), dtype=np.int32), (640, 480), f"v{i:02d}.png"))
    return out


def test_poor_view_is_rejected_and_named() -> None:
    rng = np.random.default_rng(2)
    views = _projected(BOARDS["charuco"], 12, rng)
    views[3].image_points += rng.normal(0, 4.0, views[3].image_points.shape).astype(np.float32)
    report = calibrate_intrinsics(views)
    rejected = [v.source for v in report.views if v.rejected]
    assert rejected == ["v03.png"]
    assert "REJECTED" in report.format() and abs(report.intrinsics.fx - TRUTH.fx) / TRUTH.fx < 0.01


def test_coverage_names_empty_regions() -> None:
    rng = np.random.default_rng(3)
    views = _projected(BOARDS["charuco"], 10, rng)
    for v in views:  # keep only corners in the left two thirds of the image
        keep = v.image_points[:, 0] < 400
        v.image_points, v.object_points, v.ids = v.image_points[keep], v.object_points[keep], v.ids[keep]
    report = calibrate_intrinsics(views)
    empty = report.coverage.empty_regions()
    assert set(empty) == {"top-right", "middle-right", "bottom-right"}
    assert any("top-right" in w for w in report.warnings)


def test_too_few_views_says_how_many_more_and_names_missing_boards() -> None:
    views: list[Detection | None] = list(_projected(BOARDS["charuco"], 2, np.random.default_rng(4)))
    views.append(None)
    with pytest.raises(CalibrationDataError, match=r"got 2: add 2 more.*not found in blank\.png"):
        calibrate_intrinsics(views, sources=["a.png", "b.png", "blank.png"])


def test_board_not_found_in_blank_image() -> None:
    assert detect(BOARDS["charuco"], np.full((480, 640), 128, np.uint8)) is None
    assert detect(BOARDS["chessboard"], np.full((480, 640), 128, np.uint8)) is None
