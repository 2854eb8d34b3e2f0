"""Progress bars for long jobs (tqdm), silenced with ``quiet=True`` / ``--quiet``."""

from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "frame",
             quiet: bool = False, initial: int = 0) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar (rate in ``unit``/s and ETA) unless ``quiet``."""
    if quiet:
        yield from iterable
        return
    bar = tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, dynamic_ncols=True, leave=False)
    try:
        yield from bar
    finally:
        bar.close()
