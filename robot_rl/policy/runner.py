"""Run the actor at the control rate while the learner replaces its weights.

Two copies of the actor live on the device: the *active* one answers ticks, the *standby* one
receives new weights on a background thread (read, sha256-verified, shape-checked, copied to the
device on its own CUDA stream). When the standby is ready, the next ``act`` swaps the two references
before it starts, an O(1) step, so a load never delays a tick and every action comes from exactly one
weights version (returned with it). A load that fails leaves the active weights serving and is
reported through ``status`` and ``drain_messages``.

Deterministic actions run each actor through its TorchScript trace (``robot_rl.policy.traced``), built
once at construction; the trace reads the actor's own parameters, so swapped-in weights need no retrace.
On CUDA, the observation is copied into pinned host buffers and uploaded into device tensors that are
allocated once (``DeviceInputs``), and the deterministic act of each actor copy is replayed as a CUDA
graph captured on those tensors (``robot_rl.policy.cuda_graph``; ``policy.cuda_graphs``). The copy of
the action back to the host synchronises, so ``inference_s`` covers the forward pass and the download.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from robot_rl.models.actor import TWIST_DIM, Actor
from robot_rl.models.config import ModelConfig
from robot_rl.models.weights import WeightsError, WeightsInfo, apply_weights, load_weights
from robot_rl.policy.cuda_graph import GraphedAct
from robot_rl.policy.traced import ActFn, deterministic_act

RANDOM_INIT_VERSION = -1  # the seeded initial weights used before the learner's first version


class DeviceError(RuntimeError):
    """The configured device cannot be used here; the message says what to set instead."""


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; ``cuda``/``cuda:N`` must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"policy.device={name!r}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"policy.device={name!r} but CUDA is not available: use policy.device=auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"policy.device={name!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise DeviceError(f"policy.device={name!r}: use auto, cpu, cuda or cuda:N")
    return device


def describe_device(device: torch.device) -> str:
    """``cpu``, or the CUDA device with its name (``cuda:0 (NVIDIA H100 80GB HBM3)``), for logs and diagnostics."""
    if device.type != "cuda":
        return str(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


@dataclass(frozen=True)
class PolicyAction:
    twist: npt.NDArray[np.float32]  # 6 values in [-1, 1] (NaN only if the network produced it)
    gripper: float  # [-1 open, +1 closed]
    version: int  # weights version that computed this action
    preprocess_s: float
    inference_s: float

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.twist).all()) and bool(np.isfinite(self.gripper))


class DeviceInputs:
    """Pinned host buffers and the device tensors they upload into, allocated once for every tick.

    A fresh ``pin_memory()`` each tick (a page-locked allocation) put 14 ms into the p99 of preprocessing
    (max 23 ms) on an H100 host, and fixed device tensors are what a CUDA graph reads from."""

    def __init__(self, cameras: list[str], image_size: int, state_dim: int, device: torch.device) -> None:
        self.host_images = {c: torch.empty((1, image_size, image_size, 3), dtype=torch.uint8).pin_memory()
                            for c in cameras}
        self.host_state = torch.empty((1, state_dim), dtype=torch.float32).pin_memory()
        self.images = {c: torch.empty_like(t, device=device) for c, t in self.host_images.items()}
        self.state = torch.empty_like(self.host_state, device=device)
        self.device = device
        self._uploaded = torch.cuda.Event()

    def upload(self, images: Mapping[str, npt.NDArray[np.uint8]],
               state: npt.NDArray[np.float32]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        self._uploaded.synchronize()  # the previous upload has left the host buffers (returns at once after a tick)
        for camera, host in self.host_images.items():
            host.numpy()[0] = images[camera]
            self.images[camera].copy_(host, non_blocking=True)
        self.host_state.numpy()[0] = state
        self.state.copy_(self.host_state, non_blocking=True)
        self._uploaded.record(torch.cuda.current_stream(self.device))  # the copies' stream, on cuda:N too
        return self.images, self.state


@dataclass(frozen=True)
class RunnerStatus:
    version: int
    loads_ok: int
    loads_rejected: int
    last_error: str
    pending: int | None  # version loaded and waiting for the next tick, if any


class PolicyRunner:
    """Owns the two actors, the loader thread and the device; ``act`` is called from one control thread."""

    def __init__(self, config: ModelConfig, cameras: list[str], image_size: int, device: str = "auto",
                 deterministic: bool = True, seed: int = 0, cpu_threads: int = 1, cuda_graphs: bool = True) -> None:
        self.device = resolve_device(device)
        # process-wide (the policy server is its own process), on CUDA too: there torch's pool on every core
        # spun through the host-side work of each tick (node CPU 138 ms a 100 ms tick on a 16-core host)
        torch.set_num_threads(cpu_threads)
        self.image_size = image_size
        self.deterministic = deterministic
        torch.manual_seed(seed)
        self._active = Actor(config, cameras, image_size).to(self.device).eval()
        self.cameras = list(self._active.cameras)  # [] for a state-only policy (policy.model.use_images=false)
        self.state_dim = self._active.encoder.state_dim
        self._standby = Actor(config, cameras, image_size).to(self.device).eval()
        self._standby.load_state_dict(self._active.state_dict())
        self._inputs = (DeviceInputs(self.cameras, image_size, self.state_dim, self.device)
                        if self.device.type == "cuda" else None)
        self._messages: list[str] = []
        self._act_fns = {model: self._act_fn(model, cuda_graphs) for model in (self._active, self._standby)}
        self.graphed = all(isinstance(fn, GraphedAct) for fn in self._act_fns.values())  # both copies replay a graph
        self._active_info = WeightsInfo(version=RANDOM_INIT_VERSION, path="", sha256="")
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(seed)
        self._lock = threading.Condition()
        self._requested: WeightsInfo | None = None
        self._ready: tuple[Actor, WeightsInfo] | None = None
        self._loading = False
        self._loads_ok = 0
        self._loads_rejected = 0
        self._last_error = ""
        self._stopped = False
        self._stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        self._thread = threading.Thread(target=self._loader, name="weights-loader", daemon=True)
        self._thread.start()

    # --- weights -----------------------------------------------------------------------------------

    def load_now(self, info: WeightsInfo) -> None:
        """Load ``info`` synchronously into the active actor (before the loop starts); raise WeightsError."""
        loaded = load_weights(info, self._active)
        apply_weights(self._active, loaded)
        apply_weights(self._standby, loaded)
        self._active_info = info
        self._loads_ok += 1

    def request(self, info: WeightsInfo) -> None:
        """Ask the loader for ``info`` (the newest request wins); returns at once."""
        with self._lock:
            self._requested = info
            self._lock.notify_all()

    def _loader(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and self._requested is None:
                    self._lock.wait()
                if self._stopped:
                    return
                info, self._requested = self._requested, None
                assert info is not None
                pending = self._ready[1].version if self._ready is not None else None
                if info.version in (self._active_info.version, pending):
                    continue
                while not self._stopped and self._ready is not None:
                    self._lock.wait()  # the standby is the ready model until the next tick swaps
                if self._stopped:
                    return
                standby = self._standby
                self._loading = True
            try:
                loaded = load_weights(info, standby)
                if self._stream is not None:
                    with torch.cuda.stream(self._stream):
                        apply_weights(standby, loaded)
                    self._stream.synchronize()
                else:
                    apply_weights(standby, loaded)
            except WeightsError as err:
                with self._lock:
                    self._loads_rejected += 1
                    self._last_error = str(err)
                    self._messages.append(f"rejected weights v{info.version}: {err}")
                    self._loading = False
                    self._lock.notify_all()
                continue
            with self._lock:
                self._ready = (standby, info)
                self._loads_ok += 1
                self._loading = False
                self._lock.notify_all()

    def _swap_if_ready(self) -> None:
        if self._ready is None:  # unlocked read: a reference check, the lock is taken only to swap
            return
        with self._lock:
            if self._ready is None:
                return
            model, info = self._ready
            self._standby, self._active = self._active, model
            self._active_info = info
            self._ready = None
            self._messages.append(f"serving weights v{info.version} ({info.path})")
            self._lock.notify_all()

    @property
    def weights(self) -> WeightsInfo:
        """The weights the active actor holds (what the next action uses, unless a swap is pending)."""
        return self._active_info

    def status(self) -> RunnerStatus:
        with self._lock:
            return RunnerStatus(version=self._active_info.version, loads_ok=self._loads_ok,
                                loads_rejected=self._loads_rejected, last_error=self._last_error,
                                pending=self._ready[1].version if self._ready is not None else None)

    def drain_messages(self) -> list[str]:
        with self._lock:
            messages, self._messages = self._messages, []
        return messages

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no request is queued or loading and no version waits for a swap (tests, tools)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._requested is None and self._ready is None and not self._loading:
                    return True
            time.sleep(0.005)
        return False

    # --- inference ---------------------------------------------------------------------------------

    def _act_fn(self, model: Actor, cuda_graphs: bool) -> ActFn:
        """The call that acts with ``model``: when deterministic its trace (robot_rl.policy.traced), on CUDA
        replayed as a graph (robot_rl.policy.cuda_graph); else eager sampling."""
        if not self.deterministic:
            return lambda images, state: model.act(images, state, deterministic=False, generator=self._generator)
        images = {c: np.zeros((self.image_size, self.image_size, 3), np.uint8) for c in self.cameras}
        example = self.preprocess(images, np.zeros(self.state_dim, np.float32))
        act = deterministic_act(model, *example)
        if not (cuda_graphs and self.device.type == "cuda"):
            return act
        try:
            graphed = GraphedAct(act, *example)
        except RuntimeError as err:  # an op that cannot be captured: the trace still acts, one launch per kernel
            self._messages.append(f"CUDA graph capture failed, acting without it: {err}")
            return act
        return graphed

    def preprocess(self, images: Mapping[str, npt.NDArray[np.uint8]],
                   state: npt.NDArray[np.float32]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """uint8 HxWx3 images and the state -> batched tensors on the device (normalisation runs in the model).

        Only ``self.cameras`` are read: a state-only policy takes ``images={}``. On CUDA the tensors returned
        are the runner's own input buffers (``DeviceInputs``), overwritten by the next call."""
        for camera in self.cameras:
            image = images[camera]
            if image.shape != (self.image_size, self.image_size, 3) or image.dtype != np.uint8:
                raise ValueError(f"camera {camera!r} image is {image.dtype} {image.shape}; the policy needs uint8 "
                                 f"{self.image_size}x{self.image_size}x3 (cameras.policy_image_size)")
        state = np.asarray(state, dtype=np.float32).reshape(-1)
        if state.shape[0] != self.state_dim:  # checked here: the traced actor no longer checks its inputs
            raise ValueError(f"state has {state.shape[0]} values; the policy needs {self.state_dim} "
                             "(policy.model.state_dim, robot_rl.policy.state)")
        if self._inputs is not None:
            return self._inputs.upload(images, state)
        tensors = {c: torch.from_numpy(np.ascontiguousarray(images[c])).unsqueeze(0) for c in self.cameras}
        return tensors, torch.from_numpy(state).reshape(1, -1)

    def act(self, images: Mapping[str, npt.NDArray[np.uint8]], state: npt.NDArray[np.float32]) -> PolicyAction:
        """One tick: swap in ready weights, preprocess on the device, run the actor; tagged with its version."""
        self._swap_if_ready()
        model, version = self._active, self._active_info.version
        t0 = time.perf_counter()
        batch_images, batch_state = self.preprocess(images, state)
        t1 = time.perf_counter()
        action = self._act_fns[model](batch_images, batch_state)
        values = action[0].to("cpu").numpy()  # waits for the device
        t2 = time.perf_counter()
        return PolicyAction(twist=values[:TWIST_DIM].astype(np.float32), gripper=float(values[TWIST_DIM]),
                            version=version, preprocess_s=t1 - t0, inference_s=t2 - t1)

    def warmup(self, steps: int = 10) -> float:
        """Run both actors ``steps`` times on blank inputs (allocations, kernels); return the last tick's seconds."""
        images = {c: np.zeros((self.image_size, self.image_size, 3), np.uint8) for c in self.cameras}
        state = np.zeros(self.state_dim, np.float32)
        elapsed = 0.0
        for model in (self._standby, self._active):
            for _ in range(max(1, steps)):
                start = time.perf_counter()
                self._act_fns[model](*self.preprocess(images, state))[0].to("cpu")
                elapsed = time.perf_counter() - start
        return elapsed

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout=5.0)
