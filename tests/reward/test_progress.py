"""The progress critic: value rises through successful episodes and falls through reversed ones."""
from __future__ import annotations

import json

import numpy as np
import pytest

from robot_rl.reward.data import load_episodes, split_episodes
from robot_rl.reward.goals import embed_goal, normalize_goal
from robot_rl.reward.interface import GoalError, ModelFileError, Observation
from robot_rl.reward.progress import ProgressCritic
from robot_rl.reward.screening import negative_delta_rate, rankdata, screen_episodes, spearman, value_order_correlation
from tests.reward import recorded


def test_rank_statistics() -> None:
    np.testing.assert_array_equal(rankdata([3.0, 1.0, 1.0, 2.0]), [4.0, 1.5, 1.5, 3.0])
    assert value_order_correlation(np.arange(10.0)) == pytest.approx(1.0)
    assert value_order_correlation(np.arange(10.0)[::-1]) == pytest.approx(-1.0)
    assert value_order_correlation(np.ones(5)) == 0.0
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert negative_delta_rate([0.1, -0.2, 0.0, -0.005, -0.05]) == pytest.approx(0.4)


def test_goal_embeddings_are_real_cached_and_refuse_empty_text() -> None:
    a, b, c = embed_goal("pick up the cube"), embed_goal("lift the cube off the table"), embed_goal("open the drawer")
    assert a.shape == (384,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-4)
    assert float(a @ b) > float(a @ c)  # a sentence model, not a hash: similar tasks embed closer
    assert embed_goal("  pick up   the cube ") is a  # embedded once, then cached
    for bad in ("", "   "):
        with pytest.raises(GoalError, match="goal text is empty"):
            normalize_goal(bad)


def test_critic_value_order_is_positive_on_success_and_negative_reversed() -> None:
    critic = ProgressCritic.load(recorded.progress_path())
    meta = json.loads(recorded.progress_path().with_suffix(".json").read_text())
    assert meta["goal"] == "pick up the cube" and "pick up the cube" in meta["goals"]
    episodes = load_episodes(recorded.sim_store(), image_size=64)
    _, held = split_episodes(episodes, 0.3, 0)
    successes = [e for e in held if e.success]
    forward = screen_episodes(critic, successes)
    backward = screen_episodes(critic, [e.reversed() for e in successes])
    assert np.mean([s.voc for s in forward]) > 0.5, forward
    assert np.mean([s.voc for s in backward]) < -0.5, backward
    assert np.mean([s.negative_delta_rate for s in backward]) > np.mean([s.negative_delta_rate for s in forward])
    # the interface: signed, antisymmetric deltas in [-1, 1]; an empty goal is refused
    e = successes[0]
    start, end = Observation({c: v[0] for c, v in e.images.items()}), Observation({c: v[-1] for c, v in e.images.items()})
    up, down = critic.progress(start, end, e.goal), critic.progress(end, start, e.goal)
    assert 0.2 < up <= 1.0 and down == pytest.approx(-up, abs=1e-5)
    with pytest.raises(GoalError):
        critic.progress(start, end, "")
    with pytest.raises(ModelFileError, match="is a success classifier"):
        ProgressCritic.load(recorded.classifier_path())
