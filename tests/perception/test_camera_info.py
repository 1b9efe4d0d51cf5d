"""The camera node's calibration files: what ROS tools write reads back, missing or mismatched files are named."""
from __future__ import annotations

from pathlib import Path

import pytest

from robot_rl.calibration.camera_info import save_camera_info
from robot_rl.calibration.errors import CalibrationFileInvalid, CalibrationFileMissing
from robot_rl.perception.camera_info import (
    CameraIntrinsics,
    check_matches,
    load_camera_info,
    resolve_calibration_path,
)

OST_YAML = """\
image_width: 640
image_height: 480
camera_name: wrist
camera_matrix:
  rows: 3
  cols: 3
  data: [615.1, 0, 322.4, 0, 614.8, 238.9, 0, 0, 1]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [0.1, -0.2, 0.001, 0.002, 0.05]
rectification_matrix:
  rows: 3
  cols: 3
  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]
projection_matrix:
  rows: 3
  cols: 4
  data: [610, 0, 320, 0, 0, 611, 240, 0, 0, 0, 1, 0]
"""


def test_reads_what_ros_calibration_tools_write(tmp_path: Path) -> None:
    path = tmp_path / "wrist.yaml"
    path.write_text(OST_YAML)
    info = load_camera_info(path)
    assert (info.width, info.height, info.camera_name) == (640, 480, "wrist")
    assert info.k == [615.1, 0.0, 322.4, 0.0, 614.8, 238.9, 0.0, 0.0, 1.0]
    assert info.distortion == [0.1, -0.2, 0.001, 0.002, 0.05]
    assert info.p[0] == 610.0


def test_round_trip(tmp_path: Path) -> None:
    info = CameraIntrinsics(640, 480, 600.0, 601.0, 319.5, 239.5, camera_name="front")
    save_camera_info(info, tmp_path / "front.yaml")
    assert load_camera_info(tmp_path / "front.yaml") == CameraIntrinsics(
        640, 480, 600.0, 601.0, 319.5, 239.5, projection=info.p, camera_name="front")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CalibrationFileMissing, match="not found.*calibration to ''"):
        resolve_calibration_path("nope.yaml", [tmp_path])
    (tmp_path / "bad.yaml").write_text("camera_matrix: {rows: 3, cols: 3, data: [1, 2]}\nimage_width: 1\nimage_height: 1\n")
    with pytest.raises(CalibrationFileInvalid, match="3x3"):
        load_camera_info(resolve_calibration_path("bad.yaml", [tmp_path]))


def test_size_mismatch_says_what_to_do() -> None:
    with pytest.raises(CalibrationFileInvalid, match="640x480 images but the camera streams 1280x720"):
        check_matches(CameraIntrinsics(640, 480, 1, 1, 1, 1), 1280, 720, "wrist.yaml")
