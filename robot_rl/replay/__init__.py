"""The Zarr replay store: every step the robot takes, written once, read by everything else.

``EpisodeWriter`` streams episodes in (crash-safe, data first, index last), ``ReplaySampler`` follows
stores as they grow and samples n-step transitions for the learner, ``verify`` audits a store.
The on-disk layout and the measurements behind its chunking and compression are in ``schema``.
"""
from robot_rl.replay.errors import (
    EpisodeStateError,
    ForeignStoreError,
    IncompatibleStoreError,
    ReplayError,
    SchemaVersionError,
    StepError,
    WriterBusyError,
)
from robot_rl.replay.sampler import Batch, ReplaySampler
from robot_rl.replay.schema import SCHEMA_VERSION, GroupInfo, Source
from robot_rl.replay.verify import VerifyReport, verify
from robot_rl.replay.writer import EpisodeWriter, Step

__all__ = [
    "SCHEMA_VERSION", "Batch", "EpisodeStateError", "EpisodeWriter", "ForeignStoreError", "GroupInfo",
    "IncompatibleStoreError", "ReplayError", "ReplaySampler", "SchemaVersionError", "Source", "Step",
    "StepError", "VerifyReport", "WriterBusyError", "verify",
]
