"""``robot-rl calibrate``: intrinsics, hand-eye and workspace files for ``calibration/``, with a report.

    robot-rl calibrate intrinsics --camera front --images shots/front/ --board charuco --squares 7x5 \\
        --square 0.04 --marker 0.03
    robot-rl calibrate handeye --camera front --type eye_on_base --samples shots/handeye/
    robot-rl calibrate workspace --poses taught.yaml --margin 0.02
    robot-rl calibrate check --camera front --image now.png [--robot-pose x y z qx qy qz qw]

Each reads a folder (images, and a ``poses.yaml`` for hand-eye) or, with ``--topic``/``--pose-topic``,
captures from a live ROS 2 camera and robot first (Enter captures a sample, q finishes). A hand-eye
``poses.yaml`` lists one sample per robot pose, the effector pose in the robot base frame:

    samples:
      - image: 000.png            # board image taken at this pose (in the same folder)
        robot: {translation: [0.45, 0.0, 0.3], rotation: [1.0, 0.0, 0.0, 0.0]}   # quaternion x y z w
      - board: {translation: [...], rotation: [...]}   # or a board pose from a tracker, instead of image
        robot: {...}
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.calibration import boards, handeye, intrinsics, moved
from robot_rl.calibration._yaml import read_mapping
from robot_rl.calibration.camera_info import load_camera_info, save_camera_info
from robot_rl.calibration.errors import CalibrationDataError, CalibrationFileInvalid
from robot_rl.calibration.handeye_file import load_handeye, save_handeye
from robot_rl.calibration.transforms import Matrix, pose_to_transform
from robot_rl.calibration.workspace import save_workspace, workspace_from_points

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class CalibrationUsageError(ValueError):
    """A mistake on the command line."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``calibrate`` (with intrinsics | handeye | workspace | check) to the ``robot-rl`` parser."""
    parser = subparsers.add_parser("calibrate", help="camera intrinsics, hand-eye, workspace box",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_subcommands(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robot-rl calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_subcommands(parser)
    return parser


def _add_subcommands(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=lambda a: _fail_usage(parser))
    sub = parser.add_subparsers(dest="calibrate_command")

    intr = sub.add_parser("intrinsics", help="camera matrix and distortion from board images")
    _add_common(intr, camera=True)
    _add_board(intr)
    intr.add_argument("--images", type=Path, help="folder of board images (png/jpg)")
    intr.add_argument("--topic", help="capture from this sensor_msgs/Image topic instead")
    intr.add_argument("--k-coefficients", type=int, default=2, choices=(0, 1, 2, 3),
                      help="radial coefficients to estimate (2 = k1, k2 like ROS's cameracalibrator)")
    intr.add_argument("--max-view-rms", type=float, default=1.0, help="reject views above this RMS (px)")
    intr.set_defaults(func=lambda a: _guarded(run_intrinsics, a))

    he = sub.add_parser("handeye", help="camera pose on (eye_in_hand) or next to (eye_on_base) the robot")
    _add_common(he, camera=True)
    _add_board(he)
    he.add_argument("--type", dest="kind", required=True, choices=handeye.CALIBRATION_TYPES)
    he.add_argument("--samples", type=Path, help="folder with poses.yaml and the board images it names")
    he.add_argument("--topic", help="capture images from this topic instead")
    he.add_argument("--pose-topic", default="robot/ee_pose", help="geometry_msgs/PoseStamped of the effector")
    he.add_argument("--camera-info", type=Path, help="intrinsics YAML (default: <out>/<camera>.yaml)")
    he.add_argument("--method", default="park", choices=handeye.METHODS)
    he.add_argument("--reference-image", type=Path,
                    help="eye_on_base: an image of the board lying still, stored for `calibrate check`")
    he.add_argument("--base-frame", default="panda_link0")
    he.add_argument("--effector-frame", default="panda_hand")
    he.add_argument("--camera-frame", help="default: <camera>_color_optical_frame")
    he.add_argument("--board-frame", default="calibration_board")
    he.set_defaults(func=lambda a: _guarded(run_handeye, a))

    ws = sub.add_parser("workspace", help="safety box from taught effector poses")
    _add_common(ws, camera=False)
    ws.add_argument("--poses", type=Path, help="YAML with points: [[x, y, z], ...] (or samples with robot poses)")
    ws.add_argument("--pose-topic", help="capture taught poses from this PoseStamped topic instead")
    ws.add_argument("--margin", type=float, default=0.02, help="m added around the taught points")
    ws.add_argument("--frame", default="panda_link0")
    ws.add_argument("--floor-z", type=float, default=None, help="never put the box's bottom below this z (m)")
    ws.set_defaults(func=lambda a: _guarded(run_workspace, a))

    chk = sub.add_parser("check", help="has the camera moved since hand-eye calibration?")
    _add_common(chk, camera=True)
    _add_board(chk)
    chk.add_argument("--image", type=Path, required=True, help="a new image of the board")
    chk.add_argument("--robot-pose", type=float, nargs=7, metavar=("X", "Y", "Z", "QX", "QY", "QZ", "QW"))
    chk.add_argument("--max-mm", type=float, default=moved.DEFAULT_MAX_MM)
    chk.add_argument("--max-deg", type=float, default=moved.DEFAULT_MAX_DEG)
    chk.set_defaults(func=lambda a: _guarded(run_check, a))


def _add_common(parser: argparse.ArgumentParser, camera: bool) -> None:
    if camera:
        parser.add_argument("--camera", required=True, help="camera name (cameras.names), names the files")
    parser.add_argument("--out", type=Path, default=Path("calibration"), help="folder for the files")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG plots")


def _add_board(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--board", default="charuco", choices=boards.BOARD_KINDS)
    parser.add_argument("--squares", default="7x5", help="squares in x and y, e.g. 7x5 (a chessboard of "
                        "9x7 squares has 8x6 inner corners)")
    parser.add_argument("--square", type=float, default=0.04, help="square side in m, measured on the print")
    parser.add_argument("--marker", type=float, default=0.03, help="ChArUco marker side in m")
    parser.add_argument("--dictionary", default="DICT_5X5_100", help="ChArUco ArUco dictionary")


def _fail_usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _guarded(run: Any, args: argparse.Namespace) -> int:
    """User mistakes print one ``error:`` line and exit 2; no traceback."""
    try:
        return int(run(args) or 0)
    except (CalibrationUsageError, CalibrationDataError, CalibrationFileInvalid, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def board_spec(args: argparse.Namespace) -> boards.BoardSpec:
    try:
        sx, sy = (int(v) for v in str(args.squares).lower().split("x"))
    except ValueError:
        raise CalibrationUsageError(f"--squares {args.squares!r}: write squares in x and y as e.g. 7x5") from None
    return boards.BoardSpec(kind=args.board, squares_x=sx, squares_y=sy, square_m=args.square,
                            marker_m=args.marker, dictionary=args.dictionary)


def _image_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CalibrationUsageError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CalibrationUsageError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return files


def _one_source(args: argparse.Namespace, folder_opt: str, live_opt: str) -> None:
    if (getattr(args, folder_opt) is None) == (getattr(args, live_opt) is None):
        raise CalibrationUsageError(f"give exactly one of --{folder_opt.replace('_', '-')} (a folder) or "
                                    f"--{live_opt.replace('_', '-')} (live capture)")


def run_intrinsics(args: argparse.Namespace) -> int:
    _one_source(args, "images", "topic")
    spec = board_spec(args)
    folder = args.images
    if folder is None:
        from robot_rl.ros.calibration_capture import capture_images  # rclpy only for live capture

        folder = capture_images(args.topic, args.out / "captures" / args.camera)
    files = _image_files(folder)
    detections = [boards.detect_file(spec, f) for f in files]
    report = intrinsics.calibrate_intrinsics(detections, [f.name for f in files], camera_name=args.camera,
                                             k_coefficients=args.k_coefficients, max_view_rms_px=args.max_view_rms)
    path = save_camera_info(report.intrinsics, args.out / f"{args.camera}.yaml", header=(
        f"camera_info for camera '{args.camera}' (camera_calibration_parsers format)\n"
        f"robot-rl calibrate intrinsics: {len(report.accepted)} views of a {spec.describe()} from {folder}\n"
        f"RMS reprojection error {report.rms_px:.3f} px"))
    return _print_report(report, path, None if args.no_plot else path.with_name(f"{args.camera}_intrinsics.png"))


def _pose(entry: Any, what: str, source: Path) -> Matrix:
    if not isinstance(entry, dict):
        raise CalibrationFileInvalid(f"{source}: {what} must be {{translation: [x, y, z], rotation: [x, y, z, w]}}")
    try:
        t = [float(v) for v in entry["translation"]]
        q = [float(v) for v in entry["rotation"]]
    except (KeyError, TypeError, ValueError):
        raise CalibrationFileInvalid(
            f"{source}: {what} must be {{translation: [x, y, z], rotation: [x, y, z, w]}}, got {entry!r}") from None
    if len(t) != 3 or len(q) != 4:
        raise CalibrationFileInvalid(f"{source}: {what}: translation needs 3 numbers, rotation 4 (x, y, z, w)")
    return pose_to_transform(t, q)


def load_samples(folder: Path, spec: boards.BoardSpec,
                 intr: intrinsics.CameraIntrinsics) -> tuple[list[handeye.PoseSample], list[str]]:
    """Hand-eye samples from ``folder/poses.yaml``; returns the samples and the images without a board."""
    poses_file = folder / "poses.yaml"
    doc = read_mapping(poses_file, "capture samples with `robot-rl calibrate handeye --topic ... --pose-topic ...`")
    entries = doc.get("samples")
    if not isinstance(entries, list):
        raise CalibrationFileInvalid(f"{poses_file}: needs 'samples:', a list of {{image, robot}} entries")
    samples, missing = [], []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CalibrationFileInvalid(f"{poses_file}: sample {i} must be a mapping with image and robot")
        robot = _pose(entry.get("robot"), f"sample {i} robot", poses_file)
        if "board" in entry:
            samples.append(handeye.PoseSample(robot, _pose(entry["board"], f"sample {i} board", poses_file), f"#{i}"))
            continue
        if "image" not in entry:
            raise CalibrationFileInvalid(f"{poses_file}: sample {i} has neither image nor board")
        image = folder / str(entry["image"])
        if not image.is_file():
            raise CalibrationFileInvalid(f"{poses_file}: sample {i} names {image}, which does not exist")
        detection = boards.detect_file(spec, image)
        if detection is None:
            missing.append(image.name)
            continue
        target, _ = boards.estimate_pose(detection, intr)
        samples.append(handeye.PoseSample(robot, target, image.name))
    return samples, missing


def run_handeye(args: argparse.Namespace) -> int:
    _one_source(args, "samples", "topic")
    spec = board_spec(args)
    intr = load_camera_info(args.camera_info or args.out / f"{args.camera}.yaml")
    folder = args.samples
    if folder is None:
        from robot_rl.ros.calibration_capture import capture_samples  # rclpy only for live capture

        folder = capture_samples(args.topic, args.pose_topic, args.out / "captures" / f"handeye_{args.camera}")
    samples, missing = load_samples(folder, spec, intr)
    if missing and len(samples) < handeye.MIN_SAMPLES:
        raise CalibrationDataError(f"board not found in {', '.join(missing)}; only {len(samples)} usable samples, "
                                   f"need {handeye.MIN_SAMPLES}: retake those images with the whole board in view")
    report = handeye.calibrate_handeye(samples, args.kind, args.method)
    if missing:
        report.warnings.append(f"board not found in {', '.join(missing)} (skipped)")
    reference = None
    if args.reference_image is not None:
        detection = boards.detect_file(spec, args.reference_image)
        if detection is None:
            raise CalibrationDataError(f"board not found in reference image {args.reference_image}")
        reference, _ = boards.estimate_pose(detection, intr)
    result = report.to_result(args.base_frame, args.effector_frame,
                              args.camera_frame or f"{args.camera}_color_optical_frame", args.board_frame,
                              name=f"handeye_{args.camera}", reference_view=reference)
    path = save_handeye(result, args.out / f"handeye_{args.camera}.yaml", header=(
        f"hand-eye calibration of camera '{args.camera}' ({args.kind}), easy_handeye2 layout\n"
        f"robot-rl calibrate handeye: {len(samples)} samples from {folder}, method {report.chosen.method}\n"
        f"residual rms {report.chosen.rms_mm:.2f} mm, {report.chosen.rms_deg:.3f} deg"))
    return _print_report(report, path,
                         None if args.no_plot else path.with_name(f"handeye_{args.camera}_residuals.png"))


def _print_report(report: intrinsics.IntrinsicsReport | handeye.HandEyeReport, path: Path,
                  plot_path: Path | None) -> int:
    """Print a calibration's report and where it was written; draw its residual plot unless disabled."""
    print(report.format())
    print(f"wrote {path}")
    if plot_path is not None:
        from robot_rl.calibration import plots  # matplotlib only when a plot is drawn

        if isinstance(report, intrinsics.IntrinsicsReport):
            print(f"wrote {plots.plot_intrinsics(report, plot_path)}")
        else:
            print(f"wrote {plots.plot_handeye(report, plot_path)}")
    return 0


def load_points(path: Path) -> list[list[float]]:
    """Taught positions from ``points: [[x, y, z], ...]`` or ``samples: [{robot: {translation: ...}}]``."""
    doc = read_mapping(path, "robot-rl calibrate workspace --pose-topic robot/ee_pose")
    if isinstance(doc.get("points"), list):
        raw = doc["points"]
    elif isinstance(doc.get("samples"), list):
        raw = [s.get("robot", {}).get("translation") if isinstance(s, dict) else None for s in doc["samples"]]
    else:
        raise CalibrationFileInvalid(f"{path}: needs 'points: [[x, y, z], ...]' (or hand-eye style 'samples')")
    points = []
    for i, p in enumerate(raw):
        if not isinstance(p, list) or len(p) != 3:
            raise CalibrationFileInvalid(f"{path}: point {i} must be [x, y, z], got {p!r}")
        try:
            points.append([float(v) for v in p])
        except (TypeError, ValueError):
            raise CalibrationFileInvalid(f"{path}: point {i} must hold numbers, got {p!r}") from None
    return points


def run_workspace(args: argparse.Namespace) -> int:
    _one_source(args, "poses", "pose_topic")
    if args.poses is not None:
        points = load_points(args.poses)
        source = str(args.poses)
    else:
        from robot_rl.ros.calibration_capture import capture_positions  # rclpy only for live capture

        points = capture_positions(args.pose_topic)
        source = args.pose_topic
    box = workspace_from_points(points, margin_m=args.margin, frame=args.frame, floor_z=args.floor_z)
    path = save_workspace(box, args.out / "workspace.yaml", header=(
        f"safety workspace box in {args.frame}: robot-rl calibrate workspace from {len(points)} taught poses "
        f"({source}), margin {args.margin} m"))
    print(f"workspace in {box.frame}: min {np.round(box.workspace_min, 3).tolist()} max "
          f"{np.round(box.workspace_max, 3).tolist()} (from {len(points)} poses, margin {args.margin} m)")
    print(f"wrote {path}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    spec = board_spec(args)
    intr = load_camera_info(args.out / f"{args.camera}.yaml")
    stored = load_handeye(args.out / f"handeye_{args.camera}.yaml")
    detection = boards.detect_file(spec, args.image)
    if detection is None:
        raise CalibrationDataError(f"board not found in {args.image}: put the whole board in view")
    observed, _ = boards.estimate_pose(detection, intr)
    robot = pose_to_transform(args.robot_pose[:3], args.robot_pose[3:]) if args.robot_pose else None
    report = moved.check_camera_moved(stored, observed, robot, args.max_mm, args.max_deg)
    print(report.format())
    return 1 if report.moved else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
