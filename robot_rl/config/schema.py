"""Typed configuration: one dataclass per config group, validated on load.

Hydra composes YAML files from ``robot_rl/config/<group>/`` on top of these schemas; each field's
docstring-comment says what it means. ``validate`` runs each dataclass's checks and raises
``ConfigError`` with the fix in the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration the user wrote (or selected) cannot be used; the message says how to fix it."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass
class RobotConfig:
    name: str = "panda_sim"  # robot model, recorded in every replay store
    driver: str = "sim"  # sim | moveit_servo | cartesian_controllers
    control_hz: float = 10.0  # control rate of the whole loop (policy, safety, replay)
    base_frame: str = "panda_link0"  # frame of robot/ee_pose and of base-frame twists
    ee_frame: str = "panda_hand"  # end-effector frame

    def __post_init__(self) -> None:
        _require(self.driver in ("sim", "moveit_servo", "cartesian_controllers"),
                 f"robot.driver={self.driver!r}: use sim, moveit_servo or cartesian_controllers")
        _require(0.5 <= self.control_hz <= 1000.0, f"robot.control_hz={self.control_hz}: use 0.5..1000 Hz")


@dataclass
class CameraConfig:
    serial: str = ""  # RealSense serial number ("" for simulated cameras)
    width: int = 640  # capture width in pixels
    height: int = 480  # capture height in pixels
    fps: int = 30  # capture rate
    frame_id: str = ""  # optical frame; defaults to <name>_color_optical_frame
    calibration: str = ""  # camera_info YAML under calibration/ ("" = intrinsics from the device or sim)
    source: str = "realsense"  # realsense (by serial) | recording (play `recording`) | software (SDK test device)
    recording: str = ""  # RealSense recording to play when source=recording (.db3, or a legacy .bag)
    depth: bool = False  # also publish depth aligned to color (aligned_depth_to_color/image_raw)
    timeout_s: float = 0.25  # no frame for this long = the camera stopped (ERROR on /diagnostics)
    stop_after_frames: int = 0  # source=software only: stop sending after this many frames (0 = never)

    def __post_init__(self) -> None:
        _require(self.width > 0 and self.height > 0, f"camera size {self.width}x{self.height}: must be positive")
        _require(self.fps > 0, f"camera fps={self.fps}: must be positive")
        _require(self.source in ("realsense", "recording", "software"),
                 f"camera source={self.source!r}: use realsense, recording or software")
        _require(self.source != "recording" or bool(self.recording),
                 "camera source=recording needs recording=<path to a .db3 or .bag file>")
        _require(0.0 < self.timeout_s <= 0.45,
                 f"camera timeout_s={self.timeout_s}: use 0 < timeout_s <= 0.45 so a stop is seen within 0.5 s")
        _require(self.timeout_s > 1.0 / self.fps,
                 f"camera timeout_s={self.timeout_s} is shorter than one frame at {self.fps} fps: raise fps or timeout_s")
        _require(self.stop_after_frames >= 0, "camera stop_after_frames must be >= 0 (0 = never stop)")


@dataclass
class CamerasConfig:
    names: list[str] = field(default_factory=lambda: ["wrist", "front"])  # cameras the policy sees, in order
    devices: dict[str, CameraConfig] = field(default_factory=dict)  # per-camera settings, keyed by name
    policy_image_size: int = 128  # square crop/resize fed to the policy and stored in the replay
    max_frame_age_s: float = 0.2  # an observation older than this is stale and never used

    def __post_init__(self) -> None:
        _require(len(self.names) > 0, "cameras.names is empty: list at least one camera")
        _require(len(set(self.names)) == len(self.names), f"cameras.names={self.names}: names must be unique")
        _require(self.policy_image_size >= 16, "cameras.policy_image_size must be >= 16")
        _require(self.max_frame_age_s > 0, "cameras.max_frame_age_s must be > 0")


@dataclass
class PolicyConfig:
    device: str = "auto"  # auto (cuda when available) | cpu | cuda | cuda:N
    weights_dir: str = "${run_dir}/weights"  # where the learner writes versioned safetensors weights
    deterministic: bool = True  # act with the mean action instead of sampling
    max_linear_speed: float = 0.1  # m/s at action 1.0
    max_angular_speed: float = 0.5  # rad/s at action 1.0


@dataclass
class LearnerConfig:
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    batch_size: int = 256  # transitions per gradient step
    utd_ratio: int = 4  # critic updates per environment step received
    discount: float = 0.97  # gamma
    learning_starts: int = 200  # environment steps before the first update
    weights_every_s: float = 10.0  # how often new weights are handed to the policy server

    def __post_init__(self) -> None:
        _require(self.batch_size > 0, "learner.batch_size must be > 0")
        _require(0.0 < self.discount <= 1.0, f"learner.discount={self.discount}: use a value in (0, 1]")


@dataclass
class RewardConfig:
    kind: str = "sim_success"  # sim_success (simulator ground truth) | classifier | progress
    success_threshold: float = 0.5  # replaced by the calibrated threshold of a trained classifier

    def __post_init__(self) -> None:
        _require(self.kind in ("sim_success", "classifier", "progress"),
                 f"reward.kind={self.kind!r}: use sim_success, classifier or progress")


@dataclass
class ReplayConfig:
    path: str = "${run_dir}/replay.zarr"  # store location: a local path or an fsspec URL
    group: str = "${robot.name}"  # one group per writer (robot or session)
    task: str = "pick_cube"  # task name recorded in the store
    goal: str = "pick up the cube"  # language goal recorded in the store


@dataclass
class TeleopConfig:
    device: str = "keyboard"  # keyboard | spacemouse | gamepad | scripted
    takeover: str = "hold"  # hold (hold a button to intervene) | toggle
    deadband: float = 0.05  # inputs below this fraction of full scale read as zero
    linear_scale: float = 1.0  # maps device input to the policy's action scale
    angular_scale: float = 1.0
    zero_timeout_s: float = 2.0  # all-zero input for this long while active = device unhealthy

    def __post_init__(self) -> None:
        _require(self.device in ("keyboard", "spacemouse", "gamepad", "scripted"),
                 f"teleop.device={self.device!r}: use keyboard, spacemouse, gamepad or scripted")
        _require(self.takeover in ("hold", "toggle"), f"teleop.takeover={self.takeover!r}: use hold or toggle")


@dataclass
class SafetyConfig:
    workspace_min: list[float] = field(default_factory=lambda: [0.2, -0.35, 0.0])  # m, base frame
    workspace_max: list[float] = field(default_factory=lambda: [0.75, 0.35, 0.5])  # m, base frame
    max_linear_speed: float = 0.15  # m/s, per axis
    max_angular_speed: float = 0.6  # rad/s, per axis
    command_timeout_s: float = 0.25  # hold the arm when the newest command is older than this

    def __post_init__(self) -> None:
        _require(len(self.workspace_min) == 3 and len(self.workspace_max) == 3,
                 "safety.workspace_min/max need three values [x, y, z]")
        _require(all(lo < hi for lo, hi in zip(self.workspace_min, self.workspace_max)),
                 f"safety workspace {self.workspace_min}..{self.workspace_max}: each min must be below its max")


@dataclass
class SimConfig:
    env_id: str = "gym_hil/PandaPickCubeBase-v0"  # gym-hil task the simulated arm wraps
    seed: int = 0  # seeds cube placement; same seed, same episode starts
    realtime: bool = True  # step at the control rate in wall time; false = as fast as possible (sim time)
    image_size: int = 128  # rendered camera resolution (square)


@dataclass
class RobotRLConfig:
    run_dir: str = "runs/latest"  # where this run writes replay, weights, logs and plots
    robot: RobotConfig = field(default_factory=RobotConfig)
    cameras: CamerasConfig = field(default_factory=CamerasConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    teleop: TeleopConfig = field(default_factory=TeleopConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    sim: SimConfig = field(default_factory=SimConfig)


GROUPS: dict[str, type[Any]] = {
    "robot": RobotConfig,
    "cameras": CamerasConfig,
    "policy": PolicyConfig,
    "learner": LearnerConfig,
    "reward": RewardConfig,
    "replay": ReplayConfig,
    "teleop": TeleopConfig,
    "safety": SafetyConfig,
    "sim": SimConfig,
}
