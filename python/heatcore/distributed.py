"""Spread one heatmap job over processes or machines, then merge exactly.

Heatmaps over disjoint frames (or disjoint videos, or disjoint point batches) are sums, so a
long job splits into parts that run anywhere and merge with ``Accumulator.merge``. This module
needs no scheduler of its own: ``executor`` is anything with ``submit(fn, *args, **kwargs)``
returning futures with ``.result()`` — ``concurrent.futures.ProcessPoolExecutor`` on one
machine, or a ``dask.distributed.Client`` for a cluster (its ``submit`` has the same shape).

    from dask.distributed import Client
    client = Client("scheduler:8786")
    heat = heatcore.distributed.map_merge(
        heatcore.motion_heatmap,
        [dict(source="cam1.mp4", start=a, stop=b, method="diff", reference="empty.png")
         for a, b in heatcore.distributed.split_range(180_000, 32)],
        executor=client)

With a stateful background model (MOG, MOG2) every part learns its own background first, so the
sum differs from one uninterrupted run in the first frames of each part (the model's warm-up,
~``history`` frames); the frame-difference method with a fixed reference is exact.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence, TypeVar

from ._checks import nonneg_int, positive_int
from .accumulator import Accumulator

__all__ = ["split_range", "merge_all", "map_merge"]

A = TypeVar("A", bound=Accumulator)


def split_range(n: int, parts: int, *, align: int = 1) -> list[tuple[int, int]]:
    """Split frames ``[0, n)`` into ``parts`` contiguous ``(start, stop)`` ranges of near-equal
    length. ``align`` (frames) makes every boundary a multiple of it, e.g. the ``stride`` so each
    part samples the same frames an uninterrupted strided run would. Empty parts are dropped."""
    n = nonneg_int("n", n)
    parts = positive_int("parts", parts)
    align = positive_int("align", align)
    bounds = [min(n, ((n * i // parts + align - 1) // align) * align) for i in range(parts)] + [n]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def merge_all(accumulators: Iterable[A]) -> A:
    """Merge accumulators of one configuration into the first (returned). ValueError when empty."""
    it = iter(accumulators)
    try:
        total = next(it)
    except StopIteration:
        raise ValueError("merge_all needs at least one accumulator") from None
    if not isinstance(total, Accumulator):
        raise TypeError(f"merge_all takes heatcore accumulators, got {type(total).__name__}")
    for acc in it:
        total.merge(acc)
    return total


def map_merge(fn: Callable[..., A], tasks: Sequence[dict[str, Any]], *, executor: Any = None) -> A:
    """Run ``fn(**task)`` for every task (each returns an accumulator) and merge the results in
    task order. ``executor=None`` runs them here, one after another."""
    if not tasks:
        raise ValueError("map_merge needs at least one task")
    if executor is None:
        return merge_all(fn(**t) for t in tasks)
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit() method (concurrent.futures or dask.distributed), got {type(executor).__name__}")
    futures = [executor.submit(fn, **t) for t in tasks]
    return merge_all(f.result() for f in futures)
