"""Giving freed memory back to the operating system.

glibc's allocator keeps the heap it freed (loading a model, parsing a batch of large mail), so a
long-running worker's resident memory only ever grows to its highest point. `malloc_trim(0)`
returns what is free; elsewhere (musl, macOS) this does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
