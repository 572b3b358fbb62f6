"""The server process's memory: how many malloc arenas its threads fill.

>>> isinstance(limit_malloc_arenas(2), bool)
True
"""
from __future__ import annotations

__all__ = ["limit_malloc_arenas"]


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc's malloc for at most ``arenas`` arenas (its default is 8 per core).

    The server's threads each fill an arena of their own when they answer big reads, and an
    arena keeps its peak: with a few, the process's memory stays near what it really uses
    (``bench/bench_server_memory.py``).  Returns whether the setting took (glibc only).
    """
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, arenas))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False
