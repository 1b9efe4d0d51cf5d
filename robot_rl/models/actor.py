"""The SAC actor over camera images and proprioceptive state: a tanh-squashed Gaussian.

The action is 7 numbers in [-1, 1]: a Cartesian twist ``[vx, vy, vz, wx, wy, wz]`` in the base frame,
as a fraction of ``policy.max_linear_speed`` / ``policy.max_angular_speed``, then the gripper command
(-1 open, +1 closed). The learner trains this class and the policy server runs it; it holds no
critic, temperature or optimizer (those belong to the learner).

The squashing follows SAC (Haarnoja et al. 2018, appendix C): ``a = tanh(u)``, ``u ~ N(mu, sigma)``,
``log pi(a) = log N(u) - sum log(1 - tanh(u)^2)``; the log-std is bounded with a scaled tanh as in
CleanRL's ``sac_continuous_action.py``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from robot_rl.models.config import ModelConfig
from robot_rl.models.encoders import ImageEncoder

TWIST_DIM = 6  # [vx, vy, vz, wx, wy, wz], scaled to [-1, 1]
GRIPPER_DIM = 1  # -1 open .. +1 closed
ACTION_DIM = TWIST_DIM + GRIPPER_DIM


class ActorOutput(NamedTuple):
    action: torch.Tensor  # B x 7 in [-1, 1]: sampled, or the mean when deterministic
    log_prob: torch.Tensor  # B, log pi(action) including the tanh correction
    mean_action: torch.Tensor  # B x 7, tanh(mu): the deterministic action


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class ObservationEncoder(nn.Module):
    """Images (one per camera) and state -> one feature vector; the learner may share it with critics."""

    def __init__(self, config: ModelConfig, cameras: Sequence[str], image_size: int) -> None:
        super().__init__()
        if not cameras:
            raise ValueError("the observation encoder needs at least one camera name")
        self.cameras = list(cameras)
        if config.shared_encoder:
            self.shared: ImageEncoder | None = ImageEncoder(config, image_size)
            self.per_camera = nn.ModuleDict()
        else:
            self.shared = None
            self.per_camera = nn.ModuleDict({c: ImageEncoder(config, image_size) for c in self.cameras})
        self.state_mlp = nn.Sequential(nn.Linear(config.state_dim, config.state_features),
                                       nn.LayerNorm(config.state_features), nn.Tanh())
        self.state_dim = config.state_dim
        self.output_dim = config.image_features * len(self.cameras) + config.state_features

    def forward(self, images: Mapping[str, torch.Tensor], state: torch.Tensor) -> torch.Tensor:
        missing = [c for c in self.cameras if c not in images]
        if missing:
            raise KeyError(f"observation lacks cameras {missing}; the model expects {self.cameras}")
        if state.dim() != 2 or state.shape[1] != self.state_dim:
            raise ValueError(f"state must be B x {self.state_dim}, got {tuple(state.shape)}")
        if self.shared is not None:  # one batched pass over every camera
            stacked = torch.cat([images[c] for c in self.cameras], dim=0)
            per_camera = self.shared(stacked).chunk(len(self.cameras), dim=0)
            features = list(per_camera)
        else:
            features = [self.per_camera[c](images[c]) for c in self.cameras]
        return torch.cat([*features, self.state_mlp(state.float())], dim=-1)


class Actor(nn.Module):
    """pi(a | images, state): ``forward`` samples (or takes the mean); ``act`` is the no-grad robot call."""

    def __init__(self, config: ModelConfig, cameras: Sequence[str], image_size: int) -> None:
        super().__init__()
        self.config = config
        self.cameras = list(cameras)
        self.image_size = image_size
        self.encoder = ObservationEncoder(config, cameras, image_size)
        self.trunk = mlp([self.encoder.output_dim, *config.hidden_dims])
        self.mean = nn.Linear(config.hidden_dims[-1], ACTION_DIM)
        self.log_std = nn.Linear(config.hidden_dims[-1], ACTION_DIM)

    def forward(self, images: Mapping[str, torch.Tensor], state: torch.Tensor, deterministic: bool = False,
                detach_encoder: bool = False, generator: torch.Generator | None = None) -> ActorOutput:
        features = self.encoder(images, state)
        if detach_encoder:  # the learner trains the encoder through the critic only (DrQ, SERL)
            features = features.detach()
        hidden = self.trunk(features)
        mu = self.mean(hidden)
        lo, hi = self.config.log_std_min, self.config.log_std_max
        log_std = lo + 0.5 * (hi - lo) * (torch.tanh(self.log_std(hidden)) + 1.0)
        std = log_std.exp()
        if deterministic:
            u = mu
        else:
            noise = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype, generator=generator)
            u = mu + std * noise
        action = torch.tanh(u)
        gaussian = -0.5 * ((u - mu) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
        # log(1 - tanh(u)^2), written stably: 2 * (log 2 - u - softplus(-2u))
        squash = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        log_prob = (gaussian - squash).sum(dim=-1)
        return ActorOutput(action=action, log_prob=log_prob, mean_action=torch.tanh(mu))

    @torch.inference_mode()
    def act(self, images: Mapping[str, torch.Tensor], state: torch.Tensor, deterministic: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """B x 7 actions in [-1, 1], no autograd (the policy server's call)."""
        return self.forward(images, state, deterministic=deterministic, generator=generator).action

    def architecture(self) -> dict[str, object]:
        """What a weights file must match to be loaded into this actor (see ``robot_rl.models.weights``)."""
        return {"model": self.config.architecture(), "cameras": list(self.cameras), "image_size": self.image_size}
