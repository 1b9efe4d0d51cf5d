"""Reward models on held-out episodes of the simulated pick task (issue 8).

Records a training store and a separate held-out store with the scripted operator (successful
picks, and misses, stalls and drops), labels both with the simulator's ground truth, trains the success
classifier and the progress critic on the training store (``robot-rl reward train-*`` code paths,
thresholds calibrated on the training store's own held-out split; the classifier with the auxiliary
progress target, ``reward.progress_aux_weight=1.0``, and the state vector beside the images,
``reward.classifier_state``: the last frame before success and the first success frame differ by about a
centimetre of lift, which 64 px images cannot resolve and the ee height can), then measures on the
held-out store:

* ``classifier_precision`` / ``classifier_recall``: per frame, at the threshold in the model file (chosen
  for precision >= 0.95 on the training store's held-out episodes, never below 0.5), on the separate
  held-out store; issue 8 asks for precision >= 0.95 at recall >= 0.9;
* ``classifier_cv_precision`` / ``classifier_cv_recall``: the threshold chosen for precision >= 0.95 on
  half of the held-out store's episodes and measured on the other half (both ways, counts pooled):
  what the same classifier gives with a threshold chosen on more held-out data;
* ``voc_success_mean``: mean value-order correlation of the critic on successful episodes;
* ``voc_reversed_mean``: the same episodes played backwards (should be clearly negative);
* ``done_precision`` / ``done_recall``: the critic's done head at its calibrated threshold.

``--seeds 0,1,2`` trains and measures once per ``reward.seed`` (the train/held-out split, the
initialisation, the batches) on the same recordings: the top-level numbers are then the means, with
``*_min`` / ``*_max`` for the headline ones and every seed's numbers under ``runs``.

    python benchmarks/bench_reward.py [--quick] [--seeds 0,1,2] [--no-classifier-state] [--json PATH]
        [--data DIR] [--device cpu|cuda] [--threads N] [--models DIR]

``--data DIR`` keeps the recorded stores there and reuses them on the next run. Measures; never passes
or fails.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robot_rl.config.schema import RewardConfig
from robot_rl.reward.classifier import SuccessClassifier
from robot_rl.reward.common import calibrate_threshold, precision_recall
from robot_rl.reward.data import Episode, load_episodes
from robot_rl.reward.progress import ProgressCritic
from robot_rl.reward.screening import screen_episodes
from robot_rl.reward.simdata import alternating_outcomes, record_pick_episodes
from robot_rl.reward.train import train_classifier_from_store, train_progress_from_store


def record(path: Path, n: int, seed: int, cameras: list[str]) -> str:
    store = path / "replay.zarr"
    if not (store / "zarr.json").exists():
        start = time.perf_counter()
        record_pick_episodes(store, alternating_outcomes(n), seed=seed, cameras=cameras, max_steps=45, hold_steps=6,
                             on_episode=lambda k, mode, _: print(f"  recorded episode {k} ({mode})", flush=True))
        print(f"recorded {n} episodes to {store} in {time.perf_counter() - start:.0f} s")
    return str(store)


def cross_fitted(probs: list[np.ndarray], labels: list[np.ndarray], target: float) -> tuple[float, float]:
    """Precision and recall with thresholds chosen on one half of the episodes for the other and vice
    versa (halves alternate within successful and within failed episodes)."""
    successful = [i for i, y in enumerate(labels) if y.any()]
    failed = [i for i, y in enumerate(labels) if not y.any()]
    halves = [successful[0::2] + failed[0::2], successful[1::2] + failed[1::2]]
    tp = fp = positives = 0
    for fit, test in (halves, halves[::-1]):
        cal = calibrate_threshold(np.concatenate([probs[i] for i in fit]), np.concatenate([labels[i] for i in fit]),
                                  target)
        p, y = np.concatenate([probs[i] for i in test]) >= cal.threshold, np.concatenate([labels[i] for i in test])
        tp, fp, positives = tp + int((p & y).sum()), fp + int((p & ~y).sum()), positives + int(y.sum())
    return tp / max(tp + fp, 1), tp / max(positives, 1)


def newest(directory: Path, kind: str) -> Path:
    files = sorted(directory.glob(f"{kind}-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))
    if not files:
        raise SystemExit(f"--models {directory}: no {kind}-N.safetensors there")
    return files[-1]


def train_models(train_store: str, data: Path, tag: str, cfg: RewardConfig) -> tuple[Path, Path, float, float]:
    models = data / f"models_{tag}_seed{cfg.seed}_{int(time.time())}"
    start = time.perf_counter()
    clf_path = train_classifier_from_store(train_store, models, cfg)
    clf_s = time.perf_counter() - start
    start = time.perf_counter()
    critic_path = train_progress_from_store(train_store, models, cfg)
    return clf_path, critic_path, clf_s, time.perf_counter() - start


def measure_classifier(path: Path, held: list[Episode], cfg: RewardConfig, device: str) -> dict[str, Any]:
    classifier = SuccessClassifier.load(path, device)
    episode_probs = [classifier.probabilities(e.images, e.state) for e in held]
    episode_labels = [e.positives() for e in held]
    probs, labels = np.concatenate(episode_probs), np.concatenate(episode_labels)
    precision, recall = precision_recall(probs, labels, classifier.threshold)
    cv_precision, cv_recall = cross_fitted(episode_probs, episode_labels, cfg.min_precision)
    obs_one, state_one = {c: held[0].images[c][:1] for c in classifier.cameras}, held[0].state[:1]
    start = time.perf_counter()
    for _ in range(20):
        classifier.probabilities(obs_one, state_one)
    return {"classifier_precision": precision, "classifier_recall": recall,
            "classifier_threshold": classifier.threshold,
            "classifier_false_positives": int((probs >= classifier.threshold)[~labels].sum()),
            "classifier_false_negatives": int((probs < classifier.threshold)[labels].sum()),
            "classifier_cv_precision": cv_precision, "classifier_cv_recall": cv_recall,
            "classifier_state": bool(classifier.state_dim),
            "classifier_ms_per_frame": (time.perf_counter() - start) / 20 * 1e3,
            "classifier_device": str(classifier.device)}


def measure_critic(path: Path, held: list[Episode], labels: np.ndarray, device: str) -> dict[str, Any]:
    critic = ProgressCritic.load(path, device)
    successes = [e for e in held if e.success]
    forward = screen_episodes(critic, successes)
    backward = screen_episodes(critic, [e.reversed() for e in successes])
    failed = screen_episodes(critic, [e for e in held if not e.success])
    done_probs = np.concatenate([critic.done_probabilities(e.images, e.goal) for e in held])
    done_p, done_r = precision_recall(done_probs, labels, critic.threshold)
    return {"voc_success_mean": float(np.mean([s.voc for s in forward])),
            "voc_success_min": float(np.min([s.voc for s in forward])),
            "voc_reversed_mean": float(np.mean([s.voc for s in backward])),
            "voc_failed_mean": float(np.mean([s.voc for s in failed])) if failed else float("nan"),
            "negative_delta_rate_success": float(np.mean([s.negative_delta_rate for s in forward])),
            "negative_delta_rate_reversed": float(np.mean([s.negative_delta_rate for s in backward])),
            "done_precision": done_p, "done_recall": done_r}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean over seeds of every number, plus the min and max of the headline ones."""
    out: dict[str, Any] = {k: float(np.mean([r[k] for r in runs])) for k, v in runs[0].items()
                           if isinstance(v, float) and k != "seed"}
    for key in ("classifier_precision", "classifier_recall", "voc_success_mean", "voc_reversed_mean"):
        out[f"{key}_min"] = float(np.min([r[key] for r in runs]))
        out[f"{key}_max"] = float(np.max([r[key] for r in runs]))
    return out


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'metric':<32} value")
    for key, value in results.items():
        if key != "runs":
            print(f"{key:<32} {value:.3f}" if isinstance(value, float) else f"{key:<32} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer episodes and updates")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--data", type=Path, help="keep (and reuse) the recorded stores in this directory")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds (reward.seed: the split, the "
                        "initialisation, the batches); more than one reports the mean and the spread")
    parser.add_argument("--classifier-state", action=argparse.BooleanOptionalAction, default=True,
                        help="the classifier also reads the robot state vector (reward.classifier_state)")
    parser.add_argument("--threads", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                        help="torch CPU threads")
    parser.add_argument("--models", type=Path, help="measure the newest model files in this directory (a previous "
                        "run's models_* directory) instead of training new ones")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.models and len(seeds) > 1:
        parser.error("--models measures one directory's model files: give a single --seeds value")
    torch.set_num_threads(args.threads)
    data = args.data or Path(tempfile.mkdtemp(prefix="bench_reward_"))
    n_train, n_eval = (48, 16) if args.quick else (72, 24)
    cameras = ["wrist", "front"]
    tag = "quick" if args.quick else "full"
    train_store = record(data / f"train_{tag}", n_train, seed=100, cameras=cameras)
    eval_store = record(data / f"eval_{tag}", n_eval, seed=900, cameras=cameras)
    held = load_episodes(eval_store, image_size=64)
    labels = np.concatenate([e.positives() for e in held])
    runs = []
    for seed in seeds:
        cfg = RewardConfig(device=args.device, epochs=20 if args.quick else 30,
                           progress_steps=600 if args.quick else 1500, batch_size=64, image_size=64,
                           progress_aux_weight=1.0, classifier_state=args.classifier_state, seed=seed)
        if args.models:
            clf_path, critic_path = newest(args.models, "classifier"), newest(args.models, "progress")
            clf_s = critic_s = float("nan")
        else:
            clf_path, critic_path, clf_s, critic_s = train_models(train_store, data, tag, cfg)
        run = {"seed": seed, **measure_classifier(clf_path, held, cfg, args.device),
               **measure_critic(critic_path, held, labels, args.device),
               "classifier_train_s": clf_s, "critic_train_s": critic_s}
        print_table(run)
        runs.append(run)
    results: dict[str, Any] = {
        **summarise(runs), "seeds": [r["seed"] for r in runs],
        "held_out_episodes": len(held), "held_out_successful": sum(e.success for e in held),
        "held_out_frames": int(len(labels)), "held_out_positive_frames": int(labels.sum()),
        "train_episodes": n_train, "cameras": cameras, "image_size": 64, "classifier_state": args.classifier_state,
        "device": runs[0]["classifier_device"] if args.device == "auto" else args.device,
        "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "quick": args.quick,
        "runs": runs,
    }
    if len(runs) > 1:
        print("\nmean over seeds")
        print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
