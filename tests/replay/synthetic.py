"""Deterministic episodes for the replay tests: episode ``e`` always has the same content, so a test can
check any committed episode byte for byte, in any process, after any number of crashes."""
from __future__ import annotations

import numpy as np

from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step

CAMERAS = ["wrist", "front"]
SIZE = 16


def small_info() -> GroupInfo:
    return GroupInfo(camera_names=list(CAMERAS), image_size=(SIZE, SIZE), state_dim=2, action_dim=2,
                     task="test", goal="pass the tests", robot="fake", control_hz=10.0)


def episode_length(e: int) -> int:
    return 4 + (e % 5) * 3


def episode_steps(e: int) -> list[Step]:
    steps = []
    length = episode_length(e)
    for t in range(length):
        value = (e * 7 + t) % 251
        steps.append(Step(
            images={c: np.full((SIZE, SIZE, 3), (value + i) % 256, np.uint8) for i, c in enumerate(CAMERAS)},
            state=np.array([e, t], np.float32),
            action=np.array([t / 100.0, e / 1000.0], np.float32),
            reward=float(t == length - 1),
            source=[Source.POLICY, Source.HUMAN, Source.DEMO][e % 3],
            capture_time=1000.0 + e + t / 100.0,
        ))
    return steps


def episode_flags(e: int) -> tuple[bool, bool]:
    """(terminated, truncated) of episode ``e``."""
    return (e % 2 == 0, e % 2 == 1)


def write_episode(writer: EpisodeWriter, e: int) -> None:
    writer.begin_episode()
    for step in episode_steps(e):
        writer.append(step)
    terminated, truncated = episode_flags(e)
    writer.end_episode(terminated=terminated, truncated=truncated)


def check_episode(data: dict[str, np.ndarray], start: int, stop: int, e: int) -> str | None:
    """None if steps [start, stop) of ``data`` are exactly episode ``e``; else what differs."""
    length = episode_length(e)
    if stop - start != length:
        return f"episode {e}: length {stop - start}, expected {length}"
    for t, step in enumerate(episode_steps(e)):
        i = start + t
        for c in CAMERAS:
            if not np.array_equal(data[f"data/images/{c}"][i], step.images[c]):
                return f"episode {e} step {t}: image {c} differs"
        if not np.array_equal(data["data/state"][i], step.state):
            return f"episode {e} step {t}: state differs"
        if not np.array_equal(data["data/action"][i], step.action):
            return f"episode {e} step {t}: action differs"
        if data["data/source"][i] != int(step.source):
            return f"episode {e} step {t}: source differs"
    terminated, truncated = episode_flags(e)
    if bool(data["data/terminated"][stop - 1]) != terminated or bool(data["data/truncated"][stop - 1]) != truncated:
        return f"episode {e}: end flags differ"
    return None
