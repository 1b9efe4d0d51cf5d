"""Learner throughput: SAC updates per second fed from a real replay store on disk, and where time goes.

    python benchmarks/bench_learner.py [--quick] [--device cpu|cuda] [--threads N] [--json PATH]

Writes Zarr replay stores (``robot_rl.replay``) with random frames, opens each with the learner's
store sampler, and times per update (median over repeats, robust to a shared machine): drawing a
batch and moving it to the device (``sample_ms``), the DrQ shift alone (``augment_ms``), a
critic-only update (``critic_update_ms``) and a full critic + actor + temperature update
(``update_ms``; actor part = the difference). ``updates_per_s`` = 1 / (sample + full update).

Rows (batch 256 each):

- ``pixel``: the default pixel configuration: two 128x128 cameras, the trained ``conv`` encoder, DrQ;
- ``resnet10_cached``: two 128x128 cameras, a frozen ResNet-10 backbone (HIL-SERL's and LeRobot's
  encoder; random weights stand in for a pretrained file, same cost) with its per-frame features
  cached by ``learner.cache_image_features`` (robot_rl/learn/features.py); the row to compare with
  LeRobot's 0.23 updates/s (its default: frozen ResNet-10 plus trained spatial-embedding heads);
- ``resnet10_frozen``: the same encoder without the cache: one batched backbone pass per update over
  the shifted observation and next-observation frames (omitted with ``--quick``);
- ``state``: a state-only configuration (``policy.model.use_images=false``) from a store without images.

JSON keys: ``device``, ``pixel_updates_per_s``, ``state_updates_per_s``, ``sample_time_fraction`` (of the
pixel row), plus ``<row>_<measure>`` for every row. Never a pass/fail test.
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
from safetensors.torch import save_file

from robot_rl.config import load_config, to_object
from robot_rl.config.schema import RobotRLConfig
from robot_rl.learn.batch import to_torch
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.features import FeatureCacheSampler
from robot_rl.learn.sac import SAC
from robot_rl.models.actor import ACTION_DIM
from robot_rl.models.encoders import ResNet10Backbone
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step

LEROBOT_UPDATES_PER_S = 0.23  # issue 7: LeRobot's SAC at its defaults, same shapes, 2-core CPU

STATE = ["policy.model.use_images=false"]
RESNET = ["policy.model.encoder=resnet10", "policy.model.freeze_encoder=true"]


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


def write_encoder(path: Path) -> Path:
    """Random ResNet-10 backbone weights standing in for a pretrained file (the cost is the same)."""
    torch.manual_seed(0)
    save_file({k: v.contiguous() for k, v in ResNet10Backbone().state_dict().items()}, str(path))
    return path


def timed(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median milliseconds of ``fn`` after one warm-up call (the median shrugs off a busy neighbour)."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def measure(config: RobotRLConfig, store: Path, device: torch.device, repeats: int) -> dict[str, float]:
    config.learner.replays = [str(store)]
    torch.manual_seed(0)
    sac = SAC(config.learner, config.policy.model, config.cameras.names, config.cameras.policy_image_size).to(device)
    sampler: StoreSampler | FeatureCacheSampler = StoreSampler(config, seed=0)
    start = time.perf_counter()
    if config.learner.cache_image_features:
        sampler = FeatureCacheSampler(sampler, sac.actor.encoder, device)
    sampler.refresh()
    refresh_s = time.perf_counter() - start  # loading the store (and encoding every frame once, when cached)
    batch_size = config.learner.batch_size
    batch = to_torch(sampler.sample(batch_size), device)
    sample_ms = timed(lambda: to_torch(sampler.sample(batch_size), device), 5 * repeats, device)
    augment_ms = timed(lambda: (sac.augment(batch.images), sac.augment(batch.next_images)), repeats, device)
    critic_ms = timed(lambda: sac.update(batch, update_actor=False), repeats, device)
    update_ms = timed(lambda: sac.update(batch, update_actor=True), repeats, device)
    total = sample_ms + update_ms
    return {"updates_per_s": 1e3 / total, "sample_ms": sample_ms, "augment_ms": augment_ms,
            "critic_update_ms": critic_ms, "actor_update_ms": max(0.0, update_ms - critic_ms), "update_ms": update_ms,
            "sample_time_fraction": sample_ms / total, "refresh_s": refresh_s}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller store, no uncached ResNet row")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    repeats = 3 if args.quick else 10
    episodes, steps = (3, 100) if args.quick else (10, 100)
    results: dict[str, object] = {"device": str(device), "device_name": (torch.cuda.get_device_name(device)
                                  if device.type == "cuda" else platform.processor() or platform.machine()),
                                  "torch_threads": torch.get_num_threads(), "quick": args.quick}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        encoder = write_encoder(Path(tmp) / "resnet10.safetensors")
        resnet = [*RESNET, f"policy.model.pretrained_encoder_path={encoder}"]
        plan = [("pixel", [], ["wrist", "front"], 1), ("resnet10_cached", [*resnet, "learner.cache_image_features=true"],
                 ["wrist", "front"], 1), ("state", STATE, [], 1)]
        if not args.quick:
            plan.insert(2, ("resnet10_frozen", resnet, ["wrist", "front"], 10))
        for name, overrides, cameras, slower in plan:
            store = Path(tmp) / f"{'state' if not cameras else 'pixel'}.zarr"
            if not store.exists():
                write_store(store, cameras, 128, episodes, steps)
            config = to_object(load_config("sim", [f"run_dir={tmp}", *overrides]))
            row = measure(config, store, device, max(1, repeats // slower))
            rows.append((name, config.learner.batch_size, row))
            for key, value in row.items():
                results[f"{name}_{key}"] = value
    by_name = {name: row for name, _, row in rows}
    results.update(batch_size=rows[0][1], pixel_updates_per_s=by_name["pixel"]["updates_per_s"],
                   state_updates_per_s=by_name["state"]["updates_per_s"],
                   sample_time_fraction=by_name["pixel"]["sample_time_fraction"],
                   lerobot_updates_per_s=LEROBOT_UPDATES_PER_S,
                   resnet10_cached_vs_lerobot=by_name["resnet10_cached"]["updates_per_s"] / LEROBOT_UPDATES_PER_S)
    print(f"device {results['device']} ({results['device_name']}), {results['torch_threads']} torch threads")
    print(f"{'config':16} {'batch':>5} {'upd/s':>8} {'sample ms':>10} {'augment ms':>11} {'critic ms':>10} "
          f"{'actor ms':>9} {'update ms':>10} {'sample %':>9}")
    for name, batch_size, row in rows:
        print(f"{name:16} {batch_size:>5} {row['updates_per_s']:>8.3f} {row['sample_ms']:>10.1f} "
              f"{row['augment_ms']:>11.1f} {row['critic_update_ms']:>10.1f} {row['actor_update_ms']:>9.1f} "
              f"{row['update_ms']:>10.1f} {100 * row['sample_time_fraction']:>8.1f}%")
    print(f"resnet10_cached vs LeRobot's {LEROBOT_UPDATES_PER_S} updates/s (2-core CPU, same shapes): "
          f"{results['resnet10_cached_vs_lerobot']:.1f}x")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
