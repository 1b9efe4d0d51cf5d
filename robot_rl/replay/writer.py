"""Stream episodes into a replay group: buffer in RAM, commit data first and the index last.

    with EpisodeWriter("runs/sim/replay.zarr", "panda_sim", info) as writer:
        writer.begin_episode()
        writer.append(Step(images={"wrist": w, "front": f}, state=s, action=a, reward=r))
        writer.end_episode(terminated=True)      # now visible to every reader

A step is validated before it is buffered, so a bad one raises ``StepError`` and changes nothing.
A process that dies mid-episode loses that episode only: its data was either never written or lies
past the last committed end, where readers never look and the next commit overwrites it.
"""
from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.core.sync import sync

from robot_rl.replay.errors import EpisodeStateError, IncompatibleStoreError, StepError
from robot_rl.replay.schema import ATTR_KEY, EPISODE_ENDS, EPISODE_ENDS_CHUNK, GroupInfo, Source, writer_identity
from robot_rl.replay.store import EPISODE_META, WriterLock, array, is_url, open_group, open_root, read_episode_ends

_SOURCES = {int(s) for s in Source}


@dataclass
class Step:
    """One control step: the observation, the action taken from it and the reward that followed."""

    images: Mapping[str, np.ndarray]  # camera name -> (H, W, 3) uint8 RGB
    state: Any  # (state_dim,) proprioception
    action: Any  # (action_dim,) the action the arm executed
    reward: float = 0.0
    source: int = Source.POLICY
    intervention: bool = False
    policy_action: Any = None  # what the policy proposed, if it proposed something
    human_action: Any = None  # what the operator commanded, if anything
    capture_time: float = math.nan
    receive_time: float = math.nan


@dataclass
class _Buffer:
    columns: dict[str, list[Any]] = field(default_factory=dict)
    length: int = 0


class EpisodeWriter:
    """The only writer of one replay group (enforced by a lock file on local stores).

    ``background=True`` commits on a worker thread, so a control loop is not held up by compression;
    ``flush()`` waits for it and re-raises anything it hit.
    """

    def __init__(self, location: str | os.PathLike[str], group: str, info: GroupInfo | None = None, *,
                 storage_options: dict[str, Any] | None = None, program: str = "",
                 background: bool = False) -> None:
        self.location = str(location)
        self.group_name = group
        root = open_root(self.location, "a", storage_options)
        if not (group in root and ATTR_KEY in root[group].attrs):
            if info is None:
                raise EpisodeStateError(f"{self.location}::{group}: the group does not exist yet; "
                                        "pass a GroupInfo to create it")
            # (a group without the marker is one whose creation was interrupted: recreate it)
            info.writer = info.writer or writer_identity(program)
            _create_group(root, group, info)
        self._lock = WriterLock(self.location, group)
        try:
            self._group, self.info = open_group(root, group)
            if info is not None:
                _check_same(self.info, info, f"{self.location}::{group}")
            self._remove_partial_files()
            cfg: Any = {"write_empty_chunks": True}
            self._arrays = {s.path: array(self._group, s.path).with_config(cfg) for s in self.info.array_specs()}
            self._ends = array(self._group, EPISODE_ENDS).with_config(cfg)
        except BaseException:
            self._lock.release()
            raise
        ends = read_episode_ends(self._group)
        self._num_episodes = int(ends.size)
        self._num_steps = int(ends[-1]) if ends.size else 0
        self._buffer: _Buffer | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-commit") if background else None
        self._pending: Future[None] | None = None

    # -- episode API -------------------------------------------------------------------------------

    @property
    def num_episodes(self) -> int:
        """Committed episodes (with ``background=True``, after the pending commit finishes)."""
        return self._num_episodes

    @property
    def num_steps(self) -> int:
        return self._num_steps

    @property
    def episode_length(self) -> int:
        """Steps buffered in the current episode (0 outside an episode)."""
        return self._buffer.length if self._buffer else 0

    @property
    def in_episode(self) -> bool:
        return self._buffer is not None

    def begin_episode(self) -> None:
        if self._buffer is not None:
            raise EpisodeStateError("begin_episode() while an episode is open: end_episode() or abort() first")
        self._buffer = _Buffer({s.path: [] for s in self.info.array_specs()})

    def append(self, step: Step) -> None:
        """Validate and buffer one step; raises StepError (and buffers nothing) on a malformed step."""
        if self._buffer is None:
            raise EpisodeStateError("append() outside an episode: call begin_episode() first")
        row = self._validate(step)
        for key, value in row.items():
            self._buffer.columns[key].append(value)
        self._buffer.length += 1

    def abort(self) -> None:
        """Drop the current episode; nothing of it was written."""
        self._buffer = None

    def set_episode_source(self, source: int) -> None:
        """Relabel every buffered step of the current episode but reset steps (e.g. a whole demonstration)."""
        if self._buffer is None:
            raise EpisodeStateError("set_episode_source() outside an episode: call begin_episode() first")
        if int(source) not in _SOURCES:
            raise StepError(f"source {source} unknown: use robot_rl.replay.Source")
        column = self._buffer.columns["data/source"]
        self._buffer.columns["data/source"] = [v if v == Source.RESET else np.uint8(source) for v in column]

    def amend_last_reward(self, reward: float) -> None:
        """Set the reward of the last buffered step (a reward that arrived after that step was recorded)."""
        if self._buffer is None or self._buffer.length == 0:
            raise EpisodeStateError("amend_last_reward() needs an open episode with at least one step")
        if not math.isfinite(float(reward)):
            raise StepError(f"reward {reward} is not finite")
        self._buffer.columns["data/reward"][-1] = np.float32(reward)

    def end_episode(self, terminated: bool = False, truncated: bool = False,
                    metadata: Mapping[str, Any] | None = None) -> int:
        """Commit the current episode and return its index; an empty episode is dropped (returns -1).

        ``terminated``: the task ended (success or failure), no bootstrapping past the last step.
        ``truncated``: a time limit cut it; the last step has no successor to learn from.
        ``metadata``: JSON-able facts about the episode that no step holds (e.g. the simulator's initial
        cube position, for ``robot-rl sim2real``); read back with ``robot_rl.replay.store.episode_metadata``.
        """
        if self._buffer is None:
            raise EpisodeStateError("end_episode() outside an episode: call begin_episode() first")
        buffer, self._buffer = self._buffer, None
        if buffer.length == 0:
            return -1
        data = {key: np.stack(values) for key, values in buffer.columns.items()}
        data["data/terminated"][-1] = bool(terminated)
        data["data/truncated"][-1] = bool(truncated) and not terminated
        index = self._num_episodes + (0 if self._pending is None or self._pending.done() else 1)
        meta = dict(metadata) if metadata else None
        if self._pool is None:
            self.commit(data, meta)
        else:
            self.flush()
            self._pending = self._pool.submit(self.commit, data, meta)
        return index

    def commit(self, data: Mapping[str, np.ndarray], metadata: Mapping[str, Any] | None = None) -> None:
        """Write one whole episode (arrays keyed by schema path), data first, then its end in the index.

        Each chunk write replaces a file atomically, so a crash leaves every committed episode intact.
        Episode metadata goes into its own group (``meta/episodes/<index>``, written once) before the
        index entry, so a committed episode always has the metadata it was committed with.
        """
        length = len(data["data/action"])
        start, stop = self._num_steps, self._num_steps + length
        sync(self._write_all(start, stop, data))
        if metadata:
            self._group.create_group(f"{EPISODE_META}/{self._num_episodes}", overwrite=True,
                                     attributes=dict(metadata))
        if self._ends.shape[0] <= self._num_episodes:
            self._ends.resize((self._ends.shape[0] + EPISODE_ENDS_CHUNK,))
        self._ends[self._num_episodes] = stop  # the commit point: one atomic chunk write
        self._num_episodes += 1
        self._num_steps = stop

    async def _write_all(self, start: int, stop: int, data: Mapping[str, np.ndarray]) -> None:
        """Write every array concurrently; zarr's per-call latency, not compression, dominates otherwise.

        Arrays grow by doubling, so the metadata is rewritten O(log n) times instead of per episode.
        """
        async def write(path: str, arr: zarr.Array) -> None:
            aarr = arr._async_array  # the same array, without a blocking round trip per call
            if aarr.shape[0] < stop:
                grow = max(stop, 2 * aarr.shape[0], 2 * arr.chunks[0])
                await aarr.resize((grow, *aarr.shape[1:]), delete_outside_chunks=False)
            await aarr.setitem(slice(start, stop), data[path])

        await asyncio.gather(*(write(path, arr) for path, arr in self._arrays.items()))

    def flush(self) -> None:
        """Wait for a background commit and re-raise its error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Finish pending commits and release the lock; an open episode is dropped (not committed)."""
        try:
            self.flush()
        finally:
            self._buffer = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._lock.release()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------

    def _validate(self, step: Step) -> dict[str, Any]:
        info = self.info
        h, w = info.image_size
        images = dict(step.images)
        if set(images) != set(info.camera_names):
            raise StepError(f"step images {sorted(images)} do not match the group's cameras "
                            f"{info.camera_names}")
        row: dict[str, Any] = {}
        for name in info.camera_names:
            img = images[name]
            if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.shape != (h, w, 3):
                shape = getattr(img, "shape", None)
                dtype = getattr(img, "dtype", type(img).__name__)
                raise StepError(f"step image {name!r}: got shape {shape} dtype {dtype}, expected ({h}, {w}, 3) "
                                "uint8 RGB; resize to the group's image_size before appending")
            row[f"data/images/{name}"] = img
        row["data/state"] = _vector(step.state, info.state_dim, "state", allow_missing=False)
        row["data/action"] = _vector(step.action, info.action_dim, "action", allow_missing=False)
        row["data/policy_action"] = _vector(step.policy_action, info.action_dim, "policy_action", True)
        row["data/human_action"] = _vector(step.human_action, info.action_dim, "human_action", True)
        reward = float(step.reward)
        if not math.isfinite(reward):
            raise StepError(f"step reward {reward} is not finite")
        source = int(step.source)
        if source not in _SOURCES:
            raise StepError(f"step source {source} unknown: use robot_rl.replay.Source "
                            f"({', '.join(f'{s.value}={s.name.lower()}' for s in Source)})")
        row["data/reward"] = np.float32(reward)
        row["data/intervention"] = bool(step.intervention)
        row["data/source"] = np.uint8(source)
        row["data/terminated"] = False
        row["data/truncated"] = False
        row["data/capture_time"] = float(step.capture_time)
        row["data/receive_time"] = float(step.receive_time)
        return row

    def _remove_partial_files(self) -> None:
        """Delete temporary files a killed writer left mid-rename (never part of the data)."""
        if is_url(self.location):
            return
        for path in (Path(self.location) / self.group_name).rglob("*.partial"):
            path.unlink(missing_ok=True)


def _vector(value: Any, dim: int, name: str, allow_missing: bool) -> np.ndarray:
    if value is None:
        if allow_missing:
            return np.full(dim, np.nan, dtype=np.float32)
        raise StepError(f"step {name} is missing")
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise StepError(f"step {name} is not numeric: {value!r}") from None
    if arr.shape != (dim,):
        raise StepError(f"step {name}: shape {arr.shape}, expected ({dim},)")
    if not np.all(np.isfinite(arr)):
        raise StepError(f"step {name} contains NaN or inf: {arr.tolist()}; fix the source of the {name} "
                        "(a stale or uninitialised message?)")
    return arr


def _create_group(root: zarr.Group, name: str, info: GroupInfo) -> zarr.Group:
    """Create every array first and mark the group last, so a half-created group is never opened."""
    group = root.create_group(name, overwrite=True)
    for spec in info.array_specs():
        spec.create(group)
    group.create_array(EPISODE_ENDS, shape=(EPISODE_ENDS_CHUNK,), chunks=(EPISODE_ENDS_CHUNK,), dtype="int64",
                       fill_value=0, config={"write_empty_chunks": True})
    group.attrs[ATTR_KEY] = info.to_attrs()
    return group


def _check_same(have: GroupInfo, want: GroupInfo, where: str) -> None:
    for attr in ("camera_names", "image_size", "state_dim", "action_dim"):
        if getattr(have, attr) != getattr(want, attr):
            raise IncompatibleStoreError(
                f"{where}: the group holds {attr}={getattr(have, attr)}, this writer has "
                f"{getattr(want, attr)}; write to a new group or a new store")
