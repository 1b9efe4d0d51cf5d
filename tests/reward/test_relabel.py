"""Relabelling stores a newer model's rewards next to the recorded data, which stays byte for byte."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from robot_rl.replay import ReplayError, ReplaySampler
from robot_rl.replay.relabel import RelabeledSampler, read_relabel, relabel_versions
from robot_rl.cli import main
from robot_rl.reward.train import load_reward_model
from tests.reward import recorded


def _digest(root: Path, sub: str) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / sub).rglob("*")) if p.is_file()}


def test_relabel_writes_a_new_version_without_touching_the_originals(tmp_path: Path) -> None:
    store = tmp_path / "store.zarr"
    shutil.copytree(recorded.sim_store(), store)
    before = {**_digest(store, "sim/data"), **_digest(store, "sim/meta"), **_digest(store, "sim/zarr.json")}
    model = load_reward_model(recorded.progress_path())
    assert main(["reward", "relabel", str(store), str(recorded.progress_path())]) == 0
    assert main(["reward", "relabel", str(store), str(recorded.classifier_path())]) == 0
    after = {**_digest(store, "sim/data"), **_digest(store, "sim/meta"), **_digest(store, "sim/zarr.json")}
    assert after == before
    versions = relabel_versions(str(store), "sim")
    assert model.version in versions and len(versions) == 2
    assert versions[model.version]["kind"] == "progress" and versions[model.version]["complete"]
    rewards = read_relabel(str(store), "sim", model.version)
    recorded_rewards = ReplaySampler([str(store)]).num_steps
    assert rewards.shape == (recorded_rewards,) and np.isfinite(rewards).all()
    # the same model again is refused unless asked to overwrite; the CLI says so on one line
    assert main(["reward", "relabel", str(store), str(recorded.progress_path())]) == 2
    assert main(["reward", "relabel", str(store), str(recorded.progress_path()), "--overwrite"]) == 0
    # the sampler reads the relabelled rewards when asked, the recorded ones otherwise
    sampler = RelabeledSampler([str(store)], reward_version=model.version, seed=0)
    plain = ReplaySampler([str(store)], seed=0)
    idx = plain.sample_indices(64)
    np.testing.assert_allclose(sampler.batch_at(idx).reward, rewards[idx], atol=1e-6)
    assert sampler.uncovered_steps == 0 and not np.allclose(plain.batch_at(idx).reward, rewards[idx])
    with pytest.raises(ReplayError, match="relabelled versions"):
        read_relabel(str(store), "sim", "nope-1")
