"""Sim-to-real replay: recorded episodes against the simulator and a policy checkpoint (``robot-rl sim2real``).

    report = run_sim2real(store, settings, Sim2RealConfig(), checkpoint=None)
    write_report(report, "runs/sim2real")        # report.json + plots; report.passed gates a deployment

(a) the recorded commands are replayed open loop in the simulator from each episode's recorded initial
state and the end-effector trajectories compared; (b) the recorded observations go through a policy
checkpoint offline and its actions are compared with the recorded ones; (c) recorded and simulated
camera frames are compared by simple image statistics.
"""
from robot_rl.sim2real.config import Sim2RealConfig
from robot_rl.sim2real.core import EpisodeReport, Sim2RealReport, run_sim2real
from robot_rl.sim2real.report import write_report

__all__ = ["EpisodeReport", "Sim2RealConfig", "Sim2RealReport", "run_sim2real", "write_report"]
