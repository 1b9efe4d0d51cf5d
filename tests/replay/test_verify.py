"""verify reads every committed chunk and names the episodes a damaged chunk belongs to."""
from __future__ import annotations

from pathlib import Path

import pytest

from robot_rl.replay import EpisodeWriter, verify
from tests.replay.synthetic import episode_length, small_info, write_episode


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        for e in range(6):
            write_episode(writer, e)
    return path


def _episodes_of_steps(a: int, b: int) -> list[int]:
    ends, total = [], 0
    for e in range(6):
        total += episode_length(e)
        ends.append(total)
    return [e for e in range(6) if (ends[e - 1] if e else 0) < b and ends[e] > a]


def test_a_clean_store_passes(store: Path) -> None:
    report = verify(store)
    assert report.ok and report.episodes == {"robot0": 6}


def test_a_truncated_chunk_is_reported_with_its_episodes(store: Path) -> None:
    chunk = store / "robot0/data/images/front/c/1/0/0/0"  # steps 16..31
    chunk.write_bytes(chunk.read_bytes()[:40])
    report = verify(store)
    assert not report.ok
    (problem,) = report.problems
    assert problem.array == "data/images/front" and problem.steps == (16, 32)
    assert problem.episodes == _episodes_of_steps(16, 32)
    assert "corrupt or truncated" in str(problem) and "episodes" in str(problem)


def test_a_flipped_byte_is_caught_by_the_checksum(store: Path) -> None:
    chunk = store / "robot0/data/images/wrist/c/2/0/0/0"  # steps 32..47
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x55
    chunk.write_bytes(bytes(data))
    (problem,) = verify(store).problems
    assert problem.array == "data/images/wrist" and problem.episodes == _episodes_of_steps(32, 48)


def test_a_missing_chunk_is_not_mistaken_for_zeros(store: Path) -> None:
    (store / "robot0/data/reward/c/0").unlink()
    (problem,) = verify(store).problems
    assert "missing" in problem.message and problem.episodes == list(range(6))
