"""Timing shared by the benchmarks: contenders run in turns, best time of each."""
from __future__ import annotations

import math
import time
from collections.abc import Callable


def race(repeat: int, *works: Callable[[], object]) -> list[tuple[float, object]]:
    """Run the works in turns, ``repeat`` rounds; the best time and the last result of each.

    Taking turns puts every contender through the same moments of a busy machine,
    so the ratio of best times holds still from one run to the next.
    """
    best: list[tuple[float, object]] = [(math.inf, None) for _ in works]
    for _ in range(repeat):
        for i, work in enumerate(works):
            started = time.perf_counter()
            result = work()
            best[i] = (min(best[i][0], time.perf_counter() - started), result)
    return best
