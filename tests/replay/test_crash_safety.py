"""A writer killed with SIGKILL at random points never loses or corrupts a committed episode, and a
reader in another process never sees a partial one (issue 3, "Must show")."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from robot_rl.replay import EpisodeWriter, verify
from robot_rl.replay.follower import SourceSpec, StoreFollower
from tests.replay.synthetic import check_episode, small_info, write_episode

ROOT = Path(__file__).resolve().parents[2]
KILLS = 22


def _spawn(module: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _check_store(location: Path) -> int:
    """Every committed episode is exactly the one the writer meant; returns how many there are."""
    follower = StoreFollower(SourceSpec(str(location), "robot0"))
    chunk = next(iter(follower.poll()), None)
    if chunk is None:
        return 0
    start = 0
    for e, end in enumerate(chunk.ends):
        assert check_episode(chunk.data, start, int(end), e) is None
        start = int(end)
    return len(chunk.ends)


def _reader_output(reader: subprocess.Popen[str]) -> list[str]:
    reader.send_signal(signal.SIGTERM)
    out, _ = reader.communicate(timeout=30)
    return out.splitlines()


@pytest.mark.slow
def test_sigkill_at_random_points_keeps_every_committed_episode(tmp_path: Path) -> None:
    store = tmp_path / "replay.zarr"
    reader = _spawn("tests.replay.follow_reader", str(store), "300")
    rng = np.random.default_rng(3)
    promised = 0  # episodes the writer reported as committed before it was killed
    for kill in range(KILLS):
        writer = _spawn("tests.replay.crash_writer", str(store), str(kill))
        assert writer.stdout is not None
        ready = writer.stdout.readline()
        assert ready.startswith("ready"), writer.communicate()[1]
        assert int(ready.split()[1]) >= promised, "a committed episode disappeared across a crash"
        # At least one commit per writer, however loaded the machine: then a random point inside the next ones.
        first = writer.stdout.readline()
        assert first.startswith("committed"), writer.communicate()[1]
        time.sleep(float(rng.uniform(0.0, 0.2)))
        writer.send_signal(signal.SIGKILL)
        out, _ = writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        reported = [int(line.split()[1]) for line in [first, *out.splitlines()] if line.startswith("committed")]
        promised = max([promised, *reported])
        assert _check_store(store) >= promised

    lines = _reader_output(reader)
    assert not [line for line in lines if line.startswith("BAD")], lines
    assert any(line.startswith("seen") for line in lines), "the reader never saw an episode"

    report = verify(store)
    assert report.ok, [str(p) for p in report.problems]
    assert report.episodes["robot0"] >= promised >= KILLS  # every writer committed before it was killed

    with EpisodeWriter(store, "robot0") as writer:  # writing resumes into the same store
        before = writer.num_episodes
        write_episode(writer, before)
        write_episode(writer, before + 1)
    assert _check_store(store) == before + 2
    assert verify(store).ok


def test_reader_in_another_process_never_sees_a_partial_episode(tmp_path: Path) -> None:
    store = tmp_path / "replay.zarr"
    reader = _spawn("tests.replay.follow_reader", str(store), "60")
    with EpisodeWriter(store, "robot0", small_info()) as writer:
        deadline = time.monotonic() + 3.0
        e = 0
        while time.monotonic() < deadline:
            write_episode(writer, e)
            e += 1
    time.sleep(1.0)  # let the reader catch up
    lines = _reader_output(reader)
    assert not [line for line in lines if line.startswith("BAD")], lines
    seen = [int(line.split()[1]) for line in lines if line.startswith("seen")]
    assert len(seen) > 1, "the reader should see the store grow in several steps"
    assert seen[-1] == e
