"""Rewards recomputed by a newer reward model, stored next to the data, never over it.

```
<group>/rewards/<model_version>/      attrs: {"robot_rl_relabel": {model, kind, steps, episodes, ..., "complete": true}}
    reward        float32 (steps,)    the reward of each step under that model (replaces data/reward when asked)
    <other keys>  float32 (steps,)    whatever else the model gives per step (success_prob, value, done, ...)
```

A relabel covers the group's committed steps ``[0, steps)`` at the time it ran; the recorded arrays
(``data/*``, ``meta/episode_ends``) are not opened for writing, and a writer may keep appending while
it runs (later episodes are simply not covered). Arrays are written first and the ``complete`` mark
last, so a relabel that died half-way is never read. ``RelabeledSampler`` is the replay sampler with
``data/reward`` swapped for one version's rewards where that version covers the steps.
"""
from __future__ import annotations

import re
import time
from dataclasses import replace
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import zarr
from zarr.codecs import ZstdCodec

from robot_rl.replay.errors import ReplayError
from robot_rl.replay.follower import EpisodeChunk
from robot_rl.replay.sampler import ReplaySampler
from robot_rl.replay.store import open_group, open_root, read_episode_ends

REWARDS = "rewards"
ATTR = "robot_rl_relabel"
_VERSION = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise ReplayError(f"relabel version {version!r}: use letters, digits, '.', '_' and '-' only")


def write_relabel(location: str, group: str, version: str, arrays: Mapping[str, npt.ArrayLike],
                  attrs: Mapping[str, Any] | None = None, overwrite: bool = False) -> int:
    """Store per-step ``arrays`` (each of the group's committed length) under ``rewards/<version>``.

    Returns the number of steps covered. Refuses an existing complete version unless ``overwrite``.
    """
    _check_version(version)
    if "reward" not in arrays:
        raise ReplayError("a relabel needs a 'reward' array")
    root = open_root(location, "a")
    zgroup, _ = open_group(root, group)
    ends = read_episode_ends(zgroup)
    steps = int(ends[-1]) if ends.size else 0
    for key, values in arrays.items():
        if np.asarray(values).shape != (steps,):
            raise ReplayError(f"relabel array {key!r} has shape {np.asarray(values).shape}; the group "
                              f"{group} has {steps} committed steps")
    existing = relabel_versions(location, group)
    if version in existing and not overwrite:
        raise ReplayError(f"{location}::{group} already holds rewards of {version}; pass overwrite to replace them")
    base = zgroup.require_group(REWARDS)
    target = base.create_group(version, overwrite=True)
    for key, values in arrays.items():
        arr = target.create_array(key, shape=(steps,), chunks=(max(1, min(steps, 4096)),), dtype="float32",
                                  compressors=[ZstdCodec(level=3, checksum=True)], fill_value=np.nan)
        if steps:
            arr[:] = np.asarray(values, dtype=np.float32)
    target.attrs[ATTR] = {**(attrs or {}), "version": version, "steps": steps, "episodes": int(ends.size),
                          "keys": sorted(arrays), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "complete": True}
    return steps


def relabel_versions(location: str, group: str) -> dict[str, dict[str, Any]]:
    """Complete relabel versions of a group and their attributes."""
    zgroup, _ = open_group(open_root(location, "r"), group)
    try:
        base = zgroup[REWARDS]
    except KeyError:
        return {}
    if not isinstance(base, zarr.Group):
        return {}
    out = {}
    for name, child in base.groups():
        meta = child.attrs.get(ATTR)
        if isinstance(meta, dict) and meta.get("complete"):
            out[name] = dict(meta)
    return out


def read_relabel(location: str, group: str, version: str, key: str = "reward") -> npt.NDArray[np.float32]:
    """One relabelled array (steps ``[0, covered)``); ReplayError names the versions there are."""
    versions = relabel_versions(location, group)
    if version not in versions:
        raise ReplayError(f"{location}::{group} has no rewards of {version!r} (relabelled versions: "
                          f"{', '.join(sorted(versions)) or 'none'}); run robot-rl reward relabel")
    zgroup, _ = open_group(open_root(location, "r"), group)
    try:
        arr = zgroup[f"{REWARDS}/{version}/{key}"]
    except KeyError:
        raise ReplayError(f"rewards of {version} hold {versions[version].get('keys')}, not {key!r}") from None
    assert isinstance(arr, zarr.Array)
    return np.asarray(arr[:], dtype=np.float32)


class RelabeledSampler(ReplaySampler):
    """``ReplaySampler`` that reads ``data/reward`` from ``rewards/<reward_version>`` where it exists.

    Steps the version does not cover (episodes committed after the relabel ran) keep their recorded
    reward; ``uncovered_steps`` counts them, so a learner can refuse or relabel again.
    """

    def __init__(self, *args: Any, reward_version: str, **kwargs: Any) -> None:
        _check_version(reward_version)
        self.reward_version = reward_version
        self.uncovered_steps = 0
        super().__init__(*args, **kwargs)

    def prepare_chunk(self, chunk: EpisodeChunk, location: str) -> EpisodeChunk:
        if self.reward_version not in relabel_versions(location, chunk.group):
            self.uncovered_steps += chunk.stop - chunk.start
            return chunk
        rewards = read_relabel(location, chunk.group, self.reward_version)
        covered = max(0, min(len(rewards), chunk.stop) - chunk.start)
        reward = chunk.data["data/reward"].astype(np.float32).copy()
        reward[:covered] = rewards[chunk.start:chunk.start + covered]
        self.uncovered_steps += (chunk.stop - chunk.start) - covered
        return replace(chunk, data={**chunk.data, "data/reward": reward})
