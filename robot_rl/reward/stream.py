"""What the reward node does each control tick, without ROS: score the newest observation, publish
a reward and a debounced success.

* ``sim_success``: forward the simulator's ground truth (reward 1.0 while the cube is lifted);
* ``classifier``: reward 1.0 while the success probability is at or above the calibrated threshold (a
  model trained with ``reward.classifier_state`` also reads the observation's state vector);
* ``progress``: dense reward ``v_t - v_(t-1)`` with ``v_t = delta(o_anchor, o_t)``, the progress since the
  episode's first scored observation (its features are cached, so a tick costs one encoder pass);
  success from the done head;
* ``external``: a large critic's pairwise progress from the previous tick, success from its done output.

``success`` turns True only after ``reward.success_consecutive`` positive ticks in a row, so one
misread frame does not end an episode. ``reset`` starts a new episode (the node calls it when
``episode/status`` says running).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from robot_rl.config.schema import RewardConfig
from robot_rl.perception.image import crop_resize
from robot_rl.reward.interface import Observation, RewardError, RewardModel


@dataclass(frozen=True)
class RewardOutput:
    reward: float
    success: bool
    score: float  # success/done probability (or the ground truth as 0/1)
    value: float = float("nan")  # progress since the episode's start (progress critic only)


def make_reward_model(cfg: RewardConfig, camera: str = "front") -> RewardModel | None:
    """The model ``cfg`` selects (None for sim_success); raises RewardError with the fix."""
    if cfg.kind == "sim_success":
        return None
    if cfg.kind == "external":
        from robot_rl.reward.external import ExternalCritic

        return ExternalCritic(cfg.external_path, cfg.goal, cfg.external_backend, cfg.device, camera,
                              cfg.success_threshold)
    if not cfg.model_path:
        raise RewardError(f"reward.kind={cfg.kind} needs reward.model_path=<.safetensors file> "
                          f"(train one with robot-rl reward train-{'classifier' if cfg.kind == 'classifier' else 'progress'})")
    if not Path(cfg.model_path).expanduser().is_file():
        raise RewardError(f"reward.model_path={cfg.model_path}: no such file")
    torch.set_num_threads(cfg.cpu_threads)
    if cfg.kind == "classifier":
        from robot_rl.reward.classifier import SuccessClassifier

        return SuccessClassifier.load(cfg.model_path, cfg.device)
    from robot_rl.reward.progress import ProgressCritic

    return ProgressCritic.load(cfg.model_path, cfg.device)


class RewardStream:
    """Per-tick scoring with a success debounce and, for the critic, a per-episode anchor."""

    def __init__(self, cfg: RewardConfig, model: RewardModel | None) -> None:
        self.cfg = cfg
        self.model = model
        self.goal = cfg.goal
        if model is not None and cfg.kind in ("progress", "external"):
            from robot_rl.reward.goals import embed_goal

            embed_goal(self.goal)  # fail now (empty goal) and embed once, not on the first tick
        self.image_size = int(getattr(model, "image_size", 0))
        self.cameras = list(getattr(model, "cameras", []))
        self.threshold = float(getattr(model, "threshold", cfg.success_threshold))
        self.reset()

    def reset(self) -> None:
        self._anchor: torch.Tensor | None = None
        self._previous: Observation | None = None
        self._value = 0.0
        self._streak = 0

    def _fit(self, obs: Observation) -> Observation:
        """Resize to the model's input (the graph's policy_image_size may differ from the model's)."""
        if not self.image_size:
            return obs
        missing = [c for c in self.cameras if c not in obs.images]
        if missing:
            raise RewardError(f"the reward model needs cameras {self.cameras}; the observation lacks {missing}: "
                              "add them to cameras.names")
        return Observation({c: crop_resize(np.asarray(obs.images[c]), self.image_size) for c in self.cameras},
                           obs.state)

    def _debounce(self, positive: bool) -> bool:
        self._streak = self._streak + 1 if positive else 0
        return self._streak >= self.cfg.success_consecutive

    def tick_ground_truth(self, success: bool) -> RewardOutput:
        return RewardOutput(float(success), self._debounce(success), float(success))

    def tick(self, obs: Observation) -> RewardOutput:
        assert self.model is not None, "sim_success streams use tick_ground_truth"
        obs = self._fit(obs)
        kind = self.cfg.kind
        if kind == "classifier":
            score = self.model.score(obs)
            return RewardOutput(float(score >= self.threshold), self._debounce(score >= self.threshold), score)
        if kind == "progress":
            from robot_rl.reward.progress import ProgressCritic

            critic = self.model
            assert isinstance(critic, ProgressCritic)
            feat = critic.features({c: np.asarray(obs.images[c])[None] for c in critic.cameras})
            if self._anchor is None:
                self._anchor = feat
            value = float(critic.delta_from_features(self._anchor, feat, self.goal)[0])
            score = float(critic.done_probabilities_from_features(feat, self.goal)[0])
            reward, self._value = value - self._value, value
            return RewardOutput(reward, self._debounce(score >= self.threshold), score, value)
        previous, self._previous = self._previous, obs
        delta = self.model.progress(previous, obs, self.goal) if previous is not None else 0.0
        self._value += delta
        score = self.model.score(obs)
        return RewardOutput(delta, self._debounce(score >= self.threshold), score, self._value)
