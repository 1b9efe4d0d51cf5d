"""Deadband, scaling, axis mapping and button mapping shared by every device."""
from __future__ import annotations

import numpy as np
import pytest

from robot_rl.config import load_config, to_object
from robot_rl.teleop import Action, DeviceReading, InputProcessor, apply_deadband, make_device, make_input_processor
from robot_rl.teleop.keyboard import KeyboardDevice


def processor(**kwargs: object) -> InputProcessor:
    settings: dict[str, object] = dict(axis_map=[0, 1, 2, 3, 4, 5], axis_sign=[1.0] * 6, buttons={}, deadband=0.1)
    settings.update(kwargs)
    return InputProcessor(**settings)  # type: ignore[arg-type]


def test_deadband_zeroes_small_inputs_and_is_continuous_at_its_edge() -> None:
    values = np.array([0.05, -0.09, 0.1, 0.1001, 0.55, 1.0, -1.0])
    out = apply_deadband(values, 0.1)
    np.testing.assert_allclose(out[:3], 0.0)
    assert 0 < out[3] < 1e-3  # just past the edge: tiny, no step
    np.testing.assert_allclose(out[4:], [0.5, 1.0, -1.0])


def test_axis_map_sign_and_scales_put_device_axes_on_base_frame_axes() -> None:
    proc = processor(axis_map=[1, 0, -1, 5, 4, 3], axis_sign=[-1, 1, 1, 1, 1, -1], deadband=0.0,
                     linear_scale=0.5, angular_scale=2.0)
    reading = DeviceReading(axes=np.array([0.2, 0.4, 0.9, 0.1, 0.2, 0.3]))
    np.testing.assert_allclose(proc.process(reading).twist, [-0.2, 0.1, 0.0, 0.6, 0.4, -0.2])


def test_twist_is_clipped_to_action_range() -> None:
    out = processor(deadband=0.0, linear_scale=3.0).process(DeviceReading(axes=np.array([0.5, -0.5, 0, 0, 0, 0])))
    np.testing.assert_allclose(out.twist[:2], [1.0, -1.0])


def test_buttons_map_to_actions_and_unknown_buttons_are_ignored() -> None:
    proc = processor(buttons={"0": Action.INTERVENE, "1": Action.GRIPPER_TOGGLE})
    out = proc.process(DeviceReading(axes=np.zeros(6), buttons=frozenset({"0", "7"})))
    assert out.held == {Action.INTERVENE}
    assert out.raw_zero


def test_raw_zero_looks_at_native_axes_before_the_deadband() -> None:
    out = processor(deadband=0.5).process(DeviceReading(axes=np.array([0.01, 0, 0, 0, 0, 0])))
    assert not out.twist.any() and not out.raw_zero  # a live device's noise is not "reads only zeros"


def test_wrong_axis_map_length_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match="6 entries"):
        processor(axis_map=[0, 1, 2])


def test_config_overrides_device_defaults() -> None:
    settings = to_object(load_config("sim", ["teleop=spacemouse", "teleop.axis_map=[0,1,2,3,4,5]",
                                             "teleop.axis_sign=[1,1,1,1,1,1]", "+teleop.button_map.5=estop"]))
    device = make_device(settings.teleop)
    proc = make_input_processor(device, settings.teleop)
    assert list(proc.axis_map) == [0, 1, 2, 3, 4, 5] and proc.buttons == {"5": Action.ESTOP}
    assert proc.deadband == pytest.approx(0.08)  # from teleop/spacemouse.yaml


def test_unknown_action_in_button_map_is_rejected_with_the_choices() -> None:
    settings = to_object(load_config("sim", ["+teleop.button_map.t=jump"]))
    with pytest.raises(ValueError, match="unknown operator action 'jump'.*intervene"):
        make_input_processor(KeyboardDevice(), settings.teleop)
