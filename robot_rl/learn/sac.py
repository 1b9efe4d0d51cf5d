"""Soft Actor-Critic as HIL-SERL trains it: the networks, one function per loss, and the update step.

Reading guide (names as in the papers and CleanRL's ``sac_continuous_action.py``):

- ``actor``: ``robot_rl.models.actor.Actor`` (what the policy server runs). Its ``ObservationEncoder``
  is shared with the critics and trained through the critic loss only; the actor's loss sees
  detached features (DrQ, SERL).
- ``qf``: an ensemble of ``E`` LayerNorm Q heads over the 6 arm action dimensions; ``qf_target`` its
  Polyak-averaged copy. The TD target takes the minimum over a random subset of ``M`` target heads
  (REDQ, Chen et al. 2021); with ``E = M = 2`` that is clipped double Q.
- ``gripper_qf``: the discrete close/stay/open double-Q critic (``robot_rl.learn.gripper`` explains how
  it and the actor's 7th output relate); ``gripper_qf_target`` its Polyak copy.
- ``log_alpha``: the temperature, tuned towards ``target_entropy`` (Haarnoja et al. 2018b).

One ``update`` = one critic (and gripper critic) gradient step on a batch; with ``update_actor`` the
actor and temperature take a step too, on the same batch's features. Following DrQ-v2, the next
observation is encoded once with the online encoder (no gradient) and fed to the target heads, so an
update encodes each image twice (observation with gradient, next observation without) instead of the
nine times a separate target encoder and per-loss encoding cost; ``SAC.encode`` lists the cheaper
paths a frozen backbone allows (one batched pass, or cached per-frame features: no pass at all).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from robot_rl.config.schema import LearnerConfig, ModelConfig
from robot_rl.learn.augment import random_shift
from robot_rl.learn.batch import Batch
from robot_rl.learn.gripper import STAY, choice_to_command, command_to_choice, gripper_position_command
from robot_rl.models.actor import ACTION_DIM, TWIST_DIM, Actor, ActorOutput, ObservationEncoder
from robot_rl.models.critics import CriticEnsemble, GripperCritic

GradientHook = Callable[[Iterable[torch.Tensor]], None]  # e.g. all-reduce across data-parallel ranks


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging: ``target <- tau * source + (1 - tau) * target``."""
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


# ----------------------------------------------------------------------------------------------- losses


def critic_loss(qf: CriticEnsemble, qf_target: CriticEnsemble, actor: Actor, features: torch.Tensor,
                next_features: torch.Tensor, batch: Batch, alpha: torch.Tensor, subsample: int,
                actor_next_features: torch.Tensor | None = None, backup_entropy: bool = True
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """TD error of every ensemble member against the REDQ target (min over ``subsample`` heads); with
    ``backup_entropy`` the soft target (``- alpha * log pi`` of the next action), else the plain one.

    ``actor_next_features``: the actor's own features of the next observations when it has its own
    encoder (``learner.separate_critic_encoder``); by default the critic's features serve both."""
    with torch.no_grad():
        next_pi = actor.head(next_features if actor_next_features is None else actor_next_features)
        qf_next_target = qf_target(next_features, next_pi.action[:, :TWIST_DIM])  # E x B
        heads = torch.randperm(qf_target.ensemble_size, device=features.device)[:subsample]
        min_qf_next_target = qf_next_target[heads].min(dim=0).values
        if backup_entropy:
            min_qf_next_target = min_qf_next_target - alpha * next_pi.log_prob
        next_q_value = batch.reward + batch.discount * (1.0 - batch.done) * min_qf_next_target
    qf_a_values = qf(features, batch.action[:, :TWIST_DIM])  # E x B
    qf_loss = F.mse_loss(qf_a_values, next_q_value.expand_as(qf_a_values), reduction="none").mean(dim=1).sum()
    return qf_loss, {"losses/qf_loss": qf_loss.detach(), "charts/qf_values": qf_a_values.detach().mean(),
                     "charts/qf_target_values": next_q_value.mean()}


def gripper_critic_loss(gripper_qf: GripperCritic, gripper_qf_target: GripperCritic, features: torch.Tensor,
                        next_features: torch.Tensor, batch: Batch, choice: torch.Tensor
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Double Q-learning on the discrete gripper choice: online heads pick, the min of target heads values."""
    with torch.no_grad():
        next_choice = gripper_qf(next_features).mean(dim=0).argmax(dim=-1)  # B
        next_target = gripper_qf_target(next_features).min(dim=0).values  # B x 3
        next_q = next_target.gather(1, next_choice.unsqueeze(1)).squeeze(1)
        target = batch.reward + batch.discount * (1.0 - batch.done) * next_q
    q_all = gripper_qf(features)  # 2 x B x 3
    q_taken = q_all.gather(2, choice.view(1, -1, 1).expand(2, -1, 1)).squeeze(2)  # 2 x B
    loss = F.mse_loss(q_taken, target.expand_as(q_taken), reduction="none").mean(dim=1).sum()
    return loss, {"losses/gripper_qf_loss": loss.detach(), "charts/gripper_qf_values": q_taken.detach().mean()}


def actor_loss(actor: Actor, qf: CriticEnsemble, features: torch.Tensor, alpha: torch.Tensor,
               critic_features: torch.Tensor | None = None) -> tuple[torch.Tensor, ActorOutput, dict[str, torch.Tensor]]:
    """``E[alpha * log pi(a|s) - mean_i Q_i(s, a)]`` over the arm dimensions. ``features`` are the actor's
    (detached when the encoder is the critic's); ``critic_features`` the critic's, when they differ."""
    pi = actor.head(features)
    qf_pi = qf(features if critic_features is None else critic_features, pi.action[:, :TWIST_DIM]).mean(dim=0)
    loss = (alpha * pi.log_prob - qf_pi).mean()
    return loss, pi, {"losses/actor_loss": loss.detach(), "charts/entropy": -pi.log_prob.detach().mean()}


def gripper_distill_loss(pi: ActorOutput, gripper_qf: GripperCritic, features: torch.Tensor,
                         current: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Regress the actor's gripper command onto the command of the gripper critic's greedy choice.

    Where the greedy choice is *stay* there is no target: a position-controlled gripper closed on an
    object reads a position short of its command, and commanding that position releases the grip
    (measured in the sim: holding the cube reads 0.3, so "stay" = 0.3 dropped it)."""
    with torch.no_grad():
        greedy = gripper_qf(features).mean(dim=0).argmax(dim=-1)
        target = choice_to_command(greedy, current)
        decided = (greedy != STAY).float()
    error = (pi.mean_action[:, TWIST_DIM] - target) ** 2
    loss = (error * decided).sum() / decided.sum().clamp(min=1.0)
    return loss, {"losses/gripper_distill_loss": loss.detach(), "charts/gripper_stay_fraction": 1.0 - decided.mean()}


def bc_loss(mean_action: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Behaviour cloning: squared error of the mean action against the operator's actions in the batch
    (the steps flagged ``intervention``: demonstrations and corrections); 0 when the batch has none."""
    expert = batch.intervention if batch.intervention.numel() else torch.zeros_like(batch.reward)
    error = ((mean_action - batch.action) ** 2).sum(dim=-1)
    loss = (error * expert).sum() / expert.sum().clamp(min=1.0)
    return loss, {"losses/bc_loss": loss.detach()}


def reference_loss(mean_action: torch.Tensor, reference_action: torch.Tensor
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Squared distance of the mean action from the reference (warm-started) actor's, on every state."""
    loss = ((mean_action - reference_action) ** 2).sum(dim=-1).mean()
    return loss, {"losses/reference_loss": loss.detach()}


def temperature_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float
                     ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``-alpha * (log pi + target_entropy)``: raises alpha while the entropy is below the target."""
    loss = (-log_alpha.exp() * (log_prob.detach() + target_entropy)).mean()
    return loss, {"losses/alpha_loss": loss.detach()}


# ----------------------------------------------------------------------------------------------- agent


class SAC(nn.Module):
    """The learner's networks, temperature and optimizers, and ``update``."""

    def __init__(self, learner: LearnerConfig, model: ModelConfig, cameras: Sequence[str], image_size: int,
                 gripper_open_position: float = 0.0, gripper_closed_position: float = 1.0) -> None:
        super().__init__()
        self.cfg = learner
        self.actor = Actor(model, cameras, image_size)
        feature_dim = self.actor.encoder.output_dim
        self.qf = CriticEnsemble(feature_dim, TWIST_DIM, learner.critic_hidden_dims, learner.critic_ensemble_size)
        self.qf_target = copy.deepcopy(self.qf).requires_grad_(False)
        self.gripper_qf: GripperCritic | None = None
        self.gripper_qf_target: GripperCritic | None = None
        if learner.gripper_critic:
            self.gripper_qf = GripperCritic(feature_dim, learner.gripper_hidden_dims)
            self.gripper_qf_target = copy.deepcopy(self.gripper_qf).requires_grad_(False)
        if gripper_open_position == gripper_closed_position:
            raise ValueError("gripper open and closed positions are equal: set robot.gripper_open_position and "
                             "robot.gripper_closed_position to the two ends of the gripper joint")
        self.gripper_range = (gripper_open_position, gripper_closed_position)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(learner.init_temperature)))
        free_dims = ACTION_DIM - len(set(model.fixed_action_dims))
        self.target_entropy = (-free_dims / 2.0 if learner.target_entropy is None
                               else float(learner.target_entropy))
        # Shared (DrQ): the encoder learns through the critic loss; the actor's optimizer holds only its head.
        # Separate: the critic has its own copy of the encoder and the actor's trains with the actor's losses.
        self.critic_encoder = copy.deepcopy(self.actor.encoder) if learner.separate_critic_encoder else None
        critic_encoder = self.critic_encoder or self.actor.encoder
        actor_params = [p for n, p in self.actor.named_parameters()
                      if p.requires_grad and (self.critic_encoder is not None or not n.startswith("encoder."))]
        critic_params = [p for p in critic_encoder.parameters() if p.requires_grad] + list(self.qf.parameters())
        if self.gripper_qf is not None:
            critic_params += list(self.gripper_qf.parameters())
        self.optimizers: dict[str, torch.optim.Optimizer] = {
            "critic": torch.optim.Adam(critic_params, lr=learner.critic_lr),
            "actor": torch.optim.Adam(actor_params, lr=learner.actor_lr),
            "temperature": torch.optim.Adam([self.log_alpha], lr=learner.temperature_lr),
        }
        # the warm-started actor, frozen when the warm start ends (freeze_reference), for learner.reference_weight
        self.reference_actor = (copy.deepcopy(self.actor).requires_grad_(False) if learner.reference_weight > 0
                                else None)
        if learner.bc_pretrain_updates > 0:  # the warm start trains the encoder too, so it has its own optimizer
            trained = [p for p in self.actor.parameters() if p.requires_grad]
            self.optimizers["bc"] = torch.optim.Adam(trained, lr=learner.actor_lr)

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp().detach()

    def augment(self, images: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {camera: random_shift(frames, self.cfg.augmentation_pad) for camera, frames in images.items()}

    def update(self, batch: Batch, update_actor: bool,
               reduce_gradients: GradientHook | None = None) -> dict[str, torch.Tensor]:
        """One gradient step of the critics; with ``update_actor`` one of the actor and temperature too.

        ``reduce_gradients`` (data-parallel training) averages each optimizer's gradients across ranks
        before it steps. Returns detached metric tensors (no device sync here).
        """
        metrics: dict[str, torch.Tensor] = {}
        reduce = reduce_gradients or (lambda params: None)
        actor, qf = self.actor, self.qf

        features, next_features = self.encode(batch)
        actor_features, actor_next = (self.encode(batch, actor.encoder) if self.critic_encoder is not None
                                      else (features.detach(), next_features))

        # critics (and the shared encoder)
        qf_loss, info = critic_loss(qf, self.qf_target, actor, features, next_features, batch, self.alpha,
                                    self.cfg.critic_subsample, actor_next, self.cfg.backup_entropy)
        metrics.update(info)
        current_gripper = gripper_position_command(batch.state, self.cfg.gripper_state_index, *self.gripper_range)
        if self.gripper_qf is not None and self.gripper_qf_target is not None:
            choice = command_to_choice(batch.action[:, TWIST_DIM], current_gripper, self.cfg.gripper_deadband)
            gripper_loss, info = gripper_critic_loss(self.gripper_qf, self.gripper_qf_target, features,
                                                     next_features, batch, choice)
            metrics.update(info)
            qf_loss = qf_loss + gripper_loss
        self._step("critic", qf_loss, reduce)
        soft_update(self.qf_target, qf, self.cfg.tau)
        if self.gripper_qf is not None and self.gripper_qf_target is not None:
            soft_update(self.gripper_qf_target, self.gripper_qf, self.cfg.tau)

        if update_actor:
            features = features.detach()
            loss, pi, info = actor_loss(actor, qf, actor_features, self.alpha, features)
            metrics.update(info)
            if self.gripper_qf is not None:
                distill, info = gripper_distill_loss(pi, self.gripper_qf, features, current_gripper)
                metrics.update(info)
                loss = loss + self.cfg.gripper_distill_weight * distill
            if self.cfg.bc_weight > 0:
                imitation, info = bc_loss(pi.mean_action, batch)
                metrics.update(info)
                loss = loss + self.cfg.bc_weight * imitation
            if self.reference_actor is not None:
                with torch.no_grad():
                    reference = self.reference_actor(batch.images, batch.state, deterministic=True)
                pull, info = reference_loss(pi.mean_action, reference.mean_action)
                metrics.update(info)
                loss = loss + self.cfg.reference_weight * pull
            self._step("actor", loss, reduce)

            alpha_loss, info = temperature_loss(self.log_alpha, pi.log_prob, self.target_entropy)
            metrics.update(info)
            self._step("temperature", alpha_loss, reduce)
        metrics["charts/alpha"] = self.alpha
        return metrics

    def bc_update(self, batch: Batch, reduce_gradients: GradientHook | None = None) -> dict[str, torch.Tensor]:
        """One behaviour-cloning step of the actor (encoder included) on the batch's operator steps: the
        warm start before RL (``learner.bc_pretrain_updates``)."""
        actor = self.actor
        if actor.encoder.frozen_backbones and batch.image_features:
            features = actor.encoder.project(batch.image_features, batch.state)
        else:
            features = actor.encoder(self.augment(batch.images), batch.state)
        loss, metrics = bc_loss(actor.head(features).mean_action, batch)
        optimizer = self.optimizers["bc"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        (reduce_gradients or (lambda params: None))(
            [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None])
        optimizer.step()
        return metrics

    def freeze_reference(self) -> None:
        """Take the actor as it is now (the end of the warm start) as the reference of ``reference_loss``."""
        if self.reference_actor is not None:
            self.reference_actor.load_state_dict(self.actor.state_dict())

    def encode(self, batch: Batch, encoder: ObservationEncoder | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of the observations (with gradient into the trained encoder parts) and of the next
        observations (without), by ``encoder`` (default: the critic's). Each image passes through a
        backbone at most once per update and encoder:

        - cached backbone features (``learner.cache_image_features``): no backbone pass at all;
        - a frozen backbone: observations and next observations in one batched pass, no gradient;
        - a trained backbone: observations with gradient, next observations without (DrQ-v2).

        DrQ: every image gets its own random shift (not on cached features: they are of the stored frame).
        """
        encoder = encoder or self.critic_encoder or self.actor.encoder
        if batch.image_features:
            with torch.no_grad():
                next_features = encoder.project(batch.next_image_features, batch.next_state)
            return encoder.project(batch.image_features, batch.state), next_features
        if encoder.frozen_backbones:
            both = {c: torch.cat([batch.images[c], batch.next_images[c]]) for c in encoder.cameras}
            n = batch.state.shape[0]
            with torch.no_grad():
                maps = encoder.backbone_features(self.augment(both))
                next_features = encoder.project({c: m[n:] for c, m in maps.items()}, batch.next_state)
            return encoder.project({c: m[:n] for c, m in maps.items()}, batch.state), next_features
        features = encoder(self.augment(batch.images), batch.state)
        with torch.no_grad():
            next_features = encoder(self.augment(batch.next_images), batch.next_state)
        return features, next_features

    def _step(self, name: str, loss: torch.Tensor, reduce: GradientHook) -> None:
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        reduce([p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None])
        optimizer.step()

    def networks(self) -> dict[str, nn.Module]:
        """Every module whose parameters a checkpoint must hold, by stable name."""
        nets: dict[str, nn.Module] = {"actor": self.actor, "qf": self.qf, "qf_target": self.qf_target}
        if self.critic_encoder is not None:
            nets["critic_encoder"] = self.critic_encoder
        if self.reference_actor is not None:
            nets["reference_actor"] = self.reference_actor
        if self.gripper_qf is not None and self.gripper_qf_target is not None:
            nets.update(gripper_qf=self.gripper_qf, gripper_qf_target=self.gripper_qf_target)
        return nets
