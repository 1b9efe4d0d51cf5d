"""Load the configuration tree: a config name plus hydra overrides, the one way every entry point gets it.

    cfg = load_config("sim", ["robot.control_hz=20", "sim.seed=3"])

Top-level configs (``sim``, ``robot``, ``teleop``) are YAML files in this folder; groups are the
subfolders, each backed by a dataclass in ``schema.py``.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from robot_rl.config.schema import GROUPS, ConfigError, RobotRLConfig

CONFIG_DIR = Path(__file__).resolve().parent

__all__ = ["CONFIG_DIR", "ConfigError", "RobotRLConfig", "available_configs", "load_config", "to_object"]


def _register_schemas() -> None:
    store = ConfigStore.instance()
    store.store(name="base_config", node=RobotRLConfig)
    for group, schema in GROUPS.items():
        store.store(group=group, name=f"base_{group}", node=schema)


_register_schemas()


def available_configs() -> list[str]:
    """Names accepted by ``load_config``: the top-level YAML files."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose config ``name`` with hydra ``overrides``; validate it; raise ConfigError on any mistake."""
    if name not in available_configs():
        raise ConfigError(f"unknown config {name!r}: choose one of {', '.join(available_configs())}")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose(config_name=name, overrides=list(overrides))
    except MissingConfigException as err:
        detail = str(err).split("Config search path")[0].replace("\n\t", ", ").replace("\n", " ").strip()
        raise ConfigError(f"config {name!r} with overrides {list(overrides)}: {detail}") from None
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"bad override in {list(overrides)}: {_first_line(err)}") from None
    to_object(cfg)  # runs every dataclass's validation
    return cfg


def to_object(cfg: DictConfig) -> RobotRLConfig:
    """The typed, validated view of a composed config."""
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        raise ConfigError(f"invalid configuration: {_first_line(err)}") from None
    assert isinstance(obj, RobotRLConfig)
    return obj


def _first_line(err: BaseException) -> str:
    """Hydra's first line says which override failed, the second why; the rest is a stack of keys."""
    cause = err.__cause__ if err.__cause__ is not None else err
    lines = [line.strip() for line in f"{err}\n{cause if cause is not err else ''}".splitlines() if line.strip()]
    lines = [line for line in dict.fromkeys(lines) if not line.startswith(("full_key", "object_type", "Key:"))]
    return ": ".join(lines[:2]) if lines else type(err).__name__
