"""rosbag2 export and import round-trip through the graph's topics; the CLI's commands and errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robot_rl.policy.state import STATE_DIM, policy_state
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step
from robot_rl.cli import main
from robot_rl.replay.follower import SourceSpec, StoreFollower
from robot_rl.replay.recorder import ACTION_NAMES

SCALE = [0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 1.0]


def _info() -> GroupInfo:
    return GroupInfo(camera_names=["wrist", "front"], image_size=(128, 128), state_dim=STATE_DIM,
                     action_dim=len(ACTION_NAMES), task="pick_cube", goal="pick up the cube", robot="panda_sim",
                     control_hz=10.0, action_names=list(ACTION_NAMES), action_scale=SCALE)


def _write(path: Path, episodes: int = 3) -> None:
    rng = np.random.default_rng(0)
    with EpisodeWriter(path, "panda_sim", _info()) as writer:
        t0 = 1000.0
        for e in range(episodes):
            writer.begin_episode()
            length = 5 + e
            for t in range(length):
                angle = 0.1 * t
                quat = [0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)]
                writer.append(Step(
                    images={c: rng.integers(0, 255, (128, 128, 3), dtype=np.uint8) for c in ("wrist", "front")},
                    state=policy_state([0.4, 0.01 * t, 0.2], quat, 0.3), action=rng.uniform(-1, 1, 7),
                    reward=float(t == length - 1 and e != 1), intervention=bool(t % 2),
                    source=Source.HUMAN if t % 2 else Source.POLICY,
                    policy_action=rng.uniform(-1, 1, 7), capture_time=t0 + t / 10.0))
            writer.end_episode(terminated=e != 2, truncated=e == 2)
            t0 += 100.0


def _all(path: Path, group: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    chunk = next(iter(StoreFollower(SourceSpec(str(path), group)).poll(
        ["data/images/wrist", "data/images/front", "data/state", "data/action", "data/reward", "data/intervention",
         "data/source", "data/terminated", "data/truncated", "data/policy_action"])))
    return chunk.ends, chunk.data


def test_export_then_import_gives_back_the_same_steps(tmp_path: Path) -> None:
    store, bag, again = tmp_path / "a.zarr", tmp_path / "bag", tmp_path / "b.zarr"
    _write(store)
    assert main(["replay", "export", str(store), str(bag), "--format", "rosbag2"]) == 0
    assert main(["replay", "import", str(bag), str(again), "--group", "imported",
                 "--override", "policy.max_linear_speed=0.1", "--override", "policy.max_angular_speed=0.5"]) == 0
    ends_a, a = _all(store, "panda_sim")
    ends_b, b = _all(again, "imported")
    np.testing.assert_array_equal(ends_a, ends_b)
    for key in ("data/images/wrist", "data/images/front", "data/intervention", "data/source",
                "data/terminated", "data/truncated", "data/reward"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for key in ("data/state", "data/action", "data/policy_action"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-5, err_msg=key)


def test_inspect_and_verify_report_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "a.zarr"
    _write(store, episodes=2)
    assert main(["replay", "inspect", str(store)]) == 0
    out = capsys.readouterr().out
    assert "panda_sim: 2 episodes, 11 steps" in out and "pick up the cube" in out
    assert main(["replay", "verify", str(store)]) == 0
    assert "ok:" in capsys.readouterr().out
    (store / "panda_sim/data/images/front/c/0/0/0/0").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    assert main(["replay", "verify", str(store)]) == 1
    assert "episodes 0-1" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["replay", "inspect", "{tmp}/missing.zarr"], "no replay store here"),
    (["replay", "export", "{store}", "{tmp}/x", "--format", "rosbag2", "--episodes", "7"], "has episodes 0-1"),
    (["replay", "export", "{store}", "{tmp}/x", "--format", "rosbag2", "--episodes", "a-b"], "use numbers"),
    (["replay", "export", "{store}", "{tmp}/x", "--format", "rosbag2", "--group", "nope"], "no such group"),
    (["replay", "import", "{tmp}/nobag", "{tmp}/c.zarr", "--group", "g"], "no rosbag2 recording"),
])
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                             words: str) -> None:
    store = tmp_path / "a.zarr"
    _write(store, episodes=2)
    code = main([a.format(tmp=tmp_path, store=store) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and words in err and "Traceback" not in err


def test_lerobot_export_writes_the_v21_layout(tmp_path: Path) -> None:
    import io
    import json

    import pyarrow.parquet as pq
    from PIL import Image as PILImage

    store, out = tmp_path / "a.zarr", tmp_path / "lerobot"
    _write(store)
    assert main(["replay", "export", str(store), str(out), "--format", "lerobot"]) == 0
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v2.1" and info["total_episodes"] == 3 and info["total_frames"] == 5 + 6 + 7
    assert info["features"]["observation.images.front"]["shape"] == [128, 128, 3]
    episodes = [json.loads(line) for line in (out / "meta/episodes.jsonl").read_text().splitlines()]
    assert [e["length"] for e in episodes] == [5, 6, 7] and episodes[0]["tasks"] == ["pick up the cube"]
    stats = json.loads((out / "meta/stats.json").read_text())
    assert np.array(stats["observation.images.wrist"]["mean"]).shape == (3, 1, 1)
    assert stats["action"]["count"] == [18]
    table = pq.read_table(out / "data/chunk-000/episode_000001.parquet")
    assert table.num_rows == 6 and table.column("index").to_pylist()[0] == 5
    _, data = _all(store, "panda_sim")
    png = table.column("observation.images.front").to_pylist()[2]["bytes"]
    decoded = np.asarray(PILImage.open(io.BytesIO(png)))
    np.testing.assert_array_equal(decoded, data["data/images/front"][5 + 2])  # lossless
    np.testing.assert_allclose(np.array(table.column("action").to_pylist()), data["data/action"][5:11], rtol=1e-6)
