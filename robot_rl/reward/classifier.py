"""The success classifier (HIL-SERL's reward): camera images -> probability that the task is done.

Training draws every batch half from positive and half from negative steps (successes are rare: a
few frames at the end of each successful episode), a share of the negatives from the hard ones
(``hard_negatives``: just before success, and those the model currently scores highest), augments
each image with a random shift and a brightness jitter, and minimises binary cross-entropy. With
``reward.progress_aux_weight`` a training-only linear head on the image features also regresses each frame's
progress (normalised time to the first success step of a successful episode): the first success frame is only
a centimetre or two above the last negative, and this target orders the features along the approach and lift
instead of leaving the boundary to the few positives (the progress critic's done head, trained on top of
progress, separates it). The head is dropped after training; the model file holds ``SuccessNet`` only.
The decision threshold is then chosen on held-out episodes: the highest recall with precision >=
``reward.min_precision`` (a false success ends an episode early and teaches the policy to stop short,
so precision comes first). The threshold travels in the model file.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from robot_rl.config.schema import RewardConfig
from robot_rl.reward.common import (
    TrainedRewardModel,
    Calibration,
    augment,
    batched,
    calibrate_threshold,
    pick_device,
    precision_recall,
    to_tensors,
)
from robot_rl.reward.data import Episode, require_labels
from robot_rl.reward.files import load_model
from robot_rl.reward.hard_negatives import BatchDrawer, near_success
from robot_rl.reward.interface import NoPositivesError, Observation, check_images, single
from robot_rl.reward.networks import SuccessNet, default_architecture


class SuccessClassifier(TrainedRewardModel):
    """A trained ``SuccessNet`` with its calibrated threshold."""

    kind = "classifier"

    net: SuccessNet

    def __init__(self, net: SuccessNet, meta: dict[str, Any], device: str = "cpu") -> None:
        super().__init__(net, net.arch, meta, device)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> SuccessClassifier:
        net, meta = load_model(path, kind="classifier")
        assert isinstance(net, SuccessNet)
        return cls(net, meta, device)

    @torch.no_grad()
    def probabilities(self, images: dict[str, npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """Success probability per step of ``images`` (camera -> N x H x W x 3 uint8)."""
        check_images(images, self.cameras, self.image_size)

        def run(chunk: dict[str, npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
            logits = self.net(to_tensors({c: chunk[c] for c in self.cameras}, self.device))
            return torch.sigmoid(logits).float().cpu().numpy()

        return batched(run, images)

    def score(self, obs: Observation) -> float:
        return float(self.probabilities(single(obs, self.cameras))[0])

    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        """The change in success probability: a coarse progress signal (the critic gives a real one)."""
        return float(np.clip(self.score(obs_b) - self.score(obs_a), -1.0, 1.0))

    def done(self, obs: Observation, goal: str = "") -> bool:
        return self.score(obs) >= self.threshold


def _frames(episodes: Sequence[Episode], cameras: list[str], positive_tail: int
            ) -> tuple[dict[str, npt.NDArray[np.uint8]], list[npt.NDArray[np.bool_]]]:
    images = {c: np.concatenate([e.images[c] for e in episodes]) for c in cameras}
    return images, [e.positives(positive_tail) for e in episodes]


def progress_targets(episodes: Sequence[Episode]) -> npt.NDArray[np.float32]:
    """Per frame: normalised time to the first success step of a successful episode (1.0 from there on),
    NaN in failed episodes (how far a miss or a drop got is unknown)."""
    parts = []
    for e in episodes:
        hits = np.flatnonzero(e.success_steps)
        if not e.success or not hits.size:
            parts.append(np.full(len(e), np.nan, np.float32))
            continue
        t = np.arange(len(e), dtype=np.float32)
        parts.append(np.minimum(t / max(float(hits[0]), 1.0), 1.0))
    return np.concatenate(parts)


def _update(net: SuccessNet, aux: nn.Linear, optimizer: torch.optim.Optimizer,
            images: dict[str, npt.NDArray[np.uint8]], labels: npt.NDArray[np.bool_],
            progress: npt.NDArray[np.float32], idx: npt.NDArray[np.int64], cfg: RewardConfig,
            device: torch.device) -> float:
    target = torch.from_numpy(labels[idx].astype(np.float32)).to(device)
    batch = {c: augment(torch.from_numpy(v[idx]).to(device), cfg.augmentation_pad) for c, v in images.items()}
    feat = net.encoders(batch)
    loss = F.binary_cross_entropy_with_logits(net.head(feat).squeeze(-1), target)
    known = torch.from_numpy(~np.isnan(progress[idx])).to(device)
    if cfg.progress_aux_weight > 0 and bool(known.any()):
        tau = torch.from_numpy(np.nan_to_num(progress[idx])).to(device)
        loss = loss + cfg.progress_aux_weight * F.mse_loss(torch.sigmoid(aux(feat).squeeze(-1))[known], tau[known])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def _scores(net: SuccessNet, images: dict[str, npt.NDArray[np.uint8]], idx: npt.NDArray[np.int64],
            device: str) -> npt.NDArray[np.float32]:
    net.eval()
    scores = SuccessClassifier(net, {}, device).probabilities({c: v[idx] for c, v in images.items()})
    net.train()
    return scores


def train_classifier(train: Sequence[Episode], held_out: Sequence[Episode], cfg: RewardConfig,
                     cameras: list[str], log: Callable[[str], None] = print
                     ) -> tuple[SuccessNet, dict[str, Any]]:
    """Train on ``train``, calibrate on ``held_out``; return the network and its model-file metadata."""
    require_labels(train, cfg.positive_tail, "training episodes")
    if not held_out or not any(e.positives(cfg.positive_tail).any() for e in held_out):
        raise NoPositivesError("no held-out episode has success labels to calibrate the threshold on: record at "
                               "least two successful episodes (one is held out), or raise reward.holdout_fraction")
    torch.manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    size = int(train[0].images[cameras[0]].shape[1])
    arch = default_architecture("classifier", cameras, size, cfg.image_features, cfg.hidden_dims)
    net = SuccessNet(arch).to(device)
    aux = nn.Linear(net.encoders.out_dim, 1).to(device)  # training only: not part of the model file
    optimizer = torch.optim.Adam([*net.parameters(), *aux.parameters()], lr=cfg.lr)
    images, per_episode = _frames(train, cameras, cfg.positive_tail)
    progress = progress_targets(train)
    labels = np.concatenate(per_episode)
    drawer = BatchDrawer(labels, near_success(per_episode, cfg.near_success_steps), cfg.hard_negative_fraction,
                         np.random.default_rng(cfg.seed))
    per_epoch = max(1, math.ceil(len(labels) / cfg.batch_size))  # an epoch: as many frames as there are
    steps = cfg.epochs * per_epoch
    log(f"classifier: {len(drawer.positives)} positive / {len(drawer.negatives)} negative training steps "
        f"({len(drawer.near)} near success), {steps} updates")
    net.train()
    for step in range(steps):
        if cfg.hard_negative_fraction > 0 and step and step % per_epoch == 0:
            drawer.mine(_scores(net, images, drawer.negatives, cfg.device))
        loss = _update(net, aux, optimizer, images, labels, progress, drawer.draw(cfg.batch_size), cfg, device)
        if (step + 1) % max(1, steps // 5) == 0:
            log(f"  update {step + 1}/{steps}: loss {loss:.4f}")
    net.eval()
    model = SuccessClassifier(net, {}, cfg.device)
    held_images, held_labels = _frames(held_out, cameras, cfg.positive_tail)
    held_y = np.concatenate(held_labels)
    calibration: Calibration = calibrate_threshold(model.probabilities(held_images), held_y, cfg.min_precision)
    train_p, train_r = precision_recall(model.probabilities(images), labels, calibration.threshold)
    log(f"classifier: threshold {calibration.threshold:.3f}, held-out precision {calibration.precision:.3f} "
        f"recall {calibration.recall:.3f} (target precision {cfg.min_precision}"
        f"{'' if calibration.met else ', NOT reached: record more episodes'})")
    meta = {"calibration": calibration.to_dict(),
            "metrics": {"train_precision": train_p, "train_recall": train_r, "updates": steps},
            "trained_on": {"episodes": len(train), "held_out_episodes": len(held_out),
                           "positives": int(len(drawer.positives)), "negatives": int(len(drawer.negatives)),
                           "near_success_negatives": int(len(drawer.near))}}
    return net, meta
