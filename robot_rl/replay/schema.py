"""The on-disk contract of a replay store, version 1.

```
replay.zarr/                          root attrs: {"robot_rl_replay": {"schema_version": 1}}
  <group>/                            one per writer (robot or session); attrs: GroupInfo
    data/images/<camera>  uint8   (N, H, W, 3)   chunks (16, H, W, 3), zstd-1 + checksum
    data/state            float32 (N, S)          chunks (4096, S), zstd-3 + checksum
    data/action           float32 (N, A)          the executed action (what the arm got)
    data/policy_action    float32 (N, A)          the policy's proposal; NaN where there was none
    data/human_action     float32 (N, A)          the operator's action; NaN where there was none
    data/reward           float32 (N,)
    data/intervention     bool    (N,)            the human overrode the policy at this step
    data/source           uint8   (N,)            Source: 0 policy, 1 human, 2 demo, 3 reset, 4 replay
    data/terminated       bool    (N,)            only ever set on an episode's last step
    data/truncated        bool    (N,)            only ever set on an episode's last step
    data/capture_time     float64 (N,)            s since epoch when the observation was taken
    data/receive_time     float64 (N,)            s since epoch when the writer assembled the step
  meta/episode_ends       int64   (capacity,)     the commit index: end (exclusive) of each episode
```

Step ``i`` pairs the observation at ``i`` with the action taken from it and the reward that followed.

**The commit protocol.** ``meta/episode_ends`` is preallocated with fill value 0 and grows in
chunks; the committed episodes are its strictly increasing positive prefix. A writer writes an
episode's data first (each chunk file is replaced atomically), then one ``episode_ends`` chunk,
which is the single atomic write that makes the episode visible. Data past the last committed end is
an aborted episode's tail: readers ignore it and the next commit overwrites it.

**Why zstd level 1 for images.** Measured with ``benchmarks/bench_replay.py --codecs`` (2 cameras,
128x128, chunks of 16 steps) on 300 frames of gym-hil's PandaPickCube renderer under random smooth
actions, and on the same frames with sigma=2 sensor noise added. The 2-core machine was shared with
other jobs, so throughputs are noisy; sizes are exact and the ranking held across runs.

| codec                        | size / raw (sim) | size / raw (sim + noise) | encode, frames/s (1 core) |
|------------------------------|------------------|--------------------------|---------------------------|
| zstd level 1                 | 0.17             | 0.91                     | 1800                      |
| zstd level 3                 | 0.15             | 0.87                     | 1280                      |
| zstd level 7                 | 0.12             | 0.82                     | ~600                      |
| blosc lz4 5, no shuffle      | 0.36             | 1.00                     | 1580                      |
| blosc lz4 5, bitshuffle      | 0.49             | 0.79                     |                           |
| blosc zstd 3, no shuffle     | 0.18             | 0.80                     | 340                       |
| blosc zstd 3, bitshuffle     | 0.28             | 0.70                     |                           |

Byte shuffle is a no-op on uint8; bitshuffle helps only on noisy images and costs on clean ones.
zstd-1 is the fastest encoder with a ratio within 15 % of the best and far under the 0.5 target on
rendered frames (0.17 on gym-hil's renders, 0.026 on robot_rl.sim's scripted pick, where a chunk's
16 frames differ little; 0.22 on the benchmark's synthetic scenes). Real camera noise makes every
lossless codec weak (0.8-0.9), which is one more reason to store images at the policy resolution.
Chunks of 16 steps: 4 steps cost 12 % more disk and four times the files; 64 steps save 3 % but a
random single-step read decodes 3 MB instead of 0.8 MB. The zstd frame checksum lets ``verify``
find a corrupted chunk, not only a truncated one. Low-dimensional arrays use chunks of 4096 steps.
"""
from __future__ import annotations

import enum
import getpass
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from zarr.codecs import ZstdCodec

from robot_rl.replay.errors import ForeignStoreError, SchemaVersionError

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (1,)
ATTR_KEY = "robot_rl_replay"
EPISODE_ENDS = "meta/episode_ends"
EPISODE_ENDS_CHUNK = 1024
IMAGE_CHUNK_STEPS = 16
LOWDIM_CHUNK_STEPS = 4096


class Source(enum.IntEnum):
    """Who chose the action of a step. Stored as uint8; the numbers are part of the schema."""

    POLICY = 0  # the policy acted
    HUMAN = 1  # the operator intervened during an online episode
    DEMO = 2  # a whole episode demonstrated by the operator
    RESET = 3  # the arm moved back between episodes; never sampled unless asked for
    REPLAY = 4  # a recorded episode's actions replayed open loop (VLAC's offline demonstration replay)

    @classmethod
    def parse(cls, name: str) -> Source:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown source {name!r}: use one of {names}") from None


@dataclass(frozen=True)
class ArraySpec:
    """One per-step array: its path under the group, dtype, per-step shape and chunking."""

    path: str
    dtype: str
    step_shape: tuple[int, ...]
    chunk_steps: int
    level: int
    fill: Any = 0

    def create(self, group: Any) -> Any:
        """Create the empty array in ``group``; every chunk is written, so a missing one is corruption."""
        return group.create_array(
            self.path,
            shape=(0, *self.step_shape),
            chunks=(self.chunk_steps, *self.step_shape),
            dtype=self.dtype,
            compressors=[ZstdCodec(level=self.level, checksum=True)],
            fill_value=self.fill,
            config={"write_empty_chunks": True},
        )


@dataclass
class GroupInfo:
    """What a group records about the data in it: read by the sampler, the CLI and exports."""

    camera_names: list[str]  # [] for a state-only group (no image arrays)
    image_size: tuple[int, int]  # (height, width) of every stored image
    state_dim: int
    action_dim: int
    task: str = ""
    goal: str = ""  # the language goal, as given to a goal-conditioned reward model
    robot: str = ""
    control_hz: float = 10.0
    calibration: dict[str, str] = field(default_factory=dict)  # camera name -> calibration id
    state_names: list[str] = field(default_factory=list)
    action_names: list[str] = field(default_factory=list)
    action_scale: list[float] = field(default_factory=list)  # action * scale = SI units (m/s, rad/s, ...)
    writer: dict[str, Any] = field(default_factory=dict)  # host, user, pid, program, time
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))
        if len(set(self.camera_names)) != len(self.camera_names):
            raise ValueError(f"GroupInfo.camera_names={self.camera_names}: names must be unique")
        if min(self.image_size) <= 0 or self.state_dim < 0 or self.action_dim <= 0:
            raise ValueError(f"GroupInfo: bad sizes image={self.image_size} state={self.state_dim} "
                             f"action={self.action_dim}")

    def to_attrs(self) -> dict[str, Any]:
        attrs = asdict(self)
        attrs["image_size"] = list(self.image_size)
        return attrs

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any], where: str) -> GroupInfo:
        check_version(attrs, where)
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in attrs.items() if k in known})
        except (TypeError, ValueError) as err:
            raise ForeignStoreError(f"{where}: replay group attributes are unreadable ({err}); "
                                    "was it written by robot_rl?") from None

    def array_specs(self) -> list[ArraySpec]:
        """Every per-step array of this group, images first."""
        h, w = self.image_size
        a = (self.action_dim,)
        low = LOWDIM_CHUNK_STEPS
        nan = float("nan")
        return [
            *(ArraySpec(f"data/images/{c}", "uint8", (h, w, 3), IMAGE_CHUNK_STEPS, 1) for c in self.camera_names),
            ArraySpec("data/state", "float32", (self.state_dim,), low, 3),
            ArraySpec("data/action", "float32", a, low, 3),
            ArraySpec("data/policy_action", "float32", a, low, 3, nan),
            ArraySpec("data/human_action", "float32", a, low, 3, nan),
            ArraySpec("data/reward", "float32", (), low, 3),
            ArraySpec("data/intervention", "bool", (), low, 3, False),
            ArraySpec("data/source", "uint8", (), low, 3),
            ArraySpec("data/terminated", "bool", (), low, 3, False),
            ArraySpec("data/truncated", "bool", (), low, 3, False),
            ArraySpec("data/capture_time", "float64", (), low, 3, nan),
            ArraySpec("data/receive_time", "float64", (), low, 3, nan),
        ]


def writer_identity(program: str = "") -> dict[str, Any]:
    """Who wrote a group: enough to find the machine and process that produced the data."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    return {"host": socket.gethostname(), "user": user, "pid": os.getpid(), "program": program,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def check_version(attrs: dict[str, Any], where: str) -> None:
    """Raise SchemaVersionError unless ``attrs`` carries a schema version this code reads."""
    version = attrs.get("schema_version")
    if version not in SUPPORTED_VERSIONS:
        raise SchemaVersionError(
            f"{where}: replay schema version {version!r} is not supported by this robot_rl "
            f"(reads {', '.join(map(str, SUPPORTED_VERSIONS))}); upgrade robot_rl, or export the store "
            "with the robot_rl that wrote it")


def committed_ends(raw: np.ndarray) -> np.ndarray:
    """The committed episode ends: the strictly increasing positive prefix of ``meta/episode_ends``.

    The preallocated tail holds the fill value 0, so the first entry that does not increase marks
    where the commits stop.
    """
    raw = np.asarray(raw, dtype=np.int64)
    if raw.size == 0:
        return raw
    prev = np.concatenate(([0], raw[:-1]))
    bad = np.flatnonzero(raw <= prev)
    return raw[: bad[0]] if bad.size else raw
