"""An adapter for a large external critic, loaded from a local path when the user has one.

VLAC (InternRobotics/VLAC, a 2B/8B vision-language critic) is the reference: point
``reward.external_path`` at a local copy of its checkpoint and install its package (``evo_vlac``)
yourself; robot_rl never downloads it and never needs it. Its dependencies are imported only when an
``ExternalCritic`` is built, so nothing here costs anything when unused, and no test requires it.

The VLAC backend follows the usage in VLAC's examples: ``GAC_model(tag="critic")``,
``init_model(model_path, model_type, device_map)`` and ``get_trajectory_critic(task, image_list, ...)``
on a pair of frames, whose critic output is a progress percentage. Other backends register in
``BACKENDS`` with the same three methods.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robot_rl.reward.goals import normalize_goal
from robot_rl.reward.interface import ModelFileError, Observation, RewardError, RewardModel


class VlacBackend:
    """Pairwise progress and done from a local VLAC checkpoint (imports ``evo_vlac`` lazily)."""

    def __init__(self, path: Path, device: str, camera: str, model_type: str = "internvl2") -> None:
        try:
            from evo_vlac import GAC_model  # type: ignore[import-not-found]
            from PIL import Image  # noqa: F401  (VLAC takes PIL images)
        except ImportError as err:
            raise RewardError(f"reward.kind=external with backend vlac needs the VLAC package ({err}); install "
                              "it from its repository into this environment, or use reward.kind=progress") from None
        self.camera = camera
        self.critic: Any = GAC_model(tag="critic")
        self.critic.init_model(model_path=str(path), model_type=model_type, device_map=device)
        self.critic.temperature, self.critic.top_k = 0.5, 1
        self.critic.set_config()
        self.critic.set_system_prompt()

    def _pil(self, obs: Observation) -> Any:
        from PIL import Image

        return Image.fromarray(np.asarray(obs.images[self.camera]))

    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        result = self.critic.get_trajectory_critic(task=goal, image_list=[self._pil(obs_a), self._pil(obs_b)],
                                                   ref_image_list=None, batch_num=1, ref_num=0, rich=False,
                                                   reverse_eval=False)
        critic_list = result[1] if isinstance(result, tuple) and len(result) > 1 else result
        value = float(np.asarray(critic_list, dtype=np.float64).reshape(-1)[-1])
        return float(np.clip(value / 100.0, -1.0, 1.0))  # VLAC reports progress in percent

    def done_probability(self, obs: Observation, goal: str) -> float:
        result = self.critic.get_trajectory_critic(task=goal, image_list=[self._pil(obs), self._pil(obs)],
                                                   ref_image_list=None, batch_num=1, ref_num=0, rich=False,
                                                   reverse_eval=False)
        done_list = result[2] if isinstance(result, tuple) and len(result) > 2 else [0.0]
        return float(np.asarray(done_list, dtype=np.float64).reshape(-1)[-1])


BACKENDS: dict[str, type[VlacBackend]] = {"vlac": VlacBackend}


class ExternalCritic(RewardModel):
    """A RewardModel over an external backend; ``score`` is its done probability under ``goal``."""

    kind = "external"

    def __init__(self, path: str | Path, goal: str, backend: str = "vlac", device: str = "cuda",
                 camera: str = "front", threshold: float = 0.5) -> None:
        location = Path(path).expanduser()
        if not str(path) or not location.exists():
            raise ModelFileError(f"reward.external_path={str(path)!r} does not exist: give the local directory of the "
                                 "critic's checkpoint (robot_rl never downloads one)")
        if backend not in BACKENDS:
            raise RewardError(f"reward.external_backend={backend!r}: use one of {', '.join(BACKENDS)}")
        self.goal = normalize_goal(goal)
        self.version = f"external-{backend}-{location.name}"
        self.threshold = threshold
        self.cameras = [camera]
        self.backend = BACKENDS[backend](location, device, camera)

    def score(self, obs: Observation) -> float:
        return self.backend.done_probability(obs, self.goal)

    def progress(self, obs_a: Observation, obs_b: Observation, goal: str) -> float:
        return self.backend.progress(obs_a, obs_b, normalize_goal(goal))

    def done(self, obs: Observation, goal: str) -> bool:
        return self.backend.done_probability(obs, normalize_goal(goal)) >= self.threshold
