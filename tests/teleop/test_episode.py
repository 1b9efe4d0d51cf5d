"""The episode state machine: valid paths, the time limit, and clear refusals."""
from __future__ import annotations

import pytest

from robot_rl.teleop import EpisodeError, EpisodeMachine, EpisodeState


def test_start_success_reset_idle() -> None:
    machine = EpisodeMachine(time_limit_s=10.0)
    assert machine.start(1.0) is EpisodeState.RUNNING and machine.episode == 1
    assert machine.mark_success() is EpisodeState.SUCCESS
    assert machine.begin_reset() is EpisodeState.RESETTING
    assert machine.finish_reset(True, 2.0) is EpisodeState.IDLE
    assert machine.start(3.0) is EpisodeState.RUNNING and machine.episode == 2
    assert machine.mark_failure() is EpisodeState.FAILURE
    assert machine.history == [EpisodeState.SUCCESS, EpisodeState.FAILURE]


def test_time_limit_ends_a_running_episode_as_timeout() -> None:
    machine = EpisodeMachine(time_limit_s=5.0)
    machine.start(100.0)
    assert machine.tick(104.9) is None and machine.elapsed(104.9) == pytest.approx(4.9)
    assert machine.tick(105.0) is EpisodeState.TIMEOUT
    assert machine.tick(200.0) is None  # ended once
    assert machine.history == [EpisodeState.TIMEOUT]


def test_no_time_limit() -> None:
    machine = EpisodeMachine(time_limit_s=0.0)
    machine.start(0.0)
    assert machine.tick(1e6) is None


@pytest.mark.parametrize(("setup", "request_", "message"), [
    ([], "mark_success", "no episode is running.*episode/start"),
    ([], "mark_failure", "no episode is running"),
    (["start"], "start", "episode 1 is running.*reset first"),
    (["start", "mark_success"], "start", "already ended \\(success\\).*episode/reset"),
    (["start", "mark_failure"], "mark_success", "already ended \\(failure\\)"),
    (["begin_reset"], "start", "resetting.*wait"),
    (["begin_reset"], "begin_reset", "already in progress"),
])
def test_invalid_requests_are_refused_with_what_to_do(setup: list[str], request_: str, message: str) -> None:
    machine = EpisodeMachine()
    for step in setup:
        getattr(machine, step)(*([0.0] if step == "start" else []))
    before = machine.state
    with pytest.raises(EpisodeError, match=message):
        getattr(machine, request_)(*([0.0] if request_ == "start" else []))
    assert machine.state is before


def test_reset_from_running_aborts_without_an_outcome() -> None:
    machine = EpisodeMachine()
    machine.start(0.0)
    machine.begin_reset()
    assert machine.history == []


def test_failed_reset_blocks_start_until_a_reset_works() -> None:
    machine = EpisodeMachine()
    machine.begin_reset()
    assert machine.finish_reset(False, 1.0, "arm still moving") is EpisodeState.IDLE
    with pytest.raises(EpisodeError, match="last reset failed \\(arm still moving\\).*episode/reset"):
        machine.start(2.0)
    machine.begin_reset()
    machine.finish_reset(True, 3.0)
    assert machine.start(4.0) is EpisodeState.RUNNING


def test_auto_start_begins_the_next_episode_after_a_good_reset() -> None:
    machine = EpisodeMachine(auto_start=True)
    machine.start(0.0)
    machine.mark_success()
    machine.begin_reset()
    assert machine.finish_reset(True, 1.0) is EpisodeState.RUNNING and machine.episode == 2
    machine.begin_reset()
    assert machine.finish_reset(False, 2.0) is EpisodeState.IDLE


def test_finish_reset_without_a_reset_is_an_error() -> None:
    with pytest.raises(EpisodeError, match="no reset in progress"):
        EpisodeMachine().finish_reset(True, 0.0)
