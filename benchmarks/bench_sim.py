"""Simulated arm throughput: control steps per second with both cameras rendered, as a real-time factor.

    python benchmarks/bench_sim.py [--quick] [--json PATH]

Measures, on this machine's OpenGL (software Mesa llvmpipe without a GPU):
- render time of both 128x128 cameras, step by step from gym-hil's scene as shipped (shadows, 8x MSAA)
  to the headless settings robot_rl uses (``robot_rl.sim.rendering``, ``robot_rl.sim.lod``; the same
  the node and the tests use), as wall and CPU milliseconds (CPU time counts llvmpipe's threads and is
  steadier than wall time on a shared machine);
- physics time per control step (gym-hil's operational-space controller) at gym-hil's 2 ms step and
  at ``sim.physics_dt``;
- ``sim_realtime_factor``: sim seconds per wall second over full control ticks (step + both cameras),
  the number the target (>= 2x at 10 Hz) refers to; ``sim_realtime_factor_cpu`` divides by this
  process's CPU time instead, what the same ticks would roughly give on an otherwise idle machine;
- the camera node's publish rate and frame age (``benchmarks/camera_publish.py``, when present).
Writes a flat JSON object with ``--json``. Never pass/fail: numbers only.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from robot_rl.config import load_config, to_object  # noqa: E402
from robot_rl.config.schema import RobotRLConfig, SimConfig  # noqa: E402
from robot_rl.robot.interface import RobotCommand  # noqa: E402
from robot_rl.sim.loop import SimRunner  # noqa: E402
from robot_rl.sim.pick_cube import PickCubeSim  # noqa: E402
from robot_rl.sim.rendering import HeadlessRenderer  # noqa: E402


def _times_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn`` (after one warm-up call: shaders, mesh upload)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def shipped_render_ms(size: int, repeats: int) -> tuple[float, float]:
    """Both cameras through gym-hil's own renderer (scene as shipped)."""
    from gym_hil.envs import PandaPickCubeGymEnv
    from gym_hil.mujoco_gym_env import GymRenderingSpec

    env = PandaPickCubeGymEnv(render_spec=GymRenderingSpec(height=size, width=size))
    env.reset()
    try:
        return _times_ms(env.render, repeats)
    finally:
        env.close()


# (label, HeadlessRenderer settings): each row adds one setting to the row above; the last is sim.*
def render_steps(sim_cfg: SimConfig) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("shadows off, no MSAA", {"cull": False}),
        ("+ frustum culling", {}),
        (f"+ floor grid {sim_cfg.render_floor_grid_m} m", {"floor_grid_m": sim_cfg.render_floor_grid_m}),
        (f"+ meshes clustered at {sim_cfg.render_mesh_cell_m * 1e3:g} mm (sim.*)",
         {"floor_grid_m": sim_cfg.render_floor_grid_m, "mesh_cell_m": sim_cfg.render_mesh_cell_m}),
    ]


def render_rows(sim: PickCubeSim, sim_cfg: SimConfig, repeats: int) -> list[dict[str, Any]]:
    cameras = {name: sim_cfg.cameras[name] for name in sim.camera_names}
    rows = []
    for label, settings in render_steps(sim_cfg):
        renderer = HeadlessRenderer(sim._model, sim._data, cameras, sim_cfg.image_size, **settings)
        try:
            row: dict[str, Any] = {"label": label, "triangles": renderer.triangles[1]}
            row["both"] = _times_ms(renderer.render_all, repeats)
            for name in cameras:
                row[name] = _times_ms(partial(renderer.render, name), repeats)
            rows.append(row)
        finally:
            renderer.close()
    return rows


def physics_ms(cfg: RobotRLConfig, physics_dt: float, repeats: int) -> tuple[float, float]:
    sim = PickCubeSim(dataclasses.replace(cfg.sim, physics_dt=physics_dt), cfg.robot, render=False)
    try:
        sim.command(RobotCommand(linear=np.array([0.05, 0.0, -0.05])))
        return _times_ms(sim.step, repeats)
    finally:
        sim.close()


def print_table(shipped: tuple[float, float], rows: list[dict[str, Any]], cameras: list[str],
                physics: dict[float, tuple[float, float]]) -> None:
    print("render, 128x128, median ms wall / cpu")
    header = f"  {'settings':<38} {'both':>13}" + "".join(f" {name:>13}" for name in cameras)
    print(header)
    print(f"  {'gym-hil as shipped (shadows, 8x MSAA)':<38} {shipped[0]:6.1f}/{shipped[1]:6.1f}")
    for row in rows:
        cells = "".join(f" {row[name][0]:6.1f}/{row[name][1]:6.1f}" for name in ["both", *cameras])
        print(f"  {row['label']:<38}{cells}")
    print("physics per 100 ms control step, median ms wall / cpu")
    for dt, (wall, cpu) in physics.items():
        print(f"  {'physics_dt ' + format(dt, 'g') + ' s':<38} {wall:6.1f}/{cpu:6.1f}")


def gl_renderer() -> str:
    try:
        from OpenGL import GL

        return bytes(GL.glGetString(GL.GL_RENDERER)).decode()
    except Exception:  # no current context or no PyOpenGL: the device string just lacks it
        return "unknown GL"


def camera_publish(quick: bool) -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "camera_publish.py"
    if not path.exists():
        return {"camera_publish_hz": None, "camera_frame_age_ms_p50": None}
    spec = importlib.util.spec_from_file_location("camera_publish", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, Any] = module.measure_camera_publish(quick)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about 20 s)")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--skip-camera", action="store_true", help="do not run the camera-node measurement")
    args = parser.parse_args(argv)
    repeats, ticks = (5, 30) if args.quick else (20, 150)

    cfg = to_object(load_config("sim", ["sim.image_size=128"]))
    size = cfg.sim.image_size
    shipped = shipped_render_ms(size, repeats)

    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names)
    device = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, {gl_renderer()}"
    rows = render_rows(sim, cfg.sim, repeats)
    physics = {dt: physics_ms(cfg, dt, repeats) for dt in sorted({0.002, cfg.sim.physics_dt})}

    runner = SimRunner(sim, command_timeout_s=1e9)
    runner.reset(force=True)
    rng = np.random.default_rng(0)
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(ticks):
        if i % 10 == 0:  # wander so the arm moves (and its geoms move across the frustum)
            runner.submit_twist(cfg.robot.base_frame, rng.uniform(-0.05, 0.05, 3).tolist(), [0.0] * 3, 0.0)
        runner.tick(0.0)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    factor = ticks * sim.control_dt / wall
    load = os.getloadavg()[0]
    sim.close()
    print_table(shipped, rows, cfg.cameras.names, physics)

    final = rows[-1]
    results: dict[str, Any] = {
        "sim_realtime_factor": round(factor, 3),
        # sim seconds per CPU second of this process (llvmpipe's threads included): what an idle core would give
        "sim_realtime_factor_cpu": round(ticks * sim.control_dt / cpu, 3),
        "sim_steps_per_s": round(ticks / wall, 2),
        "sim_control_hz": cfg.robot.control_hz,
        "sim_physics_dt": cfg.sim.physics_dt,
        "sim_physics_ms": round(physics[cfg.sim.physics_dt][0], 2),
        "sim_physics_cpu_ms": round(physics[cfg.sim.physics_dt][1], 2),
        "sim_physics_ms_shipped_dt": round(physics[0.002][0], 2),
        "sim_physics_only_realtime_factor": round(sim.control_dt / (physics[cfg.sim.physics_dt][0] / 1e3), 2),
        "render_ms_both_cameras_shipped": round(shipped[0], 1),
        "render_ms_both_cameras_before_lod": round(rows[1]["both"][0], 1),
        "render_ms_both_cameras": round(final["both"][0], 1),
        "render_cpu_ms_both_cameras": round(final["both"][1], 1),
        **{f"render_ms_{name}": round(final[name][0], 1) for name in cfg.cameras.names},
        "render_triangles": final["triangles"],
        "image_size": size,
        "load_avg_1min": round(load, 2),
        "device": device,
    }
    results.update({"camera_publish_hz": None, "camera_frame_age_ms_p50": None} if args.skip_camera
                   else camera_publish(args.quick))
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
