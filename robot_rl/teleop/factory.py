"""Build the configured device and its input processing from ``cfg.teleop``."""
from __future__ import annotations

from robot_rl.config.schema import TeleopConfig
from robot_rl.teleop.device import InputProcessor, Reconnecting, TeleopDevice, make_processor
from robot_rl.teleop.gamepad import GamepadDevice
from robot_rl.teleop.keyboard import KeyboardDevice
from robot_rl.teleop.scripted import CorrectingOperator, Rule, ScriptedDevice, guard_rule
from robot_rl.teleop.spacemouse import SpaceMouseDevice


def make_device(teleop: TeleopConfig, control_hz: float = 10.0, max_linear_speed: float = 0.1,
                max_angular_speed: float = 0.5) -> TeleopDevice:
    """The device ``teleop.device`` names, not yet opened.

    ``control_hz`` and the policy's speeds at action 1.0 (m/s, rad/s) shape the scripted operator: its
    pick's speed, and the scale from its SI commands to a device's normalised axes; other devices
    ignore them.
    """
    if teleop.device == "spacemouse":
        return Reconnecting(SpaceMouseDevice(path=teleop.spacemouse_path, full_scale=teleop.spacemouse_full_scale))
    if teleop.device == "gamepad":
        return Reconnecting(GamepadDevice(backend=teleop.gamepad_backend, index=teleop.gamepad_index,
                                          path=teleop.gamepad_path))
    if teleop.device == "keyboard":
        return KeyboardDevice(tty_path=teleop.keyboard_tty, hold_s=teleop.key_hold_s,
                              repeat_hold_s=teleop.key_repeat_hold_s)
    if teleop.device == "scripted":
        rule: Rule
        if teleop.scripted_mode == "correct":
            demos = teleop.scripted_demo_episodes if teleop.mode != "demo" else 2**31  # a demo session: every one
            rule = CorrectingOperator(1.0 / control_hz, max_speed=max_linear_speed, demo_episodes=demos,
                                      patience_ticks=teleop.scripted_patience_ticks,
                                      progress_m=teleop.scripted_progress_m, drift_m=teleop.scripted_drift_m)
        else:
            rule = guard_rule(teleop.scripted_twist, teleop.scripted_direction, teleop.scripted_threshold,
                              teleop.scripted_target)
        return ScriptedDevice(rule, disconnect_after_s=teleop.scripted_disconnect_after_s,
                              scale=[max_linear_speed] * 3 + [max_angular_speed] * 3)
    raise ValueError(f"teleop.device={teleop.device!r}: use keyboard, spacemouse, gamepad or scripted")


def make_input_processor(device: TeleopDevice, teleop: TeleopConfig) -> InputProcessor:
    return make_processor(device, teleop.axis_map, teleop.axis_sign, teleop.button_map, teleop.deadband,
                          teleop.linear_scale, teleop.angular_scale)
