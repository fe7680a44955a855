"""The time a message may take through the stages before it is filed from what is known.

A regular expression running in C cannot be interrupted from its own thread (a signal reaches only
the main thread, and the worker parses in a poll thread), and a process per message costs more
than most messages take. So every step is kept linear in its input, and the stages check a
`Deadline` between steps: once it has passed they skip what is left to refine (reply splitting,
forward unwrapping) and the pipeline marks the message for review.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock."""

    at: float = math.inf

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def passed(self) -> bool:
        return time.monotonic() >= self.at


NEVER = Deadline()
