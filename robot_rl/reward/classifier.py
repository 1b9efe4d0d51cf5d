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

With ``reward.classifier_state`` the head also reads the policy state vector (ee position, 6-D rotation,
gripper; ``robot_rl.policy.state``), standardised with the training data's statistics, which the model file
keeps. It resolves what 64 px cannot: the frame just before success and the first success frame differ by
about a centimetre of lift, invisible to the front camera, so image-only classifiers err at exactly that
boundary, and with ~7 positive frames per successful episode one boundary error per episode costs ~14 % of
precision or recall (``benchmarks/bench_reward.py``). The images still decide whether something is held
(a closed gripper lifted beside the cube reads the same in the state). Such a model needs the state
wherever it scores: the reward node passes the one it assembles for the tick, and a missing or wrong-size
state raises ``StateSizeError``. It is off by default: image-only success generalises to tasks whose success
the arm's pose does not predict; the benchmark and the graph-test fixture switch it on.

The decision threshold is then chosen on held-out episodes: the highest recall with precision >=
``reward.min_precision`` (a false success ends an episode early and teaches the policy to stop short,
so precision comes first), never below ``THRESHOLD_FLOOR``. The threshold travels in the model file.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

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
from robot_rl.reward.interface import NoPositivesError, Observation, StateSizeError, check_images, single
from robot_rl.reward.networks import SuccessNet, default_architecture

# Batches are half positives, so a score of 0.5 already means "as likely done as not" under a prior that overstates
# success. Below it, one slow positive among the ~30 held out can drag the threshold into the negatives (seen: one
# held-out first-success frame at 0.06 set 0.035, and 9 frames of a separate drop episode passed as success).
THRESHOLD_FLOOR = 0.5


class SuccessClassifier(TrainedRewardModel):
    """A trained ``SuccessNet`` with its calibrated threshold."""

    kind = "classifier"

    net: SuccessNet

    def __init__(self, net: SuccessNet, meta: dict[str, Any], device: str = "cpu") -> None:
        super().__init__(net, net.arch, meta, device)
        self.state_dim = net.state_dim  # 0: images only

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> SuccessClassifier:
        net, meta = load_model(path, kind="classifier")
        assert isinstance(net, SuccessNet)
        return cls(net, meta, device)

    @torch.no_grad()
    def probabilities(self, images: dict[str, npt.NDArray[np.uint8]],
                      state: npt.ArrayLike | None = None) -> npt.NDArray[np.float32]:
        """Success probability per step of ``images`` (camera -> N x H x W x 3 uint8); ``state`` (N x S, the
        policy state vector per step) is required by a model trained with ``reward.classifier_state`` and
        ignored by an image-only one."""
        check_images(images, self.cameras, self.image_size)
        n = len(images[self.cameras[0]])
        states = self._checked_state(state, n)

        def run(chunk: dict[str, npt.NDArray[np.uint8]], *state_chunk: npt.NDArray[np.float32]
                ) -> npt.NDArray[np.float32]:
            s = torch.from_numpy(state_chunk[0]).to(self.device) if state_chunk else None
            return torch.sigmoid(self.net(to_tensors(chunk, self.device), s)).float().cpu().numpy()

        return batched(run, {c: images[c] for c in self.cameras}, *([] if states is None else [states]))

    def _checked_state(self, state: npt.ArrayLike | None, n: int) -> npt.NDArray[np.float32] | None:
        if not self.state_dim:
            return None
        if state is None:
            raise StateSizeError(f"classifier {self.version or 'model'} reads the robot state vector ({self.state_dim} "
                                 "values, robot_rl.policy.state) besides the images, and got none: pass the "
                                 "observation's state (the reward node assembles it from robot/state and "
                                 "robot/ee_pose), or train an image-only model with reward.classifier_state=false")
        states = np.asarray(state, np.float32)
        if states.shape != (n, self.state_dim) or not np.isfinite(states).all():
            raise StateSizeError(f"classifier {self.version or 'model'}: state of shape {states.shape} for {n} steps; it "
                                 f"takes {self.state_dim} finite values per step (robot_rl.policy.state: ee "
                                 "position, 6-D rotation, gripper), as recorded in the replay's data/state")
        return states

    def score(self, obs: Observation) -> float:
        state = None if obs.state is None else np.asarray(obs.state)[None]
        return float(self.probabilities(single(obs, self.cameras), state)[0])

    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        """The change in success probability: a coarse progress signal (the critic gives a real one)."""
        return float(np.clip(self.score(obs_b) - self.score(obs_a), -1.0, 1.0))

    def done(self, obs: Observation, goal: str = "") -> bool:
        return self.score(obs) >= self.threshold


class Frames(NamedTuple):
    """Episodes' steps back to back: what training and calibration read."""

    images: dict[str, npt.NDArray[np.uint8]]
    state: npt.NDArray[np.float32]  # N x S
    labels: npt.NDArray[np.bool_]  # N
    per_episode: list[npt.NDArray[np.bool_]]  # the labels, split by episode


def _frames(episodes: Sequence[Episode], cameras: list[str], positive_tail: int) -> Frames:
    images = {c: np.concatenate([e.images[c] for e in episodes]) for c in cameras}
    per_episode = [e.positives(positive_tail) for e in episodes]
    return Frames(images, np.concatenate([e.state for e in episodes]).astype(np.float32),
                  np.concatenate(per_episode), per_episode)


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


def _update(net: SuccessNet, aux: nn.Linear, optimizer: torch.optim.Optimizer, frames: Frames,
            progress: npt.NDArray[np.float32], idx: npt.NDArray[np.int64], cfg: RewardConfig,
            device: torch.device) -> float:
    target = torch.from_numpy(frames.labels[idx].astype(np.float32)).to(device)
    batch = {c: augment(torch.from_numpy(v[idx]).to(device), cfg.augmentation_pad) for c, v in frames.images.items()}
    feat = net.features(batch, torch.from_numpy(frames.state[idx]).to(device))
    loss = F.binary_cross_entropy_with_logits(net.head(feat).squeeze(-1), target)
    known = torch.from_numpy(~np.isnan(progress[idx])).to(device)
    if cfg.progress_aux_weight > 0 and bool(known.any()):
        tau = torch.from_numpy(np.nan_to_num(progress[idx])).to(device)
        loss = loss + cfg.progress_aux_weight * F.mse_loss(torch.sigmoid(aux(feat).squeeze(-1))[known], tau[known])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def _scores(net: SuccessNet, frames: Frames, idx: npt.NDArray[np.int64] | slice, device: str
            ) -> npt.NDArray[np.float32]:
    training = net.training
    model = SuccessClassifier(net, {}, device)  # puts net in eval mode
    scores = model.probabilities({c: v[idx] for c, v in frames.images.items()}, frames.state[idx])
    net.train(training)
    return scores


def _new_net(train: Sequence[Episode], cameras: list[str], cfg: RewardConfig, device: torch.device) -> SuccessNet:
    size = int(train[0].images[cameras[0]].shape[1])
    state_dim = int(train[0].state.shape[1]) if cfg.classifier_state else 0
    arch = default_architecture("classifier", cameras, size, cfg.image_features, cfg.hidden_dims, state_dim)
    net = SuccessNet(arch)
    if net.state is not None:
        net.state.fit(torch.from_numpy(np.concatenate([e.state for e in train]).astype(np.float32)))
    return net.to(device)


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
    net = _new_net(train, cameras, cfg, device)
    aux = nn.Linear(net.feature_dim, 1).to(device)  # training only: not part of the model file
    optimizer = torch.optim.Adam([*net.parameters(), *aux.parameters()], lr=cfg.lr)
    frames = _frames(train, cameras, cfg.positive_tail)
    progress = progress_targets(train)
    drawer = BatchDrawer(frames.labels, near_success(frames.per_episode, cfg.near_success_steps),
                         cfg.hard_negative_fraction, np.random.default_rng(cfg.seed))
    per_epoch = max(1, math.ceil(len(frames.labels) / cfg.batch_size))  # an epoch: as many frames as there are
    steps = cfg.epochs * per_epoch
    log(f"classifier: {len(drawer.positives)} positive / {len(drawer.negatives)} negative training steps "
        f"({len(drawer.near)} near success), {steps} updates")
    net.train()
    for step in range(steps):
        if cfg.hard_negative_fraction > 0 and step and step % per_epoch == 0:
            drawer.mine(_scores(net, frames, drawer.negatives, cfg.device))
        loss = _update(net, aux, optimizer, frames, progress, drawer.draw(cfg.batch_size), cfg, device)
        if (step + 1) % max(1, steps // 5) == 0:
            log(f"  update {step + 1}/{steps}: loss {loss:.4f}")
    net.eval()
    held = _frames(held_out, cameras, cfg.positive_tail)
    calibration: Calibration = calibrate_threshold(_scores(net, held, slice(None), cfg.device), held.labels,
                                                   cfg.min_precision, floor=THRESHOLD_FLOOR)
    train_p, train_r = precision_recall(_scores(net, frames, slice(None), cfg.device), frames.labels,
                                        calibration.threshold)
    log(f"classifier: threshold {calibration.threshold:.3f}, held-out precision {calibration.precision:.3f} "
        f"recall {calibration.recall:.3f} (target precision {cfg.min_precision}"
        f"{'' if calibration.met else ', NOT reached: record more episodes'})")
    meta = {"calibration": calibration.to_dict(),
            "metrics": {"train_precision": train_p, "train_recall": train_r, "updates": steps},
            "trained_on": {"episodes": len(train), "held_out_episodes": len(held_out),
                           "positives": int(len(drawer.positives)), "negatives": int(len(drawer.negatives)),
                           "near_success_negatives": int(len(drawer.near))}}
    return net, meta
