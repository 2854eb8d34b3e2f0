"""The accumulator protocol shared by every heatmap kind (see DESIGN.md).

``update(record)`` counts one record (a frame, a frame's detections, a batch of points) and
returns one small record of what it counted (sinks use it and never re-derive it);
``update_batch(records)`` does the same for a list; ``result()`` returns the current grid (a NumPy
array the caller owns); ``merge(other)`` adds another accumulator of the same configuration
(heatmaps over disjoint frames are sums); ``state()`` / ``from_state()`` round-trip the whole
state through plain arrays (the configuration stored once, inside the state) so ``save()`` /
``load()`` and the pipeline's checkpoints continue exactly.

Accumulators are not thread-safe: updating one from two threads at once raises RuntimeError
(give each thread its own accumulator and ``merge`` them).
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence, TypeVar

import numpy as np

__all__ = ["Accumulator", "load_state", "accumulator_from_state"]

A = TypeVar("A", bound="Accumulator")

_REGISTRY: dict[str, type["Accumulator"]] = {}
_GUARDED = ("update", "update_batch", "merge", "state")


def _exclusive(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Raise RuntimeError when a second thread enters while another is inside (the GIL makes
    ``dict.setdefault`` atomic, so this costs a few attribute operations per call)."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        me = threading.get_ident()
        d = self.__dict__
        owner = d.setdefault("_hc_owner", me)
        if owner != me:
            raise RuntimeError(f"{type(self).__name__}.{fn.__name__} called from a second thread while another "
                               "thread is using it: accumulators are not thread-safe; give each thread its own "
                               "and merge() them")
        d["_hc_depth"] = d.get("_hc_depth", 0) + 1
        try:
            return fn(self, *args, **kwargs)
        finally:
            d["_hc_depth"] -= 1
            if d["_hc_depth"] == 0:
                d.pop("_hc_owner", None)

    wrapper.__hc_guarded__ = True  # type: ignore[attr-defined]
    return wrapper


class Accumulator:
    """Base class. Subclasses implement ``update``, ``result``, ``config``, ``_merge``,
    ``state`` and ``from_state``."""

    kind: ClassVar[str] = "accumulator"

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _REGISTRY[cls.kind] = cls
        for name in _GUARDED:
            fn = cls.__dict__.get(name)
            if fn is not None and callable(fn) and not getattr(fn, "__hc_guarded__", False):
                setattr(cls, name, _exclusive(fn))

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("_hc_owner", None)
        d.pop("_hc_depth", None)
        return d

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

    def _merge(self, other: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- provided -----------------------------------------------------------------------------
    @_exclusive
    def update_batch(self, records: Sequence[Any], *, detail: bool = False) -> list[Any]:
        """``update`` each record; returns the list of what each returned. ``detail``: sinks want
        per-record detail (e.g. motion masks); accumulators that can skip it when False do."""
        return [self.update(r) for r in records]

    def checkpoint_refusal(self) -> str | None:
        """Why this accumulator's state cannot be saved exactly (None = it can)."""
        return None

    @_exclusive
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


def _write_state(path: Path, acc: Accumulator) -> Path:
    """Write an accumulator's state and kind to ``path`` atomically: a crash mid-write never
    leaves a broken file."""
    payload = dict(acc.state())
    payload["__kind__"] = np.array(acc.kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **payload)  # type: ignore[arg-type]
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def accumulator_from_state(state: dict[str, np.ndarray]) -> Accumulator:
    """Rebuild any accumulator from ``state()`` arrays plus ``__kind__``."""
    state = dict(state)
    kind = str(state.pop("__kind__", ""))
    if kind not in _REGISTRY:
        raise ValueError(f"not a heatcore accumulator state (kind {kind!r})")
    try:
        return _REGISTRY[kind].from_state(state)
    except KeyError as exc:
        raise ValueError(f"incomplete {kind} state: no {exc.args[0]!r}") from None


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
    kind = str(state.get("__kind__", ""))
    state.pop("__config__", None)
    state.pop("__done__", None)
    if kind not in _REGISTRY:
        raise ValueError(f"{path} is not a heatcore checkpoint (kind {limits.clip(kind, 60)})")
    for k, v in state.items():  # configurations are JSON text: no nesting bombs
        if v.dtype.kind == "U" and v.size == 1 and limits.too_deep(str(v)):
            raise ValueError(f"{path} is a damaged heatcore checkpoint ({k} nests too deeply)")
    try:
        return accumulator_from_state(state)
    except (KeyError, IndexError, AttributeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ValueError(f"{path} is a damaged heatcore checkpoint ({type(exc).__name__}: "
                         f"{limits.clip(str(exc), 200)})") from None
