"""Child process of the crash test: writes deterministic episodes forever, aborting some, until killed.

Prints ``ready <committed>`` once the writer is open and ``committed <n>`` after each commit.
"""
from __future__ import annotations

import sys

import numpy as np

from robot_rl.replay import EpisodeWriter
from tests.replay.synthetic import episode_steps, small_info, write_episode


def main() -> None:
    location, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    with EpisodeWriter(location, "robot0", small_info()) as writer:
        print(f"ready {writer.num_episodes}", flush=True)
        while True:
            e = writer.num_episodes
            if rng.random() < 0.2:  # an aborted episode: its steps must never become visible
                writer.begin_episode()
                for step in episode_steps(e + 1000)[: int(rng.integers(1, 5))]:
                    writer.append(step)
                writer.abort()
            write_episode(writer, e)
            print(f"committed {writer.num_episodes}", flush=True)


if __name__ == "__main__":
    main()
