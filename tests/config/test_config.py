"""The config tree composes, overrides apply, and every mistake is a ConfigError that says what to fix."""
import pytest

from robot_rl.config import ConfigError, available_configs, load_config, to_object
from robot_rl.config.schema import GROUPS


@pytest.mark.parametrize("name", ["sim", "robot", "teleop"])
def test_top_level_configs_compose_every_group(name: str) -> None:
    cfg = load_config(name)
    for group in GROUPS:
        assert group in cfg, f"config {name} lacks group {group}"
    to_object(cfg)


def test_available_configs_lists_the_top_level_files() -> None:
    assert {"sim", "robot", "teleop"} <= set(available_configs())


def test_overrides_apply_and_interpolations_resolve() -> None:
    cfg = to_object(load_config("sim", ["sim.seed=7", "robot.control_hz=20", "run_dir=/tmp/run"]))
    assert cfg.sim.seed == 7
    assert cfg.robot.control_hz == 20.0
    assert cfg.replay.path == "/tmp/run/replay.zarr"
    assert cfg.replay.group == cfg.robot.name


def test_group_option_can_be_swapped() -> None:
    cfg = to_object(load_config("sim", ["teleop=spacemouse"]))
    assert cfg.teleop.device == "spacemouse"


@pytest.mark.parametrize(
    ("name", "overrides", "says"),
    [
        ("nope", [], "unknown config 'nope'"),
        ("sim", ["robot.control_hz=abc"], "could not be converted"),
        ("sim", ["robot.no_such_field=1"], "robot.no_such_field"),
        ("sim", ["robot=no_such_robot"], "Could not find 'robot/no_such_robot'"),
        ("sim", ["=="], "bad override"),
        ("sim", ["robot.driver=teleport"], "use sim, moveit_servo or cartesian_controllers"),
        ("sim", ["safety.workspace_min=[1,0,0]"], "each min must be below its max"),
        ("sim", ["cameras.names=[]"], "list at least one camera"),
    ],
)
def test_mistakes_raise_config_error_naming_the_fix(name: str, overrides: list[str], says: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        load_config(name, overrides)
    assert says in str(info.value)
    assert "Traceback" not in str(info.value)
