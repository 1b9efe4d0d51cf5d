"""Child process: follows a store while another process writes, checking every episode it sees.

Prints ``seen <episodes>`` as episodes appear and ``BAD <what>`` for any partial or wrong episode;
exits after ``duration`` seconds.
"""
from __future__ import annotations

import sys
import time

from robot_rl.replay.follower import SourceSpec, StoreFollower
from robot_rl.replay.errors import ForeignStoreError
from tests.replay.synthetic import check_episode


def main() -> None:
    location, duration = sys.argv[1], float(sys.argv[2])
    deadline = time.monotonic() + duration
    follower = None
    episodes = 0
    while time.monotonic() < deadline:
        if follower is None:
            try:
                follower = StoreFollower(SourceSpec(location, "robot0"))
            except ForeignStoreError:  # the writer has not created the store yet
                time.sleep(0.05)
                continue
        for chunk in follower.poll():
            start = chunk.start
            for end in chunk.ends:
                problem = check_episode(chunk.data, start - chunk.start, int(end) - chunk.start, episodes)
                if problem:
                    print(f"BAD {problem}", flush=True)
                start = int(end)
                episodes += 1
            print(f"seen {episodes}", flush=True)
        time.sleep(0.01)


if __name__ == "__main__":
    main()
