"""``robot-rl calibrate`` on folders of synthetic images: the files it writes and its errors."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from robot_rl.calibration import cli, load_camera_info, load_handeye, load_workspace
from robot_rl.calibration.synthetic import board_in_view, random_board_poses, render_view, synthetic_handeye
from robot_rl.calibration.transforms import matrix_to_quaternion, transform_difference

from tests.calibration.test_intrinsics import BOARDS, TRUTH

BOARD_ARGS = ["--board", "charuco", "--squares", "7x5", "--square", "0.04", "--marker", "0.03"]


@pytest.fixture(scope="module")
def intrinsics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("intrinsics")
    rng = np.random.default_rng(5)
    spec = BOARDS["charuco"]
    for i, pose in enumerate(random_board_poses(spec, TRUTH, 10, rng)):
        cv2.imwrite(str(folder / f"{i:03d}.png"), render_view(spec, TRUTH, pose, rng=rng))
    cv2.imwrite(str(folder / "blank.png"), np.full((480, 640), 128, np.uint8))
    return folder


def test_intrinsics_command_writes_yaml_and_plot(intrinsics_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["intrinsics", "--camera", "front", "--images", str(intrinsics_dir), "--out", str(tmp_path)] + BOARD_ARGS)
    out = capsys.readouterr().out
    assert code == 0
    intr = load_camera_info(tmp_path / "front.yaml")
    assert abs(intr.fx - TRUTH.fx) / TRUTH.fx < 0.01 and abs(intr.cx - TRUTH.cx) < 2.0
    assert (tmp_path / "front_intrinsics.png").stat().st_size > 1000
    assert "board not found in 1 image(s): blank.png" in out and "RMS reprojection error" in out


def test_handeye_command_from_images_and_poses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = BOARDS["charuco"]
    pairs, x_true, _ = synthetic_handeye("eye_on_base", 40, np.random.default_rng(9), robot_noise=(0.0, 0.0),
                                         board_noise=(0.0, 0.0), max_tilt_deg=25.0)
    folder = tmp_path / "samples"
    folder.mkdir()
    rng = np.random.default_rng(1)
    entries: list[dict[str, object]] = []
    for robot, target in pairs:
        if len(entries) == 14:
            break
        if not board_in_view(spec, TRUTH, target, margin_px=20):
            continue
        name = f"{len(entries):03d}.png"
        cv2.imwrite(str(folder / name), render_view(spec, TRUTH, target, rng=rng))
        entries.append({"image": name, "robot": {"translation": robot[:3, 3].tolist(),
                                                 "rotation": matrix_to_quaternion(robot[:3, :3]).tolist()}})
    (folder / "poses.yaml").write_text(yaml.safe_dump({"samples": entries}))
    from robot_rl.calibration.camera_info import save_camera_info
    save_camera_info(TRUTH, tmp_path / "front.yaml")
    code = cli.main(["handeye", "--camera", "front", "--type", "eye_on_base", "--samples", str(folder),
                     "--out", str(tmp_path)] + BOARD_ARGS)
    out = capsys.readouterr().out
    assert code == 0, out
    result = load_handeye(tmp_path / "handeye_front.yaml")
    mm, deg = transform_difference(result.transform, x_true)
    print(f"hand-eye from {len(entries)} rendered views: {mm * 1000:.2f} mm, {deg:.3f} deg")
    assert mm * 1000 < 3.0 and deg < 0.5
    assert result.target_transform is not None and (tmp_path / "handeye_front_residuals.png").is_file()
    assert "consistent across methods" in out


def test_register_adds_calibrate_to_a_parent_parser(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="robot-rl")
    cli.register(parser.add_subparsers(dest="command", required=True))
    poses = tmp_path / "taught.yaml"
    poses.write_text(yaml.safe_dump({"points": [[0.3, -0.25, 0.02], [0.7, 0.25, 0.4]]}))
    args = parser.parse_args(["calibrate", "workspace", "--poses", str(poses), "--out", str(tmp_path)])
    assert args.func(args) == 0 and (tmp_path / "workspace.yaml").is_file()


def test_workspace_command(tmp_path: Path) -> None:
    poses = tmp_path / "taught.yaml"
    poses.write_text(yaml.safe_dump({"points": [[0.3, -0.25, 0.02], [0.7, 0.25, 0.4]]}))
    assert cli.main(["workspace", "--poses", str(poses), "--out", str(tmp_path), "--margin", "0.02"]) == 0
    box = load_workspace(tmp_path / "workspace.yaml")
    assert np.allclose(box.workspace_min, [0.28, -0.27, 0.0]) and np.allclose(box.workspace_max, [0.72, 0.27, 0.42])


@pytest.mark.parametrize("argv,fragment", [
    (["intrinsics", "--camera", "front", "--images", "/does/not/exist"], "image folder /does/not/exist does not exist"),
    (["handeye", "--camera", "nocam", "--type", "eye_on_base", "--samples", "."], "robot-rl calibrate intrinsics"),
    (["workspace"], "give exactly one of --poses"),
    (["intrinsics", "--camera", "front", "--images", ".", "--squares", "seven"], "--squares 'seven'"),
])
def test_user_errors_exit_2_without_traceback(tmp_path: Path, argv: list[str], fragment: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err and "Traceback" not in err
