"""What the live tab does when its source stops: a camera or a stream is opened again after
1, 2, 4, 8, 16, then every 30 s (a camera unplugged and plugged back, a Wi-Fi camera that
drops out), and a video file starts again when Loop is on.

Every wait is a wait on the stop Event, so Stop ends it at once; only an open already under
way (a stream's, up to its 5 s timeout) is waited out, as at Start. The countdown is told
second by second (on_wait), so the tab can say "Reconnecting in 4 s…".
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from lwface_desktop.core.sources import FrameSource, SourceError

RECONNECT_DELAYS_S = (1, 2, 4, 8, 16, 30)  # then 30 s for ever


def backoff(delays: Sequence[float] = RECONNECT_DELAYS_S) -> Iterator[float]:
    """delays, then the last of them again and again."""
    return itertools.chain(delays, itertools.repeat(delays[-1]))


def _nothing(*_args) -> None:
    pass


class Resume:
    """How capture_latest goes on when its source stops (pipeline.capture_latest).

    reopen: opens the same source again (SourceError if it cannot); loop: whether a video
    file that ended starts again (read at its end, so the checkbox applies while it plays);
    on_wait(seconds): the seconds left before the next attempt, told each second, 0 as the
    attempt starts; on_reconnected(name): a live source is back."""

    def __init__(self, reopen: Callable[[], FrameSource], loop: Callable[[], bool] = lambda: False,
                 delays: Sequence[float] = RECONNECT_DELAYS_S,
                 on_wait: Callable[[int], None] = _nothing, on_reconnected: Callable[[str], None] = _nothing):
        self.reopen, self.loop, self.delays = reopen, loop, delays
        self.on_wait, self.on_reconnected = on_wait, on_reconnected
        self._delays = backoff(delays)

    def next_source(self, ended: FrameSource, delivered: bool, stop: threading.Event) -> FrameSource | None:
        """A source to go on with after ended stopped, or None to end there: stop was set, a
        file ended without Loop, or a file gave no frame at all (it would loop for ever).
        delivered: ended gave at least one frame (a live source that worked starts the
        backoff again from 1 s). SourceError if a file cannot be opened again."""
        if not ended.is_live:
            return self.reopen() if delivered and self.loop() and not stop.is_set() else None
        if delivered:
            self._delays = backoff(self.delays)
        for delay in self._delays:
            if not self._count_down(delay, stop):
                return None
            try:
                source = self.reopen()
            except SourceError:
                continue
            if stop.is_set():  # Stop came during the open
                source.release()
                return None
            self.on_reconnected(source.name)
            return source
        return None  # not reached: the delays never end

    def _count_down(self, delay: float, stop: threading.Event) -> bool:
        """Wait delay seconds, telling the whole seconds left; False if stop came first."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            self.on_wait(math.ceil(left))
            if stop.wait(left - math.ceil(left) + 1):  # to the next whole second left
                return False
        self.on_wait(0)
        return not stop.is_set()
