"""Learner throughput: SAC updates per second fed from a real replay store on disk, and where time goes.

    python benchmarks/bench_learner.py [--quick] [--device cpu|cuda] [--json PATH]

Writes a Zarr replay store (``robot_rl.replay``) with random 128x128 frames from two cameras, opens
it with the learner's store sampler, and times, per update at the default learner config (batch 256,
``policy.model`` defaults): drawing a batch and moving it to the device (``sample_ms``), the DrQ shift
alone (``augment_ms``), a critic-only update (``critic_update_ms``), and a full critic + actor +
temperature update (``update_ms``; actor part = the difference). ``updates_per_s`` counts sampling
plus a full update, i.e. ``critic_actor_ratio = 1``. A "small" row (one 16x16 camera, small
networks) stands in for a state-only configuration, which the actor does not support (it needs a
camera). Never a pass/fail test.
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from robot_rl.config import load_config, to_object
from robot_rl.config.schema import RobotRLConfig
from robot_rl.learn.batch import to_torch
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.sac import SAC
from robot_rl.models.actor import ACTION_DIM
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step

SMALL = ["cameras.names=[front]", "cameras.policy_image_size=16", "policy.model.conv_channels=[8]",
         "policy.model.conv_strides=[2]", "policy.model.hidden_dims=[64]", "learner.critic_hidden_dims=[64]",
         "learner.gripper_hidden_dims=[64]"]


def write_store(path: Path, cameras: Sequence[str], size: int, episodes: int, steps: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    info = GroupInfo(camera_names=list(cameras), image_size=(size, size), state_dim=10, action_dim=ACTION_DIM)
    frames = {c: rng.integers(0, 256, (64, size, size, 3), dtype=np.uint8) for c in cameras}
    with EpisodeWriter(path, "robot_1", info) as writer:
        for episode in range(episodes):
            writer.begin_episode()
            for t in range(steps):
                writer.append(Step(images={c: f[(episode * steps + t) % 64] for c, f in frames.items()},
                                   state=rng.uniform(-1, 1, 10), action=rng.uniform(-1, 1, ACTION_DIM),
                                   reward=float(t == steps - 1), source=Source.DEMO if episode == 0 else Source.POLICY))
            writer.end_episode(terminated=True)


def timed(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Mean milliseconds of ``fn`` after one warm-up call."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return 1e3 * (time.perf_counter() - start) / repeats


def measure(config: RobotRLConfig, store: Path, device: torch.device, repeats: int) -> dict[str, float]:
    config.learner.replays = [str(store)]
    sampler = StoreSampler(config, seed=0)
    torch.manual_seed(0)
    sac = SAC(config.learner, config.policy.model, config.cameras.names, config.cameras.policy_image_size).to(device)
    batch_size = config.learner.batch_size
    batch = to_torch(sampler.sample(batch_size), device)
    sample_ms = timed(lambda: to_torch(sampler.sample(batch_size), device), repeats, device)
    augment_ms = timed(lambda: (sac.augment(batch.images), sac.augment(batch.next_images)), repeats, device)
    critic_ms = timed(lambda: sac.update(batch, update_actor=False), repeats, device)
    update_ms = timed(lambda: sac.update(batch, update_actor=True), repeats, device)
    total = sample_ms + update_ms
    return {"updates_per_s": 1e3 / total, "sample_ms": sample_ms, "augment_ms": augment_ms,
            "critic_update_ms": critic_ms, "actor_update_ms": update_ms - critic_ms, "update_ms": update_ms,
            "sample_time_fraction": sample_ms / total}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller store")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    repeats = 2 if args.quick else 10
    episodes, steps = (3, 100) if args.quick else (10, 100)
    results: dict[str, object] = {"device": str(device), "device_name": (torch.cuda.get_device_name(device)
                                  if device.type == "cuda" else platform.processor() or platform.machine()),
                                  "torch_threads": torch.get_num_threads(), "quick": args.quick}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides, cameras, size in (("pixel", [], ["wrist", "front"], 128), ("small", SMALL, ["front"], 16)):
            store = Path(tmp) / f"{name}.zarr"
            write_store(store, cameras, size, episodes, steps)
            config = to_object(load_config("sim", [f"run_dir={tmp}", *overrides]))
            row = measure(config, store, device, repeats)
            rows.append((name, config.learner.batch_size, row))
            for key, value in row.items():
                results[f"{name}_{key}"] = value
    pixel = dict(rows[0][2])
    results.update(updates_per_s=pixel["updates_per_s"], sample_ms=pixel["sample_ms"], update_ms=pixel["update_ms"],
                   batch_size=rows[0][1], pixel_updates_per_s=pixel["updates_per_s"],
                   state_updates_per_s=rows[1][2]["updates_per_s"],
                   sample_time_fraction=pixel["sample_time_fraction"])
    print(f"device {results['device']} ({results['device_name']}), {results['torch_threads']} torch threads")
    print(f"{'config':8} {'batch':>5} {'upd/s':>8} {'sample ms':>10} {'augment ms':>11} {'critic ms':>10} "
          f"{'actor ms':>9} {'update ms':>10} {'sample %':>9}")
    for name, batch_size, row in rows:
        print(f"{name:8} {batch_size:>5} {row['updates_per_s']:>8.3f} {row['sample_ms']:>10.1f} "
              f"{row['augment_ms']:>11.1f} {row['critic_update_ms']:>10.1f} {row['actor_update_ms']:>9.1f} "
              f"{row['update_ms']:>10.1f} {100 * row['sample_time_fraction']:>8.1f}%")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
