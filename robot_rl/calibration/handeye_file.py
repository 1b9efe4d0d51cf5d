"""Hand-eye results in easy_handeye2's YAML layout, so its publisher and ours read the same file.

    parameters:
      name: front
      calibration_type: eye_on_base          # or eye_in_hand
      robot_base_frame: panda_link0
      robot_effector_frame: panda_hand
      tracking_base_frame: front_color_optical_frame   # the camera
      tracking_marker_frame: calibration_board         # the board (or marker) it sees
      freehand_robot_movement: true
      move_group_namespace: /
      move_group: manipulator
    transform:                 # eye_on_base: camera in robot_base_frame; eye_in_hand: camera in robot_effector_frame
      translation: {x: ..., y: ..., z: ...}
      rotation: {x: ..., y: ..., z: ..., w: ...}
    robot_rl:                  # optional, ours; easy_handeye2 ignores it
      method: park
      target_transform: {...}  # eye_on_base: board in effector frame; eye_in_hand: board in base frame
      reference_view: {...}    # board in camera frame at calibration time (for the camera-moved check)

The reader also accepts easy_handeye2's older ``transformation: {x, y, z, qx, qy, qz, qw}`` and
``parameters.eye_on_hand: bool``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.calibration._yaml import number_list, read_mapping, write_with_header
from robot_rl.calibration.errors import CalibrationFileInvalid
from robot_rl.calibration.transforms import Matrix, make_transform, matrix_to_quaternion, quaternion_to_matrix

CALIBRATION_TYPES = ("eye_in_hand", "eye_on_base")


@dataclass
class HandEyeResult:
    """A hand-eye calibration as stored: which frames, and the camera's pose in the robot.

    ``transform`` is the camera (``tracking_base_frame``) pose in ``robot_base_frame`` for eye_on_base,
    in ``robot_effector_frame`` for eye_in_hand, as a 4x4 matrix (easy_handeye2's convention).
    """

    calibration_type: str
    transform: Matrix
    robot_base_frame: str = "panda_link0"
    robot_effector_frame: str = "panda_hand"
    tracking_base_frame: str = "camera_color_optical_frame"
    tracking_marker_frame: str = "calibration_board"
    name: str = ""
    method: str = ""  # solver that produced it (our extra)
    target_transform: Matrix | None = None  # board in effector (eye_on_base) or base (eye_in_hand) frame
    reference_view: Matrix | None = None  # board in camera frame at calibration time
    extra: dict[str, Any] = field(default_factory=dict)  # other robot_rl entries (report summary)

    @property
    def eye_in_hand(self) -> bool:
        return self.calibration_type == "eye_in_hand"

    @property
    def parent_frame(self) -> str:
        """The frame ``transform`` is expressed in (its TF parent)."""
        return self.robot_effector_frame if self.eye_in_hand else self.robot_base_frame


def how_to_create(camera: str = "<camera>") -> str:
    return (f"robot-rl calibrate handeye --camera {camera} --type eye_on_base|eye_in_hand "
            f"--samples <folder with images and poses.yaml>")


def _transform_doc(transform: Matrix) -> dict[str, Any]:
    q = matrix_to_quaternion(transform[:3, :3])
    t = transform[:3, 3]
    return {"translation": {"x": float(t[0]), "y": float(t[1]), "z": float(t[2])},
            "rotation": {"x": float(q[0]), "y": float(q[1]), "z": float(q[2]), "w": float(q[3])}}


def _parse_transform(entry: Any, what: str, path: Path, fix: str) -> Matrix:
    if not isinstance(entry, dict) or not isinstance(entry.get("translation"), dict) \
            or not isinstance(entry.get("rotation"), dict):
        raise CalibrationFileInvalid(f"{path}: {what} must have translation {{x, y, z}} and rotation "
                                     f"{{x, y, z, w}}; {fix}")
    tr, rot = entry["translation"], entry["rotation"]
    t = number_list([tr.get(k) for k in "xyz"], 3, f"{what}.translation", path, fix)
    q = number_list([rot.get(k) for k in "xyzw"], 4, f"{what}.rotation", path, fix)
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > 1e-3:
        raise CalibrationFileInvalid(f"{path}: {what}.rotation is not a unit quaternion (norm {norm:.4f}); {fix}")
    return make_transform(quaternion_to_matrix(q), t)


def load_handeye(path: str | Path) -> HandEyeResult:
    """Read a hand-eye YAML file (easy_handeye2 layout).

    Raises ``CalibrationFileMissing`` (a FileNotFoundError) when it does not exist and
    ``CalibrationFileInvalid`` (a ValueError) when it lacks the frames, the type or the transform.
    """
    path = Path(path)
    camera = path.stem.removeprefix("handeye_")
    fix = f"fix the file or recreate it with `{how_to_create(camera)}`"
    doc = read_mapping(path, how_to_create(camera))
    params = doc.get("parameters")
    if not isinstance(params, dict):
        raise CalibrationFileInvalid(f"{path}: no 'parameters' mapping (not an easy_handeye2 file); {fix}")
    kind = params.get("calibration_type")
    if kind is None and "eye_on_hand" in params:
        kind = "eye_in_hand" if params["eye_on_hand"] else "eye_on_base"
    if kind not in CALIBRATION_TYPES:
        raise CalibrationFileInvalid(f"{path}: parameters.calibration_type={kind!r}: use eye_in_hand or "
                                     f"eye_on_base; {fix}")
    frames = {}
    for key in ("robot_base_frame", "robot_effector_frame", "tracking_base_frame", "tracking_marker_frame"):
        value = params.get(key)
        if not isinstance(value, str) or not value:
            raise CalibrationFileInvalid(f"{path}: parameters.{key} must be a frame name; {fix}")
        frames[key] = value
    if "transform" in doc:
        transform = _parse_transform(doc["transform"], "transform", path, fix)
    elif isinstance(doc.get("transformation"), dict):  # easy_handeye2 before 2023
        tr = doc["transformation"]
        t = number_list([tr.get(k) for k in ("x", "y", "z")], 3, "transformation", path, fix)
        q = number_list([tr.get(k) for k in ("qx", "qy", "qz", "qw")], 4, "transformation", path, fix)
        transform = make_transform(quaternion_to_matrix(q), t)
    else:
        raise CalibrationFileInvalid(f"{path}: no 'transform' (translation + rotation); {fix}")
    ours = doc.get("robot_rl") if isinstance(doc.get("robot_rl"), dict) else {}
    assert isinstance(ours, dict)
    target = _parse_transform(ours["target_transform"], "robot_rl.target_transform", path, fix) \
        if ours.get("target_transform") is not None else None
    reference = _parse_transform(ours["reference_view"], "robot_rl.reference_view", path, fix) \
        if ours.get("reference_view") is not None else None
    extra = {k: v for k, v in ours.items() if k not in ("method", "target_transform", "reference_view")}
    return HandEyeResult(calibration_type=str(kind), transform=transform, name=str(params.get("name") or ""),
                         method=str(ours.get("method") or ""), target_transform=target,
                         reference_view=reference, extra=extra, **frames)


def save_handeye(result: HandEyeResult, path: str | Path, header: str = "") -> Path:
    """Write ``result`` in easy_handeye2's layout (plus our optional ``robot_rl`` section)."""
    doc: dict[str, Any] = {
        "parameters": {
            "name": result.name or Path(path).stem,
            "calibration_type": result.calibration_type,
            "robot_base_frame": result.robot_base_frame,
            "robot_effector_frame": result.robot_effector_frame,
            "tracking_base_frame": result.tracking_base_frame,
            "tracking_marker_frame": result.tracking_marker_frame,
            "freehand_robot_movement": True,
            "move_group_namespace": "/",
            "move_group": "manipulator",
        },
        "transform": _transform_doc(result.transform),
    }
    ours: dict[str, Any] = {}
    if result.method:
        ours["method"] = result.method
    if result.target_transform is not None:
        ours["target_transform"] = _transform_doc(result.target_transform)
    if result.reference_view is not None:
        ours["reference_view"] = _transform_doc(result.reference_view)
    ours.update(result.extra)
    if ours:
        doc["robot_rl"] = ours
    return write_with_header(path, doc, header, flow=False)
