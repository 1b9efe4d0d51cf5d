"""The reward networks: camera encoders (``robot_rl.models.encoders.ImageEncoder``) and small heads.

``SuccessNet``: images (and, when its architecture says so, the robot state vector) -> one success logit.
``ProgressNet``: a frame pair and a goal embedding -> a progress delta in [-1, 1] that is
antisymmetric by construction (``delta(a, b) = -delta(b, a)``, so ``delta(a, a) = 0``: a stalled pair
reads as no progress without having to learn it), and a done logit for the second frame.

``architecture`` is everything that decides tensor shapes and meaning; a model file records it and
loading rebuilds the network from it, so the reader never guesses.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from robot_rl.models.config import ModelConfig
from robot_rl.models.encoders import ImageEncoder

GOAL_DIM = 384  # all-MiniLM-L6-v2 sentence embeddings


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.LayerNorm(h), nn.ReLU(inplace=True)]
        in_dim = h
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


def default_architecture(kind: str, cameras: Sequence[str], image_size: int, image_features: int,
                         hidden_dims: Sequence[int], state_dim: int = 0) -> dict[str, Any]:
    """``state_dim`` > 0 (classifier only): the head also reads the state vector; 0 = images only."""
    # four stride-2 3x3 layers: 64 px -> 4 x 4 x 32 before the projection (the DrQ-style conv of the actor)
    arch: dict[str, Any] = {"kind": kind, "cameras": list(cameras), "image_size": int(image_size),
                            "conv_channels": [16, 32, 32, 32], "conv_strides": [2, 2, 2, 2],
                            "image_features": int(image_features), "hidden_dims": [int(h) for h in hidden_dims]}
    if kind == "progress":
        arch["goal_dim"] = GOAL_DIM
        arch["goal_features"] = 64
    if kind == "classifier" and state_dim > 0:
        arch["state_dim"] = int(state_dim)
        arch["state_features"] = 32
    return arch


class CameraEncoders(nn.Module):
    """One ImageEncoder per camera; ``forward`` concatenates their features in ``cameras`` order."""

    def __init__(self, arch: Mapping[str, Any]) -> None:
        super().__init__()
        self.cameras = list(arch["cameras"])
        config = ModelConfig(encoder="conv", conv_channels=list(arch["conv_channels"]),
                             conv_strides=list(arch["conv_strides"]), image_features=int(arch["image_features"]))
        self.encoders = nn.ModuleDict({c: ImageEncoder(config, int(arch["image_size"])) for c in self.cameras})
        self.out_dim = len(self.cameras) * int(arch["image_features"])

    def forward(self, images: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([self.encoders[c](images[c]) for c in self.cameras], dim=-1)


class StateEncoder(nn.Module):
    """The state vector standardised with its training statistics, then one layer.

    The statistics are buffers, so they travel in the model file with the weights; without them the
    centimetres of lift height that decide success would be lost beside unit-scale rotation entries.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, state_dim: int, features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(state_dim))
        self.register_buffer("std", torch.ones(state_dim))
        self.net = nn.Sequential(nn.Linear(state_dim, features), nn.LayerNorm(features), nn.Tanh())

    def fit(self, states: torch.Tensor) -> None:
        """Set the standardisation from training states (``N x state_dim``); a constant entry keeps a 1 cm scale."""
        self.mean.copy_(states.mean(0))
        self.std.copy_(states.std(0).clamp_min(1e-2))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net((state - self.mean) / self.std)  # type: ignore[no-any-return]


class SuccessNet(nn.Module):
    def __init__(self, arch: Mapping[str, Any]) -> None:
        super().__init__()
        self.arch = dict(arch)
        self.encoders = CameraEncoders(arch)
        self.state_dim = int(arch.get("state_dim", 0))  # files written before the state input have none
        self.state = StateEncoder(self.state_dim, int(arch["state_features"])) if self.state_dim else None
        self.feature_dim = self.encoders.out_dim + (int(arch["state_features"]) if self.state_dim else 0)
        self.head = mlp(self.feature_dim, arch["hidden_dims"], 1)

    def features(self, images: Mapping[str, torch.Tensor], state: torch.Tensor | None = None) -> torch.Tensor:
        feat = self.encoders(images)
        if self.state is None:
            return feat  # type: ignore[no-any-return]
        assert state is not None, "SuccessClassifier checks that a state-reading model is given one"
        return torch.cat([feat, self.state(state)], dim=-1)

    def forward(self, images: Mapping[str, torch.Tensor], state: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 ``B x H x W x 3`` per camera (and ``B x state_dim`` float state) -> ``B`` success logits."""
        return self.head(self.features(images, state)).squeeze(-1)  # type: ignore[no-any-return]


class ProgressNet(nn.Module):
    def __init__(self, arch: Mapping[str, Any]) -> None:
        super().__init__()
        self.arch = dict(arch)
        self.encoders = CameraEncoders(arch)
        f, g = self.encoders.out_dim, int(arch["goal_features"])
        self.goal = nn.Sequential(nn.Linear(int(arch["goal_dim"]), g), nn.LayerNorm(g), nn.Tanh())
        self.pair = mlp(3 * f + g, arch["hidden_dims"], 1)
        self.done_head = mlp(f + g, arch["hidden_dims"], 1)

    def features(self, images: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.encoders(images)  # type: ignore[no-any-return]

    def delta(self, feat_a: torch.Tensor, feat_b: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Progress from a to b in [-1, 1]; ``goal`` is ``B x goal_dim`` (embeddings)."""
        g = self.goal(goal)
        forward = self.pair(torch.cat([feat_a, feat_b, feat_b - feat_a, g], dim=-1))
        backward = self.pair(torch.cat([feat_b, feat_a, feat_a - feat_b, g], dim=-1))
        return torch.tanh(forward - backward).squeeze(-1)

    def done_logit(self, feat: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return self.done_head(torch.cat([feat, self.goal(goal)], dim=-1)).squeeze(-1)  # type: ignore[no-any-return]


def build(arch: Mapping[str, Any]) -> SuccessNet | ProgressNet:
    if arch.get("kind") == "classifier":
        return SuccessNet(arch)
    if arch.get("kind") == "progress":
        return ProgressNet(arch)
    raise ValueError(f"unknown reward network kind {arch.get('kind')!r}")
