"""Sample transitions for the learner from a RAM cache of committed episodes.

    sampler = ReplaySampler(["runs/sim/replay.zarr"], n_step=3, discount=0.97,
                            weights={"demo+human": 0.5, "policy": 0.5})
    sampler.refresh()            # loads newly committed episodes; call it between updates
    batch = sampler.sample(256)  # Batch of uint8 images and float32 vectors

The cache holds uint8 images (a quarter of float32 pixels) and the learner normalises on its own
device. Transition ``i`` takes its next observation from ``i + m`` inside the same episode
(``m = min(n_step, steps left)``), never across an episode end:

* the last step of a *terminated* episode is a transition with ``done = 1`` (its next observation is
  a copy of its own, masked out by ``done``);
* the last step of a *truncated* or unfinished episode has no successor and is never sampled;
  the steps before it bootstrap from it with ``done = 0``.

Mixing weights are exact per batch (RLPD draws half its batch from demos and interventions and half
from online data): ``{"demo+human": 0.5, "policy": 0.5}`` puts 128 of 256 transitions in each bucket.
A bucket with no data yet gives its share to the others. Steps whose source no key names (by default
``reset``) are never sampled.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from robot_rl.replay.follower import EpisodeChunk, SourceSpec, StoreFollower, check_compatible
from robot_rl.replay.schema import GroupInfo, Source

DEFAULT_WEIGHTS = {"policy+human+demo+replay": 1.0}


class Batch(NamedTuple):
    """A batch of n-step transitions; images are uint8 (B, H, W, 3) per camera, the rest float32."""

    images: dict[str, np.ndarray]
    state: np.ndarray  # (B, S)
    action: np.ndarray  # (B, A)
    reward: np.ndarray  # (B,) discounted n-step return sum_k gamma^k r_{i+k}
    discount: np.ndarray  # (B,) gamma^m: multiply the bootstrap by discount * (1 - done)
    done: np.ndarray  # (B,) 1.0 where the horizon reached a terminal step
    next_images: dict[str, np.ndarray]
    next_state: np.ndarray
    source: np.ndarray  # (B,) uint8 Source of the first step
    intervention: np.ndarray  # (B,) float32 1.0 where the human acted
    indices: np.ndarray  # (B,) int64 position in the cache, for debugging and priorities
    next_indices: np.ndarray  # (B,) int64 cache position of the next observation (per-step feature caches)


class _Growable:
    """A numpy array that grows by doubling; ``view`` is the filled prefix (no copy)."""

    def __init__(self, step_shape: tuple[int, ...], dtype: Any, capacity: int) -> None:
        self._data = np.empty((max(capacity, 1), *step_shape), dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self._data):
            bigger = np.empty((max(need, 2 * len(self._data)), *self._data.shape[1:]), self._data.dtype)
            bigger[: self.size] = self._data[: self.size]
            self._data = bigger
        self._data[self.size:need] = values
        self.size = need

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


def parse_weights(weights: Mapping[str, float]) -> list[tuple[str, frozenset[int], float]]:
    """``{"demo+human": 0.5, "policy": 0.5}`` -> buckets of source codes with normalised weights."""
    buckets: list[tuple[str, frozenset[int], float]] = []
    seen: set[int] = set()
    total = float(sum(weights.values()))
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"mixing weights {dict(weights)} must be >= 0 with a positive sum")
    for key, weight in weights.items():
        codes = frozenset(int(Source.parse(name)) for name in key.split("+"))
        if codes & seen:
            raise ValueError(f"mixing weights {dict(weights)}: a source appears in two keys")
        seen |= codes
        buckets.append((key, codes, weight / total))
    return buckets


class ReplaySampler:
    """Follows one or many stores/groups and samples n-step transitions from their committed episodes."""

    def __init__(self, sources: Sequence[str | os.PathLike[str] | tuple[str, str] | SourceSpec] | str, *,
                 n_step: int = 1, discount: float = 0.99, weights: Mapping[str, float] | None = None,
                 seed: int | None = None, capacity: int = 1024,
                 storage_options: dict[str, Any] | None = None) -> None:
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        if n_step < 1:
            raise ValueError(f"n_step={n_step}: use 1 or more")
        if not 0.0 < discount <= 1.0:
            raise ValueError(f"discount={discount}: use a value in (0, 1]")
        self.n_step, self.discount = n_step, float(discount)
        self.buckets = parse_weights(weights or DEFAULT_WEIGHTS)
        self._rng = np.random.default_rng(seed)
        self._followers = [StoreFollower(SourceSpec.parse(s), storage_options) for s in sources]
        self.info: GroupInfo | None = None
        self._capacity = capacity
        self._cols: dict[str, _Growable] = {}
        self._episode_last = _Growable((), np.int64, capacity)  # last step of each step's episode
        self._bucket_index = [_Growable((), np.int64, capacity) for _ in self.buckets]
        self.num_episodes = 0
        self.refresh()

    @property
    def num_steps(self) -> int:
        return self._episode_last.size

    def num_transitions(self) -> dict[str, int]:
        """Sampleable transitions per mixing bucket."""
        return {key: g.size for (key, _, _), g in zip(self.buckets, self._bucket_index)}

    def refresh(self) -> int:
        """Load every episode committed since the last call; return the number of new steps."""
        added = 0
        for follower in self._followers:
            for group in follower.groups.values():
                self._check(group.info, f"{group.location}::{group.name}")
            for chunk in follower.poll():
                self._check(follower.groups[chunk.group].info, f"{follower.spec.location}::{chunk.group}")
                added += self._add(self.prepare_chunk(chunk, follower.spec.location))
        return added

    def prepare_chunk(self, chunk: EpisodeChunk, location: str) -> EpisodeChunk:
        """Hook for subclasses: change newly committed steps of ``location::chunk.group`` before they are
        cached (``RelabeledSampler`` swaps in relabelled rewards). Keep every key and its length."""
        return chunk

    def _check(self, info: GroupInfo, where: str) -> None:
        if self.info is None:
            self.info = info
            h, w = info.image_size
            for cam in info.camera_names:
                self._cols[f"data/images/{cam}"] = _Growable((h, w, 3), np.uint8, self._capacity)
            self._cols["data/state"] = _Growable((info.state_dim,), np.float32, self._capacity)
            self._cols["data/action"] = _Growable((info.action_dim,), np.float32, self._capacity)
            for key, dtype in (("reward", np.float32), ("intervention", np.float32), ("source", np.uint8),
                               ("terminated", bool)):
                self._cols[f"data/{key}"] = _Growable((), dtype, self._capacity)
        else:
            check_compatible(self.info, info, where)

    def _add(self, chunk: EpisodeChunk) -> int:
        offset = self.num_steps
        for key, col in self._cols.items():
            col.extend(chunk.data[key])
        source = chunk.data["data/source"]
        terminated = chunk.data["data/terminated"]
        starts = np.concatenate(([chunk.start], chunk.ends[:-1]))
        for start, end in zip(starts, chunk.ends):
            lo, hi = offset + int(start) - chunk.start, offset + int(end) - chunk.start  # cache positions
            self._episode_last.extend(np.full(hi - lo, hi - 1, dtype=np.int64))
            last_ok = hi if terminated[hi - 1 - offset] else hi - 1
            candidates = np.arange(lo, last_ok, dtype=np.int64)
            for (_, codes, _), index in zip(self.buckets, self._bucket_index):
                index.extend(candidates[np.isin(source[candidates - offset], list(codes))])
        self.num_episodes += len(chunk.ends)
        return chunk.stop - chunk.start

    def _counts(self, batch_size: int) -> list[int]:
        """Exact per-bucket counts (largest remainder), skipping buckets that hold nothing yet."""
        weights = np.array([w if g.size else 0.0 for (_, _, w), g in zip(self.buckets, self._bucket_index)])
        if weights.sum() == 0:
            raise ValueError("no sampleable transitions yet: wait for committed episodes and call refresh() "
                             f"(steps loaded: {self.num_steps}; buckets: {self.num_transitions()})")
        share = weights / weights.sum() * batch_size
        counts = np.floor(share).astype(int)
        for i in np.argsort(counts - share)[: batch_size - counts.sum()]:
            counts[i] += 1
        return counts.tolist()

    def sample_indices(self, batch_size: int) -> np.ndarray:
        parts = [g.view[self._rng.integers(0, g.size, n)] for g, n in
                 zip(self._bucket_index, self._counts(batch_size)) if n]
        return np.concatenate(parts)

    def sample(self, batch_size: int = 256) -> Batch:
        """A batch of n-step transitions, drawn with replacement according to the mixing weights."""
        return self.batch_at(self.sample_indices(batch_size))

    def batch_at(self, idx: np.ndarray, images: bool = True) -> Batch:
        """The transitions starting at cache positions ``idx`` (each must be sampleable); ``images=False``
        leaves the image dicts empty (a learner that reads per-step image features by ``indices``)."""
        assert self.info is not None
        idx = np.asarray(idx, dtype=np.int64)
        cols = {k: c.view for k, c in self._cols.items()}
        last = self._episode_last.view[idx]
        terminal = cols["data/terminated"][last]
        steps = np.minimum(self.n_step, np.where(terminal, last + 1 - idx, last - idx))
        reward = np.zeros(len(idx), dtype=np.float64)
        rewards = cols["data/reward"]
        for k in range(self.n_step):
            reward += np.where(k < steps, self.discount ** k * rewards[np.minimum(idx + k, last)], 0.0)
        nxt = idx + steps
        done = terminal & (nxt == last + 1)
        nxt = np.minimum(nxt, last)
        cams = self.info.camera_names if images else []
        return Batch(
            images={c: cols[f"data/images/{c}"][idx] for c in cams},
            state=cols["data/state"][idx],
            action=cols["data/action"][idx],
            reward=reward.astype(np.float32),
            discount=(self.discount ** steps).astype(np.float32),
            done=done.astype(np.float32),
            next_images={c: cols[f"data/images/{c}"][nxt] for c in cams},
            next_state=cols["data/state"][nxt],
            source=cols["data/source"][idx],
            intervention=cols["data/intervention"][idx],
            indices=idx,
            next_indices=nxt,
        )
