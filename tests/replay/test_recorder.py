"""StepRecorder: an episode the operator ends as success carries the success reward on its last step."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from robot_rl.perception import CameraFrame, FrameBuffers, ObservationAssembler, StateHistory
from robot_rl.replay import EpisodeWriter, GroupInfo
from robot_rl.replay.follower import read_range
from robot_rl.replay.recorder import SUCCESS_REWARD, StepRecorder
from robot_rl.replay.store import open_group, open_root, read_episode_ends
from robot_rl.reward.data import load_episodes

SIZE = 16


def _record(recorder: StepRecorder, frames: FrameBuffers, states: StateHistory, t0: float, steps: int,
            end: str, reward_before_end: float = 0.0) -> None:
    recorder.set_status("running")
    for k in range(steps):
        t = t0 + 0.1 * k
        frames.put(CameraFrame("front", np.full((SIZE, SIZE, 3), k, np.uint8), t, t))
        states.put(t, np.zeros(2))
        recorder.set_twist("command", [0.01, 0.0, 0.0], [0.0, 0.0, 0.0], t)
        assert recorder.tick(t + 0.01) == "recorded"
    if reward_before_end:
        recorder.set_reward(reward_before_end)
    recorder.set_status(end)


def test_operator_success_leaves_the_success_reward_on_the_last_step(tmp_path: Path) -> None:
    # regression: mark_success without a reward node left reward 0 everywhere, so reward training
    # read the operator's successful episodes as failures
    store = str(tmp_path / "store.zarr")
    info = GroupInfo(camera_names=["front"], image_size=(SIZE, SIZE), state_dim=2, action_dim=7, goal="pick")
    frames, states = FrameBuffers(["front"]), StateHistory(2)
    with EpisodeWriter(store, "g", info) as writer:
        recorder = StepRecorder(writer, ObservationAssembler(frames, states, ["front"], 0.5, SIZE), [1.0] * 7, 0.5)
        _record(recorder, frames, states, 100.0, 4, "success")  # the operator's mark_success
        _record(recorder, frames, states, 200.0, 3, "failure")
        _record(recorder, frames, states, 300.0, 3, "failure", reward_before_end=0.25)  # a late reward is kept
        _record(recorder, frames, states, 400.0, 2, "timeout")
    group, _ = open_group(open_root(store, "r"), "g")
    np.testing.assert_array_equal(read_episode_ends(group), [4, 7, 10, 12])
    reward = read_range(group, ["data/reward"], 0, 12)["data/reward"]
    np.testing.assert_array_equal(reward, [0, 0, 0, SUCCESS_REWARD, 0, 0, 0, 0, 0, 0.25, 0, 0])
    outcomes = [e.success for e in load_episodes(store, image_size=SIZE)]
    assert outcomes == [True, False, False, False]
