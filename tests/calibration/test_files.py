"""camera_info / hand-eye / workspace YAML: round trips, the example files, and clear errors."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_rl.calibration import (
    CalibrationDataError,
    CalibrationFileInvalid,
    CalibrationFileMissing,
    CameraIntrinsics,
    HandEyeResult,
    load_camera_info,
    load_handeye,
    load_workspace,
    save_camera_info,
    save_handeye,
    save_workspace,
    workspace_from_points,
)
from robot_rl.calibration.transforms import make_transform, transform_difference

REPO = Path(__file__).resolve().parents[2]


def test_camera_info_round_trip(tmp_path: Path) -> None:
    intr = CameraIntrinsics(640, 480, 601.5, 603.25, 320.7, 241.1, distortion=[-0.1, 0.02, 1e-4, -2e-4, 0.0],
                            camera_name="front")
    path = save_camera_info(intr, tmp_path / "front.yaml", header="test file")
    assert path.read_text().startswith("# test file\n")
    assert load_camera_info(path) == CameraIntrinsics(**{**intr.__dict__, "projection": intr.p})


def test_camera_info_is_found_and_checked_by_the_camera_node(tmp_path: Path) -> None:
    from robot_rl.perception.camera_info import check_matches, resolve_calibration_path

    intr = CameraIntrinsics(128, 128, 154.5, 154.5, 63.5, 63.5, camera_name="wrist")
    save_camera_info(intr, tmp_path / "wrist.yaml")
    other = check_matches(load_camera_info(resolve_calibration_path("wrist.yaml", [tmp_path])), 128, 128, "wrist")
    assert (other.width, other.height, other.k, other.p, other.distortion) == (128, 128, intr.k, intr.p, intr.distortion)


@pytest.mark.parametrize("kind", ["eye_in_hand", "eye_on_base"])
def test_handeye_round_trip(tmp_path: Path, kind: str) -> None:
    result = HandEyeResult(kind, make_transform([0.1, -0.2, 0.3], [0.5, 0.1, 0.7]), method="park",
                           target_transform=make_transform([0.0, 0.1, 0.0], [0.1, 0.0, 0.0]),
                           reference_view=make_transform([0.2, 0.0, 0.0], [0.0, 0.0, 0.5]), extra={"samples": 12})
    path = save_handeye(result, tmp_path / "handeye_front.yaml")
    doc = yaml.safe_load(path.read_text())
    assert doc["parameters"]["calibration_type"] == kind
    assert set(doc["transform"]["rotation"]) == {"x", "y", "z", "w"}
    back = load_handeye(path)
    assert back.calibration_type == kind and back.method == "park" and back.extra == {"samples": 12}
    for a, b in [(back.transform, result.transform), (back.target_transform, result.target_transform),
                 (back.reference_view, result.reference_view)]:
        assert b is not None and a is not None
        mm, deg = transform_difference(a, b)
        assert mm < 1e-9 and deg < 1e-6


def test_handeye_reads_legacy_easy_handeye_layout(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({
        "parameters": {"eye_on_hand": False, "robot_base_frame": "base", "robot_effector_frame": "tool0",
                       "tracking_base_frame": "cam", "tracking_marker_frame": "marker"},
        "transformation": {"x": 1.0, "y": 0.0, "z": 0.5, "qx": 0.0, "qy": 0.0, "qz": 0.0, "qw": 1.0}}))
    result = load_handeye(path)
    assert result.calibration_type == "eye_on_base" and result.transform[0, 3] == 1.0


def test_workspace_from_taught_points_round_trip(tmp_path: Path) -> None:
    box = workspace_from_points([[0.3, -0.2, 0.05], [0.6, 0.25, 0.4], [0.45, 0.0, 0.2]], margin_m=0.02, floor_z=0.0)
    assert np.allclose(box.workspace_min, [0.28, -0.22, 0.03]) and np.allclose(box.workspace_max, [0.62, 0.27, 0.42])
    assert box.contains([0.5, 0.0, 0.1]) and not box.contains([0.7, 0.0, 0.1])
    back = load_workspace(save_workspace(box, tmp_path / "workspace.yaml"))
    assert back == box


def test_workspace_needs_two_spread_poses() -> None:
    with pytest.raises(CalibrationDataError, match="teach 1 more"):
        workspace_from_points([[0.4, 0.0, 0.2]])
    with pytest.raises(CalibrationDataError, match="along z"):
        workspace_from_points([[0.3, -0.2, 0.2], [0.6, 0.2, 0.2]])


@pytest.mark.parametrize("loader,command", [(load_camera_info, "calibrate intrinsics"),
                                            (load_handeye, "calibrate handeye"),
                                            (load_workspace, "calibrate workspace")])
def test_missing_file_names_file_and_command(tmp_path: Path, loader, command: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CalibrationFileMissing) as err:
        loader(tmp_path / "nope.yaml")
    assert isinstance(err.value, FileNotFoundError)
    assert "nope.yaml" in str(err.value) and f"robot-rl {command}" in str(err.value)


@pytest.mark.parametrize("loader,text,fragment", [
    (load_camera_info, "image_width: 640\ncamera_matrix: [1, 2\n", "not valid YAML"),
    (load_camera_info, "image_width: 640\nimage_height: 480\ncamera_matrix: {rows: 3, cols: 3, data: [1, 2]}\n",
     "camera_matrix' must be a 3x3 matrix"),
    (load_camera_info, "- just\n- a list\n", "mapping"),
    (load_handeye, "parameters: {calibration_type: eye_on_the_table}\n", "calibration_type"),
    (load_handeye, "parameters: {calibration_type: eye_on_base, robot_base_frame: b, robot_effector_frame: e, "
                   "tracking_base_frame: c, tracking_marker_frame: m}\ntransform: {translation: {x: 0, y: 0, z: 0}, "
                   "rotation: {x: 0, y: 0, z: 0, w: 2}}\n", "unit quaternion"),
    (load_workspace, "workspace_min: [0.5, 0, 0]\nworkspace_max: [0.4, 1, 1]\n", "not on x"),
    (load_workspace, "workspace_min: [0.5, 0]\nworkspace_max: [0.4, 1, 1]\n", "workspace_min must be 3 numbers"),
])
def test_malformed_file_names_file_and_problem(tmp_path: Path, loader, text: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationFileInvalid) as err:
        loader(path)
    assert isinstance(err.value, ValueError)
    assert str(path) in str(err.value) and fragment in str(err.value) and "robot-rl calibrate" in str(err.value)


def test_example_files_match_the_sim() -> None:
    for name, fovy in [("front", 45.0), ("wrist", 42.5)]:
        intr = load_camera_info(REPO / "calibration" / f"{name}.yaml")
        assert (intr.width, intr.height) == (128, 128)
        assert intr.fx == pytest.approx(64.0 / math.tan(math.radians(fovy) / 2), rel=1e-6)
    front = load_handeye(REPO / "calibration" / "handeye_front.yaml")
    assert front.calibration_type == "eye_on_base" and np.allclose(front.transform[:3, 3], [1.3, 0.0, 0.7])
    view = front.transform[:3, 2]  # optical z: looks back at the robot and down
    assert view[0] < -0.8 and view[2] < 0
    box = load_workspace(REPO / "calibration" / "workspace.yaml")
    safety = yaml.safe_load((REPO / "robot_rl" / "config" / "safety" / "panda.yaml").read_text())
    assert list(box.workspace_min) == safety["workspace_min"] and list(box.workspace_max) == safety["workspace_max"]
