"""The scripted operator: takes over when its rule says the policy is failing, through the same interface."""
from __future__ import annotations

import numpy as np
import pytest

from robot_rl.config import load_config, to_object
from robot_rl.teleop import Action, Arbiter, ScriptedCommand, ScriptedDevice, guard_rule, make_device
from robot_rl.teleop import make_input_processor


def assert_close(actual: object, expected: object) -> None:
    assert actual is not None, "expected a command, got None"
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float))


def test_guard_rule_takes_over_while_the_policy_drives_away() -> None:
    rule = guard_rule(twist=[0.5, 0, 0, 0, 0, 0], direction=[1, 0, 0], threshold=0.0)
    assert rule({}, 0.0) is None  # no proposal yet
    assert rule({"policy_twist": np.array([0.3, 0, 0, 0, 0, 0])}, 0.0) is None
    command = rule({"policy_twist": np.array([-0.3, 0, 0, 0, 0, 0])}, 0.0)
    assert command is not None and tuple(command.twist) == (0.5, 0, 0, 0, 0, 0)


def test_guard_rule_with_a_target_drives_towards_it() -> None:
    rule = guard_rule(twist=[0.4, 0, 0, 0, 0, 0], target=[0.5, 0.0, 0.2])
    obs = {"policy_twist": np.array([0.0, 0.3, 0, 0, 0, 0]), "ee_position": np.array([0.5, -0.3, 0.2])}
    assert rule(obs, 0.0) is None  # the policy moves towards the target (+y)
    obs["policy_twist"] = np.array([0.0, -0.3, 0, 0, 0, 0])
    command = rule(obs, 0.0)
    assert command is not None
    np.testing.assert_allclose(command.twist, [0, 0.4, 0, 0, 0, 0], atol=1e-12)


def test_scripted_device_through_the_arbiter_and_a_simulated_unplug() -> None:
    settings = to_object(load_config("sim", ["teleop=scripted", "teleop.scripted_mode=guard",
                                                 "teleop.scripted_disconnect_after_s=0.5"]))
    device = make_device(settings.teleop)
    assert device.forces_hold
    proc = make_input_processor(device, settings.teleop)
    arb = Arbiter(control_hz=10.0)
    device.open()
    device.observe(policy_twist=np.array([0.4, 0, 0, 0, 0, 0]))
    assert arb.tick(0.0, proc.process(device.read(0.0))).mode == "policy"
    device.observe(policy_twist=np.array([-0.4, 0, 0, 0, 0, 0]))
    result = arb.tick(0.1, proc.process(device.read(0.1)))
    assert result.intervening
    assert_close(result.twist, [0.5, 0, 0, 0, 0, 0])
    result = arb.tick(0.6, proc.process(device.read(0.6)))
    assert not result.health.ok and "scripted unplug" in result.health.reason and result.mode == "hold"


def test_scripted_actions_reach_the_arbiter() -> None:
    device = ScriptedDevice(lambda obs, t: ScriptedCommand(twist=[0] * 6, gripper=1.0,
                                                           actions=frozenset({Action.SUCCESS})))
    device.open()
    settings = to_object(load_config("sim", ["teleop=scripted"]))
    result = Arbiter().tick(0.0, make_input_processor(device, settings.teleop).process(device.read(0.0)))
    assert result.intervening and Action.SUCCESS in result.pressed and result.gripper == 1.0


def test_scripted_config_is_validated() -> None:
    with pytest.raises(ValueError, match="scripted_twist needs 6 values"):
        to_object(load_config("sim", ["teleop=scripted", "teleop.scripted_twist=[1,0]"]))


def test_scripted_commands_in_si_units_read_as_normalised_axes() -> None:
    device = ScriptedDevice(lambda obs, t: ScriptedCommand(twist=[0.05, -0.2, 0, 0, 0, 0.25]),
                            scale=[0.1] * 3 + [0.5] * 3)
    device.open()
    np.testing.assert_allclose(device.read(0.0).axes, [0.5, -1.0, 0, 0, 0, 0.5])  # -0.2 m/s is past full scale
    with pytest.raises(ValueError, match="6 positive speeds"):
        ScriptedDevice(lambda obs, t: None, scale=[0.1, 0.5])


def test_in_a_demo_session_the_correcting_operator_demonstrates_every_episode() -> None:
    settings = to_object(load_config("sim", ["teleop=scripted", "teleop.mode=demo"]))
    device = make_device(settings.teleop)
    assert isinstance(device, ScriptedDevice) and device.demonstrating
    for _ in range(5):  # episodes go by: still demonstrating
        device.rule({"episode_status": "running"}, 0.0)
        device.rule({"episode_status": "idle"}, 0.0)
    assert device.demonstrating
