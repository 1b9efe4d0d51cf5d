"""The camera-moved check: rendered views before and after a 1 cm camera shift."""
from __future__ import annotations

import numpy as np

from robot_rl.calibration.boards import BoardSpec, detect, estimate_pose
from robot_rl.calibration.handeye_file import HandEyeResult
from robot_rl.calibration.moved import check_camera_moved
from robot_rl.calibration.synthetic import handeye_truth, render_view
from robot_rl.calibration.transforms import make_transform

from tests.calibration.test_intrinsics import TRUTH

SPEC = BoardSpec("charuco", 7, 5, 0.04, 0.03)
BOARD_IN_CAM = make_transform([0.25, -0.2, 0.05], [-0.14, -0.1, 0.55])


def _observed(t_cam_board: np.ndarray, seed: int) -> np.ndarray:
    image = render_view(SPEC, TRUTH, t_cam_board, rng=np.random.default_rng(seed))
    detection = detect(SPEC, image)
    assert detection is not None
    return estimate_pose(detection, TRUTH)[0]


def test_reference_view_check_fires_for_1cm_and_is_quiet_for_none() -> None:
    stored = HandEyeResult("eye_on_base", make_transform(np.eye(3), [1.0, 0.0, 0.5]), reference_view=_observed(BOARD_IN_CAM, 0))
    same = check_camera_moved(stored, _observed(BOARD_IN_CAM, 1))
    shift = make_transform(np.eye(3), [0.01, 0.0, 0.0])  # camera 1 cm to its right
    shifted = check_camera_moved(stored, _observed(np.linalg.inv(shift) @ BOARD_IN_CAM, 2))
    print(f"no move: {same.translation_mm:.2f} mm {same.rotation_deg:.3f} deg; "
          f"1 cm: {shifted.translation_mm:.2f} mm {shifted.rotation_deg:.3f} deg")
    assert not same.moved and same.translation_mm < 2.0
    assert shifted.moved and 7.0 < shifted.translation_mm < 13.0 and "CAMERA MOVED" in shifted.format()


def test_robot_pose_check_for_eye_on_base() -> None:
    t_base_cam, t_ee_board = handeye_truth("eye_on_base")
    robot = t_base_cam @ make_transform(np.eye(3), [0.0, 0.0, 0.6]) @ np.linalg.inv(t_ee_board)
    stored = HandEyeResult("eye_on_base", t_base_cam, target_transform=t_ee_board)
    seen = np.linalg.inv(t_base_cam) @ robot @ t_ee_board
    assert not check_camera_moved(stored, seen, robot).moved
    moved_cam = t_base_cam @ make_transform(np.eye(3), [0.0, 0.01, 0.0])
    assert check_camera_moved(stored, np.linalg.inv(moved_cam) @ robot @ t_ee_board, robot).moved
