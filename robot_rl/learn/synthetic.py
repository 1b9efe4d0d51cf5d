"""A synthetic transition source with the ``ReplaySampler`` interface, for tests and benchmarks.

It is no replay store: it makes up transitions of the right shapes from a fixed pool of random
frames (so drawing a batch costs a gather, like a sampler reading from memory), and its committed
step counts come from the caller. With ``target`` set it is a one-step bandit: the reward is
``-mean |a_arm - target|`` and every step ends its episode, so a working learner drives the actor's
mean arm action to ``target`` within a few hundred updates.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from robot_rl.models.actor import ACTION_DIM, TWIST_DIM


class SyntheticBatch(NamedTuple):
    images: dict[str, npt.NDArray[np.uint8]]
    state: npt.NDArray[np.float32]
    action: npt.NDArray[np.float32]
    reward: npt.NDArray[np.float32]
    next_images: dict[str, npt.NDArray[np.uint8]]
    next_state: npt.NDArray[np.float32]
    done: npt.NDArray[np.float32]
    discount: npt.NDArray[np.float32]


class SyntheticSampler:
    """Random frames and states; committed steps per source from a dict or a callable (re-read on refresh)."""

    def __init__(self, cameras: Sequence[str], image_size: int, state_dim: int,
                 committed: Mapping[str, int] | Callable[[], Mapping[str, int]], *,
                 target: Sequence[float] | None = None, discount: float = 0.97, pool: int = 512, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.cameras = list(cameras)  # may be empty: a state-only source
        self.pool = pool
        self.frames = {c: self.rng.integers(0, 256, (pool, image_size, image_size, 3), dtype=np.uint8)
                       for c in self.cameras}
        self.state_dim = state_dim
        self.source = committed
        self.target = None if target is None else np.asarray(target, dtype=np.float32).reshape(TWIST_DIM)
        self.gamma = discount
        self._committed: dict[str, int] = {}
        self.refresh()

    def refresh(self) -> None:
        source = self.source() if callable(self.source) else self.source
        self._committed = {str(k): int(v) for k, v in source.items()}

    def committed_steps(self) -> dict[str, int]:
        return dict(self._committed)

    def sample(self, batch_size: int) -> SyntheticBatch:
        if sum(self._committed.values()) == 0:
            raise RuntimeError("no committed steps to sample from")
        index, next_index = self.rng.integers(0, self.pool, batch_size), self.rng.integers(0, self.pool, batch_size)
        state = self.rng.uniform(-1, 1, (batch_size, self.state_dim)).astype(np.float32)
        action = self.rng.uniform(-1, 1, (batch_size, ACTION_DIM)).astype(np.float32)
        if self.target is not None:
            reward = -np.abs(action[:, :TWIST_DIM] - self.target).mean(axis=1)
            terminated = np.ones(batch_size, dtype=np.float32)
        else:
            reward = self.rng.normal(0, 1, batch_size)
            terminated = (self.rng.random(batch_size) < 0.05).astype(np.float32)
        return SyntheticBatch(
            images={c: f[index] for c, f in self.frames.items()}, state=state, action=action,
            reward=reward.astype(np.float32), next_images={c: f[next_index] for c, f in self.frames.items()},
            next_state=self.rng.uniform(-1, 1, (batch_size, self.state_dim)).astype(np.float32),
            done=terminated, discount=np.full(batch_size, self.gamma, dtype=np.float32))
