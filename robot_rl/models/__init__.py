"""Networks: image encoders, the SAC actor, and the safetensors weights hand-off.

Importing this package does not import torch; ``robot_rl.models.encoders``, ``robot_rl.models.actor``
and ``robot_rl.models.weights`` do.
"""
from robot_rl.models.config import ConfigError, ModelConfig

__all__ = ["ConfigError", "ModelConfig"]
