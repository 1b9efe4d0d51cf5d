"""Train reward models from a replay store, and relabel a store's episodes with a trained model.

    path = train_classifier_from_store("runs/sim/replay.zarr", "runs/sim/reward", cfg.reward)
    path = train_progress_from_store("runs/sim/replay.zarr", "runs/sim/reward", cfg.reward)
    relabel_store("runs/sim/replay.zarr", path)       # rewards/<model version>/... next to the data

Episodes are split by episode into training and held-out sets (``reward.holdout_fraction``,
stratified by outcome); the held-out set calibrates thresholds and gives the metrics recorded in the
model file.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.config.schema import RewardConfig
from robot_rl.replay.relabel import write_relabel
from robot_rl.replay.store import group_names, open_root
from robot_rl.reward.classifier import SuccessClassifier, train_classifier
from robot_rl.reward.data import Episode, load_episodes, split_episodes
from robot_rl.reward.files import load_model, save_model
from robot_rl.reward.interface import ModelFileError, NoPositivesError
from robot_rl.reward.progress import ProgressCritic, train_progress

Log = Callable[[str], None]


def select_episodes(store: str, cfg: RewardConfig, groups: Sequence[str] | None,
              keep: Mapping[str, Collection[int]] | None = None) -> list[Episode]:
    """The store's episodes; with ``keep`` (a screening filter) only those it lists."""
    episodes = load_episodes(store, groups, cfg.cameras or None, cfg.image_size, cfg.success_reward)
    if keep is None:
        return episodes
    kept = [e for e in episodes if e.index in keep.get(e.group, ())]
    if not kept:
        raise NoPositivesError(f"the keep filter leaves none of the {len(episodes)} episodes of {store}; "
                               "lower --min-voc in robot-rl replay inspect or train without --keep")
    return kept


def _provenance(store: str, groups: Sequence[str] | None, cfg: RewardConfig,
                keep: Mapping[str, Collection[int]] | None) -> dict[str, Any]:
    return {"store": str(store), "groups": list(groups or []), "success_reward": cfg.success_reward,
            "positive_tail": cfg.positive_tail, "seed": cfg.seed,
            **({"keep": {g: sorted(e) for g, e in keep.items()}} if keep is not None else {})}


def train_classifier_from_store(store: str, out_dir: str | Path, cfg: RewardConfig,
                                groups: Sequence[str] | None = None, log: Log = print,
                                keep: Mapping[str, Collection[int]] | None = None) -> Path:
    """Train, calibrate and save a success classifier; return the model file (``keep``: see ``select_episodes``)."""
    return _train_from_store(train_classifier, store, out_dir, cfg, groups, log, keep)


def train_progress_from_store(store: str, out_dir: str | Path, cfg: RewardConfig,
                              groups: Sequence[str] | None = None, log: Log = print,
                              keep: Mapping[str, Collection[int]] | None = None) -> Path:
    """Train and save a progress critic; return the model file (``keep``: see ``select_episodes``)."""
    return _train_from_store(train_progress, store, out_dir, cfg, groups, log, keep)


def _train_from_store(trainer: Callable[..., tuple[Any, dict[str, Any]]], store: str, out_dir: str | Path,
                      cfg: RewardConfig, groups: Sequence[str] | None, log: Log,
                      keep: Mapping[str, Collection[int]] | None) -> Path:
    episodes = select_episodes(store, cfg, groups, keep)
    train, held = split_episodes(episodes, cfg.holdout_fraction, cfg.seed)
    net, meta = trainer(train, held, cfg, list(cfg.cameras or episodes[0].images), log)
    meta["data"] = _provenance(store, groups, cfg, keep)
    path = save_model(net, out_dir, meta)
    log(f"wrote {path}")
    return path


def load_reward_model(path: str | Path, device: str = "cpu") -> SuccessClassifier | ProgressCritic:
    """Either kind of model file, by what its sidecar says."""
    _, meta = load_model(path)
    if meta["kind"] == "classifier":
        return SuccessClassifier.load(path, device)
    if meta["kind"] == "progress":
        return ProgressCritic.load(path, device)
    raise ModelFileError(f"{path}: unknown reward model kind {meta['kind']!r}")


def relabel_arrays(model: SuccessClassifier | ProgressCritic, episodes: Sequence[Episode],
                   goal: str | None = None) -> dict[str, np.ndarray]:
    """Per-step rewards of ``episodes`` (in order, back to back) under ``model``.

    Step ``i``'s reward is computed from observation ``i``, as the reward node does on the graph:
    classifier: 1.0 when the success probability reaches the calibrated threshold;
    progress critic: ``v_i - v_(i-1)``, the progress into ``o_i`` (0 on an episode's first step).
    """
    out: dict[str, list[np.ndarray]] = {}
    for e in episodes:
        if isinstance(model, SuccessClassifier):
            prob = model.probabilities(e.images, e.state)
            parts = {"success_prob": prob, "reward": (prob >= model.threshold).astype(np.float32)}
        else:
            g = goal or e.goal
            values, _ = model.episode_values(e.images, g)
            done = model.done_probabilities(e.images, g)
            parts = {"value": values, "reward": np.diff(values, prepend=values[:1]).astype(np.float32),
                     "done_prob": done}
        for key, value in parts.items():
            out.setdefault(key, []).append(value)
    return {k: np.concatenate(v).astype(np.float32) for k, v in out.items()}


def relabel_store(store: str, model_path: str | Path, groups: Sequence[str] | None = None,
                  goal: str | None = None, overwrite: bool = False, device: str = "cpu",
                  log: Log = print) -> dict[str, int]:
    """Write ``rewards/<model version>/`` in each group; return steps relabelled per group."""
    model = load_reward_model(model_path, device)
    names = list(groups) if groups else group_names(open_root(store, "r"))
    done: dict[str, int] = {}
    for name in names:
        episodes = load_episodes(store, [name], model.cameras, model.image_size)
        arrays = relabel_arrays(model, episodes, goal)
        if not episodes:
            arrays = {"reward": np.zeros(0, np.float32)}
        steps = write_relabel(store, name, model.version, arrays,
                              {"model": model.version, "kind": model.kind, "model_path": str(model_path),
                               "sha256": model.meta.get("sha256", ""), "goal": goal or ""}, overwrite=overwrite)
        done[name] = steps
        log(f"{store}::{name}: {steps} steps relabelled as rewards/{model.version}")
    return done
