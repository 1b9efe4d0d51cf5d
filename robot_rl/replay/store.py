"""Open a replay store and its groups, local or remote, and refuse anything that is not one.

A store is a Zarr v3 group whose attributes carry ``robot_rl_replay.schema_version``; each child
group with the same marker holds one writer's episodes. Any fsspec URL works for reading
(``s3://``, ``gs://``, ``file://``, ...); a local path additionally gets a writer lock.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import zarr
from zarr.errors import GroupNotFoundError

from robot_rl.replay.errors import ForeignStoreError, WriterBusyError
from robot_rl.replay.schema import ATTR_KEY, EPISODE_ENDS, SCHEMA_VERSION, GroupInfo, check_version, committed_ends


def is_url(location: str) -> bool:
    return "://" in location


def open_root(location: str | os.PathLike[str], mode: Literal["r", "a"] = "r",
              storage_options: dict[str, Any] | None = None) -> zarr.Group:
    """Open the store's root group; ``mode="a"`` creates a new store where there is nothing yet.

    Raises ForeignStoreError for a path that holds something other than a replay store, and
    SchemaVersionError for a replay store of a version this code does not read.
    """
    where = str(location)
    kwargs: dict[str, Any] = {"storage_options": storage_options} if is_url(where) and storage_options else {}
    if not is_url(where) and mode == "r" and not Path(where).exists():
        raise ForeignStoreError(f"{where}: no replay store here (the path does not exist); check the path")
    if not is_url(where) and Path(where).is_file():
        raise ForeignStoreError(f"{where}: is a file, not a Zarr replay store directory")
    try:
        root = zarr.open_group(where, mode="r", zarr_format=3, **kwargs)
    except (GroupNotFoundError, FileNotFoundError):
        if mode == "r":
            raise ForeignStoreError(f"{where}: no Zarr v3 group here; is this a robot_rl replay store?") from None
        if not is_url(where) and Path(where).is_dir() and any(Path(where).iterdir()):
            raise ForeignStoreError(f"{where}: the directory is not empty and is not a replay store; "
                                    "choose a new path") from None
        root = zarr.open_group(where, mode="a", zarr_format=3, **kwargs)
        root.attrs[ATTR_KEY] = {"schema_version": SCHEMA_VERSION}
        return root
    except (ValueError, TypeError, KeyError) as err:  # zarr v2 stores, arrays at the root, bad JSON
        raise ForeignStoreError(f"{where}: not a readable Zarr v3 group ({err}); "
                                "is this a robot_rl replay store?") from None
    marker = root.attrs.get(ATTR_KEY)
    if not isinstance(marker, dict):
        raise ForeignStoreError(f"{where}: a Zarr store, but not a robot_rl replay store (no {ATTR_KEY!r} "
                                "attribute); point at a store written by robot_rl, or choose a new path")
    check_version(marker, where)
    if mode == "a":
        root = zarr.open_group(where, mode="r+", zarr_format=3, **kwargs)
    return root


EPISODE_META = "meta/episodes"  # one child group per episode index whose attributes are its metadata


def episode_metadata(group: zarr.Group, index: int) -> dict[str, Any]:
    """The metadata an episode was committed with ({} when none was given, or for stores without it)."""
    try:
        child = group[f"{EPISODE_META}/{int(index)}"]
    except KeyError:
        return {}
    return dict(child.attrs) if isinstance(child, zarr.Group) else {}


def group_names(root: zarr.Group) -> list[str]:
    """The replay groups of a store, sorted; children without the replay marker are ignored."""
    names = []
    for name, child in root.groups():
        if isinstance(child.attrs.get(ATTR_KEY), dict):
            names.append(name)
    return sorted(names)


def open_group(root: zarr.Group, name: str) -> tuple[zarr.Group, GroupInfo]:
    """One replay group and its validated description."""
    where = f"{_location(root)}::{name}"
    try:
        group = root[name]
    except KeyError:
        have = ", ".join(group_names(root)) or "none"
        raise ForeignStoreError(f"{where}: no such group (groups in this store: {have})") from None
    if not isinstance(group, zarr.Group) or not isinstance(group.attrs.get(ATTR_KEY), dict):
        raise ForeignStoreError(f"{where}: not a robot_rl replay group")
    info = GroupInfo.from_attrs(dict(group.attrs[ATTR_KEY]), where)  # type: ignore[arg-type]
    return group, info


def array(group: zarr.Group, path: str) -> zarr.Array:
    """The array at ``path`` in ``group``, metadata read fresh (a writer may have resized it)."""
    arr = group[path]
    if not isinstance(arr, zarr.Array):
        raise ForeignStoreError(f"{path} in the replay group is not an array; the store is damaged")
    return arr


def read_episode_ends(group: zarr.Group) -> np.ndarray:
    """The committed episode ends of a group, read fresh from the store (never cached)."""
    return committed_ends(np.asarray(array(group, EPISODE_ENDS)[:]))


def episode_starts(ends: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], ends[:-1])).astype(np.int64)


def _location(root: zarr.Group) -> str:
    store = root.store
    return str(getattr(store, "root", None) or getattr(store, "path", None) or store)


class WriterLock:
    """An advisory ``flock`` on the group's ``zarr.json`` for local stores: one writer per group.

    The kernel drops the lock when the process dies, even by SIGKILL, so a crashed writer never
    blocks the next one. The group's metadata file is written once, at creation, so its inode is
    stable; a separate lock file would show up as a stray object in Zarr listings. Remote stores
    get no lock: keep one writer per group by naming groups after robots or sessions.
    """

    def __init__(self, location: str, group: str) -> None:
        self._file: IO[str] | None = None
        if is_url(location):
            return
        path = Path(location) / group / "zarr.json"
        self._file = open(path)  # noqa: SIM115 - held for the writer's lifetime
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise WriterBusyError(f"{location}::{group}: another process is writing this group; "
                                  "stop it, or write to another group") from None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
