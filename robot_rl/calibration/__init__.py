"""Calibration: camera intrinsics, hand-eye extrinsics and the safety workspace, in the files ROS uses.

Readers for the other nodes (each raises ``CalibrationFileMissing``, a FileNotFoundError, when the file
does not exist and ``CalibrationFileInvalid``, a ValueError, when it is malformed; both messages name
the file and the ``robot-rl calibrate`` command that writes it):

    load_camera_info("calibration/front.yaml")        -> CameraIntrinsics   (camera_calibration_parsers)
    load_handeye("calibration/handeye_front.yaml")    -> HandEyeResult      (easy_handeye2 layout)
    load_workspace("calibration/workspace.yaml")      -> WorkspaceBox

Solvers: ``calibrate_intrinsics`` (board views), ``calibrate_handeye`` (robot poses + board poses),
``workspace_from_points`` (taught poses), ``check_camera_moved`` (a new board view). No rclpy here;
live capture lives in ``robot_rl.ros.calibration_capture``.
"""
from robot_rl.calibration.boards import BoardSpec, Detection, detect, detect_file, estimate_pose
from robot_rl.calibration.camera_info import CameraIntrinsics, load_camera_info, save_camera_info
from robot_rl.calibration.errors import CalibrationDataError, CalibrationFileInvalid, CalibrationFileMissing
from robot_rl.calibration.handeye import HandEyeReport, PoseSample, calibrate_handeye
from robot_rl.calibration.handeye_file import HandEyeResult, load_handeye, save_handeye
from robot_rl.calibration.intrinsics import IntrinsicsReport, calibrate_intrinsics
from robot_rl.calibration.moved import MovedReport, check_camera_moved
from robot_rl.calibration.workspace import WorkspaceBox, load_workspace, save_workspace, workspace_from_points

__all__ = [
    "BoardSpec",
    "CalibrationDataError",
    "CalibrationFileInvalid",
    "CalibrationFileMissing",
    "CameraIntrinsics",
    "Detection",
    "HandEyeReport",
    "HandEyeResult",
    "IntrinsicsReport",
    "MovedReport",
    "PoseSample",
    "WorkspaceBox",
    "calibrate_handeye",
    "calibrate_intrinsics",
    "check_camera_moved",
    "detect",
    "detect_file",
    "estimate_pose",
    "load_camera_info",
    "load_handeye",
    "load_workspace",
    "save_camera_info",
    "save_handeye",
    "save_workspace",
    "workspace_from_points",
]
