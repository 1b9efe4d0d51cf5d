"""Export a replay group as a LeRobotDataset (codebase v2.1 layout), so LeRobot can train on it.

```
out/
  meta/info.json               codebase_version v2.1, fps, features (dtype, shape, names), path templates
  meta/tasks.jsonl             {"task_index": 0, "task": <the group's language goal>}
  meta/episodes.jsonl          {"episode_index", "tasks", "length"} per episode
  meta/episodes_stats.jsonl    per-episode min/max/mean/std/count of every feature
  meta/stats.json              the same over the whole dataset
  data/chunk-000/episode_000000.parquet   one row per step
```

Images are stored in the parquet files as PNG (``dtype: image``: a ``{bytes, path}`` struct, as the
Hugging Face ``datasets`` Image feature writes it), so the export is lossless and needs no video
encoder. Image statistics are per channel in [0, 1], shaped (3, 1, 1), as LeRobot computes them.
Columns: ``observation.images.<camera>``, ``observation.state``, ``action`` (normalised, as stored),
``next.reward``, ``next.done`` (terminated), ``complementary_info.source`` and
``complementary_info.intervention``, plus LeRobot's ``timestamp``, ``frame_index``,
``episode_index``, ``index`` and ``task_index``. LeRobot >= 0.4 reads v3.0 and converts v2.1
datasets with its ``convert_dataset_v21_to_v30`` script.
"""
from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from robot_rl.replay.errors import ReplayError
from robot_rl.replay.follower import read_range
from robot_rl.replay.store import episode_starts, open_group, open_root, read_episode_ends

CODEBASE_VERSION = "v2.1"
CHUNK_SIZE = 1000
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _stats(values: np.ndarray, image: bool = False) -> dict[str, Any]:
    if image:  # (N, H, W, 3) uint8 -> per channel in [0, 1], shape (3, 1, 1)
        flat = values.reshape(-1, 3).astype(np.float64) / 255.0
        shape: tuple[int, ...] = (3, 1, 1)
    else:
        flat = values.reshape(len(values), -1).astype(np.float64)
        shape = flat.shape[1:]
    return {"min": flat.min(0).reshape(shape).tolist(), "max": flat.max(0).reshape(shape).tolist(),
            "mean": flat.mean(0).reshape(shape).tolist(), "std": flat.std(0).reshape(shape).tolist(),
            "count": [len(values)]}


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Dataset statistics from per-episode ones (count-weighted mean and pooled variance)."""
    counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
    means = np.array([p["mean"] for p in parts])
    stds = np.array([p["std"] for p in parts])
    w = counts.reshape(-1, *([1] * (means.ndim - 1))) / counts.sum()
    mean = (w * means).sum(0)
    var = (w * (stds ** 2 + (means - mean) ** 2)).sum(0)
    return {"min": np.min([p["min"] for p in parts], 0).tolist(), "max": np.max([p["max"] for p in parts], 0).tolist(),
            "mean": mean.tolist(), "std": np.sqrt(var).tolist(), "count": [int(counts.sum())]}


def export_lerobot(location: str, group: str, out: str | os.PathLike[str], *, episodes: Iterable[int] | None = None,
                   on_episode: Callable[[], None] | None = None) -> int:
    """Write the committed episodes of ``location::group`` as a LeRobotDataset folder; returns episodes."""
    out = Path(out)
    if out.exists():
        raise ReplayError(f"{out} exists: the LeRobot export writes a new folder; remove it or choose another path")
    zgroup, info = open_group(open_root(location, "r"), group)
    ends = read_episode_ends(zgroup)
    starts = episode_starts(ends)
    chosen = list(range(len(ends))) if episodes is None else list(episodes)
    cams = [f"observation.images.{c}" for c in info.camera_names]
    h, w = info.image_size
    features: dict[str, Any] = {
        **{k: {"dtype": "image", "shape": [h, w, 3], "names": ["height", "width", "channels"]} for k in cams},
        "observation.state": {"dtype": "float32", "shape": [info.state_dim], "names": info.state_names or None},
        "action": {"dtype": "float32", "shape": [info.action_dim], "names": info.action_names or None},
        "next.reward": {"dtype": "float32", "shape": [1], "names": None},
        "next.done": {"dtype": "bool", "shape": [1], "names": None},
        "complementary_info.source": {"dtype": "int64", "shape": [1], "names": None},
        "complementary_info.intervention": {"dtype": "bool", "shape": [1], "names": None},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }
    hf_features = {k: ({"_type": "Image"} if v["dtype"] == "image" else
                       {"dtype": v["dtype"], "_type": "Value"} if v["shape"] == [1] else
                       {"feature": {"dtype": v["dtype"], "_type": "Value"}, "length": v["shape"][0], "_type": "Sequence"})
                   for k, v in features.items()}
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    keys = [f"data/images/{c}" for c in info.camera_names] + [
        "data/state", "data/action", "data/reward", "data/terminated", "data/source", "data/intervention"]
    task = info.goal or info.task or "task"
    (out / "meta").mkdir(parents=True)
    episode_stats, index = [], 0
    with open(out / "meta/episodes.jsonl", "w") as ep_file, open(out / "meta/episodes_stats.jsonl", "w") as st_file:
        for new_index, e in enumerate(chosen):
            d = read_range(zgroup, keys, int(starts[e]), int(ends[e]))
            n = int(ends[e] - starts[e])
            columns: dict[str, Any] = {
                **{k: pa.array([{"bytes": _png(img), "path": None} for img in d[f"data/images/{c}"]], image_type)
                   for k, c in zip(cams, info.camera_names)},
                "observation.state": pa.array(list(d["data/state"].astype(np.float32)), pa.list_(pa.float32())),
                "action": pa.array(list(d["data/action"].astype(np.float32)), pa.list_(pa.float32())),
                "next.reward": pa.array(d["data/reward"].astype(np.float32)),
                "next.done": pa.array(d["data/terminated"].astype(bool)),
                "complementary_info.source": pa.array(d["data/source"].astype(np.int64)),
                "complementary_info.intervention": pa.array(d["data/intervention"].astype(bool)),
                "timestamp": pa.array((np.arange(n) / info.control_hz).astype(np.float32)),
                "frame_index": pa.array(np.arange(n, dtype=np.int64)),
                "episode_index": pa.array(np.full(n, new_index, dtype=np.int64)),
                "index": pa.array(np.arange(index, index + n, dtype=np.int64)),
                "task_index": pa.array(np.zeros(n, dtype=np.int64)),
            }
            table = pa.table(columns).replace_schema_metadata(
                {"huggingface": json.dumps({"info": {"features": hf_features}})})
            path = out / DATA_PATH.format(episode_chunk=new_index // CHUNK_SIZE, episode_index=new_index)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path)
            stats = {**{k: _stats(d[f"data/images/{c}"], image=True) for k, c in zip(cams, info.camera_names)},
                     "observation.state": _stats(d["data/state"]), "action": _stats(d["data/action"]),
                     "next.reward": _stats(d["data/reward"]), "next.done": _stats(d["data/terminated"]),
                     "timestamp": _stats(np.arange(n) / info.control_hz),
                     "frame_index": _stats(np.arange(n)), "episode_index": _stats(np.full(n, new_index)),
                     "index": _stats(np.arange(index, index + n)), "task_index": _stats(np.zeros(n))}
            episode_stats.append(stats)
            ep_file.write(json.dumps({"episode_index": new_index, "tasks": [task], "length": n}) + "\n")
            st_file.write(json.dumps({"episode_index": new_index, "stats": stats}) + "\n")
            index += n
            if on_episode is not None:
                on_episode()
    (out / "meta/tasks.jsonl").write_text(json.dumps({"task_index": 0, "task": task}) + "\n")
    merged = {k: _merge([s[k] for s in episode_stats]) for k in episode_stats[0]} if episode_stats else {}
    (out / "meta/stats.json").write_text(json.dumps(merged, indent=4))
    (out / "meta/info.json").write_text(json.dumps({
        "codebase_version": CODEBASE_VERSION, "robot_type": info.robot or None, "total_episodes": len(chosen),
        "total_frames": index, "total_tasks": 1, "total_videos": 0,
        "total_chunks": -(-len(chosen) // CHUNK_SIZE), "chunks_size": CHUNK_SIZE, "fps": info.control_hz,
        "splits": {"train": f"0:{len(chosen)}"}, "data_path": DATA_PATH, "video_path": None, "features": features,
    }, indent=4))
    return len(chosen)
