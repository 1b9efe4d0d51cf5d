"""Episodes and their success labels, read from a replay store through ``robot_rl.replay``.

Labels come from what the graph recorded:

* a step is a **success step** when its recorded reward is at least ``success_reward`` (the sparse
  0/1 success reward: the reward node publishes 1.0 while the task is done; an operator's
  ``mark_success`` should leave 1.0 on the last step);
* an episode is **successful** when it was terminated and its last step is a success step; a
  timeout, a ``mark_failure`` or a drop before the end makes it a failure;
* positives for the classifier are the success steps, plus the last ``positive_tail`` steps of each
  successful episode when the operator marked only the end; every other step is a negative.

Images are resized to the model's input size here, once, with the same ``crop_resize`` the policy
server uses.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from robot_rl.perception.image import crop_resize
from robot_rl.replay.errors import ReplayError
from robot_rl.replay.follower import read_range
from robot_rl.replay.store import group_names, open_group, open_root, read_episode_ends
from robot_rl.reward.interface import ImageSizeError, NoPositivesError

RECORD_HINT = ("record episodes that end in success: run the task (teleoperated or scripted) until the "
               "reward node or the operator (episode/mark_success) ends them as success, so the replay holds "
               "steps with reward >= reward.success_reward; also record failed attempts for negatives")


@dataclass
class Episode:
    """One committed episode, images at the model's size."""

    group: str
    index: int  # episode number inside its group
    start: int  # first step in the group's step numbering
    images: dict[str, npt.NDArray[np.uint8]]  # camera -> (T, size, size, 3)
    state: npt.NDArray[np.float32]  # (T, S)
    reward: npt.NDArray[np.float32]  # (T,) as recorded
    terminated: bool
    truncated: bool
    goal: str
    success_steps: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))  # (T,)
    success: bool = False

    def __len__(self) -> int:
        return int(self.reward.shape[0])

    def positives(self, positive_tail: int = 0) -> npt.NDArray[np.bool_]:
        """Per-step classifier labels (see the module docstring)."""
        labels = self.success_steps.copy()
        if self.success and positive_tail > 0:
            labels[-positive_tail:] = True
        return labels

    def reversed(self) -> Episode:
        """The same frames in reverse time order (a screening and test aid: progress should read negative)."""
        return Episode(self.group, self.index, self.start, {c: v[::-1].copy() for c, v in self.images.items()},
                       self.state[::-1].copy(), self.reward[::-1].copy(), False, False, self.goal,
                       self.success_steps[::-1].copy(), False)


def label_episode(episode: Episode, success_reward: float) -> Episode:
    episode.success_steps = episode.reward >= success_reward
    episode.success = bool(episode.terminated and episode.success_steps.size and episode.success_steps[-1])
    return episode


def _resize_all(frames: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    if frames.shape[1:3] == (size, size):
        return np.ascontiguousarray(frames)
    return np.stack([crop_resize(f, size) for f in frames])


def load_episodes(location: str, groups: Sequence[str] | None = None, cameras: Sequence[str] | None = None,
                  image_size: int = 64, success_reward: float = 0.5,
                  episodes: Sequence[int] | None = None) -> list[Episode]:
    """Every committed episode of ``groups`` (default: all) in ``location``, labelled, images resized.

    ``cameras`` picks the cameras to load ([] or None: every camera of the first group); each group
    must have them. Raises ``ReplayError`` for a store that is not one, ``ImageSizeError`` for cameras
    a group lacks.
    """
    root = open_root(location, "r")
    names = list(groups) if groups else group_names(root)
    if not names:
        raise ReplayError(f"{location}: the store has no replay groups yet; record episodes first")
    out: list[Episode] = []
    for name in names:
        group, info = open_group(root, name)
        cams = list(cameras) if cameras else list(info.camera_names)
        missing = [c for c in cams if c not in info.camera_names]
        if missing:
            raise ImageSizeError(f"{location}::{name} has cameras {info.camera_names}, not {missing}; "
                                 "set reward.cameras to cameras the store recorded")
        ends = read_episode_ends(group)
        starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        wanted = range(len(ends)) if episodes is None else [e for e in episodes if 0 <= e < len(ends)]
        if not len(ends):
            continue
        keys = [f"data/images/{c}" for c in cams] + ["data/state", "data/reward", "data/terminated",
                                                     "data/truncated"]
        data = read_range(group, keys, 0, int(ends[-1]))
        for e in wanted:
            lo, hi = int(starts[e]), int(ends[e])
            episode = Episode(
                group=name, index=e, start=lo,
                images={c: _resize_all(data[f"data/images/{c}"][lo:hi], image_size) for c in cams},
                state=np.asarray(data["data/state"][lo:hi], np.float32),
                reward=np.asarray(data["data/reward"][lo:hi], np.float32),
                terminated=bool(data["data/terminated"][hi - 1]), truncated=bool(data["data/truncated"][hi - 1]),
                goal=info.goal or info.task)
            out.append(label_episode(episode, success_reward))
    return out


def require_labels(episodes: Sequence[Episode], positive_tail: int, where: str) -> None:
    """Raise NoPositivesError (with what to record) unless there are positive and negative steps."""
    if not episodes:
        raise NoPositivesError(f"{where}: no committed episodes; {RECORD_HINT}")
    positives = sum(int(e.positives(positive_tail).sum()) for e in episodes)
    negatives = sum(len(e) for e in episodes) - positives
    if positives == 0:
        raise NoPositivesError(f"{where}: {len(episodes)} episodes but no success labels (no step with reward >= "
                               f"success_reward, no successful episode); {RECORD_HINT}")
    if negatives == 0:
        raise NoPositivesError(f"{where}: every step is labelled success; record failed attempts and the steps "
                               "before success, so the model sees what is not done")


def split_episodes(episodes: Sequence[Episode], holdout_fraction: float,
                   seed: int) -> tuple[list[Episode], list[Episode]]:
    """Train/held-out split by episode, stratified so both sides get successful and failed episodes."""
    rng = np.random.default_rng(seed)
    train: list[Episode] = []
    held: list[Episode] = []
    for outcome in (True, False):
        subset = [e for e in episodes if e.success == outcome]
        order = rng.permutation(len(subset))
        n_held = int(round(holdout_fraction * len(subset)))
        if len(subset) >= 2:
            n_held = min(max(n_held, 1), len(subset) - 1)
        else:
            n_held = 0
        held += [subset[i] for i in order[:n_held]]
        train += [subset[i] for i in order[n_held:]]
    return train, held
