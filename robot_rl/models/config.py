"""The policy model's configuration, ``policy.model`` in the hydra tree (defined with the other schemas).

The policy server and the learner build the same network from it, and each weights file records the
architecture it was trained with (``robot_rl.models.weights``).
"""
from robot_rl.config.schema import MODEL_ENCODERS, ConfigError, ModelConfig

__all__ = ["MODEL_ENCODERS", "ConfigError", "ModelConfig"]
