"""Policy runner: acts with one weights version per action, swaps between ticks, a load never blocks a tick."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import robot_rl.policy.runner as runner_module
from robot_rl.config.schema import ModelConfig
from robot_rl.models.actor import Actor
from robot_rl.models.weights import LoadedWeights, WeightsInfo, save_weights
from robot_rl.policy.runner import RANDOM_INIT_VERSION, DeviceError, PolicyRunner, resolve_device

CAMERAS = ["wrist", "front"]
SIZE = 32
CONFIG = ModelConfig(conv_channels=[8, 8], conv_strides=[2, 2], hidden_dims=[32])
IMAGES = {c: np.zeros((SIZE, SIZE, 3), np.uint8) for c in CAMERAS}
STATE = np.zeros(CONFIG.state_dim, np.float32)


def coded(version: int) -> tuple[Actor, float]:
    """An actor whose deterministic twist x is a code unique to ``version``."""
    actor = Actor(CONFIG, CAMERAS, SIZE)
    code = -0.9 + 0.03 * version
    with torch.no_grad():
        actor.mean.weight.zero_()
        actor.mean.bias.zero_()
        actor.mean.bias[0] = math.atanh(code)
    return actor, code


# CI has no GPU: the CUDA cases run where one is (on the GPU machine: pytest tests/policy/test_runner.py)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=needs_cuda)])
def runner(request: pytest.FixtureRequest) -> Iterator[PolicyRunner]:
    r = PolicyRunner(CONFIG, CAMERAS, SIZE, device=request.param)
    yield r
    r.close()


def test_random_init_acts_and_is_tagged(runner: PolicyRunner) -> None:
    runner.warmup(2)
    action = runner.act(IMAGES, STATE)
    assert action.version == RANDOM_INIT_VERSION and action.finite
    assert action.twist.shape == (6,) and np.all(np.abs(action.twist) < 1) and -1 < action.gripper < 1
    with pytest.raises(ValueError, match="policy_image_size"):
        runner.act({c: np.zeros((16, 16, 3), np.uint8) for c in CAMERAS}, STATE)


def test_requested_weights_swap_in_at_the_next_tick(runner: PolicyRunner, tmp_path: Path) -> None:
    actor, code = coded(3)
    runner.request(save_weights(actor, tmp_path, 3))
    assert runner.wait_idle(5.0) is False  # loaded, waiting for a tick to swap it in
    assert runner.status().pending == 3 and runner.weights.version == RANDOM_INIT_VERSION
    action = runner.act(IMAGES, STATE)
    assert action.version == 3 and abs(action.twist[0] - code) < 1e-5
    assert runner.wait_idle(1.0) and runner.drain_messages() == [f"serving weights v3 ({tmp_path}/actor-3.safetensors)"]


def test_a_corrupt_file_is_rejected_and_the_old_weights_keep_serving(runner: PolicyRunner, tmp_path: Path) -> None:
    good, code = coded(1)
    runner.request(save_weights(good, tmp_path, 1))
    runner.wait_idle(0.0)
    deadline = time.monotonic() + 5
    while runner.act(IMAGES, STATE).version != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    info = save_weights(coded(2)[0], tmp_path, 2)
    Path(info.path).write_bytes(Path(info.path).read_bytes()[:-4] + b"\0\0\0\0")
    runner.request(info)
    assert runner.wait_idle(5.0)
    status = runner.status()
    assert status.loads_rejected == 1 and "sha256" in status.last_error
    action = runner.act(IMAGES, STATE)
    assert action.version == 1 and abs(action.twist[0] - code) < 1e-5
    assert any(m.startswith("rejected weights v2") for m in runner.drain_messages())


def test_a_slow_load_never_delays_a_tick_and_every_action_has_one_version(
        runner: PolicyRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads that take 50x a tick (slow network file system) run beside the loop, never inside it."""
    real_load = runner_module.load_weights

    def slow_load(info: WeightsInfo, model: torch.nn.Module) -> LoadedWeights:
        time.sleep(0.2)
        return real_load(info, model)

    monkeypatch.setattr(runner_module, "load_weights", slow_load)
    codes = {}
    infos = []
    for v in range(1, 6):
        actor, codes[v] = coded(v)
        infos.append(save_weights(actor, tmp_path, v))
    runner.warmup(2)
    durations, seen = [], []
    stop = threading.Event()

    def announce() -> None:
        for info in infos:
            runner.request(info)
            while runner.status().version != info.version and not stop.is_set():
                time.sleep(0.005)
        stop.set()

    thread = threading.Thread(target=announce)
    thread.start()
    deadline = time.monotonic() + 20
    while not stop.is_set() and time.monotonic() < deadline:
        start = time.perf_counter()
        action = runner.act(IMAGES, STATE)
        durations.append(time.perf_counter() - start)
        seen.append((action.version, float(action.twist[0])))
        time.sleep(0.004)
    thread.join()
    versions = [v for v, _ in seen]
    assert versions == sorted(versions) and set(range(1, 6)) <= set(versions)
    for version, x in seen:  # the action's value is the one its tagged version computes
        if version != RANDOM_INIT_VERSION:
            assert abs(x - codes[version]) < 1e-5
    # a blocking load would put 200 ms into some tick; ticks stay far below (CPU shared with other work)
    assert max(durations) < 0.1, sorted(durations)[-5:]


def test_device_resolution() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="auto, cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="not available"):
            resolve_device("cuda")


def test_sampled_actions_vary_and_stay_bounded() -> None:
    r = PolicyRunner(CONFIG, CAMERAS, SIZE, device="cpu", deterministic=False, seed=3)
    try:
        actions = np.array([r.act(IMAGES, STATE).twist for _ in range(5)])
        assert np.all(np.abs(actions) <= 1) and np.ptp(actions[:, 0]) > 0
    finally:
        r.close()


def test_a_state_only_policy_acts_without_camera_frames(tmp_path: Path) -> None:
    config = ModelConfig(use_images=False, hidden_dims=[32])
    r = PolicyRunner(config, CAMERAS, SIZE, device="cpu")
    try:
        assert r.cameras == []
        r.warmup(1)
        action = r.act({}, STATE)
        assert action.finite and action.version == RANDOM_INIT_VERSION
        trained = Actor(config, CAMERAS, SIZE)  # the learner's state-only actor: its weights load here
        with torch.no_grad():
            trained.mean.bias.fill_(0.5)
        r.load_now(save_weights(trained, tmp_path, 1))
        assert r.act({}, STATE).version == 1
    finally:
        r.close()


@pytest.mark.parametrize("deterministic", [True, False])
def test_the_traced_actor_acts_as_the_eager_one_and_follows_weights_copied_in_place(deterministic: bool) -> None:
    runner = PolicyRunner(CONFIG, CAMERAS, SIZE, device="cpu", deterministic=deterministic)
    try:
        rng = np.random.default_rng(0)
        images = {c: rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for c in CAMERAS}
        state = rng.standard_normal(CONFIG.state_dim).astype(np.float32)
        for seed in (1, 2):  # new weights copied in place, as a hot swap does
            torch.manual_seed(seed)
            runner._active.load_state_dict(Actor(CONFIG, CAMERAS, SIZE).state_dict())
            action = runner.act(images, state)
            eager = runner._active.act(*runner.preprocess(images, state), deterministic=True)[0].numpy()
            if deterministic:
                np.testing.assert_allclose(action.twist, eager[:6], atol=1e-6)
            else:
                assert not np.allclose(action.twist, eager[:6], atol=1e-6)  # sampled around the mean
        with pytest.raises(ValueError, match="state has 3 values"):
            runner.act(images, np.zeros(3, np.float32))
    finally:
        runner.close()


@needs_cuda
def test_on_cuda_the_graph_acts_as_the_eager_actor_on_each_tick_inputs_and_swapped_weights(tmp_path: Path) -> None:
    runner = PolicyRunner(CONFIG, CAMERAS, SIZE, device="cuda")
    try:
        assert runner.graphed
        rng = np.random.default_rng(0)
        for version in (1, 2, 3):
            torch.manual_seed(version)
            trained = Actor(CONFIG, CAMERAS, SIZE).eval()
            runner.request(save_weights(trained, tmp_path, version))
            assert runner.wait_idle(5.0) is False  # loaded into the standby copy, swapped at the next tick
            images = {c: rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for c in CAMERAS}
            state = rng.standard_normal(CONFIG.state_dim).astype(np.float32)
            action = runner.act(images, state)
            with torch.no_grad():  # the same network on the CPU, eagerly
                cpu_images = {c: torch.from_numpy(image).unsqueeze(0) for c, image in images.items()}
                expected = trained.act(cpu_images, torch.from_numpy(state).unsqueeze(0))[0].numpy()
            assert action.version == version
            # cuDNN convolutions run in TF32 by default: agreement to ~1e-3, not float32's 1e-6
            np.testing.assert_allclose(action.twist, expected[:6], atol=2e-3)
            np.testing.assert_allclose(action.gripper, expected[6], atol=2e-3)
    finally:
        runner.close()
