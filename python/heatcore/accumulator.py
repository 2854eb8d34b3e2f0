"""The accumulator protocol shared by every heatmap kind (see DESIGN.md).

``update(batch)`` consumes one frame / batch, ``result()`` returns the current grid (a NumPy
array the caller owns), ``merge(other)`` adds another accumulator of the same configuration
(heatmaps over disjoint frames are sums), and ``state()`` / ``from_state()`` round-trip the whole
state through plain arrays so ``save()`` / ``load()`` can checkpoint a long job to ``.npz``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, TypeVar

import numpy as np

__all__ = ["Accumulator", "load_state", "run_checkpointed"]

A = TypeVar("A", bound="Accumulator")

_REGISTRY: dict[str, type["Accumulator"]] = {}


class Accumulator:
    """Base class. Subclasses implement ``update``, ``result``, ``config``, ``_merge``,
    ``state`` and ``from_state``."""

    kind: ClassVar[str] = "accumulator"

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _REGISTRY[cls.kind] = cls

    # -- to implement -------------------------------------------------------------------------
    def update(self, batch: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration; two accumulators merge only when these are equal."""
        raise NotImplementedError  # pragma: no cover - abstract

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue: arrays (and 0-d arrays for scalars)."""
        raise NotImplementedError  # pragma: no cover - abstract

    @classmethod
    def from_state(cls: type[A], state: dict[str, np.ndarray]) -> A:  # pragma: no cover
        raise NotImplementedError

    def _merge(self, other: "Accumulator") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- provided -----------------------------------------------------------------------------
    def merge(self: A, other: A) -> A:
        """Add ``other`` (same class and configuration, disjoint frames) into ``self``."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        mine, theirs = self.config(), other.config()
        if mine != theirs:
            diff = {k: (mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
            raise ValueError(f"cannot merge accumulators with different configurations: {diff}")
        self._merge(other)
        return self

    def __iadd__(self: A, other: A) -> A:
        return self.merge(other)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``state()`` and the configuration to ``path`` (.npz) atomically."""
        return _write_state(Path(path), self)

    @classmethod
    def load(cls: type[A], path: str | os.PathLike[str]) -> A:
        """Read an accumulator written by ``save()``."""
        obj = load_state(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj


def _write_state(path: Path, acc: Accumulator, done: int | None = None) -> Path:
    """Write an accumulator's state, kind and configuration (plus the count of items done, for
    checkpoints) to ``path`` atomically: a crash mid-write never leaves a broken checkpoint."""
    payload = dict(acc.state())
    payload["__kind__"] = np.array(acc.kind)
    payload["__config__"] = np.array(json.dumps(acc.config()))
    if done is not None:
        payload["__done__"] = np.array(done)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **payload)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_state(path: str | os.PathLike[str]) -> Accumulator:
    """Load any accumulator saved with ``Accumulator.save``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    from . import limits

    with open(path, "rb") as fh:  # an .npz is a zip archive: say so before NumPy guesses at pickles
        if fh.read(4) != b"PK\x03\x04":
            raise ValueError(f"{path} is not a heatcore checkpoint (not an .npz archive written by Accumulator.save)")
        fh.seek(0)
        try:
            limits.check_npz(fh, "it")
        except ValueError as exc:
            raise ValueError(f"{path} is not a heatcore checkpoint ({exc})") from None
        try:
            with np.load(fh, allow_pickle=False) as data:
                state = {k: data[k] for k in data.files}
        except Exception as exc:  # noqa: BLE001 - NumPy and zipfile raise many kinds on damaged archives
            why = "it holds Python objects" if "pickle" in str(exc) else limits.clip(str(exc), 200)
            raise ValueError(f"{path} is not a heatcore checkpoint ({why})") from None
    kind = str(state.pop("__kind__", ""))
    state.pop("__config__", None)
    state.pop("__done__", None)
    if kind not in _REGISTRY:
        raise ValueError(f"{path} is not a heatcore checkpoint (kind {limits.clip(kind, 60)})")
    for k, v in state.items():  # configurations are JSON text: no nesting bombs
        if v.dtype.kind == "U" and v.size == 1 and limits.too_deep(str(v)):
            raise ValueError(f"{path} is a damaged heatcore checkpoint ({k} nests too deeply)")
    try:
        return _REGISTRY[kind].from_state(state)
    except (KeyError, IndexError, AttributeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ValueError(f"{path} is a damaged heatcore checkpoint ({type(exc).__name__}: "
                         f"{limits.clip(str(exc), 200)})") from None


T = TypeVar("T")


def run_checkpointed(
    make: Callable[[], A],
    items: Callable[[int], Iterable[T]],
    step: Callable[[A, T], None],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    every: int = 500,
) -> Iterator[tuple[A, int]]:
    """Drive an accumulator over ``items(start)`` with optional checkpoint/resume.

    ``make()`` builds a fresh accumulator; ``items(start)`` yields the items from index ``start``
    on (a video source skips ``start`` frames); ``step(acc, item)`` consumes one. With
    ``checkpoint``, the accumulator plus the count of items done is saved every ``every`` items
    and at the end; a rerun with the same path resumes after the last saved item, so the final
    result equals an uninterrupted run. Yields ``(acc, done)`` after each item so callers can
    render progress.
    """
    acc: A | None = None
    done = 0
    ck = Path(checkpoint) if checkpoint is not None else None
    if ck is not None and ck.exists():
        loaded = load_state(ck)
        fresh = make()
        if type(loaded) is not type(fresh) or loaded.config() != fresh.config():
            raise ValueError(f"checkpoint {ck} was written with a different configuration; delete it or pick another path")
        with np.load(ck, allow_pickle=False) as data:
            done = int(data["__done__"]) if "__done__" in data.files else 0
        acc = loaded
    if acc is None:
        acc = make()

    def save() -> None:
        if ck is not None:
            _write_state(ck, acc, done=done)

    for item in items(done):
        step(acc, item)
        done += 1
        if ck is not None and done % every == 0:
            save()
        yield acc, done
    save()
