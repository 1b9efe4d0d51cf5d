"""The safety workspace: an axis-aligned box in the robot's base frame, taught by moving the arm.

Teach a few poses (at least two opposite corners of the space the gripper may reach), and the box is
their bounding box grown by a margin on every side. The file:

    frame: panda_link0          # robot base frame the box is in
    workspace_min: [x, y, z]    # m; same names as safety.workspace_min/max
    workspace_max: [x, y, z]
    margin_m: 0.02              # added around the taught points
    taught_points: [[x, y, z], ...]   # what the box was made from (optional)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from robot_rl.calibration._yaml import number_list, read_mapping, write_with_header
from robot_rl.calibration.errors import CalibrationDataError, CalibrationFileInvalid

HOW_TO_CREATE = "robot-rl calibrate workspace --poses <poses.yaml> (or --pose-topic robot/ee_pose)"
MIN_EXTENT_M = 0.01  # a taught box thinner than this on an axis is almost surely a teaching mistake


@dataclass(frozen=True)
class WorkspaceBox:
    """Axis-aligned box in ``frame``; ``contains`` and ``clamp`` are what a safety layer needs."""

    workspace_min: tuple[float, float, float]
    workspace_max: tuple[float, float, float]
    frame: str = "panda_link0"
    margin_m: float = 0.0
    taught_points: list[list[float]] = field(default_factory=list)

    def contains(self, point: ArrayLike) -> bool:
        p = np.asarray(point, dtype=np.float64).reshape(3)
        return bool(np.all(p >= self.workspace_min) and np.all(p <= self.workspace_max))

    def clamp(self, point: ArrayLike) -> np.ndarray:
        return np.clip(np.asarray(point, dtype=np.float64).reshape(3), self.workspace_min, self.workspace_max)


def workspace_from_points(points: Sequence[ArrayLike], margin_m: float = 0.02, frame: str = "panda_link0",
                          floor_z: float | None = None) -> WorkspaceBox:
    """Bounding box of taught end-effector positions, grown by ``margin_m`` on every side.

    ``floor_z`` (e.g. the table height) caps the lower z bound so the margin never reaches below it.
    Raises ``CalibrationDataError`` for fewer than two points or a box flat on some axis.
    """
    if margin_m < 0:
        raise CalibrationDataError(f"workspace margin {margin_m} m: must be >= 0")
    pts = np.asarray([np.asarray(p, dtype=np.float64).reshape(-1)[:3] for p in points]).reshape(-1, 3)
    if len(pts) < 2:
        raise CalibrationDataError(
            f"workspace needs at least 2 taught poses (opposite corners of the box), got {len(pts)}: "
            f"teach {2 - len(pts)} more")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    flat = [axis for axis, extent in zip("xyz", hi - lo) if extent < MIN_EXTENT_M]
    if flat:
        raise CalibrationDataError(
            f"taught poses span less than {MIN_EXTENT_M * 100:.0f} cm along {', '.join(flat)} "
            f"(extent {np.round(hi - lo, 4).tolist()} m): teach a pose at the other end of the workspace "
            f"along {', '.join(flat)}")
    lo, hi = lo - margin_m, hi + margin_m
    if floor_z is not None:
        lo[2] = max(lo[2], floor_z)
    lo, hi = np.round(lo, 6), np.round(hi, 6)  # micrometres: what the file keeps
    return WorkspaceBox(workspace_min=(float(lo[0]), float(lo[1]), float(lo[2])),
                        workspace_max=(float(hi[0]), float(hi[1]), float(hi[2])), frame=frame, margin_m=float(margin_m),
                        taught_points=[[round(float(v), 6) for v in p] for p in pts])


def load_workspace(path: str | Path) -> WorkspaceBox:
    """Read a workspace YAML file.

    Raises ``CalibrationFileMissing`` (a FileNotFoundError) when it does not exist and
    ``CalibrationFileInvalid`` (a ValueError) when a bound is missing or min is not below max.
    """
    path = Path(path)
    fix = f"fix the file or recreate it with `{HOW_TO_CREATE}`"
    doc = read_mapping(path, HOW_TO_CREATE)
    lo = number_list(doc.get("workspace_min"), 3, "workspace_min", path, fix)
    hi = number_list(doc.get("workspace_max"), 3, "workspace_max", path, fix)
    bad = [axis for axis, a, b in zip("xyz", lo, hi) if not a < b]
    if bad:
        raise CalibrationFileInvalid(f"{path}: workspace_min must be below workspace_max on every axis "
                                     f"(not on {', '.join(bad)}: {lo} .. {hi}); {fix}")
    frame = doc.get("frame", "panda_link0")
    if not isinstance(frame, str) or not frame:
        raise CalibrationFileInvalid(f"{path}: frame must be the robot base frame's name; {fix}")
    points_doc = doc.get("taught_points") or []
    if not isinstance(points_doc, list):
        raise CalibrationFileInvalid(f"{path}: taught_points must be a list of [x, y, z]; {fix}")
    points = [number_list(p, 3, "each taught point", path, fix) for p in points_doc]
    try:
        margin = float(doc.get("margin_m", 0.0))
    except (TypeError, ValueError):
        raise CalibrationFileInvalid(f"{path}: margin_m must be a number (metres); {fix}") from None
    return WorkspaceBox(workspace_min=(lo[0], lo[1], lo[2]), workspace_max=(hi[0], hi[1], hi[2]),
                        frame=frame, margin_m=margin, taught_points=points)


def save_workspace(box: WorkspaceBox, path: str | Path, header: str = "") -> Path:
    doc: dict[str, Any] = {
        "frame": box.frame,
        "workspace_min": [round(v, 6) for v in box.workspace_min],
        "workspace_max": [round(v, 6) for v in box.workspace_max],
        "margin_m": box.margin_m,
    }
    if box.taught_points:
        doc["taught_points"] = [[round(v, 6) for v in p] for p in box.taught_points]
    return write_with_header(path, doc, header)
