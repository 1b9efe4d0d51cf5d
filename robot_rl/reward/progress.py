"""A VLAC-style pairwise progress critic, trained on the replay's own episodes in minutes.

VLAC (Zhai et al. 2025) asks a 2B vision-language model how much closer a second frame is to a
language goal than a first one. This is the small version of that idea: one conv encoder per camera,
a goal embedding (all-MiniLM-L6-v2), an antisymmetric pair head (``delta(a, b) = -delta(b, a)``)
and a done head, trained from pairs ``(o_i, o_j)`` of one episode:

* successful episodes: label ``tau_j - tau_i`` where ``tau_t = min(t, s) / s`` is normalised time up to
  the first success step ``s`` (after success the task does not progress further), both orders, so
  reversed pairs are the negatives;
* stalled pairs ``(o_i, o_i)`` under independent augmentation: label 0;
* failed episodes: label 0 (no net progress towards the goal), done 0;
* mismatched goals: a successful episode's pair under another task's goal: label 0, done 0.

Value of an episode (for screening and the dense reward): ``v_t = delta(o_0, o_t)``, progress from the
episode's first frame (one encoder pass per frame, the anchor's features cached), and the per-step
reward is ``v_t - v_(t-1)`` (progress into ``o_t``), so rewards sum to the accumulated progress.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from robot_rl.config.schema import RewardConfig
from robot_rl.reward.common import TrainedRewardModel, augment, batched, calibrate_threshold, pick_device, to_tensors
from robot_rl.reward.data import Episode, require_labels
from robot_rl.reward.files import load_model
from robot_rl.reward.goals import embed_goal, normalize_goal, remember
from robot_rl.reward.interface import NoPositivesError, Observation, check_images, single
from robot_rl.reward.networks import ProgressNet, default_architecture

# Other tasks' goals: the "mismatched goal" negatives when a store holds one task only.
DISTRACTOR_GOALS = ("open the drawer", "push the button", "wipe the table", "pour water into the cup",
                    "close the laptop", "stack the plates", "put the cube in the box", "turn the valve")
PAIR_MIX = {"forward": 0.35, "reversed": 0.2, "stalled": 0.1, "failed": 0.15, "mismatched": 0.2}


class ProgressCritic(TrainedRewardModel):
    """A trained ``ProgressNet``: progress deltas, episode values and a calibrated done head."""

    kind = "progress"

    net: ProgressNet

    def __init__(self, net: ProgressNet, meta: dict[str, Any], device: str = "cpu") -> None:
        super().__init__(net, net.arch, meta, device)
        for text, vector in meta.get("goals", {}).items():
            remember(text, vector)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> ProgressCritic:
        net, meta = load_model(path, kind="progress")
        assert isinstance(net, ProgressNet)
        return cls(net, meta, device)

    def goal_tensor(self, goal: str, n: int = 1) -> torch.Tensor:
        return torch.from_numpy(embed_goal(goal)).to(self.device).expand(n, -1)

    @torch.no_grad()
    def features(self, images: dict[str, npt.NDArray[np.uint8]]) -> torch.Tensor:
        check_images(images, self.cameras, self.image_size)
        n = len(images[self.cameras[0]])
        chunks = [self.net.features(to_tensors({c: images[c][i:i + 256] for c in self.cameras}, self.device))
                  for i in range(0, n, 256)]
        return torch.cat(chunks)

    @torch.no_grad()
    def delta_from_features(self, feat_a: torch.Tensor, feat_b: torch.Tensor, goal: str) -> npt.NDArray[np.float32]:
        g = self.goal_tensor(goal, len(feat_b))
        return self.net.delta(feat_a.expand_as(feat_b), feat_b, g).float().cpu().numpy()

    @torch.no_grad()
    def done_probabilities_from_features(self, feat: torch.Tensor, goal: str) -> npt.NDArray[np.float32]:
        return torch.sigmoid(self.net.done_logit(feat, self.goal_tensor(goal, len(feat)))).float().cpu().numpy()

    def episode_values(self, images: dict[str, npt.NDArray[np.uint8]], goal: str
                       ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(values ``v_t = delta(o_0, o_t)``, consecutive deltas ``delta(o_(t-1), o_t)``) of one episode."""
        normalize_goal(goal)
        feat = self.features(images)
        values = self.delta_from_features(feat[:1], feat, goal)
        deltas = self.delta_from_features(feat[:-1], feat[1:], goal) if len(feat) > 1 else np.zeros(0, np.float32)
        return values, deltas

    def done_probabilities(self, images: dict[str, npt.NDArray[np.uint8]], goal: str) -> npt.NDArray[np.float32]:
        normalize_goal(goal)
        return batched(lambda chunk: self.done_probabilities_from_features(self.features(chunk), goal), images)

    def score(self, obs: Observation, goal: str = "") -> float:
        """Done probability under ``goal`` (default: the goal the critic was trained on)."""
        goal = goal or str(self.meta.get("goal", ""))
        return float(self.done_probabilities(single(obs, self.cameras), goal)[0])

    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        normalize_goal(goal)
        feat_a, feat_b = self.features(single(obs_a, self.cameras)), self.features(single(obs_b, self.cameras))
        return float(self.delta_from_features(feat_a, feat_b, goal)[0])

    def done(self, obs: Observation, goal: str) -> bool:
        return self.score(obs, goal) >= self.threshold


def _tau(episode: Episode) -> npt.NDArray[np.float32]:
    """Normalised time to the first success step (1.0 from there on)."""
    t = np.arange(len(episode), dtype=np.float32)
    hits = np.flatnonzero(episode.success_steps)
    s = float(hits[0]) if hits.size and hits[0] > 0 else float(max(len(episode) - 1, 1))
    return np.minimum(t / s, 1.0)


class PairSampler:
    """Draws labelled training pairs (see the module docstring) from episodes held in RAM."""

    def __init__(self, episodes: Sequence[Episode], cameras: list[str], goals: list[str], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.cameras = cameras
        self.success = [e for e in episodes if e.success]
        self.failed = [e for e in episodes if not e.success]
        self.tau = {id(e): _tau(e) for e in self.success}
        self.goals = goals

    def sample(self, n: int) -> dict[str, Any]:
        kinds = list(PAIR_MIX)
        weights = np.array([0.0 if (k == "failed" and not self.failed) else PAIR_MIX[k] for k in kinds])
        choice = self.rng.choice(len(kinds), size=n, p=weights / weights.sum())
        a: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in self.cameras}
        b: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in self.cameras}
        delta, done, goal = np.zeros(n, np.float32), np.zeros(n, np.float32), []
        for k, which in enumerate(choice):
            kind = kinds[which]
            episode = (self.failed if kind == "failed" else self.success)[self.rng.integers(
                len(self.failed) if kind == "failed" else len(self.success))]
            i, j = sorted(self.rng.integers(0, len(episode), 2).tolist())
            if kind == "stalled":
                j = i
            elif kind == "reversed" or (kind in ("failed", "mismatched") and self.rng.random() < 0.5):
                i, j = j, i
            for c in self.cameras:
                a[c].append(episode.images[c][i])
                b[c].append(episode.images[c][j])
            if kind in ("forward", "reversed"):
                tau = self.tau[id(episode)]
                delta[k] = tau[j] - tau[i]
            own = kind != "mismatched"
            done[k] = float(own and episode.success_steps[j])
            goal.append(episode.goal if own else self.goals[self.rng.integers(len(self.goals))])
        return {"a": {c: np.stack(v) for c, v in a.items()}, "b": {c: np.stack(v) for c, v in b.items()},
                "delta": delta, "done": done, "goal": goal}


def train_progress(train: Sequence[Episode], held_out: Sequence[Episode], cfg: RewardConfig, cameras: list[str],
                   log: Callable[[str], None] = print) -> tuple[ProgressNet, dict[str, Any]]:
    """Train on ``train``; calibrate the done head and measure VOC on ``held_out``."""
    require_labels(train, 0, "training episodes")
    if not any(e.success for e in train):
        raise NoPositivesError("no successful training episode to learn progress from: record episodes that end in "
                               "success (reward >= reward.success_reward on the last step)")
    from robot_rl.reward.screening import screen_episodes

    torch.manual_seed(cfg.seed)
    device = pick_device(cfg.device)
    own_goals = sorted({normalize_goal(e.goal) for e in [*train, *held_out]})
    distractors = [g for g in DISTRACTOR_GOALS if g not in own_goals]
    goal_vectors = {g: embed_goal(g) for g in [*own_goals, *distractors]}
    size = int(train[0].images[cameras[0]].shape[1])
    arch = default_architecture("progress", cameras, size, cfg.image_features, cfg.hidden_dims)
    net = ProgressNet(arch).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sampler = PairSampler(train, cameras, distractors + [g for g in own_goals if len(own_goals) > 1], cfg.seed)
    log(f"progress: {sum(e.success for e in train)} successful / {sum(not e.success for e in train)} failed "
        f"training episodes, goals {own_goals}, {cfg.progress_steps} updates")
    net.train()
    for step in range(cfg.progress_steps):
        batch = sampler.sample(cfg.batch_size)
        n = len(batch["delta"])
        images = {c: augment(torch.from_numpy(np.concatenate([batch["a"][c], batch["b"][c]])).to(device),
                             cfg.augmentation_pad) for c in cameras}
        feat = net.features(images)
        g = torch.from_numpy(np.stack([goal_vectors[normalize_goal(x)] for x in batch["goal"]])).to(device)
        pred = net.delta(feat[:n], feat[n:], g)
        done_logit = net.done_logit(feat[n:], g)
        loss_delta = F.mse_loss(pred, torch.from_numpy(batch["delta"]).to(device))
        loss_done = F.binary_cross_entropy_with_logits(done_logit, torch.from_numpy(batch["done"]).to(device))
        loss = loss_delta + 0.5 * loss_done
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % max(1, cfg.progress_steps // 5) == 0:
            log(f"  update {step + 1}/{cfg.progress_steps}: delta loss {loss_delta.item():.4f}, "
                f"done loss {loss_done.item():.4f}")
    net.eval()
    meta: dict[str, Any] = {"goal": own_goals[0], "goals": {g: goal_vectors[g].tolist() for g in own_goals}}
    critic = ProgressCritic(net, meta, cfg.device)
    evaluate = list(held_out) or list(train)
    probs = np.concatenate([critic.done_probabilities(e.images, e.goal) for e in evaluate])
    labels = np.concatenate([e.success_steps for e in evaluate])
    if labels.any():
        calibration = calibrate_threshold(probs, labels, cfg.min_precision).to_dict()
    else:
        calibration = {"threshold": cfg.success_threshold, "met": False}
    screens = screen_episodes(critic, [e for e in evaluate if e.success])
    voc = float(np.mean([s.voc for s in screens])) if screens else float("nan")
    reversed_voc = [s.voc for s in screen_episodes(critic, [e.reversed() for e in evaluate if e.success])]
    meta.update(calibration=calibration,
                metrics={"voc_success_mean": voc, "voc_reversed_mean": float(np.mean(reversed_voc)) if reversed_voc
                         else float("nan"), "updates": cfg.progress_steps,
                         "evaluated_on": "held_out" if held_out else "train"},
                trained_on={"episodes": len(train), "held_out_episodes": len(held_out)})
    log(f"progress: held-out VOC {voc:.3f} on successful episodes, "
        f"{meta['metrics']['voc_reversed_mean']:.3f} reversed; done threshold {calibration['threshold']:.3f}")
    return net, meta
