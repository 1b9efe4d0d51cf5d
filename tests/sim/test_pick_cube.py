"""The simulated arm through the robot interface, without ROS."""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.config.schema import ConfigError, RobotRLConfig
from robot_rl.robot.interface import (
    CommandFrame,
    NonFiniteCommandError,
    RobotCommand,
    RobotMovingError,
)
from robot_rl.sim.loop import SimRunner
from robot_rl.sim.pick_cube import PickCubeSim, physics_substeps
from robot_rl.sim.rendering import HeadlessRenderer
from robot_rl.sim.scripted import Phase, ScriptedPick


@pytest.fixture(scope="module")
def cfg() -> RobotRLConfig:
    return to_object(load_config("sim", ["sim.seed=7"]))


@pytest.fixture(scope="module")
def sim(cfg: RobotRLConfig) -> Iterator[PickCubeSim]:
    simulation = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names)
    yield simulation
    simulation.close()


def _move(sim: PickCubeSim, command: RobotCommand, steps: int) -> np.ndarray:
    sim.reset(force=True)
    start = sim.observe().ee_position
    sim.command(command)
    for _ in range(steps):
        sim.step()
    return sim.observe().ee_position - start


def test_same_seed_same_cubes_and_same_trajectory(cfg: RobotRLConfig, sim: PickCubeSim) -> None:
    other = PickCubeSim(cfg.sim, cfg.robot, render=False)
    try:
        sim.reset(force=True, seed=3)
        other.reset(force=True, seed=3)
        for _ in range(3):
            np.testing.assert_array_equal(sim.cube_position(), other.cube_position())
            for s in (sim, other):
                s.command(RobotCommand(linear=np.array([0.05, -0.05, -0.05]), gripper=1.0))
                for _ in range(4):
                    s.step()
            np.testing.assert_array_equal(sim.observe().joint_positions, other.observe().joint_positions)
            sim.reset(force=True)
            other.reset(force=True)
    finally:
        other.close()


@pytest.mark.parametrize("linear, frame, expected", [
    ([0.1, 0, 0], CommandFrame.BASE, [1, 0, 0]),
    ([0, -0.1, 0], CommandFrame.BASE, [0, -1, 0]),
    ([0, 0, 0.1], CommandFrame.BASE, [0, 0, 1]),
    ([0, 0, 0.1], CommandFrame.EE, [0, 0, -1]),  # ee z runs along the fingers, which point down
])
def test_twist_moves_the_end_effector_in_the_commanded_direction(
        sim: PickCubeSim, linear: list[float], frame: CommandFrame, expected: list[float]) -> None:
    moved = _move(sim, RobotCommand(linear=np.array(linear), frame=frame), steps=5)
    assert float(np.dot(moved, expected)) > 0.03, moved  # 0.1 m/s for 0.5 s, minus tracking lag
    assert np.linalg.norm(moved - np.dot(moved, expected) * np.array(expected)) < 0.01, moved


def test_angular_twist_rotates_about_the_commanded_axis(sim: PickCubeSim) -> None:
    sim.reset(force=True)
    before = sim.ee_pose()[1]
    sim.command(RobotCommand(angular=np.array([0.0, 0.0, 0.5])))
    for _ in range(5):
        sim.step()
    relative = sim.ee_pose()[1] @ before.T
    yaw = math.atan2(relative[1, 0], relative[0, 0])
    assert 0.15 < yaw < 0.3  # 0.5 rad/s for 0.5 s about base +z


def test_zero_twist_holds(sim: PickCubeSim) -> None:
    assert np.linalg.norm(_move(sim, RobotCommand.hold(), steps=5)) < 0.002


def test_gripper_closes_and_opens(sim: PickCubeSim) -> None:
    sim.reset(force=True)
    assert sim.observe().gripper_opening > 0.95
    sim.command(RobotCommand(gripper=1.0))
    for _ in range(5):
        sim.step()
    assert sim.observe().gripper_opening < 0.1
    sim.command(RobotCommand(gripper=-1.0))
    for _ in range(5):
        sim.step()
    assert sim.observe().gripper_opening > 0.9


def test_reset_randomizes_the_cube_inside_the_configured_box(cfg: RobotRLConfig, sim: PickCubeSim) -> None:
    cubes = []
    for _ in range(4):
        sim.reset(force=True)
        cubes.append(sim.cube_position())
    assert len({tuple(np.round(c, 4)) for c in cubes}) == 4
    for cube in cubes:
        assert cfg.sim.cube_xy_min[0] <= cube[0] <= cfg.sim.cube_xy_max[0]
        assert cfg.sim.cube_xy_min[1] <= cube[1] <= cfg.sim.cube_xy_max[1]


def test_scripted_pick_succeeds(sim: PickCubeSim) -> None:
    sim.reset(force=True, seed=11)
    policy = ScriptedPick(sim.control_dt)
    assert not sim.success()
    for _ in range(100):
        sim.command(policy.act(sim.observe().ee_position, sim.cube_position()))
        sim.step()
        if sim.success():
            break
    assert sim.success(), f"no success; phase {policy.phase}, cube {sim.cube_position()}"


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_scripted_pick_with_the_gripper_known_succeeds_without_a_grasp_wait(sim: PickCubeSim, seed: int) -> None:
    """The Markov mode: the lift starts on the tick the fingers read closed, not after ``grasp_s``."""
    sim.reset(force=True, seed=seed)
    policy = ScriptedPick(sim.control_dt)
    phases = []
    for _ in range(100):
        obs = sim.observe()
        sim.command(policy.act(obs.ee_position, sim.cube_position(), float(obs.joint_positions[-1])))
        phases.append(policy.phase)
        sim.step()
        if sim.success():
            break
    assert sim.success(), f"no success; phase {policy.phase}, cube {sim.cube_position()}"
    grasp_ticks = phases.count(Phase.GRASP)
    assert 1 <= grasp_ticks < round(policy.grasp_s / sim.control_dt), phases


def test_scripted_pick_with_the_gripper_known_acts_on_the_state_alone() -> None:
    """The same state gives the same command whatever came before (what a policy can imitate)."""
    cube = np.array([0.45, 0.0, 0.02])
    fresh, used = ScriptedPick(0.1), ScriptedPick(0.1)
    for ee, gripper in [(cube + [0.05, 0.05, 0.15], 0.0), (cube + [0.0, 0.0, 0.002], 0.0), (cube, 0.5)]:
        used.act(ee, cube, gripper)  # a history: approach, close, lift
    cases = {  # state -> phase it calls for
        Phase.APPROACH: (cube + [0.05, 0.0, 0.08], 0.0),  # beside and above: go to the hover point
        Phase.DESCEND: (cube + [0.005, 0.0, 0.06], 0.0),  # inside the cone above the cube
        Phase.GRASP: (cube + [0.0, 0.0, 0.004], 0.0),  # at the cube, fingers open
        Phase.LIFT: (cube + [0.0, 0.0, 0.004], 0.5),  # fingers closed on it
    }
    for phase, (ee, gripper) in cases.items():
        a, b = fresh.act(ee, cube, gripper), used.act(ee, cube, gripper)
        assert fresh.phase is used.phase is phase
        if phase is not Phase.LIFT:  # the lift heads for a point set when it began
            np.testing.assert_allclose(a.linear, b.linear)
        assert a.gripper == b.gripper
    dropped = fresh.act(cube + [0.0, 0.0, 0.1], cube, 0.9)  # fingers closed on nothing, cube left behind
    assert fresh.phase is Phase.APPROACH and dropped.gripper == -1.0


def test_reset_while_moving_is_refused_unless_forced(sim: PickCubeSim) -> None:
    sim.reset(force=True)
    sim.command(RobotCommand(linear=np.array([0.0, 0.15, 0.0])))
    sim.step()
    with pytest.raises(RobotMovingError, match="moving.*wait for it to settle"):
        sim.reset()
    sim.reset(force=True)
    assert not sim.is_moving()
    sim.reset()  # at rest: allowed


def test_runner_rejects_bad_commands_holds_and_times_out(sim: PickCubeSim) -> None:
    runner = SimRunner(sim, command_timeout_s=0.25)
    runner.reset(force=True)
    with pytest.raises(NonFiniteCommandError):
        runner.submit_twist(sim.base_frame, [math.nan, 0, 0], [0, 0, 0], now=0.0)
    assert runner.rejected == 1 and runner.tick(0.0, render=False).held
    runner.submit_twist(sim.base_frame, [0.1, 0, 0], [0, 0, 0], now=1.0)
    assert not runner.tick(1.1, render=False).held
    assert runner.tick(1.3, render=False).held  # 0.3 s old: stale, the arm holds


def test_cameras_render_rgb_at_the_configured_size(cfg: RobotRLConfig, sim: PickCubeSim) -> None:
    sim.reset(force=True)
    images = sim.render()
    assert list(images) == cfg.cameras.names
    for image in images.values():
        assert image.shape == (cfg.sim.image_size, cfg.sim.image_size, 3) and image.dtype == np.uint8
        assert image.std() > 5  # a scene, not a blank frame


def test_frustum_culling_does_not_change_the_picture(cfg: RobotRLConfig, sim: PickCubeSim) -> None:
    sim.reset(force=True)
    plain = HeadlessRenderer.from_config(sim._model, sim._data, {"wrist": "handcam_rgb", "front": "front"}, cfg.sim,
                                         cull=False)
    try:
        culled = sim.render()
        for name, image in plain.render_all().items():
            np.testing.assert_array_equal(culled[name], image)
    finally:
        plain.close()


def test_coarser_meshes_and_floor_grid_barely_change_the_picture_and_leave_physics_alone(
        cfg: RobotRLConfig, sim: PickCubeSim) -> None:
    sim.reset(force=True, seed=2)
    faces = sim._model.mesh_facenum.copy()
    shipped = HeadlessRenderer(sim._model, sim._data, {"wrist": "handcam_rgb", "front": "front"}, cfg.sim.image_size)
    try:
        coarse = sim.render()
        for name, image in shipped.render_all().items():
            difference = np.abs(coarse[name].astype(int) - image.astype(int))
            assert difference.mean() < 2.0, name  # of 255: a few edge pixels, not another scene
        np.testing.assert_array_equal(sim._model.mesh_facenum, faces)  # only the renderer's copy is coarser
        assert sim._model.geom("floor").size[2] == pytest.approx(0.01)
        assert sim._renderer is not None and sim._renderer.triangles[1] < sim._renderer.triangles[0] / 2
    finally:
        shipped.close()


@pytest.mark.parametrize("hz, dt, substeps", [(10.0, 0.005, 20), (20.0, 0.005, 10), (10.0, 0.002, 50)])
def test_physics_substeps_fill_the_control_period(hz: float, dt: float, substeps: int) -> None:
    assert physics_substeps(hz, dt) == substeps


def test_a_control_period_that_is_no_whole_number_of_physics_steps_is_refused() -> None:
    with pytest.raises(ConfigError, match="sim.physics_dt"):
        physics_substeps(30.0, 0.005)


def test_intrinsics_project_the_cube_onto_its_pixels(sim: PickCubeSim) -> None:
    sim.reset(force=True, seed=5)
    intrinsics = sim.intrinsics("front")
    assert intrinsics.fx == pytest.approx(64 / math.tan(math.radians(45 / 2)))
    camera = sim._model.camera("front").id
    offset = sim._data.cam_xmat[camera].reshape(3, 3).T @ (sim.cube_position() - sim._data.cam_xpos[camera])
    x, y, depth = offset[0], -offset[1], -offset[2]  # MuJoCo camera (x right, y up, -z ahead) -> optical
    u, v = intrinsics.fx * x / depth + intrinsics.cx, intrinsics.fy * y / depth + intrinsics.cy
    pixel = sim.render()["front"][int(round(v)), int(round(u))].astype(int)
    assert pixel[0] > pixel[1] + 30 and pixel[2] > pixel[1] + 30, pixel  # the purple cube


def test_unknown_camera_is_a_config_error(cfg: RobotRLConfig) -> None:
    with pytest.raises(ConfigError, match="sim.cameras"):
        PickCubeSim(cfg.sim, cfg.robot, ["side"], render=False)
