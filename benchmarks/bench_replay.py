"""Replay store throughput on the default two-camera 128x128 configuration (issue 3).

Measures, in one run: steps/s appended through ``EpisodeWriter`` (commits included); batches/s of 256
n-step transitions with both images and next images from ``ReplaySampler``; the same gather from plain
in-memory numpy arrays (the baseline), and the ratio; bytes on disk per step against raw bytes.

    python benchmarks/bench_replay.py                      # 2000 steps of simulator frames
    python benchmarks/bench_replay.py --quick --json out.json
    python benchmarks/bench_replay.py --images synthetic   # no MuJoCo: rendered gradients + shapes
    python benchmarks/bench_replay.py --codecs             # the codec/chunk table behind schema.py

Images come from the MuJoCo pick-cube simulator under a scripted pick when it can render here,
otherwise from a synthetic renderer (smooth shading, moving boxes, no noise; ``--noise 2`` adds
camera-like sensor noise). Measures; never passes or fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from robot_rl.replay import EpisodeWriter, GroupInfo, ReplaySampler, Step

CAMERAS = ("wrist", "front")
SIZE = 128
STATE_DIM, ACTION_DIM = 18, 7


def synthetic_frames(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Image-like frames: a lit table gradient, a robot-ish bar and a cube that move smoothly."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    out = {}
    for k, cam in enumerate(CAMERAS):
        base = np.stack([0.45 + 0.3 * yy, 0.4 + 0.2 * xx, 0.35 + 0.1 * (xx + yy)], axis=-1) * 255
        frames = np.empty((n, SIZE, SIZE, 3), np.uint8)
        phase = rng.uniform(0, 6.28, 4)
        for i in range(n):
            img = base.copy()
            t = i / 40.0 + k
            cx, cy = int(64 + 40 * np.sin(t + phase[0])), int(64 + 30 * np.cos(0.7 * t + phase[1]))
            img[max(cy - 10, 0):cy + 10, max(cx - 10, 0):cx + 10] = (200, 40, 40)  # the cube
            bx = int(40 + 30 * np.sin(0.5 * t + phase[2]))
            img[:, bx:bx + 14] = img[:, bx:bx + 14] * 0.4 + np.array([230, 230, 230]) * 0.6  # an arm link
            shade = 0.85 + 0.15 * np.sin(3 * xx + t)[..., None]  # soft lighting change
            frames[i] = np.clip(img * shade, 0, 255).astype(np.uint8)
        out[cam] = frames
    return out


def sim_frames(n: int) -> dict[str, np.ndarray]:
    """Frames rendered by robot_rl.sim while a scripted policy picks the cube (resets every 100 steps)."""
    from robot_rl.config import load_config, to_object
    from robot_rl.sim.pick_cube import PickCubeSim
    from robot_rl.sim.scripted import ScriptedPick

    cfg = to_object(load_config("sim"))
    sim = PickCubeSim(cfg.sim, cfg.robot, CAMERAS)
    frames: dict[str, list[np.ndarray]] = {c: [] for c in CAMERAS}
    try:
        policy = None
        for i in tqdm(range(n), desc="render sim frames", leave=False):
            if i % 100 == 0:
                sim.reset(seed=i // 100)
                policy = ScriptedPick(sim.control_dt)
            assert policy is not None
            sim.command(policy.act(sim.ee_pose()[0], sim.cube_position()))
            sim.step()
            for cam, img in sim.render().items():
                frames[cam].append(img)
    finally:
        sim.close()
    return {c: np.stack(v) for c, v in frames.items()}


def load_frames(kind: str, n: int, noise: float) -> tuple[dict[str, np.ndarray], str]:
    if kind.endswith(".npz"):
        data = np.load(kind)
        frames, label = {c: data[c] for c in CAMERAS}, kind
    elif kind == "sim":
        try:
            frames, label = sim_frames(n), "sim"
        except Exception as err:  # noqa: BLE001 - no renderer here: say so and fall back
            print(f"(simulator frames unavailable: {type(err).__name__}: {err}; using synthetic)", file=sys.stderr)
            frames, label = synthetic_frames(n), "synthetic"
    else:
        frames, label = synthetic_frames(n), "synthetic"
    if noise > 0:
        rng = np.random.default_rng(1)
        frames = {c: np.clip(v + rng.normal(0, noise, v.shape), 0, 255).astype(np.uint8) for c, v in frames.items()}
        label += f"+noise{noise:g}"
    return frames, label


def bench_append(path: Path, frames: dict[str, np.ndarray], steps: int, episode_len: int) -> float:
    info = GroupInfo(camera_names=list(CAMERAS), image_size=(SIZE, SIZE), state_dim=STATE_DIM,
                     action_dim=ACTION_DIM, task="bench", robot="bench")
    rng = np.random.default_rng(0)
    pool = len(frames[CAMERAS[0]])
    states = rng.normal(size=(steps, STATE_DIM)).astype(np.float32)
    actions = rng.uniform(-1, 1, size=(steps, ACTION_DIM)).astype(np.float32)
    start = time.perf_counter()
    with EpisodeWriter(path, "robot0", info) as writer:
        for i in tqdm(range(steps), desc="append", leave=False):
            if i % episode_len == 0:
                writer.begin_episode()
            writer.append(Step(images={c: frames[c][i % pool] for c in CAMERAS}, state=states[i],
                               action=actions[i], reward=float(i % episode_len == episode_len - 1),
                               capture_time=time.time()))
            if i % episode_len == episode_len - 1 or i == steps - 1:
                writer.end_episode(terminated=True)
    return steps / (time.perf_counter() - start)


def bench_sample(path: Path, batches: int, batch_size: int) -> tuple[float, float]:
    sampler = ReplaySampler(str(path), n_step=3, discount=0.97, seed=0)
    sampler.sample(batch_size)
    start = time.perf_counter()
    for _ in tqdm(range(batches), desc="sample", leave=False):
        sampler.sample(batch_size)
    replay = batches / (time.perf_counter() - start)

    # Baseline: the same data as plain numpy arrays; uniform 1-step indices, same fields gathered.
    cols = {k: c.view for k, c in sampler._cols.items()}  # noqa: SLF001 - the same bytes, no store logic
    images = {c: cols[f"data/images/{c}"].copy() for c in CAMERAS}
    state, action, reward = cols["data/state"].copy(), cols["data/action"].copy(), cols["data/reward"].copy()
    done = cols["data/terminated"].astype(np.float32)
    rng, n = np.random.default_rng(0), len(state) - 1
    start = time.perf_counter()
    for _ in tqdm(range(batches), desc="baseline", leave=False):
        idx = rng.integers(0, n, batch_size)
        nxt = idx + 1
        _ = ({c: v[idx] for c, v in images.items()}, state[idx], action[idx], reward[idx], done[idx],
             {c: v[nxt] for c, v in images.items()}, state[nxt])
    baseline = batches / (time.perf_counter() - start)
    return replay, baseline


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def raw_bytes_per_step() -> int:
    images = len(CAMERAS) * SIZE * SIZE * 3
    return images + 4 * (STATE_DIM + 3 * ACTION_DIM + 1) + 4 + 16  # + flags/source and two float64 times


def bench_codecs(frames: dict[str, np.ndarray], label: str) -> None:
    """Size and speed of candidate image codecs and chunk lengths on these frames."""
    import zarr
    from zarr.codecs import BloscCodec, BloscShuffle, ZstdCodec

    candidates: dict[str, Any] = {
        "zstd-1": [ZstdCodec(level=1, checksum=True)], "zstd-3": [ZstdCodec(level=3, checksum=True)],
        "zstd-7": [ZstdCodec(level=7, checksum=True)],
        "blosc-lz4-5-noshuffle": [BloscCodec(cname="lz4", clevel=5, shuffle=BloscShuffle.noshuffle, typesize=1)],
        "blosc-lz4-5-bitshuffle": [BloscCodec(cname="lz4", clevel=5, shuffle=BloscShuffle.bitshuffle, typesize=1)],
        "blosc-zstd-3-noshuffle": [BloscCodec(cname="zstd", clevel=3, shuffle=BloscShuffle.noshuffle, typesize=1)],
        "blosc-zstd-3-bitshuffle": [BloscCodec(cname="zstd", clevel=3, shuffle=BloscShuffle.bitshuffle, typesize=1)],
    }
    raw = sum(v.nbytes for v in frames.values())
    n = len(frames[CAMERAS[0]])
    print(f"{'images':18s} {'codec':24s} {'chunk':>5s} {'size/raw':>8s} {'write steps/s':>13s} {'read steps/s':>12s}")
    with tempfile.TemporaryDirectory() as tmp:
        for chunk in (4, 16, 64):
            for name, codec in candidates.items():
                path = Path(tmp) / f"{name}-{chunk}.zarr"
                group = zarr.open_group(path, mode="w")
                start = time.perf_counter()
                for cam, v in frames.items():
                    group.create_array(cam, shape=v.shape, chunks=(chunk, *v.shape[1:]), dtype="uint8",
                                       compressors=codec)[:] = v
                write = n / (time.perf_counter() - start)
                start = time.perf_counter()
                for cam in frames:
                    np.asarray(zarr.open_array(path / cam, mode="r")[:])
                read = n / (time.perf_counter() - start)
                print(f"{label:18s} {name:24s} {chunk:5d} {disk_bytes(path) / raw:8.3f} {write:13.0f} {read:12.0f}")
                shutil.rmtree(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run (400 steps, 30 batches)")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--images", default="sim", help="sim | synthetic | PATH.npz with wrist/front arrays")
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian sensor noise (std, grey levels)")
    parser.add_argument("--steps", type=int, help="steps to append (default 2000, 400 with --quick)")
    parser.add_argument("--codecs", action="store_true", help="print the codec/chunk table and exit")
    args = parser.parse_args(argv)
    steps = args.steps or (400 if args.quick else 2000)
    batches, batch_size = (30 if args.quick else 200), 256

    frames, label = load_frames(args.images, 60 if args.quick else 300, args.noise)  # a pool, cycled
    if args.codecs:
        bench_codecs(frames, label)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.zarr"
        append = bench_append(path, frames, steps, episode_len=100)
        disk = disk_bytes(path) / steps
        sample, baseline = bench_sample(path, batches, batch_size)
    results = {
        "append_steps_per_s": round(append, 1),
        "sample_batches_per_s": round(sample, 2),
        "baseline_batches_per_s": round(baseline, 2),
        "sample_ratio": round(sample / baseline, 3),
        "disk_bytes_per_step": round(disk, 1),
        "raw_bytes_per_step": raw_bytes_per_step(),
        "device": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, images={label}",
    }
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:{width}s}  {value}")
    print(f"{'disk/raw':{width}s}  {disk / raw_bytes_per_step():.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
