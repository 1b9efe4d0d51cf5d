"""The sampler: next observations never cross an episode end, n-step returns are right, mixing
weights hold, and refresh() picks up episodes committed while it runs."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from robot_rl.replay import EpisodeWriter, IncompatibleStoreError, ReplaySampler, Source, Step
from tests.replay.synthetic import SIZE, episode_length, small_info, write_episode


def _write_rewards(writer: EpisodeWriter, rewards: list[float], terminated: bool, source: int = Source.POLICY,
                   tag: int = 0) -> None:
    writer.begin_episode()
    for t, r in enumerate(rewards):
        writer.append(Step(images={c: np.full((SIZE, SIZE, 3), t, np.uint8) for c in ("wrist", "front")},
                           state=np.array([tag, t], np.float32), action=np.zeros(2, np.float32), reward=r,
                           source=source))
    writer.end_episode(terminated=terminated, truncated=not terminated)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        for e in range(12):
            write_episode(writer, e)
    return path


def test_next_observation_never_crosses_an_episode_end(store: Path) -> None:
    sampler = ReplaySampler(str(store), n_step=3, discount=0.9, seed=0)
    for _ in range(20):
        batch = sampler.sample(256)
        episode, t = batch.state[:, 0], batch.state[:, 1]
        assert np.array_equal(batch.next_state[:, 0], episode)  # same episode, always
        steps = np.round(np.log(batch.discount) / np.log(0.9)).astype(int)
        lengths = np.array([episode_length(int(e)) for e in episode])
        terminal = batch.done == 1
        assert np.all(batch.next_state[~terminal, 1] == t[~terminal] + steps[~terminal])
        assert np.all(batch.next_state[terminal, 1] == lengths[terminal] - 1)  # masked copy of the last step
        truncated = episode % 2 == 1  # odd episodes are truncated: their last step is never sampled
        assert np.all(t[truncated] < lengths[truncated] - 1)
        assert np.all((batch.done == 1) <= ~truncated)
        # the images travel with the indices
        assert np.array_equal(batch.next_images["wrist"][:, 0, 0, 0], (episode * 7 + batch.next_state[:, 1]) % 251)


def test_n_step_return_matches_a_hand_computed_value(tmp_path: Path) -> None:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        _write_rewards(writer, [1, 2, 3, 4], terminated=True)  # cache positions 0..3
        _write_rewards(writer, [1, 2, 3, 4], terminated=False)  # cache positions 4..7
    sampler = ReplaySampler(str(path), n_step=3, discount=0.5)
    batch = sampler.batch_at(np.array([0, 2, 3, 5, 6]))
    # 0: 1 + .5*2 + .25*3 = 2.75, next = step 3;  2: 3 + .5*4 = 5, terminal;  3: 4, terminal
    # 5 (truncated ep, t=1): only two steps to the last observation: 2 + .5*3 = 3.5, next = t 3
    # 6 (t=2): 3, next = t 3
    np.testing.assert_allclose(batch.reward, [2.75, 5.0, 4.0, 3.5, 3.0])
    np.testing.assert_allclose(batch.discount, [0.125, 0.25, 0.5, 0.25, 0.5])
    np.testing.assert_array_equal(batch.done, [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(batch.next_state[:, 1], [3, 3, 3, 3, 3])
    assert sampler.num_transitions() == {"policy+human+demo+replay": 4 + 3}


def test_mixing_weights_are_respected(tmp_path: Path) -> None:
    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        for e in range(30):
            source = [Source.POLICY, Source.POLICY, Source.POLICY, Source.HUMAN, Source.DEMO, Source.RESET][e % 6]
            _write_rewards(writer, [0.0] * 10, terminated=True, source=source, tag=e)
    sampler = ReplaySampler(str(path), weights={"demo+human": 0.25, "policy": 0.75}, seed=1)
    sources = np.concatenate([sampler.sample(256).source for _ in range(40)])
    policy = np.mean(sources == Source.POLICY)
    assert policy == pytest.approx(0.75, abs=1e-9)  # exact per batch: 192 of 256
    assert not np.any(sources == Source.RESET)  # reset steps are never sampled unless asked for
    human_share = np.mean(sources[sources != Source.POLICY] == Source.HUMAN)
    assert human_share == pytest.approx(0.5, abs=0.05)  # uniform inside a bucket (equal step counts)
    # a bucket with no data yet gives its share to the others
    only_policy = ReplaySampler(str(path), weights={"policy": 0.5, "demo": 0.0, "reset": 0.5}, seed=2)
    assert 0.4 < np.mean(only_policy.sample(512).source == Source.RESET) < 0.6


def test_refresh_picks_up_new_episodes(store: Path) -> None:
    sampler = ReplaySampler(str(store), seed=0)
    steps, episodes = sampler.num_steps, sampler.num_episodes
    assert sampler.refresh() == 0
    with EpisodeWriter(store, "robot0") as writer:
        write_episode(writer, 12)
        write_episode(writer, 13)
    added = sampler.refresh()
    assert added == episode_length(12) + episode_length(13)
    assert (sampler.num_steps, sampler.num_episodes) == (steps + added, episodes + 2)
    seen = np.concatenate([sampler.sample(256).state[:, 0] for _ in range(10)])
    assert {12, 13} <= set(seen.astype(int).tolist())


def test_many_stores_and_groups_are_sampled_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    for path, group in ((a, "robot0"), (a, "robot1"), (b, "robot0")):
        with EpisodeWriter(path, group, small_info()) as writer:
            write_episode(writer, 0)
    sampler = ReplaySampler([str(a), f"file://{b}::robot0"])
    assert sampler.num_episodes == 3
    with EpisodeWriter(a, "robot2", small_info()) as writer:  # a new group appears while following
        write_episode(writer, 1)
    sampler.refresh()
    assert sampler.num_episodes == 4
    other = small_info()
    other.image_size = (8, 8)
    with EpisodeWriter(tmp_path / "c.zarr", "robot0", other) as writer:
        writer.begin_episode()
        writer.append(Step(images={c: np.zeros((8, 8, 3), np.uint8) for c in ("wrist", "front")},
                           state=np.zeros(2), action=np.zeros(2)))
        writer.end_episode(terminated=True)
    with pytest.raises(IncompatibleStoreError, match="image_size"):
        ReplaySampler([str(a), str(tmp_path / "c.zarr")])


def test_batches_are_uint8_images_and_float32_vectors(store: Path) -> None:
    batch = ReplaySampler(str(store), n_step=2).sample(32)
    assert batch.images["front"].dtype == np.uint8 and batch.images["front"].shape == (32, SIZE, SIZE, 3)
    for name in ("state", "action", "reward", "discount", "done", "next_state", "intervention"):
        assert getattr(batch, name).dtype == np.float32, name


def test_sampling_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "replay.zarr"
    EpisodeWriter(path, "robot0", small_info()).close()
    with pytest.raises(ValueError, match="no sampleable transitions yet"):
        ReplaySampler(str(path)).sample(8)


def test_prepare_chunk_hook_sees_each_new_chunk_with_its_store(tmp_path: Path) -> None:
    class Doubled(ReplaySampler):
        seen: list[tuple[str, int, int]] = []

        def prepare_chunk(self, chunk, location):  # type: ignore[no-untyped-def]
            self.seen.append((location, chunk.start, chunk.stop))
            return replace(chunk, data={**chunk.data, "data/reward": 2 * chunk.data["data/reward"]})

    path = tmp_path / "replay.zarr"
    with EpisodeWriter(path, "robot0", small_info()) as writer:
        _write_rewards(writer, [0.0, 0.5, 1.0], terminated=True)
        sampler = Doubled(str(path))
        _write_rewards(writer, [0.25, 0.25], terminated=True)
    sampler.refresh()
    assert [(start, stop) for _, start, stop in sampler.seen] == [(0, 3), (3, 5)]
    assert all(location == str(path) for location, _, _ in sampler.seen)
    np.testing.assert_allclose(sampler.batch_at(np.arange(5)).reward, [0.0, 1.0, 2.0, 0.5, 0.5])
