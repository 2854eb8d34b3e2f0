"""Progress bars for long jobs (one tqdm style everywhere), silenced with ``quiet=True`` /
``--quiet``."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")

__all__ = ["progress", "progress_bar"]


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(*, total: int | None = None, initial: int = 0, desc: str = "", unit: str = "frame",
                 quiet: bool = False) -> Any:
    """A bar with ``update(n)`` / ``close()`` (rate in ``unit``/s and ETA); a no-op when ``quiet``."""
    if quiet:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True, leave=False)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "frame",
             quiet: bool = False, initial: int = 0) -> Iterator[T]:
    """Wrap ``iterable`` in a bar (see :func:`progress_bar`) unless ``quiet``."""
    bar = progress_bar(total=total, initial=initial, desc=desc, unit=unit, quiet=quiet)
    try:
        for x in iterable:
            yield x
            bar.update(1)
    finally:
        bar.close()
