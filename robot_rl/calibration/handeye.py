"""Hand-eye calibration: where a camera is on the robot (eye-in-hand) or next to it (eye-on-base).

Input: samples pairing the effector pose in the robot base (``T_base_effector``, from the robot) with
the board pose in the camera (``T_cam_board``, from ``boards.estimate_pose`` or a marker tracker).

- eye_in_hand: the camera rides on the effector and the board lies still; result: camera in effector.
- eye_on_base: the camera is fixed and the board rides on the effector; result: camera in base.

Every OpenCV method can be chosen (tsai, park, horaud, andreff, daniilidis for ``calibrateHandEye``;
shah, li for ``calibrateRobotWorldHandEye``); ``calibrate_handeye`` runs them all, reports how far
each lands from the chosen one, and gives per-sample residuals: how far each sample's view of the
fixed board (eye_in_hand: board in base; eye_on_base: board in effector) lies from their mean.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from robot_rl.calibration import solvers
from robot_rl.calibration.errors import CalibrationDataError
from robot_rl.calibration.handeye_file import CALIBRATION_TYPES, HandEyeResult
from robot_rl.calibration.transforms import (
    Matrix,
    average_transforms,
    invert,
    make_transform,
    matrix_to_rotvec,
    transform_difference,
)

HAND_EYE_METHODS = ("tsai", "park", "horaud", "andreff", "daniilidis")
ROBOT_WORLD_METHODS = ("shah", "li")
METHODS = HAND_EYE_METHODS + ROBOT_WORLD_METHODS
MIN_SAMPLES = 3
RECOMMENDED_SAMPLES = 10
MIN_ROTATION_DEG = 5.0  # orientation changes below this carry no hand-eye information
CONSISTENCY_MM = 5.0  # methods further apart than this (or CONSISTENCY_DEG) make the result suspect
CONSISTENCY_DEG = 1.0

_CV_METHOD = {"tsai": "CALIB_HAND_EYE_TSAI", "park": "CALIB_HAND_EYE_PARK", "horaud": "CALIB_HAND_EYE_HORAUD",
              "andreff": "CALIB_HAND_EYE_ANDREFF", "daniilidis": "CALIB_HAND_EYE_DANIILIDIS",
              "shah": "CALIB_ROBOT_WORLD_HAND_EYE_SHAH", "li": "CALIB_ROBOT_WORLD_HAND_EYE_LI"}


@dataclass
class PoseSample:
    """One robot pose with the board pose the camera saw there."""

    robot: Matrix  # T_base_effector
    target: Matrix  # T_cam_board
    source: str = ""  # image name or sample index, for messages


@dataclass
class MethodResult:
    method: str
    backend: str  # opencv | numpy
    transform: Matrix  # camera in effector (eye_in_hand) or in base (eye_on_base)
    target_transform: Matrix  # board in base (eye_in_hand) or in effector (eye_on_base)
    residual_mm: list[float]  # per sample
    residual_deg: list[float]

    @property
    def rms_mm(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.residual_mm))))

    @property
    def rms_deg(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.residual_deg))))


@dataclass
class HandEyeReport:
    calibration_type: str
    chosen: MethodResult
    methods: dict[str, MethodResult]  # every method that ran, chosen included
    sources: list[str]
    warnings: list[str] = field(default_factory=list)

    def spread(self) -> dict[str, tuple[float, float]]:
        """Per method: (mm, deg) between its transform and the chosen one."""
        out = {}
        for name, res in self.methods.items():
            dist, ang = transform_difference(self.chosen.transform, res.transform)
            out[name] = (dist * 1000.0, ang)
        return out

    def consistent(self) -> bool:
        return all(mm <= CONSISTENCY_MM and deg <= CONSISTENCY_DEG for mm, deg in self.spread().values())

    def to_result(self, robot_base_frame: str, robot_effector_frame: str, tracking_base_frame: str,
                  tracking_marker_frame: str, name: str = "", reference_view: Matrix | None = None) -> HandEyeResult:
        return HandEyeResult(
            calibration_type=self.calibration_type, transform=self.chosen.transform,
            robot_base_frame=robot_base_frame, robot_effector_frame=robot_effector_frame,
            tracking_base_frame=tracking_base_frame, tracking_marker_frame=tracking_marker_frame,
            name=name, method=self.chosen.method, target_transform=self.chosen.target_transform,
            reference_view=reference_view,
            extra={"samples": len(self.sources), "residual_rms_mm": round(self.chosen.rms_mm, 3),
                   "residual_rms_deg": round(self.chosen.rms_deg, 4)})

    def format(self) -> str:
        t = self.chosen.transform
        frame = "effector" if self.calibration_type == "eye_in_hand" else "base"
        lines = [f"hand-eye ({self.calibration_type}, {self.chosen.method}, {self.chosen.backend}) from "
                 f"{len(self.sources)} samples",
                 f"  camera in {frame}: t = [{t[0, 3]:.4f}, {t[1, 3]:.4f}, {t[2, 3]:.4f}] m, "
                 f"rotvec = {np.round(matrix_to_rotvec(t[:3, :3]), 4).tolist()} rad",
                 f"  residuals: rms {self.chosen.rms_mm:.2f} mm, {self.chosen.rms_deg:.3f} deg; worst "
                 f"{self.sources[int(np.argmax(self.chosen.residual_mm))]} "
                 f"({max(self.chosen.residual_mm):.2f} mm)",
                 "  methods (distance from chosen | residual rms):"]
        for name, (mm, deg) in self.spread().items():
            res = self.methods[name]
            lines.append(f"    {name:<11} {mm:7.2f} mm {deg:6.3f} deg | {res.rms_mm:6.2f} mm {res.rms_deg:6.3f} deg")
        lines.append("  consistent across methods" if self.consistent() else
                     f"  INCONSISTENT: methods disagree by more than {CONSISTENCY_MM} mm / {CONSISTENCY_DEG} deg")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def opencv_has_handeye() -> bool:
    """OpenCV 5.0.0's Python bindings lack calibrateHandEye (opencv/opencv#29565)."""
    return hasattr(cv2, "calibrateHandEye") and hasattr(cv2, "calibrateRobotWorldHandEye")


def _moving(samples: Sequence[PoseSample], kind: str) -> list[Matrix]:
    """Poses whose relative motions give A in AX = XB: the effector in the base for eye_in_hand, the
    base in the effector for eye_on_base (the trick OpenCV's documentation gives for eye-to-hand)."""
    return [s.robot if kind == "eye_in_hand" else invert(s.robot) for s in samples]


def check_samples(samples: Sequence[PoseSample], kind: str) -> list[str]:
    """Raise CalibrationDataError when the samples cannot determine the transform; else return warnings."""
    if kind not in CALIBRATION_TYPES:
        raise CalibrationDataError(f"hand-eye type {kind!r}: use eye_in_hand or eye_on_base")
    if len(samples) < MIN_SAMPLES:
        raise CalibrationDataError(
            f"hand-eye needs at least {MIN_SAMPLES} robot poses with the board in view, got {len(samples)}: add "
            f"{MIN_SAMPLES - len(samples)} more (better {RECOMMENDED_SAMPLES - len(samples)} more, "
            "each tilted 15-30 degrees from the others)")
    warnings = []
    if len(samples) < RECOMMENDED_SAMPLES:
        warnings.append(f"only {len(samples)} samples: {RECOMMENDED_SAMPLES}+ give a more reliable result")
    h = _moving(samples, kind)
    frame = "gripper (effector)" if kind == "eye_in_hand" else "robot base"
    rotvecs = np.array([matrix_to_rotvec((invert(h[j]) @ h[i])[:3, :3])
                        for i in range(len(h)) for j in range(i + 1, len(h))])
    angles = np.degrees(np.linalg.norm(rotvecs, axis=1))
    if angles.max() < MIN_ROTATION_DEG:
        raise CalibrationDataError(
            f"the robot's orientation changes by at most {angles.max():.1f} degrees across the samples: hand-eye "
            f"needs rotations, not just translations; tilt the gripper 15-30 degrees about different axes")
    _, sing, vt = np.linalg.svd(rotvecs[angles >= 1.0], full_matrices=True)
    sing = np.r_[sing, np.zeros(3 - len(sing))]
    if sing[1] < 0.1 * sing[0]:
        raise CalibrationDataError(
            f"all robot rotations are about one axis ({_axis_name(vt[0])} of the {frame}): hand-eye is "
            f"undetermined; rotation about {_axis_name(vt[1])} and {_axis_name(vt[2])} of the {frame} is "
            "missing: add poses tilted about those axes")
    if sing[2] < 0.1 * sing[0]:
        warnings.append(f"little rotation about {_axis_name(vt[2])} of the {frame}: add poses tilted about it "
                        "for a better-conditioned result")
    return warnings


def _axis_name(v: np.ndarray) -> str:
    v = np.asarray(v, dtype=np.float64)
    i = int(np.argmax(np.abs(v)))
    if abs(v[i]) > 0.9:
        return f"the {'xyz'[i]} axis"
    return f"direction {np.round(v * np.sign(v[i]), 2).tolist()}"


def solve(samples: Sequence[PoseSample], kind: str, method: str = "park", backend: str = "auto") -> MethodResult:
    """One method's hand-eye transform with per-sample residuals (no sample checks; see ``calibrate_handeye``)."""
    if method not in METHODS:
        raise CalibrationDataError(f"hand-eye method {method!r}: use one of {', '.join(METHODS)}")
    if backend == "auto":
        backend = "opencv" if opencv_has_handeye() else "numpy"
    if backend == "opencv" and not opencv_has_handeye():
        raise CalibrationDataError(f"OpenCV {cv2.__version__} has no calibrateHandEye in Python: use backend numpy")
    robot = [s.robot for s in samples]
    target = [s.target for s in samples]
    if method in HAND_EYE_METHODS:
        h = _moving(samples, kind)
        if backend == "opencv":
            rot, t = getattr(cv2, "calibrateHandEye")([m[:3, :3] for m in h], [m[:3, 3] for m in h],
                                          [m[:3, :3] for m in target], [m[:3, 3] for m in target],
                                          method=getattr(cv2, _CV_METHOD[method]))
            transform = make_transform(rot, t)
        else:
            a_list, b_list = solvers.motion_pairs(h, target)
            transform = solvers.AX_XB[method](a_list, b_list)
    else:
        # A_i X = Z B_i with A_i = T_cam_board, B_i = T_effector_base (eye_in_hand) or T_base_effector
        # (eye_on_base); Z is the camera's parent frame seen from the camera.
        b_poses = [invert(m) if kind == "eye_in_hand" else m for m in robot]
        if backend == "opencv":
            rx, tx, rz, tz = getattr(cv2, "calibrateRobotWorldHandEye")(
                [m[:3, :3] for m in target], [m[:3, 3] for m in target],
                [m[:3, :3] for m in b_poses], [m[:3, 3] for m in b_poses], method=getattr(cv2, _CV_METHOD[method]))
            z = make_transform(rz, tz)
        else:
            _, z = solvers.AX_ZB[method](target, b_poses)
        transform = invert(z)
    return _with_residuals(method, backend, transform, samples, kind)


def _with_residuals(method: str, backend: str, transform: Matrix, samples: Sequence[PoseSample],
                    kind: str) -> MethodResult:
    fixed = [(s.robot if kind == "eye_in_hand" else invert(s.robot)) @ transform @ s.target for s in samples]
    mean = average_transforms(fixed)
    diffs = [transform_difference(mean, f) for f in fixed]
    return MethodResult(method=method, backend=backend, transform=transform, target_transform=mean,
                        residual_mm=[d * 1000.0 for d, _ in diffs], residual_deg=[a for _, a in diffs])


def calibrate_handeye(samples: Sequence[PoseSample], kind: str, method: str = "park", compare: bool = True,
                      backend: str = "auto") -> HandEyeReport:
    """Check the samples, solve with ``method``, and (``compare``) with every other method for the report."""
    warnings = check_samples(samples, kind)
    chosen = solve(samples, kind, method, backend)
    methods = {method: chosen}
    if compare:
        for other in METHODS:
            if other != method:
                try:
                    methods[other] = solve(samples, kind, other, backend)
                except (np.linalg.LinAlgError, cv2.error) as err:  # one failing method must not hide the rest
                    warnings.append(f"method {other} failed: {err}")
    report = HandEyeReport(kind, chosen, methods, [s.source or str(i) for i, s in enumerate(samples)], warnings)
    worst = int(np.argmax(chosen.residual_mm))
    if chosen.residual_mm[worst] > 3.0 * max(float(np.median(chosen.residual_mm)), 0.5):
        warnings.append(f"sample {report.sources[worst]} lies {chosen.residual_mm[worst]:.1f} mm from the others: "
                        "check its board detection and robot pose, or drop it")
    if compare and not report.consistent():
        warnings.append("the methods disagree: add samples with larger, more varied rotations")
    return report
