"""The writer refuses bad input without changing anything, and refuses stores it must not touch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from robot_rl.replay import (
    EpisodeStateError,
    EpisodeWriter,
    ForeignStoreError,
    IncompatibleStoreError,
    ReplaySampler,
    SchemaVersionError,
    StepError,
    WriterBusyError,
    verify,
)
from robot_rl.replay.follower import SourceSpec, StoreFollower
from robot_rl.replay.schema import ATTR_KEY
from tests.replay.synthetic import SIZE, check_episode, episode_steps, small_info, write_episode


def _committed(store: Path) -> int:
    return sum(len(c.ends) for c in StoreFollower(SourceSpec(str(store), "robot0")).poll())


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        write_episode(writer, 0)
    return path


def _bad(step_kw: dict[str, object]) -> object:
    step = episode_steps(1)[0]
    for key, value in step_kw.items():
        setattr(step, key, value)
    return step


@pytest.mark.parametrize(("change", "words"), [
    ({"images": {"wrist": np.zeros((SIZE, SIZE + 1, 3), np.uint8), "front": np.zeros((SIZE, SIZE, 3), np.uint8)}},
     "shape (16, 17, 3)"),
    ({"images": {"wrist": np.zeros((SIZE, SIZE, 3), np.float32), "front": np.zeros((SIZE, SIZE, 3), np.uint8)}},
     "dtype float32"),
    ({"images": {"wrist": np.zeros((SIZE, SIZE, 3), np.uint8)}}, "do not match the group's cameras"),
    ({"action": np.array([np.nan, 0.0], np.float32)}, "NaN"),
    ({"action": np.zeros(3, np.float32)}, "expected (2,)"),
    ({"reward": float("inf")}, "not finite"),
    ({"source": 9}, "unknown"),
])
def test_a_bad_step_raises_and_changes_nothing(store: Path, change: dict[str, object], words: str) -> None:
    with EpisodeWriter(store, "robot0") as writer:
        writer.begin_episode()
        for step in episode_steps(1)[:2]:
            writer.append(step)
        with pytest.raises(StepError, match=None) as err:
            writer.append(_bad(change))  # type: ignore[arg-type]
        assert words in str(err.value)
        assert writer.episode_length == 2  # the bad step was not buffered
        for step in episode_steps(1)[2:]:
            writer.append(step)
        writer.end_episode(truncated=True)
    follower = StoreFollower(SourceSpec(str(store), "robot0"))
    chunk = next(iter(follower.poll()))
    assert check_episode(chunk.data, int(chunk.ends[0]), int(chunk.ends[1]), 1) is None
    assert verify(store).ok


def test_an_aborted_episode_leaves_nothing_visible(store: Path) -> None:
    with EpisodeWriter(store, "robot0") as writer:
        writer.begin_episode()
        for step in episode_steps(1):
            writer.append(step)
        writer.abort()
        assert writer.num_episodes == 1
    assert _committed(store) == 1
    with EpisodeWriter(store, "robot0") as writer:  # an open episode at close is dropped as well
        writer.begin_episode()
        writer.append(episode_steps(1)[0])
    assert _committed(store) == 1


def test_unknown_schema_version_is_refused_by_name(store: Path) -> None:
    root = zarr.open_group(store, mode="r+")
    root.attrs[ATTR_KEY] = {"schema_version": 99}
    for open_it in (lambda: ReplaySampler(str(store)), lambda: EpisodeWriter(store, "robot0"), lambda: verify(store)):
        with pytest.raises(SchemaVersionError, match="version 99 is not supported"):
            open_it()


def test_unknown_group_schema_version_is_refused(store: Path) -> None:
    group = zarr.open_group(store / "robot0", mode="r+")
    attrs = dict(group.attrs[ATTR_KEY])
    attrs["schema_version"] = 7
    group.attrs[ATTR_KEY] = attrs
    with pytest.raises(SchemaVersionError, match="version 7"):
        ReplaySampler(str(store))


def test_a_foreign_zarr_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.zarr"
    zarr.open_group(path, mode="w").create_array("x", shape=(3,), dtype="f4")
    for open_it in (lambda: ReplaySampler(str(path)), lambda: EpisodeWriter(path, "robot0", small_info())):
        with pytest.raises(ForeignStoreError, match="not a robot_rl replay store"):
            open_it()
    assert sorted(p.name for p in path.iterdir()) == ["x", "zarr.json"]
    with pytest.raises(ForeignStoreError, match="does not exist"):
        ReplaySampler(str(tmp_path / "missing.zarr"))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine")
    with pytest.raises(ForeignStoreError, match="not empty"):
        EpisodeWriter(tmp_path / "notes", "robot0", small_info())


def test_one_writer_per_group(store: Path) -> None:
    with EpisodeWriter(store, "robot0"):
        with pytest.raises(WriterBusyError, match="another process is writing"):
            EpisodeWriter(store, "robot0")
    with EpisodeWriter(store, "robot0"):  # released on close
        pass


def test_reopening_with_a_different_layout_is_refused(store: Path) -> None:
    info = small_info()
    info.action_dim = 7
    with pytest.raises(IncompatibleStoreError, match="action_dim"):
        EpisodeWriter(store, "robot0", info)


def test_calls_out_of_order_say_what_to_do(store: Path) -> None:
    with EpisodeWriter(store, "robot0") as writer:
        with pytest.raises(EpisodeStateError, match="begin_episode"):
            writer.append(episode_steps(0)[0])
        writer.begin_episode()
        with pytest.raises(EpisodeStateError, match="end_episode"):
            writer.begin_episode()
        assert writer.end_episode() == -1  # an empty episode is dropped


def test_background_commits_land_in_order(tmp_path: Path) -> None:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info(), background=True) as writer:
        for e in range(5):
            write_episode(writer, e)
    assert _committed(path) == 5
    chunk = next(iter(StoreFollower(SourceSpec(str(path), "robot0")).poll()))
    starts = [0, *chunk.ends[:-1]]
    assert all(check_episode(chunk.data, int(s), int(t), e) is None for e, (s, t) in enumerate(zip(starts, chunk.ends)))
