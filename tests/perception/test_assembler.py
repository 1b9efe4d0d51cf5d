"""Observation assembly: fresh frames + nearest state; a stopped camera or old state makes it stale."""
from __future__ import annotations

import math

import numpy as np
import pytest

from robot_rl.perception.assembler import STATE, Observation, ObservationAssembler, StaleObservation, StateFormatError, StateHistory
from robot_rl.perception.frames import CameraFrame, FrameBuffers


def put(buffers: FrameBuffers, camera: str, capture: float, n: int = 0) -> None:
    image = np.full((48, 64, 3), n, np.uint8)
    buffers.put(CameraFrame(camera, image, capture, capture + 0.005, frame_number=n))


def make(max_age: float = 0.2) -> tuple[FrameBuffers, StateHistory, ObservationAssembler]:
    buffers = FrameBuffers(["wrist", "front"])
    states = StateHistory(state_dim=3)
    return buffers, states, ObservationAssembler(buffers, states, ["wrist", "front"], max_age, image_size=16)


def test_fresh_inputs_give_an_observation_with_the_nearest_state() -> None:
    buffers, states, assembler = make()
    for i in range(10):
        states.put(100.0 + 0.01 * i, [i, 0.0, 0.0])
    put(buffers, "wrist", 100.040, n=7)
    put(buffers, "front", 100.050, n=9)
    obs = assembler.assemble(100.1)
    assert isinstance(obs, Observation) and not obs.stale
    assert list(obs.images) == ["wrist", "front"]
    assert obs.images["wrist"].shape == (16, 16, 3) and obs.images["wrist"][0, 0, 0] == 7
    assert obs.state[0] == 4.0 or obs.state[0] == 5.0  # nearest to the frames' mean capture time 100.045
    assert obs.state_time_s == pytest.approx(100.04, abs=0.0051)
    assert obs.frames["front"].frame_number == 9


def test_nearest_state_is_chosen_by_capture_time_not_tick_time() -> None:
    buffers, states, assembler = make()
    states.put(10.00, [1, 1, 1])
    states.put(10.10, [2, 2, 2])
    put(buffers, "wrist", 10.01)
    put(buffers, "front", 10.01)
    obs = assembler.assemble(10.12)
    assert isinstance(obs, Observation)
    np.testing.assert_array_equal(obs.state, [1, 1, 1])


def test_a_camera_that_stopped_makes_the_observation_stale_and_says_which() -> None:
    buffers, states, assembler = make(max_age=0.2)
    states.put(5.0, [0, 0, 0])
    put(buffers, "wrist", 4.95)
    put(buffers, "front", 4.60)  # 0.4 s before the tick: this camera stopped
    obs = assembler.assemble(5.0)
    assert isinstance(obs, StaleObservation) and obs.stale
    assert set(obs.ages_s) == {"front"} and obs.ages_s["front"] == pytest.approx(0.4)
    assert "front 400 ms old" in obs.describe()
    assert not hasattr(obs, "images")  # nothing a policy could use by mistake


def test_a_camera_that_never_sent_is_stale_forever() -> None:
    buffers, states, assembler = make()
    states.put(1.0, [0, 0, 0])
    put(buffers, "wrist", 1.0)
    obs = assembler.assemble(1.0)
    assert isinstance(obs, StaleObservation) and math.isinf(obs.ages_s["front"])
    assert "front never received" in obs.describe()


def test_frames_captured_after_the_tick_are_not_used() -> None:
    buffers, states, assembler = make()
    states.put(2.0, [0, 0, 0])
    put(buffers, "wrist", 2.5)
    put(buffers, "front", 1.99)
    obs = assembler.assemble(2.0)
    assert isinstance(obs, StaleObservation) and math.isinf(obs.ages_s["wrist"])


def test_old_robot_state_makes_it_stale() -> None:
    buffers, states, assembler = make(max_age=0.2)
    states.put(1.0, [0, 0, 0])
    put(buffers, "wrist", 2.0)
    put(buffers, "front", 2.0)
    obs = assembler.assemble(2.05)
    assert isinstance(obs, StaleObservation) and obs.ages_s[STATE] == pytest.approx(1.0)


@pytest.mark.parametrize("values, message", [([1.0, 2.0], "expected 3 values"), ([1.0, float("nan"), 0.0], "NaN")])
def test_bad_state_is_rejected(values: list[float], message: str) -> None:
    with pytest.raises(StateFormatError, match=message):
        StateHistory(3).put(0.0, values)


def test_states_out_of_order_are_rejected() -> None:
    history = StateHistory(1)
    history.put(2.0, [0.0])
    with pytest.raises(StateFormatError, match="time order"):
        history.put(1.0, [0.0])


def test_unknown_camera_in_assembler() -> None:
    with pytest.raises(ValueError, match="no frame buffer"):
        ObservationAssembler(FrameBuffers(["wrist"]), StateHistory(1), ["front"], 0.2, 16)
