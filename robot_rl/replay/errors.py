"""The exceptions of the replay store: each names what is wrong and how to fix it.

All of them are ``ValueError`` subclasses, so a caller that only wants "bad input" catches one type;
the CLI turns them into ``error: ...`` lines without a traceback.
"""
from __future__ import annotations


class ReplayError(ValueError):
    """Base of every user-facing replay-store error."""


class ForeignStoreError(ReplayError):
    """The path is not a robot_rl replay store (another Zarr store, or no store at all)."""


class SchemaVersionError(ReplayError):
    """The store was written with a schema version this code cannot read."""


class IncompatibleStoreError(ReplayError):
    """Stores or groups that are read together disagree (cameras, image size, state or action size)."""


class StepError(ReplayError):
    """A step handed to the writer is malformed (wrong image shape or dtype, NaN in the action, ...).

    Raised before anything is buffered or written, so the episode stays as it was.
    """


class EpisodeStateError(ReplayError):
    """A writer call out of order (append before ``begin_episode``, two ``begin_episode`` calls, ...)."""


class WriterBusyError(ReplayError):
    """Another live process already writes to this group (one writer per group)."""
