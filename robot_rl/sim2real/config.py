"""What ``robot-rl sim2real`` compares and where its gate lies."""
from __future__ import annotations

from dataclasses import dataclass

from robot_rl.config.schema import ConfigError


@dataclass
class Sim2RealConfig:
    # gate: the run fails (exit 1) when any episode exceeds one of these
    max_ee_rmse_m: float = 0.02  # RMS distance between recorded and replayed end-effector positions
    max_action_error: float = 0.1  # mean |checkpoint action - recorded policy action| (action units), with a checkpoint
    max_image_mad: float = 8.0  # mean absolute pixel difference (0..255) between recorded and simulated frames
    # what to compare
    episodes: int = 0  # the last N committed episodes (0 = all)
    image_every: int = 5  # compare every N-th frame (rendering is the slow part); 0 = no image statistics
    require_outcome: bool = True  # also fail when the replay's success differs from the recorded outcome

    def __post_init__(self) -> None:
        if min(self.max_ee_rmse_m, self.max_action_error, self.max_image_mad) <= 0:
            raise ConfigError("sim2real thresholds (--max-ee-rmse-m, --max-action-error, --max-image-mad) must be > 0")
        if self.episodes < 0 or self.image_every < 0:
            raise ConfigError("sim2real --episodes and --image-every must be >= 0 (0 = all / no images)")
