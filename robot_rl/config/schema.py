"""Typed configuration: one dataclass per config group, validated on load.

Hydra composes YAML files from ``robot_rl/config/<group>/`` on top of these schemas; each field's
docstring-comment says what it means. ``validate`` runs each dataclass's checks and raises
``ConfigError`` with the fix in the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


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
    # arm joints as robot/state names them, base to tip (the sim maps its joints onto these in order)
    joint_names: list[str] = field(default_factory=lambda: [f"panda_joint{i}" for i in range(1, 8)])
    gripper_joint: str = "robotiq_85_left_knuckle_joint"  # gripper joint in robot/state (rad, 0 = open)
    reset_max_joint_speed: float = 0.05  # rad/s; reset is refused while any arm joint moves faster
    # hardware adapter (robot_adapter node): where robot/command goes
    servo_twist_topic: str = "/servo_node/delta_twist_cmds"  # MoveIt Servo twist input
    servo_command_type_service: str = "/servo_node/switch_command_type"  # moveit_msgs/srv/ServoCommandType
    cartesian_target_topic: str = "/cartesian_motion_controller/target_frame"  # FZI target pose
    cartesian_max_lead_m: float = 0.03  # FZI target never leads the measured pose by more than this
    gripper_action: str = "/gripper_controller/gripper_cmd"  # control_msgs GripperCommand action ("" = none)
    gripper_action_type: str = "gripper_command"  # gripper_command | parallel_gripper_command
    gripper_open_position: float = 0.0  # gripper position sent for command -1 (driver units)
    gripper_closed_position: float = 0.8  # gripper position sent for command +1 (driver units)
    gripper_max_effort: float = 50.0  # N, sent with every gripper goal

    def __post_init__(self) -> None:
        _require(self.driver in ("sim", "moveit_servo", "cartesian_controllers"),
                 f"robot.driver={self.driver!r}: use sim, moveit_servo or cartesian_controllers")
        _require(0.5 <= self.control_hz <= 1000.0, f"robot.control_hz={self.control_hz}: use 0.5..1000 Hz")
        _require(self.base_frame != self.ee_frame and bool(self.base_frame) and bool(self.ee_frame),
                 f"robot.base_frame={self.base_frame!r}, robot.ee_frame={self.ee_frame!r}: "
                 "give two different, non-empty frame names")
        _require(len(self.joint_names) > 0 and len(set(self.joint_names)) == len(self.joint_names),
                 f"robot.joint_names={self.joint_names}: list each arm joint once")
        _require(self.reset_max_joint_speed > 0, "robot.reset_max_joint_speed must be > 0 (rad/s)")
        _require(self.cartesian_max_lead_m > 0, "robot.cartesian_max_lead_m must be > 0 (m)")
        _require(self.gripper_action_type in ("gripper_command", "parallel_gripper_command"),
                 f"robot.gripper_action_type={self.gripper_action_type!r}: "
                 "use gripper_command or parallel_gripper_command")


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


MODEL_ENCODERS = ("conv", "resnet10")


@dataclass
class ModelConfig:
    """policy.model: the SAC actor over images and state (``robot_rl.models.actor.Actor``); the learner builds the same."""

    # false: a state-only policy (the state MLP alone; no camera frames are encoded, waited for or sampled)
    use_images: bool = True
    encoder: str = "conv"  # conv (small DrQ-style conv net, trained) | resnet10 (HIL-SERL's backbone)
    shared_encoder: bool = False  # one image encoder for every camera (true) or one per camera (false)
    conv_channels: list[int] = field(default_factory=lambda: [16, 32, 32, 32])  # encoder=conv: channels per layer
    conv_strides: list[int] = field(default_factory=lambda: [2, 2, 2, 2])  # encoder=conv: stride per 3x3 layer
    image_features: int = 64  # per-camera feature size after the projection (LayerNorm + tanh)
    # Local safetensors file with pretrained weights for the image backbone ("" = random init). Never
    # downloaded: convert a checkpoint once with your own tooling and point here.
    pretrained_encoder_path: str = ""
    freeze_encoder: bool = False  # keep the pretrained backbone fixed (eval mode, no gradients); needs a path
    image_mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])  # RGB mean of pixels in [0, 1]
    image_std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])  # RGB std of pixels in [0, 1]
    state_dim: int = 10  # proprioceptive state size (robot_rl.policy.state: ee position, 6-D rotation, gripper)
    state_features: int = 64  # state MLP output size
    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # actor trunk MLP
    log_std_min: float = -5.0  # bounds of the Gaussian's log standard deviation (before tanh squashing)
    log_std_max: float = 2.0
    # action dimensions the actor always outputs as 0 (e.g. [3, 4, 5]: hold the gripper's orientation, as
    # gym-hil's pick task acts in x, y, z and the gripper only); they take no part in the entropy either
    fixed_action_dims: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        _require(all(0 <= d < 7 for d in self.fixed_action_dims) and len(set(self.fixed_action_dims)) < 7,
                 f"policy.model.fixed_action_dims={self.fixed_action_dims}: use indices 0..6, leave one free")
        _require(self.encoder in MODEL_ENCODERS, f"policy.model.encoder={self.encoder!r}: use one of {', '.join(MODEL_ENCODERS)}")
        _require(len(self.conv_channels) > 0 and len(self.conv_channels) == len(self.conv_strides),
                 f"policy.model.conv_channels={self.conv_channels} and conv_strides={self.conv_strides}: "
                 "give one stride per layer (same length, at least one layer)")
        _require(all(c > 0 for c in self.conv_channels) and all(s in (1, 2) for s in self.conv_strides),
                 "policy.model.conv_channels must be > 0 and conv_strides 1 or 2")
        _require(self.image_features > 0 and self.state_features > 0 and self.state_dim > 0,
                 "policy.model.image_features, state_features and state_dim must be > 0")
        _require(len(self.hidden_dims) > 0 and all(h > 0 for h in self.hidden_dims),
                 f"policy.model.hidden_dims={self.hidden_dims}: give at least one positive layer size")
        _require(len(self.image_mean) == 3 and len(self.image_std) == 3 and all(s > 0 for s in self.image_std),
                 "policy.model.image_mean/image_std need three values (RGB), std > 0")
        _require(self.log_std_min < self.log_std_max,
                 f"policy.model.log_std_min={self.log_std_min} must be below log_std_max={self.log_std_max}")
        _require(not self.freeze_encoder or bool(self.pretrained_encoder_path),
                 "policy.model.freeze_encoder=true needs pretrained_encoder_path=<local .safetensors file>: "
                 "a frozen random encoder never learns")
        _require(not self.pretrained_encoder_path or self.pretrained_encoder_path.endswith(".safetensors"),
                 f"policy.model.pretrained_encoder_path={self.pretrained_encoder_path!r}: "
                 "give a local .safetensors file (pickled checkpoints are not loaded)")

    def architecture(self) -> dict[str, object]:
        """The fields that decide tensor shapes and meaning; two configs with the same architecture share weights."""
        return {
            "encoder": self.encoder, "shared_encoder": self.shared_encoder,
            "conv_channels": list(self.conv_channels), "conv_strides": list(self.conv_strides),
            "image_features": self.image_features, "image_mean": list(self.image_mean),
            "image_std": list(self.image_std), "state_dim": self.state_dim,
            "state_features": self.state_features, "hidden_dims": list(self.hidden_dims),
            "log_std_min": self.log_std_min, "log_std_max": self.log_std_max,
            **({"fixed_action_dims": sorted(self.fixed_action_dims)} if self.fixed_action_dims else {}),
        }


@dataclass
class PolicyConfig:
    device: str = "auto"  # auto (cuda when available) | cpu | cuda | cuda:N
    weights_dir: str = "${run_dir}/weights"  # where the learner writes versioned safetensors weights
    deterministic: bool = True  # act with the mean action instead of sampling
    max_linear_speed: float = 0.1  # m/s at action 1.0
    max_angular_speed: float = 0.5  # rad/s at action 1.0
    model: ModelConfig = field(default_factory=ModelConfig)  # the actor network (robot_rl/models/config.py)
    trigger: str = "frames"  # frames (act when every camera has a new frame, at most control_hz) | timer
    warmup_steps: int = 10  # forward passes per actor copy on configure, before the first real tick
    seed: int = 0  # initial (untrained) weights and the sampling noise when deterministic=false
    # the node's CPU threads (torch intra-op, OpenCV's resize), on any device: keep below the idle cores; when threads
    # outnumber free cores (cameras, DDS, other nodes) inference stalls for tens of ms (measured: 2 threads on 2
    # busy cores, p50 7 -> 68 ms)
    cpu_threads: int = 1
    cuda_graphs: bool = True  # on CUDA, replay the deterministic actor as a CUDA graph (robot_rl.policy.cuda_graph)

    def __post_init__(self) -> None:
        _require(self.trigger in ("frames", "timer"), f"policy.trigger={self.trigger!r}: use frames or timer")
        _require(self.max_linear_speed > 0 and self.max_angular_speed > 0,
                 "policy.max_linear_speed and max_angular_speed must be > 0")
        _require(self.warmup_steps >= 0, "policy.warmup_steps must be >= 0")
        _require(self.cpu_threads >= 1, "policy.cpu_threads must be >= 1")


@dataclass
class LearnerConfig:
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    batch_size: int = 256  # transitions per gradient step
    utd_ratio: int = 4  # critic updates per environment step received
    discount: float = 0.97  # gamma
    learning_starts: int = 200  # environment steps before the first update
    weights_every_s: float = 10.0  # how often new weights are handed to the policy server
    # --- SAC (robot_rl.learn.sac); defaults follow HIL-SERL where it sets them ---
    critic_actor_ratio: int = 1  # critic updates per actor (and temperature) update
    critic_ensemble_size: int = 2  # Q heads in the ensemble (REDQ uses 10)
    critic_subsample: int = 2  # target = min over this many randomly chosen heads (REDQ's M; = size: all)
    critic_hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # each Q head's LayerNorm MLP
    # false (DrQ, SERL): the critic trains the one encoder and the actor reads its features detached. true: the
    # critic trains its own copy and the actor's encoder trains with the actor's losses, so critic updates never
    # move the features the actor acts on (they undid a behaviour-cloned pick: 80% -> 0% in 3000 critic updates);
    # costs a second encoder pass per update (negligible for a state-only policy)
    separate_critic_encoder: bool = False
    actor_lr: float = 3e-4  # Adam learning rate of the actor
    critic_lr: float = 3e-4  # Adam learning rate of the critics and the shared image encoder
    temperature_lr: float = 3e-4  # Adam learning rate of log(alpha)
    init_temperature: float = 0.01  # alpha at the start of training
    target_entropy: Optional[float] = None  # automatic temperature target; null = -(free action dims) / 2
    tau: float = 0.005  # Polyak averaging rate of the target critics
    # the entropy bonus in the critic's TD target (soft Q). HIL-SERL leaves it out (SERL's backup_entropy=False):
    # with a sparse 0/1 reward, -alpha * log pi summed over ~30 steps outweighed the success it discounts
    backup_entropy: bool = True
    augmentation_pad: int = 4  # DrQ random shift: pad by this many pixels and crop back (0 = no augmentation)
    # With a frozen pretrained encoder (policy.model.freeze_encoder): run the backbone once per stored frame
    # and keep its feature maps in RAM (float16), so an update trains the heads only. No DrQ pixel shift
    # then (the cached features are of the unshifted frame); see robot_rl/learn/features.py.
    cache_image_features: bool = False
    n_step: int = 1  # n-step returns, computed by the replay sampler inside each episode
    # --- behaviour cloning on the operator's steps (demonstrations and interventions) ---
    bc_pretrain_updates: int = 0  # warm start: actor-only imitation updates before the first SAC update
    bc_weight: float = 0.0  # weight of the imitation term added to the SAC actor loss (0 = pure SAC)
    # weight of a pull of the actor's mean action towards the warm-started actor's (frozen when the warm start
    # ends) on every batch state, the policy's own included: the imitation term only holds the operator's states.
    # The simulated pick's policy-only success over 50 online episodes went from 15-100% (8 runs) to 75-100%
    # (9 seeds, mean 94%) with 10, cube in the base frame; 95-100% (mean 98%) with the cube relative to the
    # gripper (benchmarks/bench_learning.py); costs one more actor pass per actor update
    reference_weight: float = 0.0
    # --- discrete gripper critic (robot_rl.learn.gripper) ---
    gripper_critic: bool = True  # train a close/stay/open double-Q critic and distil its choice into the actor
    gripper_hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # gripper critic MLP
    gripper_deadband: float = 0.5  # command change (in [-1, 1] units) below which a recorded step is "stay"
    gripper_state_index: int = 9  # index of the gripper joint position in the state vector (policy.state)
    # weight of the actor's gripper-command regression onto the critic's choice. With a behaviour-cloned warm
    # start, 0 until the gripper critic has learned: distilling an untrained critic undid a 10/10 pick within
    # 10 episodes (benchmarks/bench_learning.py)
    gripper_distill_weight: float = 1.0
    # --- data: stores, groups and RLPD mixing ---
    replays: list[str] = field(default_factory=lambda: ["${replay.path}"])  # stores to follow (paths or fsspec URLs)
    groups: list[str] = field(default_factory=list)  # groups to read from each store ([] = every group)
    # RLPD mixing: batch share per bucket of step sources (policy, human, demo), e.g.
    # {"demo+human": 0.5, "policy": 0.5}; {} = the replay sampler's default (all but reset steps, by size)
    source_weights: dict[str, float] = field(default_factory=dict)
    poll_s: float = 1.0  # how often an idle learner looks for newly committed episodes
    # --- process: checkpoints, logs, seeds ---
    checkpoint_dir: str = "${run_dir}/learner/checkpoints"  # atomic safetensors + JSON checkpoints
    checkpoint_every_s: float = 120.0  # how often a checkpoint is written while training
    keep_checkpoints: int = 2  # older checkpoints are deleted after a newer one is complete
    log_dir: str = "${run_dir}/learner/tensorboard"  # TensorBoard event files
    log_every_updates: int = 50  # metrics are written every this many critic updates
    seed: int = 0  # network initialisation, sampling and augmentation (each rank adds its rank)

    def __post_init__(self) -> None:
        _require(self.batch_size > 0, "learner.batch_size must be > 0")
        _require(0.0 < self.discount <= 1.0, f"learner.discount={self.discount}: use a value in (0, 1]")
        _require(self.utd_ratio >= 1 and self.critic_actor_ratio >= 1 and self.learning_starts >= 0,
                 "learner.utd_ratio and learner.critic_actor_ratio must be >= 1, learner.learning_starts >= 0")
        _require(self.critic_ensemble_size >= 1 and 1 <= self.critic_subsample <= self.critic_ensemble_size,
                 f"learner.critic_subsample={self.critic_subsample}: use 1..critic_ensemble_size "
                 f"({self.critic_ensemble_size})")
        _require(len(self.critic_hidden_dims) > 0 and len(self.gripper_hidden_dims) > 0,
                 "learner.critic_hidden_dims and learner.gripper_hidden_dims need at least one layer")
        _require(min(self.actor_lr, self.critic_lr, self.temperature_lr, self.init_temperature) > 0,
                 "learner learning rates and init_temperature must be > 0")
        _require(0.0 < self.tau <= 1.0, f"learner.tau={self.tau}: use a value in (0, 1]")
        _require(self.augmentation_pad >= 0 and self.n_step >= 1,
                 "learner.augmentation_pad must be >= 0 and learner.n_step >= 1")
        _require(self.bc_pretrain_updates >= 0 and self.bc_weight >= 0 and self.reference_weight >= 0,
                 "learner.bc_pretrain_updates, learner.bc_weight and learner.reference_weight must be >= 0")
        _require(self.reference_weight == 0 or self.bc_pretrain_updates > 0,
                 "learner.reference_weight > 0 pulls the actor towards the warm-started one: set "
                 "learner.bc_pretrain_updates > 0 (the warm start), or reference_weight=0")
        _require(0.0 < self.gripper_deadband < 2.0, "learner.gripper_deadband must be in (0, 2)")
        _require(self.weights_every_s > 0 and self.checkpoint_every_s > 0 and self.poll_s > 0,
                 "learner.weights_every_s, checkpoint_every_s and poll_s must be > 0 seconds")
        _require(self.keep_checkpoints >= 1 and self.log_every_updates >= 1,
                 "learner.keep_checkpoints and learner.log_every_updates must be >= 1")
        _require(len(self.replays) > 0, "learner.replays is empty: list at least one store path or URL")
        _require(all(w >= 0 for w in self.source_weights.values()),
                 "learner.source_weights must be >= 0 (0 = never sample that source)")


REWARD_KINDS = ("sim_success", "classifier", "progress", "external")


@dataclass
class RewardConfig:
    """reward: what the reward node scores with, and how ``robot-rl reward train-*`` trains (robot_rl.reward)."""

    kind: str = "sim_success"  # sim_success (simulator ground truth) | classifier | progress | external
    success_threshold: float = 0.5  # used only when a model file carries no calibrated threshold
    # --- serving (reward node) ---
    model_path: str = ""  # kind=classifier|progress: the model's .safetensors file (its .json sidecar beside it)
    goal: str = "${replay.goal}"  # kind=progress|external: the language goal the critic is conditioned on
    success_consecutive: int = 2  # ticks in a row above the threshold before `success` is published True
    device: str = "cpu"  # cpu | cuda | cuda:N | auto; the reward node shares the robot's machine
    cpu_threads: int = 1  # torch intra-op threads on the CPU (keep below the idle cores)
    external_path: str = ""  # kind=external: local directory of a large critic (e.g. a VLAC checkpoint)
    external_backend: str = "vlac"  # kind=external: adapter in robot_rl.reward.external (vlac)
    # --- training (robot-rl reward train-classifier | train-progress) ---
    cameras: list[str] = field(default_factory=list)  # cameras the model sees ([] = every camera of the store)
    image_size: int = 64  # square model input; stored images are resized to this
    image_features: int = 64  # per-camera feature size of the image encoder
    hidden_dims: list[int] = field(default_factory=lambda: [128, 128])  # the heads' MLP layers
    success_reward: float = 0.5  # a recorded reward >= this marks a success step (the sparse 0/1 success reward)
    positive_tail: int = 0  # also label the last N steps of each successful episode positive (0 = marked steps only)
    min_precision: float = 0.95  # threshold calibration: highest recall with at least this held-out precision
    holdout_fraction: float = 0.25  # share of episodes held out for calibration and metrics
    epochs: int = 30  # classifier: epochs of balanced batches (an epoch draws as many frames as there are)
    progress_steps: int = 1500  # progress critic: gradient steps
    batch_size: int = 64
    lr: float = 3e-4  # Adam learning rate
    augmentation_pad: int = 4  # random shift (pixels at image_size) during training; 0 = none
    # classifier: share of each batch's negatives drawn from the hard ones (the near_success_steps before each
    # success, and the negatives it currently scores highest); 0 = uniform negatives
    hard_negative_fraction: float = 0.5
    near_success_steps: int = 5
    # classifier: weight of an auxiliary, training-only regression of each frame's progress (time to the first
    # success step of a successful episode, 0..1); it orders the features around the success boundary. 1.0 in
    # benchmarks/bench_reward.py (48 episodes); off by default: on 8 episodes at 32 px it left recall at 0.27
    progress_aux_weight: float = 0.0
    # classifier: the head also reads the policy state vector (ee position, 6-D rotation, gripper), not only the
    # images: it resolves the ~1 cm of lift at the success boundary that 64 px cannot. On in bench_reward; off by
    # default (robot_rl.reward.classifier says why); the model file records it and serving then needs the state
    classifier_state: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        _require(0.0 <= self.hard_negative_fraction <= 1.0 and self.near_success_steps >= 0,
                 f"reward.hard_negative_fraction={self.hard_negative_fraction}: use [0, 1]; "
                 f"reward.near_success_steps={self.near_success_steps}: use >= 0")
        _require(self.progress_aux_weight >= 0.0, f"reward.progress_aux_weight={self.progress_aux_weight}: use >= 0")
        _require(self.kind in REWARD_KINDS, f"reward.kind={self.kind!r}: use one of {', '.join(REWARD_KINDS)}")
        _require(0.0 < self.success_threshold < 1.0, "reward.success_threshold must be in (0, 1)")
        _require(self.success_consecutive >= 1 and self.cpu_threads >= 1,
                 "reward.success_consecutive and reward.cpu_threads must be >= 1")
        _require(16 <= self.image_size <= 512, f"reward.image_size={self.image_size}: use 16..512 pixels")
        _require(self.image_features > 0 and len(self.hidden_dims) > 0 and all(h > 0 for h in self.hidden_dims),
                 "reward.image_features must be > 0 and reward.hidden_dims at least one positive layer size")
        _require(0.0 < self.min_precision <= 1.0, f"reward.min_precision={self.min_precision}: use (0, 1]")
        _require(0.0 < self.holdout_fraction < 1.0, f"reward.holdout_fraction={self.holdout_fraction}: use (0, 1)")
        _require(self.epochs >= 1 and self.progress_steps >= 1 and self.batch_size >= 2 and self.lr > 0,
                 "reward.epochs and reward.progress_steps must be >= 1, reward.batch_size >= 2, reward.lr > 0")
        _require(self.positive_tail >= 0 and self.augmentation_pad >= 0,
                 "reward.positive_tail and reward.augmentation_pad must be >= 0")
        _require(self.kind not in ("classifier", "progress") or self.model_path.endswith(".safetensors")
                 or not self.model_path,
                 f"reward.model_path={self.model_path!r}: give the model's .safetensors file "
                 "(written by robot-rl reward train-classifier | train-progress)")


@dataclass
class ReplayConfig:
    path: str = "${run_dir}/replay.zarr"  # store location: a local path or an fsspec URL
    group: str = "${robot.name}"  # one group per writer (robot or session)
    task: str = "pick_cube"  # task name recorded in the store
    goal: str = "pick up the cube"  # language goal recorded in the store


SESSION_MODES = ("demo", "replay", "return_explore", "guided")


@dataclass
class TeleopConfig:
    device: str = "keyboard"  # keyboard | spacemouse | gamepad | scripted
    takeover: str = "hold"  # hold (hold a button to intervene) | toggle
    deadband: float = 0.05  # inputs below this fraction of full scale read as zero
    linear_scale: float = 1.0  # maps device input to the policy's action scale
    angular_scale: float = 1.0
    zero_timeout_s: float = 2.0  # all-zero input for this long while active = device unhealthy
    # device axis feeding each twist axis [x, y, z, wx, wy, wz] (base frame); [] = the device's default
    axis_map: list[int] = field(default_factory=list)
    axis_sign: list[float] = field(default_factory=list)  # sign per twist axis after axis_map; [] = default
    # device button (SpaceMouse bit "0", gamepad "lb", keyboard key "t") -> operator action; {} = default.
    # Override one entry as `+teleop.button_map.1=estop` (hydra parses `{1: estop}` keys as int).
    button_map: dict[str, str] = field(default_factory=dict)
    handback_rate: float = 4.0  # action units/s: executed command ramps human -> policy at most this fast
    keyboard_tty: str = ""  # terminal the keyboard reads ("" = the node's own terminal, /dev/tty)
    key_hold_s: float = 0.7  # a pressed key counts as held this long (> the terminal's auto-repeat delay)
    key_repeat_hold_s: float = 0.15  # ...and this long after each auto-repeat (stop latency after release)
    spacemouse_path: str = ""  # hidraw path of the SpaceMouse ("" = the first 3Dconnexion device found)
    spacemouse_full_scale: float = 350.0  # HID counts at full deflection
    gamepad_backend: str = "sdl"  # sdl (pygame, any OS) | evdev (Linux /dev/input)
    gamepad_index: int = 0  # SDL joystick index
    gamepad_path: str = ""  # evdev device path ("" = the first gamepad found)
    # scripted operator (device=scripted). scripted_mode=correct: a HIL-SERL-style operator
    # (robot_rl.teleop.scripted.CorrectingOperator) that demonstrates the first scripted_demo_episodes
    # episodes whole (source=demo), then takes over when the policy makes no progress towards the next
    # waypoint of a pick for scripted_patience_ticks ticks (or drifts scripted_drift_m from its best),
    # drives a scripted pick from the simulator's cube pose (sim/cube_pose) and hands back.
    scripted_mode: str = "guard"  # guard (the rule below) | correct (needs sim/cube_pose: simulation only)
    scripted_demo_episodes: int = 2  # scripted_mode=correct: whole demonstrations before the policy acts
    scripted_patience_ticks: int = 15  # ...control ticks without scripted_progress_m of progress = failing
    scripted_progress_m: float = 0.01  # ...least progress (m towards the next waypoint) over the patience window
    scripted_drift_m: float = 0.05  # ...falling this far behind the best progress of the episode = failing
    # scripted_mode=guard: takes over while policy_action[:3] . direction < threshold
    scripted_twist: list[float] = field(default_factory=lambda: [0.05, 0.0, 0.0, 0.0, 0.0, 0.0])  # its command, m/s rad/s
    scripted_direction: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0])  # the good direction
    scripted_target: list[float] = field(default_factory=list)  # or a point to drive the end effector to
    scripted_threshold: float = 0.0  # least progress along the direction the policy must make
    scripted_disconnect_after_s: float = 0.0  # simulate an unplug this long after its first takeover (0 = never)
    # The session's place in VLAC's graded protocol (robot_rl.teleop.protocol): demo (the operator drives
    # every episode, recorded as source=demo), replay (a recorded episode's executed actions are replayed
    # open loop and recorded as source=replay), return_explore (each episode starts from step
    # return_step of a recorded episode, then the policy explores under guidance) or guided (the policy
    # acts, the operator corrects it: HIL-SERL's online phase).
    mode: str = "guided"
    source_path: str = ""  # mode=replay|return_explore: the replay store holding the recorded episode
    source_group: str = ""  # ...its group ("" = the store's only group)
    source_episode: int = -1  # ...the episode's index in that group (-1 = the last committed one)
    return_step: int = 0  # mode=return_explore: start from the state before this step of the episode

    def __post_init__(self) -> None:
        _require(self.device in ("keyboard", "spacemouse", "gamepad", "scripted"),
                 f"teleop.device={self.device!r}: use keyboard, spacemouse, gamepad or scripted")
        _require(self.takeover in ("hold", "toggle"), f"teleop.takeover={self.takeover!r}: use hold or toggle")
        _require(0.0 <= self.deadband < 1.0, f"teleop.deadband={self.deadband}: use 0 <= deadband < 1")
        _require(self.zero_timeout_s > 0, "teleop.zero_timeout_s must be > 0 seconds")
        _require(len(self.axis_map) in (0, 6) and len(self.axis_sign) in (0, 6),
                 "teleop.axis_map and teleop.axis_sign take 6 entries each ([x, y, z, wx, wy, wz]) or none")
        _require(self.handback_rate > 0, "teleop.handback_rate must be > 0 (action units per second)")
        _require(0 < self.key_repeat_hold_s <= self.key_hold_s,
                 "teleop.key_repeat_hold_s must be > 0 and <= teleop.key_hold_s")
        _require(self.gamepad_backend in ("sdl", "evdev"),
                 f"teleop.gamepad_backend={self.gamepad_backend!r}: use sdl or evdev")
        _require(self.scripted_mode in ("guard", "correct"),
                 f"teleop.scripted_mode={self.scripted_mode!r}: use guard or correct")
        _require(self.scripted_demo_episodes >= 0 and self.scripted_patience_ticks >= 1
                 and self.scripted_progress_m >= 0 and self.scripted_drift_m > 0,
                 "teleop.scripted_demo_episodes >= 0, scripted_patience_ticks >= 1, scripted_progress_m >= 0 "
                 "and scripted_drift_m > 0 are required")
        _require(len(self.scripted_twist) == 6 and len(self.scripted_direction) == 3
                 and len(self.scripted_target) in (0, 3),
                 "teleop.scripted_twist needs 6 values, scripted_direction 3, scripted_target 3 or none")
        _require(self.mode in SESSION_MODES,
                 f"teleop.mode={self.mode!r}: use one of {', '.join(SESSION_MODES)}")
        _require(self.mode not in ("replay", "return_explore") or bool(self.source_path),
                 f"teleop.mode={self.mode} replays a recorded episode: set teleop.source_path=<replay store> "
                 "(and teleop.source_episode=<index>, default the last one)")
        _require(self.return_step >= 0, f"teleop.return_step={self.return_step}: use a step index >= 0")


@dataclass
class EpisodeConfig:
    time_limit_s: float = 20.0  # a running episode ends as timeout (truncated) after this long; 0 = none
    auto_reset: bool = False  # reset the robot as soon as an episode ends (unattended simulation)
    auto_start: bool = False  # start the next episode as soon as a reset succeeds
    reset_on_start: bool = False  # reset once when the episode node starts (with auto_start: unattended from the first episode)
    reset_timeout_s: float = 30.0  # robot/reset must answer within this long, else the reset failed
    success_topics: list[str] = field(default_factory=lambda: ["success"])  # std_msgs/Bool; True ends as success

    def __post_init__(self) -> None:
        _require(self.time_limit_s >= 0, "episode.time_limit_s must be >= 0 (0 = no limit)")
        _require(self.reset_timeout_s > 0, "episode.reset_timeout_s must be > 0 seconds")


@dataclass
class SafetyConfig:
    workspace_min: list[float] = field(default_factory=lambda: [0.2, -0.35, 0.0])  # m, base frame
    workspace_max: list[float] = field(default_factory=lambda: [0.75, 0.35, 0.5])  # m, base frame
    # workspace YAML under calibration/ (robot-rl calibrate workspace); when set, its box replaces
    # workspace_min/max (read with robot_rl.calibration.load_workspace); "" = use the two fields above
    workspace_file: str = ""
    max_linear_speed: float = 0.15  # m/s, per axis
    max_angular_speed: float = 0.6  # rad/s, per axis
    command_timeout_s: float = 0.25  # hold the arm when the newest command is older than this
    max_linear_accel: float = 1.0  # m/s^2 per axis: per-tick change of the commanded linear velocity
    max_angular_accel: float = 4.0  # rad/s^2 per axis: per-tick change of the commanded angular velocity
    nominal_approach_axis: list[float] = field(default_factory=lambda: [0.0, 0.0, -1.0])  # tool z axis at rest (base)
    max_tilt_rad: float = 0.6  # tool z axis may tilt this far from nominal_approach_axis (>= 3.1416: no limit)
    gripper_max_rate: float = 4.0  # gripper command units per s (-1 -> +1 takes 0.5 s)
    pose_timeout_s: float = 0.25  # hold the arm when robot/ee_pose is older than this (box unenforceable)

    def __post_init__(self) -> None:
        _require(len(self.workspace_min) == 3 and len(self.workspace_max) == 3,
                 "safety.workspace_min/max need three values [x, y, z]")
        _require(all(lo < hi for lo, hi in zip(self.workspace_min, self.workspace_max)),
                 f"safety workspace {self.workspace_min}..{self.workspace_max}: each min must be below its max")
        _require(min(self.max_linear_speed, self.max_angular_speed, self.max_linear_accel, self.max_angular_accel,
                     self.max_tilt_rad, self.gripper_max_rate, self.command_timeout_s, self.pose_timeout_s) > 0,
                 "safety speeds, accelerations, max_tilt_rad, gripper_max_rate and timeouts must all be > 0")
        _require(len(self.nominal_approach_axis) == 3 and any(self.nominal_approach_axis),
                 "safety.nominal_approach_axis needs a non-zero [x, y, z] direction")


@dataclass
class SimConfig:
    env_id: str = "gym_hil/PandaPickCubeBase-v0"  # gym-hil task the simulated arm wraps
    seed: int = 0  # seeds cube placement; same seed, same episode starts
    realtime: bool = True  # step at the control rate in wall time; false = as fast as possible (sim time)
    image_size: int = 128  # rendered camera resolution (square)
    # cameras.names entry -> MuJoCo camera in the gym-hil scene
    cameras: dict[str, str] = field(default_factory=lambda: {"wrist": "handcam_rgb", "front": "front"})
    cube_xy_min: list[float] = field(default_factory=lambda: [0.3, -0.15])  # m, cube placement box (base frame)
    cube_xy_max: list[float] = field(default_factory=lambda: [0.5, 0.15])
    success_lift_m: float = 0.1  # success: cube this far above its start, held within success_grasp_m
    success_grasp_m: float = 0.05  # ...of the gripper's pinch point (a knocked-away cube is no success)
    # MuJoCo step (gym-hil ships 0.002); 1/robot.control_hz must be a whole number of them. 0.005 keeps the
    # scripted pick within 1 mm of 0.002's path for half the cost or less (benchmarks/bench_sim.py)
    physics_dt: float = 0.005
    # Headless render settings, the same for the node, the tests and the benchmark (what the policy sees).
    render_shadows: bool = False  # the scene's two shadow-casting lights cost ~4x on a software renderer
    render_msaa_samples: int = 0  # offscreen multisampling (gym-hil ships 8)
    render_mesh_cell_m: float = 0.005  # visual meshes drawn with vertices merged per cell of this size; 0 = as shipped
    render_floor_grid_m: float = 0.1  # the floor's lighting grid (gym-hil ships 0.01 m: 40k quads); 0 = as shipped

    def __post_init__(self) -> None:
        _require(16 <= self.image_size <= 2048, f"sim.image_size={self.image_size}: use 16..2048 pixels")
        _require(len(self.cube_xy_min) == 2 and len(self.cube_xy_max) == 2,
                 "sim.cube_xy_min/max need two values [x, y]")
        _require(all(lo <= hi for lo, hi in zip(self.cube_xy_min, self.cube_xy_max)),
                 f"sim cube box {self.cube_xy_min}..{self.cube_xy_max}: each min must not exceed its max")
        _require(self.success_lift_m > 0 and self.success_grasp_m > 0,
                 "sim.success_lift_m and sim.success_grasp_m must be > 0")
        _require(self.render_msaa_samples >= 0, "sim.render_msaa_samples must be >= 0")
        _require(0.0 < self.physics_dt <= 0.01, f"sim.physics_dt={self.physics_dt}: use (0, 0.01] s")
        _require(self.render_mesh_cell_m >= 0 and self.render_floor_grid_m >= 0,
                 "sim.render_mesh_cell_m and sim.render_floor_grid_m must be >= 0 (0 = as shipped)")


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
    episode: EpisodeConfig = field(default_factory=EpisodeConfig)
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
    "episode": EpisodeConfig,
    "safety": SafetyConfig,
    "sim": SimConfig,
}
