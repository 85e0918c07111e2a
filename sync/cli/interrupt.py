"""Ctrl-C (SIGINT) and SIGTERM during a sweep: stop starting work, let the writes in flight finish."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TextIO

from sync.cli.common import EXIT_INTERRUPTED

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(err: TextIO, text: str) -> None:
    # From a signal handler: a raw write, as the stream's buffer may be in the middle of a write.
    with contextlib.suppress(OSError, ValueError, AttributeError):  # not a real file: the summary says it
        os.write(err.fileno(), text.encode())


@contextlib.contextmanager
def stop_on_signals(err: TextIO) -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM; a second one ends the process at once (exit 130).

    Signal handlers can only be set from the main thread; elsewhere the event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            _say(err, f"\n{name} again: exiting now, without waiting for the writes in flight\n")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        _say(err, f"\n{name}: finishing the writes in flight, then the summary (again to exit at once)\n")

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
