"""The SAC actor over camera images and proprioceptive state: a tanh-squashed Gaussian.

The action is 7 numbers in [-1, 1]: a Cartesian twist ``[vx, vy, vz, wx, wy, wz]`` in the base frame,
as a fraction of ``policy.max_linear_speed`` / ``policy.max_angular_speed``, then the gripper command
(-1 open, +1 closed). The learner trains this class and the policy server runs it; it holds no
critic, temperature or optimizer (those belong to the learner).

The squashing follows SAC (Haarnoja et al. 2018, appendix C): ``a = tanh(u)``, ``u ~ N(mu, sigma)``,
``log pi(a) = log N(u) - sum log(1 - tanh(u)^2)``; the log-std is bounded with a scaled tanh as in
CleanRL's ``sac_continuous_action.py``.

With ``policy.model.use_images=false`` (or no camera names) the actor is state-only: the encoder is
the state MLP alone and ``images`` may be empty. ``head`` is the squashed Gaussian on already-encoded
features, so the learner can encode a batch once and share the features between its losses.
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
    """Images (one per camera, possibly none) and state -> one feature vector; shared with the critics."""

    def __init__(self, config: ModelConfig, cameras: Sequence[str], image_size: int) -> None:
        super().__init__()
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

    def image_encoder(self, camera: str) -> ImageEncoder:
        return self.shared if self.shared is not None else self.per_camera[camera]  # type: ignore[return-value]

    @property
    def frozen_backbones(self) -> bool:
        """Every camera's backbone is frozen: its features depend on the pixels only, never on training."""
        return bool(self.cameras) and all(self.image_encoder(c).frozen for c in self.cameras)

    def backbone_features(self, images: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each camera's backbone feature map (one batched pass over every camera with a shared encoder)."""
        missing = [c for c in self.cameras if c not in images]
        if missing:
            raise KeyError(f"observation lacks cameras {missing}; the model expects {self.cameras}")
        if self.shared is not None and self.cameras:
            stacked = torch.cat([images[c] for c in self.cameras], dim=0)
            return dict(zip(self.cameras, self.shared.backbone_features(stacked).chunk(len(self.cameras), dim=0)))
        return {c: self.per_camera[c].backbone_features(images[c]) for c in self.cameras}  # type: ignore[operator]

    def project(self, backbone_features: Mapping[str, torch.Tensor], state: torch.Tensor) -> torch.Tensor:
        """Backbone feature maps and state -> the feature vector (the trained heads only)."""
        if state.dim() != 2 or state.shape[1] != self.state_dim:
            raise ValueError(f"state must be B x {self.state_dim}, got {tuple(state.shape)}")
        features = [self.image_encoder(c).project(backbone_features[c]) for c in self.cameras]
        return torch.cat([*features, self.state_mlp(state.float())], dim=-1)

    def forward(self, images: Mapping[str, torch.Tensor], state: torch.Tensor) -> torch.Tensor:
        return self.project(self.backbone_features(images), state)


class Actor(nn.Module):
    """pi(a | images, state): ``forward`` samples (or takes the mean); ``act`` is the no-grad robot call.

    ``cameras`` are the camera names the policy sees; with ``config.use_images`` false they are
    ignored and the actor is state-only (``self.cameras == []``).
    """

    free_dims: torch.Tensor  # 1 per action dimension the policy sets, 0 where policy.model.fixed_action_dims

    def __init__(self, config: ModelConfig, cameras: Sequence[str], image_size: int) -> None:
        super().__init__()
        self.config = config
        self.cameras = list(cameras) if config.use_images else []
        if config.use_images and not self.cameras:
            raise ValueError("policy.model.use_images=true but no camera names were given: list cameras.names, "
                             "or set policy.model.use_images=false for a state-only policy")
        self.image_size = image_size
        self.encoder = ObservationEncoder(config, self.cameras, image_size)
        self.trunk = mlp([self.encoder.output_dim, *config.hidden_dims])
        self.mean = nn.Linear(config.hidden_dims[-1], ACTION_DIM)
        self.log_std = nn.Linear(config.hidden_dims[-1], ACTION_DIM)
        free = torch.ones(ACTION_DIM)
        free[list(config.fixed_action_dims)] = 0.0
        self.register_buffer("free_dims", free, persistent=False)

    @property
    def uses_images(self) -> bool:
        return bool(self.cameras)

    def forward(self, images: Mapping[str, torch.Tensor], state: torch.Tensor, deterministic: bool = False,
                detach_encoder: bool = False, generator: torch.Generator | None = None) -> ActorOutput:
        features = self.encoder(images, state)
        if detach_encoder:  # the learner trains the encoder through the critic only (DrQ, SERL)
            features = features.detach()
        return self.head(features, deterministic, generator)

    def head(self, features: torch.Tensor, deterministic: bool = False,
             generator: torch.Generator | None = None) -> ActorOutput:
        """The squashed Gaussian on encoded observations (``self.encoder``'s output, ``B x output_dim``)."""
        hidden = self.trunk(features)
        mu = self.mean(hidden)
        lo, hi = self.config.log_std_min, self.config.log_std_max
        log_std = lo + 0.5 * (hi - lo) * (torch.tanh(self.log_std(hidden)) + 1.0)
        std = log_std.exp()
        free = self.free_dims
        mu = mu * free
        if deterministic:
            u = mu
        else:
            noise = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype, generator=generator)
            u = mu + std * noise * free
        action = torch.tanh(u)
        gaussian = -0.5 * ((u - mu) / std) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
        # log(1 - tanh(u)^2), written stably: 2 * (log 2 - u - softplus(-2u))
        squash = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
        log_prob = ((gaussian - squash) * free).sum(dim=-1)
        return ActorOutput(action=action, log_prob=log_prob, mean_action=torch.tanh(mu))

    @torch.inference_mode()
    def act(self, images: Mapping[str, torch.Tensor], state: torch.Tensor, deterministic: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
        """B x 7 actions in [-1, 1], no autograd (the policy server's call)."""
        return self.forward(images, state, deterministic=deterministic, generator=generator).action

    def architecture(self) -> dict[str, object]:
        """What a weights file must match to be loaded into this actor (see ``robot_rl.models.weights``)."""
        return {"model": self.config.architecture(), "cameras": list(self.cameras), "image_size": self.image_size}
