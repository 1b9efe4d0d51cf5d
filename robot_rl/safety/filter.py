"""The last word before the arm moves: hold conditions, then limits, one decision per control tick.

Each tick, ``SafetyFilter.step(now)`` turns the newest requested twist (base frame,
``[vx, vy, vz, wx, wy, wz]``) and gripper target into the command the driver executes, with every
reason it changed anything:

Hold (zero twist, gripper frozen where it is), checked first:
  ``estop`` (set until cleared), ``no_command``, ``command_timeout`` (newest request older than
  ``command_timeout_s``), ``stale_observation`` (the observation the request answers is older than
  ``observation_max_age_s``), ``nonfinite`` (NaN or inf in the request: never forwarded),
  ``wrong_frame``, ``no_pose`` / ``stale_pose`` (without a recent ee pose the box cannot be enforced).

Clip (the command still moves the arm), in this order:
  ``velocity`` (per-axis speed limits), ``acceleration`` (per-axis change since the previous command,
  ``max_*_accel * period``), ``orientation`` (the tilt of the tool's approach axis from its nominal
  direction may not grow past ``max_tilt_rad``), ``workspace`` (the position predicted one period
  ahead stays inside the box; outside the box, only motion back toward it passes), ``gripper_rate``.
  Workspace and orientation come last: they are the hard limits, and win over the smoothness limits.

The gripper target is a position: it is rate limited toward the request and, on any hold, stays
where it is (a hold never opens a closed gripper and drops what it holds).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from robot_rl.robot.transforms import quat_to_matrix

FloatArray = npt.NDArray[np.float64]


class Reason(str, Enum):
    ESTOP = "estop"
    NO_COMMAND = "no_command"
    COMMAND_TIMEOUT = "command_timeout"
    STALE_OBSERVATION = "stale_observation"
    NONFINITE = "nonfinite"
    WRONG_FRAME = "wrong_frame"
    NO_POSE = "no_pose"
    STALE_POSE = "stale_pose"
    VELOCITY = "velocity"
    ACCELERATION = "acceleration"
    ORIENTATION = "orientation"
    WORKSPACE = "workspace"
    GRIPPER_RATE = "gripper_rate"
    GRIPPER_RANGE = "gripper_range"
    NONFINITE_GRIPPER = "nonfinite_gripper"


HOLD_REASONS = frozenset({Reason.ESTOP, Reason.NO_COMMAND, Reason.COMMAND_TIMEOUT, Reason.STALE_OBSERVATION,
                          Reason.NONFINITE, Reason.WRONG_FRAME, Reason.NO_POSE, Reason.STALE_POSE})


class SafetyLimitsError(ValueError):
    """Limits that cannot protect anything (a box with min >= max, a zero period); the message says what to fix."""


@dataclass(frozen=True)
class SafetyLimits:
    workspace_min: tuple[float, float, float]  # m, base frame
    workspace_max: tuple[float, float, float]
    max_linear_speed: float  # m/s per axis
    max_angular_speed: float  # rad/s per axis
    max_linear_accel: float  # m/s^2 per axis (per-step change = accel * period)
    max_angular_accel: float  # rad/s^2 per axis
    nominal_approach_axis: tuple[float, float, float]  # base-frame direction of the tool's z axis at rest
    max_tilt_rad: float  # largest angle between the tool's z axis and the nominal one (>= pi: no limit)
    gripper_max_rate: float  # gripper command units (of [-1, 1]) per second
    command_timeout_s: float
    observation_max_age_s: float
    pose_timeout_s: float
    period_s: float  # control period: the prediction horizon of the box and the per-step limits

    def __post_init__(self) -> None:
        lo, hi = np.asarray(self.workspace_min, float), np.asarray(self.workspace_max, float)
        if lo.shape != (3,) or hi.shape != (3,) or not np.all(lo < hi):
            raise SafetyLimitsError(f"workspace {self.workspace_min}..{self.workspace_max}: give [x, y, z] with "
                                    "each min below its max")
        positive = {"max_linear_speed": self.max_linear_speed, "max_angular_speed": self.max_angular_speed,
                    "max_linear_accel": self.max_linear_accel, "max_angular_accel": self.max_angular_accel,
                    "max_tilt_rad": self.max_tilt_rad, "gripper_max_rate": self.gripper_max_rate,
                    "command_timeout_s": self.command_timeout_s, "observation_max_age_s": self.observation_max_age_s,
                    "pose_timeout_s": self.pose_timeout_s, "period_s": self.period_s}
        bad = [f"{k}={v}" for k, v in positive.items() if not (math.isfinite(v) and v > 0)]
        if bad:
            raise SafetyLimitsError(f"safety limits {', '.join(bad)}: each must be a positive finite number")
        if np.linalg.norm(self.nominal_approach_axis) < 1e-6:
            raise SafetyLimitsError("safety.nominal_approach_axis must be a non-zero [x, y, z] direction")


@dataclass(frozen=True)
class Decision:
    twist: FloatArray  # [vx, vy, vz, wx, wy, wz] to execute, base frame
    gripper: float | None  # gripper target to send, None before any gripper request
    reasons: tuple[Reason, ...]  # empty: forwarded unchanged

    @property
    def held(self) -> bool:
        return any(r in HOLD_REASONS for r in self.reasons)


@dataclass
class _Request:
    twist: FloatArray
    received_s: float
    observation_stamp_s: float
    frame_ok: bool


@dataclass
class _Pose:
    position: FloatArray
    rotation: FloatArray
    stamp_s: float
    received_s: float


class SafetyFilter:
    """Stateful filter; feed it requests, poses and the estop, call ``step`` once per control period."""

    def __init__(self, limits: SafetyLimits) -> None:
        self.limits = limits
        self.counts: Counter[str] = Counter()  # reason -> ticks it applied
        self._request: _Request | None = None
        self._pose: _Pose | None = None
        self._estop = False
        self._gripper_request: float | None = None
        self._gripper_nonfinite = False
        self._gripper_out: float | None = None
        self._previous: FloatArray = np.zeros(6)

    # --- inputs ------------------------------------------------------------------------------------

    def request(self, twist: Sequence[float] | FloatArray, observation_stamp_s: float, now: float,
                frame_ok: bool = True) -> None:
        """The newest requested twist, stamped with the observation it answers; replaces the previous one."""
        array = np.asarray(twist, dtype=np.float64).reshape(-1)
        if array.shape != (6,):
            array = np.full(6, np.nan)  # malformed: treated like NaN, i.e. held
        self._request = _Request(array, now, float(observation_stamp_s), frame_ok)

    def request_gripper(self, value: float) -> None:
        if math.isfinite(value):
            self._gripper_request, self._gripper_nonfinite = float(value), False
        else:
            self._gripper_nonfinite = True  # ignored: the target stays where it is

    def pose(self, position: Sequence[float] | FloatArray, orientation_xyzw: Sequence[float] | FloatArray,
             stamp_s: float, now: float) -> None:
        p = np.asarray(position, dtype=np.float64).reshape(3)
        q = np.asarray(orientation_xyzw, dtype=np.float64).reshape(4)
        if not (np.isfinite(p).all() and np.isfinite(q).all() and np.linalg.norm(q) > 1e-6):
            self._pose = None  # a broken pose is no pose: hold until a valid one arrives
            return
        self._pose = _Pose(p, quat_to_matrix(q), float(stamp_s), now)

    def set_estop(self, active: bool) -> None:
        self._estop = bool(active)

    @property
    def estop(self) -> bool:
        return self._estop

    # --- the decision ------------------------------------------------------------------------------

    def step(self, now: float) -> Decision:
        reasons = self._hold_reasons(now)
        if reasons:
            twist = np.zeros(6)
            gripper = self._gripper_out
        else:
            assert self._request is not None and self._pose is not None  # else a hold reason above
            twist = self._clip_twist(self._request.twist.copy(), self._pose, reasons)
            gripper = self._next_gripper(reasons)
        if self._gripper_nonfinite:
            reasons.append(Reason.NONFINITE_GRIPPER)
        assert np.isfinite(twist).all(), "the filter only ever emits finite twists"
        self._previous = twist
        self._gripper_out = gripper
        self.counts.update(r.value for r in reasons)
        return Decision(twist=twist, gripper=gripper, reasons=tuple(reasons))

    def _hold_reasons(self, now: float) -> list[Reason]:
        reasons: list[Reason] = []
        limits, request, pose = self.limits, self._request, self._pose
        if self._estop:
            reasons.append(Reason.ESTOP)
        if request is None:
            reasons.append(Reason.NO_COMMAND)
        else:
            if not np.isfinite(request.twist).all():
                reasons.append(Reason.NONFINITE)
            if now - request.received_s > limits.command_timeout_s:
                reasons.append(Reason.COMMAND_TIMEOUT)
            if not (now - request.observation_stamp_s <= limits.observation_max_age_s):  # NaN stamp too
                reasons.append(Reason.STALE_OBSERVATION)
            if not request.frame_ok:
                reasons.append(Reason.WRONG_FRAME)
        if pose is None:
            reasons.append(Reason.NO_POSE)
        elif now - pose.received_s > limits.pose_timeout_s or now - pose.stamp_s > limits.pose_timeout_s:
            reasons.append(Reason.STALE_POSE)
        return reasons

    def _clip_twist(self, twist: FloatArray, pose: _Pose, reasons: list[Reason]) -> FloatArray:
        limits, dt = self.limits, self.limits.period_s
        speed = np.array([limits.max_linear_speed] * 3 + [limits.max_angular_speed] * 3)
        clipped = np.clip(twist, -speed, speed)
        if not np.array_equal(clipped, twist):
            reasons.append(Reason.VELOCITY)
        step = np.array([limits.max_linear_accel] * 3 + [limits.max_angular_accel] * 3) * dt
        stepped = np.clip(clipped, self._previous - step, self._previous + step)
        if not np.array_equal(stepped, clipped):
            reasons.append(Reason.ACCELERATION)
        angular = limit_tilt(stepped[3:], pose.rotation[:, 2], np.asarray(limits.nominal_approach_axis, float),
                             limits.max_tilt_rad, dt)
        if not np.allclose(angular, stepped[3:], rtol=0.0, atol=1e-12):
            reasons.append(Reason.ORIENTATION)
        linear = limit_to_box(stepped[:3], pose.position, np.asarray(limits.workspace_min, float),
                              np.asarray(limits.workspace_max, float), dt)
        if not np.array_equal(linear, stepped[:3]):
            reasons.append(Reason.WORKSPACE)
        return np.concatenate([linear, angular])

    def _next_gripper(self, reasons: list[Reason]) -> float | None:
        if self._gripper_request is None:
            return self._gripper_out
        target = float(np.clip(self._gripper_request, -1.0, 1.0))
        if target != self._gripper_request:
            reasons.append(Reason.GRIPPER_RANGE)
        if self._gripper_out is None:
            return target  # the first target: nothing to rate-limit against (the driver holds its own state)
        max_step = self.limits.gripper_max_rate * self.limits.period_s
        moved = float(np.clip(target, self._gripper_out - max_step, self._gripper_out + max_step))
        if moved != target:
            reasons.append(Reason.GRIPPER_RATE)
        return moved


def limit_to_box(velocity: FloatArray, position: FloatArray, lo: FloatArray, hi: FloatArray,
                 dt: float) -> FloatArray:
    """Per axis, the velocity that keeps ``position + velocity * dt`` inside [lo, hi].

    Outside the box, motion back toward it is allowed and motion further out is stopped; nothing is
    ever commanded that was not requested (the bounds never push).
    """
    upper = np.maximum(0.0, (hi - position) / dt)
    lower = np.minimum(0.0, (lo - position) / dt)
    return np.clip(velocity, lower, upper)


def limit_tilt(angular: FloatArray, approach: FloatArray, nominal: FloatArray, max_tilt: float,
               dt: float) -> FloatArray:
    """Angular velocity (base frame) with the part that would tilt ``approach`` beyond ``max_tilt`` removed.

    The approach axis ``a`` moves as ``da/dt = w x a``. Rotation about ``n = (a0 x a) / |a0 x a|`` (``a0``
    the nominal axis) increases the tilt angle at rate ``w . n``; it is capped so the tilt one period
    ahead stays within ``max_tilt`` (no cap when the tilt shrinks). Spinning about ``a`` (yaw of the
    tool) never tilts it and always passes. At zero tilt every direction tilts: the perpendicular
    part is scaled to reach at most ``max_tilt`` in one period.
    """
    if max_tilt >= math.pi:
        return angular
    a = approach / np.linalg.norm(approach)
    a0 = nominal / np.linalg.norm(nominal)
    tilt = math.acos(float(np.clip(a @ a0, -1.0, 1.0)))
    allowed = max(0.0, (max_tilt - tilt) / dt)
    axis = np.cross(a0, a)
    norm = float(np.linalg.norm(axis))
    if norm < 1e-9:
        if tilt > math.pi / 2:  # pointing opposite the nominal axis: only tilting back helps; block all tilt
            return (angular @ a) * a
        perpendicular = angular - (angular @ a) * a
        rate = float(np.linalg.norm(perpendicular))
        return angular if rate <= allowed else angular - perpendicular * (1.0 - allowed / rate)
    n = axis / norm
    rate = float(angular @ n)
    return angular if rate <= allowed else angular - (rate - allowed) * n
