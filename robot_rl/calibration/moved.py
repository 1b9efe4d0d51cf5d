"""Has the camera moved since calibration? Compare a fresh board view with what the stored extrinsics predict.

Where the board pose the camera should see comes from:
- eye_on_base with the board on the gripper: the robot's current pose, the stored camera pose in the
  base and the stored board-in-effector transform;
- eye_on_base without a robot pose: the board left where it lay at calibration (``reference_view``);
- eye_in_hand: the robot's current pose, the stored camera-in-effector and board-in-base transforms.

The difference is reported as the camera's displacement (mm) and rotation (deg); above the thresholds
the camera (or the board) has moved and the hand-eye calibration should be redone.
"""
from __future__ import annotations

from dataclasses import dataclass

from robot_rl.calibration.errors import CalibrationDataError
from robot_rl.calibration.handeye_file import HandEyeResult
from robot_rl.calibration.transforms import Matrix, invert, rotation_angle_deg

DEFAULT_MAX_MM = 5.0
DEFAULT_MAX_DEG = 0.5


@dataclass
class MovedReport:
    translation_mm: float  # camera displacement, measured in the board frame
    rotation_deg: float
    moved: bool
    reference: str  # what the view was compared against
    max_mm: float
    max_deg: float

    def format(self) -> str:
        state = "CAMERA MOVED" if self.moved else "camera in place"
        text = (f"{state}: {self.translation_mm:.1f} mm, {self.rotation_deg:.2f} deg from {self.reference} "
                f"(limits {self.max_mm} mm, {self.max_deg} deg)")
        if self.moved:
            text += "; redo `robot-rl calibrate handeye` (or put the camera back) before trusting pixels again"
        return text


def expected_board_pose(handeye: HandEyeResult, robot_pose: Matrix | None = None) -> tuple[Matrix, str]:
    """The board pose in the camera that the stored calibration predicts, and a description of the source."""
    if handeye.eye_in_hand:
        if robot_pose is None or handeye.target_transform is None:
            raise CalibrationDataError("eye_in_hand: the camera-moved check needs the robot pose and a hand-eye file "
                                       "with robot_rl.target_transform (board in base); recalibrate with robot-rl")
        return invert(handeye.transform) @ invert(robot_pose) @ handeye.target_transform, "stored hand-eye + robot pose"
    if robot_pose is not None and handeye.target_transform is not None:
        return invert(handeye.transform) @ robot_pose @ handeye.target_transform, "stored hand-eye + robot pose"
    if handeye.reference_view is not None:
        return handeye.reference_view, "the reference board view stored at calibration"
    raise CalibrationDataError("the hand-eye file has neither robot_rl.reference_view nor target_transform: give "
                               "the robot pose, or recalibrate with `robot-rl calibrate handeye`")


def compare_views(expected: Matrix, observed: Matrix, reference: str = "expected view",
                  max_mm: float = DEFAULT_MAX_MM, max_deg: float = DEFAULT_MAX_DEG) -> MovedReport:
    """Camera motion between two board poses in the camera (``T_cam_board``), the board assumed still."""
    cam_expected, cam_observed = invert(expected), invert(observed)  # camera in the board frame
    mm = float(((cam_expected[:3, 3] - cam_observed[:3, 3]) ** 2).sum() ** 0.5 * 1000.0)
    deg = rotation_angle_deg(cam_expected[:3, :3].T @ cam_observed[:3, :3])
    return MovedReport(mm, deg, mm > max_mm or deg > max_deg, reference, max_mm, max_deg)


def check_camera_moved(handeye: HandEyeResult, observed_t_cam_board: Matrix, robot_pose: Matrix | None = None,
                       max_mm: float = DEFAULT_MAX_MM, max_deg: float = DEFAULT_MAX_DEG) -> MovedReport:
    """Compare a new board pose (from ``boards.estimate_pose``) against the stored extrinsics."""
    expected, source = expected_board_pose(handeye, robot_pose)
    return compare_views(expected, observed_t_cam_board, source, max_mm, max_deg)
