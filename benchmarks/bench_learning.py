"""Learning on the simulated pick task: success rate against environment steps and wall time.

    python benchmarks/bench_learning.py [--quick] [--json PATH] [--plot PATH] [--configs state,pixel] [--seeds N]

The main job's loop in one process (``robot_rl.sim.session``): the SAC actor acts (sampled), the
scripted correcting operator demonstrates the first episodes and corrects failing ones, every step goes
to a Zarr store, and the learner (``robot_rl.learn.Trainer``, the same code as the learner node) pays
its owed updates between episodes. After training, ``--eval`` episodes run the deterministic policy with
no operator (``policy_only_success_rate``). Configurations: ``state`` (policy.model.use_images=false,
no rendering) and ``pixel`` (both cameras at ``--image-size``). Numbers only, never pass/fail.

JSON (one object per configuration under ``runs``, the first configuration's numbers also at the top):
``success_rate_final`` (last ``--window`` training episodes, operator on), ``policy_only_success_rate``,
``env_steps``, ``wall_s``, ``interventions`` (operator-controlled steps) and ``takeovers``, ``updates``,
``device``, and the per-episode curve.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import robot_rl.sim  # noqa: E402,F401
from robot_rl.config import load_config, to_object  # noqa: E402
from robot_rl.learn.data import open_replay_sampler  # noqa: E402
from robot_rl.learn.trainer import Trainer  # noqa: E402
from robot_rl.replay import EpisodeWriter  # noqa: E402
from robot_rl.sim.pick_cube import PickCubeSim  # noqa: E402
from robot_rl.sim.session import SimSession, action_scale, group_info  # noqa: E402
from robot_rl.teleop.scripted import CorrectingOperator  # noqa: E402


def actor_policy(trainer: Trainer, deterministic: bool) -> Any:
    actor = trainer.sac.actor

    def act(images: dict[str, np.ndarray], state: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            batch = {c: torch.from_numpy(np.ascontiguousarray(images[c])).unsqueeze(0).to(trainer.device)
                     for c in actor.cameras}
            action = actor.act(batch, torch.from_numpy(state).unsqueeze(0).to(trainer.device),
                               deterministic=deterministic)
        return action[0].cpu().numpy()

    return act


def run(config: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    pixel = config == "pixel"
    work = Path(tempfile.mkdtemp(prefix=f"bench_learning_{config}_"))
    overrides = [f"run_dir={work}", f"learner.seed={seed}", f"sim.seed={seed}", f"policy.seed={seed}",
                 f"learner.batch_size={args.batch_size}", f"learner.learning_starts={args.learning_starts}",
                 f"learner.utd_ratio={args.utd}", "learner.checkpoint_every_s=100000", "learner.device=cpu",
                 f"sim.image_size={args.image_size}", f"cameras.policy_image_size={args.image_size}"]
    if not pixel:
        overrides.append("policy.model.use_images=false")
    cfg = to_object(load_config("sim", overrides))
    torch.set_num_threads(1)
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=pixel)
    scale = action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)
    writer = EpisodeWriter(cfg.replay.path, cfg.replay.group,
                           group_info(cfg.cameras.names, args.image_size, scale.tolist(), cfg.robot.control_hz))
    trainer = Trainer(cfg, open_replay_sampler(cfg, seed), console=False, resume=False)
    session = SimSession(sim, scale, writer, image_size=args.image_size, render=pixel)
    operator = CorrectingOperator(sim.control_dt, max_speed=cfg.policy.max_linear_speed,
                                  demo_episodes=args.demos, patience_ticks=15)
    explore = actor_policy(trainer, deterministic=False)
    curve: list[dict[str, Any]] = []
    start = time.monotonic()
    env_steps = interventions = 0
    for episode in range(args.episodes):
        if time.monotonic() - start > args.budget_s:
            break
        out = session.run_episode(explore, operator, args.max_steps, seed=seed * 1000 + episode)
        env_steps += out.steps
        interventions += out.intervention_steps
        while trainer.iterate() > 0 and time.monotonic() - start < args.budget_s:
            pass
        curve.append({"episode": episode + 1, "success": out.success, "demo": out.demo, "steps": out.steps,
                      "intervention_steps": out.intervention_steps, "env_steps": env_steps,
                      "updates": trainer.updates, "wall_s": round(time.monotonic() - start, 1)})
        print(f"[{config} seed {seed}] episode {episode + 1}: {'success' if out.success else 'timeout'} in "
              f"{out.steps} steps, interventions {out.intervention_steps}{' (demo)' if out.demo else ''}, "
              f"updates {trainer.updates}, {curve[-1]['wall_s']} s", flush=True)
    wall = time.monotonic() - start
    training = [c for c in curve if not c["demo"]][-args.window:]
    evaluation = [session.run_episode(actor_policy(trainer, deterministic=True), None, args.max_steps,
                                      seed=10_000 + seed * 100 + i).success for i in range(args.eval)]
    writer.close()
    sim.close()
    return {"config": config, "seed": seed, "device": str(trainer.device),
            "success_rate_final": float(np.mean([c["success"] for c in training])) if training else 0.0,
            "policy_only_success_rate": float(np.mean(evaluation)) if evaluation else None,
            "env_steps": env_steps, "wall_s": round(wall, 1), "interventions": interventions,
            "takeovers": operator.takeovers, "updates": trainer.updates, "episodes": len(curve), "curve": curve}


def plot(results: list[dict[str, Any]], path: Path, window: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in results:
        success = [float(c["success"]) for c in r["curve"]]
        rolling = [np.mean(success[max(0, i + 1 - window):i + 1]) for i in range(len(success))]
        label = f"{r['config']} seed {r['seed']}"
        axes[0].plot([c["env_steps"] for c in r["curve"]], rolling, label=label)
        axes[1].plot([c["wall_s"] for c in r["curve"]], rolling, label=label)
    for ax, xlabel in zip(axes, ("environment steps", "wall time (s)")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"success rate (last {window}, operator on)")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="state only, one seed, a few minutes")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, default=None, help="PNG (default: beside --json, or runs/bench_learning.png)")
    parser.add_argument("--configs", default="state,pixel")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--budget-s", type=float, default=1800.0, help="wall budget per run")
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--demos", type=int, default=2)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--eval", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--utd", type=int, default=1)
    parser.add_argument("--learning-starts", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    if args.quick:
        args.configs, args.seeds, args.episodes, args.budget_s, args.eval = "state", 1, 15, 240.0, 5
    results = [run(config, seed, args) for config in args.configs.split(",") for seed in range(args.seeds)]
    print(f"{'config':<7} {'seed':>4} {'success':>8} {'policy-only':>11} {'env steps':>9} {'wall s':>7} "
          f"{'interv.':>7} {'takeovers':>9} {'updates':>7}")
    for r in results:
        only = "-" if r["policy_only_success_rate"] is None else f"{r['policy_only_success_rate']:.0%}"
        print(f"{r['config']:<7} {r['seed']:>4} {r['success_rate_final']:>8.0%} {only:>11} {r['env_steps']:>9} "
              f"{r['wall_s']:>7} {r['interventions']:>7} {r['takeovers']:>9} {r['updates']:>7}")
    plot_path = args.plot or (args.json.with_suffix(".png") if args.json else Path("runs/bench_learning.png"))
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot(results, plot_path, args.window)
    if args.json:
        first = {k: v for k, v in results[0].items() if k != "curve"}
        doc = {**first, "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "runs": results, "plot": str(plot_path)}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
