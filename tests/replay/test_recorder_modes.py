"""StepRecorder in a session mode: steps nobody took over carry the mode's source, episodes its metadata."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from robot_rl.perception import CameraFrame, FrameBuffers, ObservationAssembler, StateHistory
from robot_rl.replay import EpisodeWriter, GroupInfo, Source
from robot_rl.replay.follower import read_range
from robot_rl.replay.recorder import StepRecorder
from robot_rl.replay.store import episode_metadata, open_group, open_root

SIZE = 16
SESSION = {"mode": "replay", "source": {"path": "demos.zarr", "group": "", "episode": 2, "step": 0}}


def test_a_replay_session_tags_its_steps_and_episodes(tmp_path: Path) -> None:
    store = str(tmp_path / "store.zarr")
    info = GroupInfo(camera_names=["front"], image_size=(SIZE, SIZE), state_dim=2, action_dim=7)
    frames, states = FrameBuffers(["front"]), StateHistory(2)
    with EpisodeWriter(store, "g", info) as writer:
        recorder = StepRecorder(writer, ObservationAssembler(frames, states, ["front"], 0.5, SIZE), [1.0] * 7, 0.5,
                                source=Source.REPLAY, metadata=SESSION)
        recorder.set_status("running")
        for k in range(4):
            t = 10.0 + 0.1 * k
            frames.put(CameraFrame("front", np.zeros((SIZE, SIZE, 3), np.uint8), t, t))
            states.put(t, np.zeros(2))
            recorder.set_intervening(k == 2)  # the operator took over for one step
            recorder.set_twist("command", [0.01, 0.0, 0.0], [0.0, 0.0, 0.0], t)
            recorder.set_twist("human", [0.01, 0.0, 0.0], [0.0, 0.0, 0.0], t)
            assert recorder.tick(t + 0.01) == "recorded"
        recorder.set_status("failure")
    group, _ = open_group(open_root(store, "r"), "g")
    source = read_range(group, ["data/source"], 0, 4)["data/source"]
    np.testing.assert_array_equal(source, [Source.REPLAY, Source.REPLAY, Source.HUMAN, Source.REPLAY])
    meta = episode_metadata(group, 0)
    assert meta["mode"] == "replay" and meta["source"]["episode"] == 2 and meta["outcome"] == "failure"
