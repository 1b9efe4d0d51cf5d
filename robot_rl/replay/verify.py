"""Check that every committed episode of a store is readable and consistent, and say which is not.

Each chunk of every array is read back (the zstd frame checksum catches a flipped bit, the frame
length a truncated file), and chunks that should exist but do not are reported, because Zarr would
silently return fill values for them. Problems name the episodes they touch, so a damaged store can
be trimmed or re-exported without the bad episodes.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr
from zarr.core.sync import sync

from robot_rl.replay.errors import ForeignStoreError
from robot_rl.replay.schema import EPISODE_ENDS, Source, committed_ends
from robot_rl.replay.store import array, episode_starts, group_names, open_group, open_root, read_episode_ends

_SOURCE_CODES = [int(s) for s in Source]


@dataclass
class Problem:
    group: str
    array: str
    message: str
    steps: tuple[int, int] | None = None  # [start, stop) of the affected steps
    episodes: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"{self.group}/{self.array}"
        if self.steps is not None:
            where += f" steps {self.steps[0]}..{self.steps[1] - 1}"
        eps = f" (episodes {_ranges(self.episodes)})" if self.episodes else ""
        return f"{where}: {self.message}{eps}"


@dataclass
class VerifyReport:
    location: str
    episodes: dict[str, int] = field(default_factory=dict)  # group -> committed episodes
    steps: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad_episodes(self, group: str) -> list[int]:
        return sorted({e for p in self.problems if p.group == group for e in p.episodes})


def verify(location: str | os.PathLike[str], storage_options: dict[str, Any] | None = None,
           on_chunk: Callable[[], None] | None = None) -> VerifyReport:
    """Read every committed chunk of every group; raise ReplayError only if the store cannot be opened."""
    root = open_root(str(location), "r", storage_options)
    report = VerifyReport(str(location))
    for name in group_names(root):
        _verify_group(root, name, report, on_chunk)
    return report


def count_chunks(location: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> int:
    """How many chunks ``verify`` will read (for a progress bar)."""
    root = open_root(str(location), "r", storage_options)
    total = 0
    for name in group_names(root):
        group, info = open_group(root, name)
        ends = read_episode_ends(group)
        n = int(ends[-1]) if ends.size else 0
        total += sum(-(-n // spec.chunk_steps) for spec in info.array_specs())
    return total


def _verify_group(root: zarr.Group, name: str, report: VerifyReport, on_chunk: Callable[[], None] | None) -> None:
    group, info = open_group(root, name)
    try:
        raw_ends = np.asarray(array(group, EPISODE_ENDS)[:], dtype=np.int64)
    except Exception as err:  # noqa: BLE001 - any decode failure is a finding, not a crash
        report.problems.append(Problem(name, EPISODE_ENDS, f"the episode index is unreadable: {err}"))
        return
    ends = committed_ends(raw_ends)
    if np.any(raw_ends[ends.size:] != 0):
        report.problems.append(Problem(name, EPISODE_ENDS, "entries after the last commit are not zero: "
                                       "the index was written out of order or damaged"))
    n = int(ends[-1]) if ends.size else 0
    report.episodes[name], report.steps[name] = int(ends.size), n
    starts = episode_starts(ends)

    def episodes_in(a: int, b: int) -> list[int]:
        return list(range(int(np.searchsorted(ends, a, side="right")), int(np.searchsorted(ends, b - 1, side="right")) + 1)) if b > a else []

    arrays: dict[str, np.ndarray] = {}
    for spec in info.array_specs():
        try:
            arr = array(group, spec.path)
        except (KeyError, ForeignStoreError):
            report.problems.append(Problem(name, spec.path, "array missing", (0, n), episodes_in(0, n)))
            continue
        if arr.shape[0] < n or tuple(arr.shape[1:]) != spec.step_shape or str(arr.dtype) != spec.dtype:
            report.problems.append(Problem(name, spec.path, f"shape {arr.shape} dtype {arr.dtype} does not hold "
                                           f"{n} steps of {spec.step_shape} {spec.dtype}", (0, n), episodes_in(0, n)))
            continue
        cs = arr.chunks[0]
        keep = not spec.path.startswith("data/images/")
        parts: list[np.ndarray | None] = []
        for c in range(-(-n // cs)):
            a, b = c * cs, min((c + 1) * cs, n)
            key = f"{arr.path}/{arr.metadata.encode_chunk_key((c,) + (0,) * len(spec.step_shape))}"
            if on_chunk is not None:
                on_chunk()
            if not sync(arr.store_path.store.exists(key)):
                report.problems.append(Problem(name, spec.path, f"chunk {key!r} is missing", (a, b), episodes_in(a, b)))
                parts.append(None)
                continue
            try:
                values = arr[a:b]
            except Exception as err:  # noqa: BLE001
                report.problems.append(Problem(name, spec.path, f"chunk {key!r} is corrupt or truncated "
                                               f"({type(err).__name__}: {err})", (a, b), episodes_in(a, b)))
                parts.append(None)
                continue
            parts.append(np.asarray(values) if keep else None)
        if keep and parts and all(p is not None for p in parts):
            arrays[spec.path] = np.concatenate(parts)  # type: ignore[arg-type]
    _check_content(name, arrays, starts, ends, report, episodes_in)


def _check_content(name: str, arrays: dict[str, np.ndarray], starts: np.ndarray, ends: np.ndarray,
                   report: VerifyReport, episodes_in: Callable[[int, int], list[int]]) -> None:
    """Per-step invariants the writer guarantees; a violation means the data was altered."""
    def flag(path: str, bad: np.ndarray, message: str) -> None:
        where = np.flatnonzero(bad)
        if where.size:
            eps = sorted({e for i in where for e in episodes_in(int(i), int(i) + 1)})
            report.problems.append(Problem(name, path, f"{message} at {where.size} steps", None, eps))

    if "data/action" in arrays:
        flag("data/action", ~np.isfinite(arrays["data/action"]).all(axis=1), "NaN or inf in the action")
    if "data/source" in arrays:
        flag("data/source", ~np.isin(arrays["data/source"], _SOURCE_CODES), "unknown source code")
    last = np.zeros(int(ends[-1]) if ends.size else 0, dtype=bool)
    last[ends - 1] = True
    for key in ("data/terminated", "data/truncated"):
        if key in arrays:
            flag(key, arrays[key].astype(bool) & ~last, "flag set before the episode's last step")
    if "data/terminated" in arrays and "data/truncated" in arrays:
        flag("data/truncated", arrays["data/terminated"] & arrays["data/truncated"], "both terminated and truncated")


def _ranges(values: list[int]) -> str:
    out, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        out.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ", ".join(out)
