"""The progress critic: value rises through successful episodes and falls through reversed ones."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robot_rl.cli import main
from robot_rl.reward.data import load_episodes, split_episodes
from robot_rl.reward.goals import embed_goal, normalize_goal
from robot_rl.reward.interface import GoalError, ModelFileError, NoPositivesError, Observation
from robot_rl.reward.progress import ProgressCritic
from robot_rl.reward.screening import (load_keep, negative_delta_rate, rankdata, screen_episodes, spearman,
                                       value_order_correlation)
from robot_rl.reward.train import select_episodes
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
    episodes = load_episodes(recorded.sim_store(), image_size=recorded.IMAGE_SIZE)
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


def test_replay_inspect_screens_episodes_and_writes_a_filter_training_reads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, critic = recorded.sim_store(), str(recorded.progress_path())
    keep = tmp_path / "keep.json"
    assert main(["replay", "inspect", store, "--progress-model", critic, "--min-voc", "0.5", "--keep", str(keep)]) == 0
    out = capsys.readouterr().out
    assert "VOC" in out and "neg.delta" in out and f"of {len(recorded.OUTCOMES)} episodes pass (VOC >= 0.5" in out
    assert main(["replay", "inspect", store, "--json", "--progress-model", critic, "--min-voc", "0.5"]) == 0
    screens = json.loads(capsys.readouterr().out)["screening"]
    assert [s["episode"] for s in screens] == list(range(len(recorded.OUTCOMES)))
    assert all(-1.0 <= s["voc"] <= 1.0 and 0.0 <= s["negative_delta_rate"] <= 1.0 for s in screens)
    assert all(s["keep"] == (s["voc"] >= 0.5) for s in screens)
    kept = load_keep(keep)
    assert kept == {"sim": {s["episode"] for s in screens if s["keep"]}}
    assert any(s["keep"] and s["success"] for s in screens)  # clean successful picks pass
    # training reads the filter: only the kept episodes, and a filter that keeps nothing says what to do
    cfg = recorded.reward_config()
    assert {e.index for e in select_episodes(store, cfg, None, kept)} == kept["sim"]
    with pytest.raises(NoPositivesError, match="lower --min-voc"):
        select_episodes(store, cfg, None, {"sim": set()})
    assert main(["reward", "train-classifier", store, "--out", str(tmp_path / "m"), "--keep", str(tmp_path / "x")]) == 2
    assert "no such keep file" in capsys.readouterr().err
    # the filter options without a critic, and an empty goal, are refused with the fix
    assert main(["replay", "inspect", store, "--min-voc", "0.5"]) == 2
    assert "need --progress-model" in capsys.readouterr().err
    assert main(["replay", "inspect", store, "--progress-model", critic, "--goal", " "]) == 2
    assert "goal text is empty" in capsys.readouterr().err
