"""Simulated arm throughput: control steps per second with both cameras rendered, as a real-time factor.

    python benchmarks/bench_sim.py [--quick] [--json PATH]

Measures, on this machine's OpenGL (software Mesa without a GPU):
- render time of both 128x128 cameras with gym-hil's scene as shipped (shadows, 8x MSAA) and with the
  headless settings robot_rl uses (``robot_rl.sim.rendering``; the same the node and tests use);
- physics time per control step (gym-hil's operational-space controller, 50 substeps at 10 Hz);
- ``sim_realtime_factor``: sim seconds per wall second over full control ticks (step + both cameras),
  the number the target (>= 2x at 10 Hz) refers to;
- the camera node's publish rate and frame age (``benchmarks/camera_publish.py``, when present).
Writes a flat JSON object with ``--json``. Never pass/fail: numbers only.
"""
from __future__ import annotations

import argparse
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
from robot_rl.sim.loop import SimRunner  # noqa: E402
from robot_rl.sim.pick_cube import PickCubeSim  # noqa: E402


def _times_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm up (first frame compiles shaders / uploads meshes)
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def shipped_render_ms(size: int, repeats: int) -> float:
    """Both cameras through gym-hil's own renderer (scene as shipped)."""
    from gym_hil.envs import PandaPickCubeGymEnv
    from gym_hil.mujoco_gym_env import GymRenderingSpec

    env = PandaPickCubeGymEnv(render_spec=GymRenderingSpec(height=size, width=size))
    env.reset()
    try:
        return statistics.median(_times_ms(env.render, repeats))
    finally:
        env.close()


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
    before_ms = shipped_render_ms(size, repeats)

    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names)
    device = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, {gl_renderer()}"
    after_ms = statistics.median(_times_ms(sim.render, repeats))
    renderer = sim._renderer
    assert renderer is not None
    per_camera = {name: statistics.median(_times_ms(partial(renderer.render, name), repeats))
                  for name in sim.camera_names}
    physics_ms = statistics.median(_times_ms(sim.step, repeats))

    runner = SimRunner(sim, command_timeout_s=1e9)
    runner.reset(force=True)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i in range(ticks):
        if i % 10 == 0:  # wander so the arm moves (and its geoms move across the frustum)
            runner.submit_twist(cfg.robot.base_frame, rng.uniform(-0.05, 0.05, 3).tolist(), [0.0] * 3, 0.0)
        runner.tick(0.0)
    wall = time.perf_counter() - start
    factor = ticks * sim.control_dt / wall
    physics_only_factor = sim.control_dt / (physics_ms / 1e3)
    sim.close()

    results: dict[str, Any] = {
        "sim_realtime_factor": round(factor, 3),
        "sim_steps_per_s": round(ticks / wall, 2),
        "sim_control_hz": cfg.robot.control_hz,
        "sim_physics_only_realtime_factor": round(physics_only_factor, 2),
        "sim_physics_ms": round(physics_ms, 2),
        "render_ms_both_cameras_shipped": round(before_ms, 1),
        "render_ms_both_cameras": round(after_ms, 1),
        **{f"render_ms_{name}": round(ms, 1) for name, ms in per_camera.items()},
        "image_size": size,
        "load_avg_1min": round(os.getloadavg()[0], 2),
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
