"""SIGINT and SIGTERM as a request to stop, honoured by a node's spin loop between two callbacks.

rclpy's own handlers shut the context down the moment a signal lands, and then a node can take nothing
more from DDS. When Ctrl-C (or ``ros2 launch`` stopping) reaches every node of the graph at once, an
episode end already on its way to the replay writer was lost that way, while the console monitor,
quicker to take it, counted the episode. Here a signal only sets a flag and wakes the executor; the
node then stops, takes what was in flight if it asks to (``run_node``'s ``drain_s``), is destroyed,
and only then is the context shut down.

Python runs a signal handler only between two bytecodes of the main thread, and the main thread sits
in the executor's wait. So the handler is paired with ``signal.set_wakeup_fd``: the interpreter's C
handler writes the signal number to a pipe at once, and a watcher thread reading it triggers a guard
condition of the node, which ends the wait. No KeyboardInterrupt is ever raised: one that landed half
way through rclpy building a ``Task`` once printed a traceback from the Task's ``__del__``.
"""
from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from rclpy.exceptions import InvalidHandle
from rclpy.guard_condition import GuardCondition
from rclpy.node import Node

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """Install in the main thread before ``rclpy.init(signal_handler_options=NO)``; ``wake`` a node's executor."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._guard: GuardCondition | None = None
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach only the main thread; a node spun elsewhere is stopped by its owner
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        for signum in SIGNALS:
            signal.signal(signum, self._on_signal)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(read_fd,), name="stop_signal", daemon=True).start()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def wake(self, node: Node) -> None:
        """Let a signal end the wait of the executor that spins ``node``."""
        self._guard = node.create_guard_condition(lambda: None)
        if self.requested:  # a signal that came while the node was being built
            self._guard.trigger()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._requested.set()

    def _watch(self, read_fd: int) -> None:
        while os.read(read_fd, 1):
            self._requested.set()  # before reading the guard: wake() reads them in the other order
            guard = self._guard
            if guard is not None:
                try:
                    guard.trigger()
                except InvalidHandle:  # the node is already gone
                    return
