"""The learner's critics: an ensemble of continuous Q heads for the arm and a discrete gripper critic.

Both take the observation features of the actor's ``ObservationEncoder`` (the learner shares one
encoder between actor and critics, trained through the critic loss as in DrQ and SERL), so a head
here is a LayerNorm MLP over ``features`` (and the arm action):

- ``CriticEnsemble``: ``E`` Q heads ``Q_i(s, a_arm)``, evaluated in one batched pass (the members'
  weights are stacked, ``E x in x out``, and multiplied with ``torch.baddbmm``), so an ensemble of 10
  (REDQ, Chen et al. 2021) costs about one matrix multiply per layer, not ten.
- ``GripperCritic``: ``Q(s, g)`` for the three gripper choices ``close / stay / open`` with two heads
  (double Q-learning, as in HIL-SERL's grasp critic).

LayerNorm after every hidden layer follows RLPD (Ball et al. 2023), which found it keeps Q values of
out-of-distribution actions bounded when training on demonstrations at high update-to-data ratios.
The policy server never loads these: they belong to the learner.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

GRIPPER_CHOICES = 3  # 0 = close, 1 = stay, 2 = open (robot_rl.learn.gripper maps commands onto these)


class EnsembleLinear(nn.Module):
    """``E`` independent linear layers applied to ``E x B x in`` in one batched matrix multiply."""

    def __init__(self, ensemble_size: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(ensemble_size, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(ensemble_size, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default initialisation, member by member
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleLayerNorm(nn.Module):
    """LayerNorm over the last dimension with a separate affine per ensemble member."""

    def __init__(self, ensemble_size: int, features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ensemble_size, 1, features))
        self.bias = nn.Parameter(torch.zeros(ensemble_size, 1, features))
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (self.features,)) * self.weight + self.bias


def ensemble_mlp(ensemble_size: int, sizes: Sequence[int]) -> nn.Sequential:
    """Hidden layers ``Linear -> LayerNorm -> ReLU`` then a linear output, each ``E`` times over."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [EnsembleLinear(ensemble_size, a, b), EnsembleLayerNorm(ensemble_size, b), nn.ReLU()]
    layers.append(EnsembleLinear(ensemble_size, sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class CriticEnsemble(nn.Module):
    """``Q_1..Q_E(s, a_arm)``: features ``B x F`` and arm actions ``B x A`` -> ``E x B`` Q values."""

    def __init__(self, feature_dim: int, action_dim: int, hidden_dims: Sequence[int], ensemble_size: int) -> None:
        super().__init__()
        if ensemble_size < 1 or not hidden_dims:
            raise ValueError("a critic ensemble needs at least one member and one hidden layer")
        self.ensemble_size = ensemble_size
        self.net = ensemble_mlp(ensemble_size, [feature_dim + action_dim, *hidden_dims, 1])

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([features, action], dim=-1)
        x = x.unsqueeze(0).expand(self.ensemble_size, *x.shape)
        return self.net(x).squeeze(-1)  # type: ignore[no-any-return]


class GripperCritic(nn.Module):
    """Double Q for the discrete gripper: features ``B x F`` -> ``2 x B x 3`` (close, stay, open)."""

    def __init__(self, feature_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        self.net = ensemble_mlp(2, [feature_dim, *hidden_dims, GRIPPER_CHOICES])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features.unsqueeze(0).expand(2, *features.shape))  # type: ignore[no-any-return]
