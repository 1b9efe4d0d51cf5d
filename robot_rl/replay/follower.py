"""Follow replay groups as writers commit to them: what the learner and every tool read through.

A follower only ever reads up to the last committed episode end, re-reading the index and the
arrays' metadata on every poll, so it sees episodes appear while a writer runs in another process
(or on another machine, through fsspec) and never sees half of one.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

from robot_rl.replay.errors import IncompatibleStoreError
from robot_rl.replay.schema import GroupInfo
from robot_rl.replay.store import array, group_names, open_group, open_root, read_episode_ends

# The per-step arrays a learner needs; timestamps and the proposal/human actions stay on disk.
LEARNER_KEYS = ("data/state", "data/action", "data/reward", "data/intervention", "data/source",
                "data/terminated", "data/truncated")


@dataclass(frozen=True)
class SourceSpec:
    """A store location and, optionally, one group in it (``None``: every group, including new ones)."""

    location: str
    group: str | None = None

    @classmethod
    def parse(cls, spec: str | os.PathLike[str] | tuple[str, str] | SourceSpec) -> SourceSpec:
        """``"path"``, ``"s3://bucket/replay.zarr"``, ``"path::group"`` or ``(path, group)``."""
        if isinstance(spec, SourceSpec):
            return spec
        if isinstance(spec, tuple):
            return cls(str(spec[0]), spec[1])
        text = str(spec)
        if "::" in text:
            location, group = text.rsplit("::", 1)
            return cls(location, group or None)
        return cls(text)


@dataclass(frozen=True)
class EpisodeChunk:
    """New committed episodes of one group: the data of steps ``[start, stop)`` and their ends."""

    group: str
    start: int
    stop: int
    ends: np.ndarray  # episode ends (exclusive, in the group's step numbering) inside [start, stop]
    data: dict[str, np.ndarray]


class GroupFollower:
    """Reads the committed episodes of one group, each exactly once, in commit order."""

    def __init__(self, root: zarr.Group, location: str, name: str) -> None:
        self.location = location
        self.name = name
        self._root = root
        self.group, self.info = open_group(root, name)
        self.episodes_read = 0
        self.steps_read = 0

    def poll(self, keys: Sequence[str] | None = None) -> EpisodeChunk | None:
        """The episodes committed since the last poll (None if there are none)."""
        ends = read_episode_ends(self.group)
        if ends.size <= self.episodes_read:
            return None
        new_ends = ends[self.episodes_read:]
        start, stop = self.steps_read, int(new_ends[-1])
        keys = list(keys) if keys is not None else [f"data/images/{c}" for c in self.info.camera_names] + list(
            LEARNER_KEYS)
        data = read_range(self.group, keys, start, stop)
        self.episodes_read, self.steps_read = int(ends.size), stop
        return EpisodeChunk(self.name, start, stop, new_ends, data)


def read_range(group: zarr.Group, keys: Sequence[str], start: int, stop: int) -> dict[str, np.ndarray]:
    """Steps ``[start, stop)`` of each array, opened fresh so a writer's resize is seen."""
    out = {}
    for key in keys:
        out[key] = np.asarray(array(group, key)[start:stop])
    return out


class StoreFollower:
    """Follows one source spec: a single group, or every replay group of a store as they appear."""

    def __init__(self, spec: SourceSpec, storage_options: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self._storage_options = storage_options
        self._root = open_root(spec.location, "r", storage_options)
        self.groups: dict[str, GroupFollower] = {}
        self._discover()

    def _discover(self) -> None:
        names = [self.spec.group] if self.spec.group else group_names(self._root)
        for name in names:
            if name not in self.groups:
                self.groups[name] = GroupFollower(self._root, self.spec.location, name)

    def poll(self, keys: Sequence[str] | None = None) -> Iterator[EpisodeChunk]:
        if self.spec.group is None:
            self._root = open_root(self.spec.location, "r", self._storage_options)
            self._discover()
        for follower in self.groups.values():
            chunk = follower.poll(keys)
            if chunk is not None:
                yield chunk


def check_compatible(reference: GroupInfo, other: GroupInfo, where: str) -> None:
    """Groups sampled together must agree on what a step looks like."""
    for attr in ("camera_names", "image_size", "state_dim", "action_dim"):
        if getattr(reference, attr) != getattr(other, attr):
            raise IncompatibleStoreError(
                f"{where}: {attr}={getattr(other, attr)} differs from {getattr(reference, attr)} in the "
                "first group; sample groups with the same cameras, image size, state and action sizes")
