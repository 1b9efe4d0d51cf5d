"""The arbiter: who is in control, smooth hand-back, operator actions, device health."""
from __future__ import annotations

import numpy as np
import pytest

from robot_rl.teleop import Action, Arbiter, TeleopInput


def assert_close(actual: object, expected: object) -> None:
    assert actual is not None, "expected a command, got None"
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float))


HZ = 10.0
DT = 1.0 / HZ


def teleop(twist: list[float] | None = None, held: set[Action] | None = None, connected: bool = True,
           gripper: float | None = None) -> TeleopInput:
    vector = np.asarray(twist if twist is not None else [0.0] * 6, dtype=float)
    return TeleopInput(twist=vector, held=frozenset(held or ()), gripper=gripper, raw_zero=not vector.any(),
                       connected=connected, error="" if connected else "unplugged")


def arbiter(**kwargs: object) -> Arbiter:
    return Arbiter(control_hz=HZ, **kwargs)  # type: ignore[arg-type]


POLICY = np.array([0.3, 0.0, -0.2, 0.0, 0.1, 0.0])
HUMAN = [-0.8, 0.5, 0.0, 0.0, 0.0, 0.4]


def test_policy_acts_unless_the_human_holds_the_button() -> None:
    arb = arbiter()
    result = arb.tick(0.0, teleop(HUMAN))  # moving the device without holding the button does nothing
    assert result.mode == "policy" and not result.intervening and result.twist is None
    assert_close(arb.on_policy_twist(POLICY), POLICY)
    result = arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE}))
    assert result.intervening and result.mode == "human"
    assert_close(result.twist, HUMAN)
    assert_close(result.human_twist, HUMAN)
    assert arb.on_policy_twist(POLICY) is None  # the proposal is not executed while the human drives
    assert arb.interventions == 1


def test_toggle_mode_takes_over_on_one_press_and_hands_back_on_the_next() -> None:
    arb = arbiter(takeover="toggle")
    assert arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE})).intervening
    assert arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE})).intervening  # still held: no new press
    assert arb.tick(0.2, teleop(HUMAN)).intervening  # released: still in control
    assert not arb.tick(0.3, teleop(HUMAN, {Action.INTERVENE})).intervening
    assert not arb.tick(0.4, teleop(HUMAN)).intervening


def test_hand_back_ramps_from_the_human_command_to_the_policy_without_a_jump() -> None:
    arb = arbiter(handback_rate=4.0)
    arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE}))
    assert arb.tick(0.1, teleop(HUMAN)).mode == "handback"
    executed = [np.asarray(HUMAN)]
    for _ in range(20):
        out = arb.on_policy_twist(POLICY)
        assert out is not None
        executed.append(out)
    steps = np.abs(np.diff(np.array(executed), axis=0)).max(axis=1)
    assert steps.max() <= arb.max_step + 1e-9  # never more than handback_rate / control_hz per step
    assert steps[0] > 0  # it does move towards the policy at once
    np.testing.assert_allclose(executed[-1], POLICY)  # ...and reaches it
    assert arb.mode == "policy"
    assert_close(arb.on_policy_twist(-POLICY), -POLICY)  # then the policy's action goes through


def test_gripper_is_kept_on_takeover_and_blended_on_hand_back() -> None:
    arb = arbiter(handback_rate=5.0)
    assert arb.on_policy_gripper(1.0) == 1.0  # the policy grasped
    result = arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE}))
    assert result.gripper == 1.0  # taking over does not drop the object
    result = arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE, Action.GRIPPER_TOGGLE}))
    assert result.gripper == -1.0 and result.human_gripper == -1.0
    arb.tick(0.2, teleop(HUMAN))
    assert arb.on_policy_gripper(1.0) == pytest.approx(-0.5)
    assert arb.on_policy_gripper(1.0) == pytest.approx(0.0)


def test_pause_and_no_running_episode_hold_the_arm_but_the_human_can_still_drive() -> None:
    arb = arbiter()
    result = arb.tick(0.0, teleop(held={Action.PAUSE}))
    assert result.paused and result.mode == "hold" and Action.PAUSE in result.pressed
    assert_close(result.twist, 0.0)
    assert arb.on_policy_twist(POLICY) is None
    assert arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE})).mode == "human"
    assert arb.tick(0.2, teleop()).mode == "hold"  # let go while paused: hold, not the policy
    assert arb.tick(0.3, teleop(held={Action.PAUSE})).mode == "handback"  # resume ramps up from zero
    out = arb.on_policy_twist(np.ones(6))
    assert out is not None and np.abs(out).max() <= arb.max_step + 1e-9
    arb.gated = True
    assert arb.tick(0.4, teleop()).mode == "hold"


def test_estop_holds_until_cleared_even_while_the_human_holds_the_button() -> None:
    arb = arbiter()
    result = arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE, Action.ESTOP}))
    assert result.estop and result.mode == "hold" and not result.intervening
    assert arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE})).mode == "hold"
    result = arb.tick(0.2, teleop(HUMAN, {Action.INTERVENE, Action.ESTOP_CLEAR}))
    assert not result.estop and result.mode == "human"


def test_operator_actions_are_reported_once_per_press() -> None:
    arb = arbiter()
    pressed = [arb.tick(t * DT, teleop(held={Action.SUCCESS})).pressed for t in range(3)]
    assert pressed == [(Action.SUCCESS,), (), ()]


def test_zeros_while_intervening_turn_unhealthy_within_the_timeout_and_stop_the_human_command() -> None:
    arb = arbiter(zero_timeout_s=0.5)
    t = 0.0
    assert arb.tick(t, teleop([0.0] * 6, {Action.INTERVENE})).health.ok
    while t < 0.5 - 1e-9:
        t += DT
        result = arb.tick(t, teleop([0.0] * 6, {Action.INTERVENE}))
    assert not result.health.ok and "only zeros" in result.health.reason
    assert result.mode == "hold" and result.human_twist is None and not result.intervening
    result = arb.tick(t + DT, teleop(HUMAN, {Action.INTERVENE}))  # the device comes back to life
    assert result.health.ok and result.mode == "human"


def test_zeros_while_nobody_intervenes_are_healthy() -> None:
    arb = arbiter(zero_timeout_s=0.2)
    for step in range(10):
        assert arb.tick(step * DT, teleop()).health.ok


def test_unplugged_device_is_unhealthy_at_once_and_the_arm_holds() -> None:
    arb = arbiter(takeover="toggle")
    arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE}))
    result = arb.tick(0.1, teleop(connected=False))
    assert not result.health.ok and "disconnected" in result.health.reason
    assert result.mode == "hold" and result.human_twist is None
    assert_close(result.twist, 0.0)
    assert arb.on_policy_twist(POLICY) is None
    result = arb.tick(0.2, teleop())  # plugged back in: healthy, the toggle did not survive
    assert result.health.ok and not result.intervening


def test_stop_zeroes_the_human_twist() -> None:
    arb = arbiter()
    result = arb.tick(0.0, teleop(HUMAN, {Action.INTERVENE, Action.STOP}))
    assert_close(result.twist, 0.0)


def test_invalid_settings_say_how_to_fix() -> None:
    with pytest.raises(ValueError, match="use hold or toggle"):
        arbiter(takeover="press")
    with pytest.raises(ValueError, match="zero_timeout_s"):
        arbiter(zero_timeout_s=0.0)


def test_a_demonstration_session_never_executes_the_policy() -> None:
    arb = arbiter(autonomous=False)
    result = arb.tick(0.0, teleop())
    assert result.mode == "hold" and arb.on_policy_twist(POLICY) is None and arb.on_policy_gripper(1.0) is None
    assert_close(result.twist, [0.0] * 6)
    result = arb.tick(0.1, teleop(HUMAN, {Action.INTERVENE}))
    assert result.intervening
    assert_close(result.twist, HUMAN)
    assert arb.tick(0.2, teleop()).mode == "hold", "letting go holds the arm: no hand-back to the policy"


def test_a_replay_starts_at_its_first_action_without_a_ramp() -> None:
    arb = arbiter(gated=True, ramp_on_resume=False)
    assert arb.tick(0.0, teleop()).mode == "hold"
    arb.gated = False
    assert arb.tick(0.1, teleop()).mode == "policy"
    assert_close(arb.on_policy_twist(POLICY), POLICY)
    ramped = arbiter(gated=True)  # the default: resuming ramps up from rest
    ramped.tick(0.0, teleop())
    ramped.gated = False
    assert ramped.tick(0.1, teleop()).mode == "handback"
