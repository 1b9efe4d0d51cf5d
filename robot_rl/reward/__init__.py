"""Reward models: a success classifier and a VLAC-style progress critic, behind one interface.

Everything here reads recorded data through ``robot_rl.replay`` and imports no ROS; the reward node
(``robot_rl.ros.reward_node``) serves a model on the graph and ``robot-rl reward ...`` trains and
relabels. Importing this package does not import torch; the model modules do.

    interface   RewardModel (score, progress, done), Observation, the errors users see
    data        episodes and their success labels from a replay store
    classifier  SuccessClassifier: image encoder (+ optional state) + head, balanced sampling, calibrated threshold
    progress    ProgressCritic: pairwise progress delta in [-1, 1] and a done head, goal-conditioned
    goals       sentence embeddings of goal texts (packaged all-MiniLM-L6-v2, cached)
    screening   value-order correlation and negative-delta rate per episode (VLAC's data screening)
    files       versioned safetensors + JSON model files
    external    optional adapter for a large external critic (a local VLAC checkpoint)
    stream      the per-tick logic of the reward node (debounced success, dense reward)
    train       training and relabelling from a store; ``cli`` exposes them as ``robot-rl reward``
"""
from robot_rl.reward.interface import (
    GoalError,
    ImageSizeError,
    ModelFileError,
    NoPositivesError,
    Observation,
    RewardError,
    RewardModel,
    StateSizeError,
)

__all__ = ["GoalError", "ImageSizeError", "ModelFileError", "NoPositivesError", "Observation", "RewardError",
           "RewardModel", "StateSizeError"]
