"""Time slices: any accumulator, split by the time of each record (see DESIGN.md).

:class:`SlicedAccumulator` wraps an accumulator factory and routes every record to a slice by its
time. Slicings (``slicing=``):

* fixed periods — ``"15min"``, ``"1h"``, ``"1d"``, ``"30s"``, ``"2h"`` ... : slice ``k`` holds the
  records with ``k * period <= t < (k + 1) * period`` (``t`` in seconds; periods of wall-clock time
  start at midnight UTC, or at the local midnight with ``tz``);
* ``"hour"`` — hour of day (0..23): all 9-10 o'clock records of every day together;
* ``"weekday"`` — day of week (0 = Monday .. 6 = Sunday);
* ``"weekhour"`` — hour of week (0..167, ``weekday * 24 + hour``): "all Mondays 9-10" is slice 9.

Time comes from the record: ``record.wall`` (wall-clock Unix seconds, UTC; ``tz`` shifts it to a
local time: hours east of UTC, or ``"+02:00"``) or, when the run has no wall-clock time,
``record.time`` (seconds from the source start; hour of day / day of week then need wall-clock
time and say so). Which clock a run uses is fixed by its first record (``clock="auto"``), or
forced with ``clock="wall"`` / ``"time"``. A record with neither raises ValueError.

Slices are accumulators themselves (kind ``"sliced"``): ``state()`` / ``from_state()`` round-trip
every slice and its key, ``merge()`` merges slice by slice, so the pipeline checkpoints them like
any other accumulator. ``result(slices=...)`` merges any set or range of slices and returns the
inner accumulator's result: slices add up exactly to the unsliced heatmap (heatmaps over disjoint
records are sums).

Stateful models carry over from slice to slice: the motion background model (MOG, diff
reference) and the floor plan's tracker / stationary filter are handed to the next slice when the
time moves on, so a sliced run counts exactly what the unsliced run counts. A finished motion
slice drops its MOG/MOG2 model (``MotionHeatmap.release_model``): one model is held, not one per
slice. A background model
that cannot be saved and sliding-window grids (``window > 0``) cannot be sliced and say so.

Kernel-density accumulators count points, not records: feed them :class:`TimedPoints`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np

from .accumulator import _REGISTRY, Accumulator

__all__ = ["SlicedAccumulator", "TimedPoints", "SliceUpdate", "parse_slicing", "parse_tz", "CALENDAR"]

CALENDAR = ("hour", "weekday", "weekhour")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)\s*$", re.IGNORECASE)
_NONE = -(2 ** 62)  # "no current slice" in state arrays
MAX_GAP = 600.0  # seconds: longer gaps between records are breaks in the footage, not frame intervals


@dataclass(eq=False)
class TimedPoints:
    """A batch of points with its time, for sliced :class:`~heatcore.kde.KDEAccumulator`:
    ``xy`` (N, 2) data units, ``weights`` (N,) or None, ``time`` seconds from the start,
    ``wall`` wall-clock Unix seconds (either may be None, not both)."""

    xy: Any
    weights: Any = None
    time: float | None = None
    wall: float | None = None


class SliceUpdate(NamedTuple):
    """What :meth:`SlicedAccumulator.update` counted: the slice key and what the slice's own
    ``update`` returned (``update_batch``: one per run of consecutive records in one slice)."""

    key: int
    result: Any


def parse_slicing(slicing: str) -> tuple[str, float]:
    """``(kind, seconds)``: ``("period", 900.0)`` for ``"15min"``, ``("hour", 3600.0)``,
    ``("weekday", 86400.0)``, ``("weekhour", 3600.0)``. Raises ValueError naming the bad value."""
    if not isinstance(slicing, str):
        raise TypeError(f"slicing must be a string such as '15min', '1h', '1d', 'hour', 'weekday' or 'weekhour', "
                        f"got {slicing!r}")
    s = slicing.strip().lower().replace("-", "").replace("_", "")
    alias = {"hour": "hour", "hourofday": "hour", "weekday": "weekday", "dayofweek": "weekday",
             "weekhour": "weekhour", "hourofweek": "weekhour"}
    if s in alias:
        k = alias[s]
        return k, 86400.0 if k == "weekday" else 3600.0
    m = _PERIOD.match(slicing)
    if not m:
        raise ValueError(f"slicing must be a period such as '15min', '1h', '1d', '30s' or one of 'hour', "
                         f"'weekday', 'weekhour', got {slicing!r}")
    sec = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not (math.isfinite(sec) and sec > 0):
        raise ValueError(f"a slice period must be > 0 seconds, got {slicing!r}")
    return "period", sec


def parse_tz(tz: Any) -> float:
    """A time-zone offset in seconds east of UTC from hours (``2``, ``-5.5``) or ``"+02:00"``."""
    if tz is None:
        return 0.0
    if isinstance(tz, str):
        m = re.match(r"^\s*(?:UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$", tz, re.IGNORECASE)
        if not m:
            raise ValueError(f"tz must be hours east of UTC or '+HH:MM', got {tz!r}")
        sec = float((int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60) * (1 if m.group(1) == "+" else -1))
    elif isinstance(tz, (int, float)) and not isinstance(tz, bool):
        sec = float(tz) * 3600.0
    else:
        raise TypeError(f"tz must be hours east of UTC or '+HH:MM', got {tz!r}")
    if not -14 * 3600 <= sec <= 14 * 3600:
        raise ValueError(f"tz must be within -14..+14 hours of UTC, got {tz!r}")
    return float(sec)


def _expand(records: Sequence[Any]) -> list[Any]:
    """Packed detection chunks become their per-frame records (they carry the time)."""
    if hasattr(records, "offsets") and hasattr(records, "frames"):
        return list(records.frames())  # type: ignore[attr-defined]
    return list(records)


# -- models that carry over from one slice to the next ----------------------------------------------

def _is_motion_model(key: str) -> bool:
    """State keys of a motion heatmap's background model (MOG, MOG2, diff reference)."""
    return key in ("reference", "pending") or key.startswith(("mog_", "mog2_"))


def _carry_motion(prev: Any, nxt: Any) -> Any:
    if prev._grid is None:
        return nxt
    ps = prev.state()
    if nxt._grid is None:
        st = dict(ps)
        st["grid"] = np.zeros_like(ps["grid"])
        st["frames"] = np.array(0, np.int64)
        for k in ("zone_moving", "zone_active"):  # motion per zone: counted per slice
            if k in st:
                st[k] = np.zeros_like(st[k])
        st.pop("bg", None)
        st["bg_step"], st["bg_seen"] = np.array(1, np.int64), np.array(0, np.int64)
    else:
        st = {k: v for k, v in nxt.state().items() if not _is_motion_model(k)}
        st.update({k: v for k, v in ps.items() if _is_motion_model(k)})
    st.pop("released", None)  # the model arrives with st
    prev._pending = []  # frames waiting for a median reference travel with the model
    out = type(nxt).from_state(st)
    prev.release_model()  # only the current slice needs the model (tens of bytes per pixel)
    return out


def _carry_floorplan(prev: Any, nxt: Any) -> Any:
    ps = prev.state()
    st = dict(nxt.state())
    st["tracker"], st["filter"] = ps["tracker"], ps["filter"]
    return type(nxt).from_state(st)


_CARRY: dict[str, Callable[[Any, Any], Any]] = {"motion": _carry_motion, "floorplan": _carry_floorplan}


def _refuse(proto: Accumulator) -> None:
    why = proto.checkpoint_refusal() if proto.kind == "motion" else None
    if why:
        raise ValueError(f"cannot slice by time: the background model must be handed from one slice to the next, "
                         f"but {why}")
    window = int(getattr(proto, "window", 0) or 0)
    if proto.kind == "grid" and window > 0:
        raise ValueError(f"a grid with a sliding window (window={window} frames) cannot be sliced by time: "
                         "its counts are not sums over frames; use window=0")
    if proto.kind == "sliced":
        raise ValueError("a SlicedAccumulator cannot wrap another SlicedAccumulator; use one slicing "
                         "(e.g. 'weekhour' for hour of week)")


class SlicedAccumulator(Accumulator):
    """An accumulator per time slice (see the module docstring).

    ``factory``: a callable returning a fresh, configured accumulator (or such an accumulator,
    used as the template; it must not have counted anything). ``slicing``: ``"15min"``, ``"1h"``,
    ``"1d"``, ... or ``"hour"``, ``"weekday"``, ``"weekhour"``. ``tz``: offset of local time
    east of UTC (hours or ``"+HH:MM"``) for wall-clock slices. ``clock``: ``"auto"`` (the first
    record decides: wall-clock time when it has one), ``"wall"`` or ``"time"``.
    """

    kind = "sliced"

    def __init__(self, factory: Callable[[], Accumulator] | Accumulator, slicing: str = "1h", *,
                 tz: Any = None, clock: str = "auto", start: float | None = None) -> None:
        self.slicing = slicing
        if start is not None and not (isinstance(start, (int, float)) and math.isfinite(start)):
            raise ValueError(f"start must be the wall-clock Unix seconds of the records' time 0, got {start!r}")
        self.start = None if start is None else float(start)
        self.mode, self.period = parse_slicing(slicing)
        self.tz_offset = parse_tz(tz)
        if clock not in ("auto", "wall", "time"):
            raise ValueError(f"clock must be 'auto', 'wall' or 'time', got {clock!r}")
        if clock == "time" and self.mode in CALENDAR:
            raise ValueError(f"slicing {slicing!r} (a calendar slicing) needs wall-clock time; clock='time' "
                             "gives only seconds from the start: use a period such as '1h'")
        self.clock = clock
        proto = factory if isinstance(factory, Accumulator) else factory()
        if not isinstance(proto, Accumulator):
            raise TypeError(f"factory must return a heatcore accumulator, got {type(proto).__name__}")
        _refuse(proto)
        self._proto_state = {k: np.asarray(v) for k, v in proto.state().items()}
        self._proto_kind = proto.kind
        self._proto_config = proto.config()
        self.basis: str | None = None if clock == "auto" else clock  # "wall" | "time" once known
        self.slices: dict[int, Accumulator] = {}
        self._current: int | None = None
        # footage per slice: [records, sum of gaps between consecutive records, number of gaps]
        self.footage: dict[int, np.ndarray] = {}
        self._last: tuple[str, float, int] | None = None

    # -- configuration ----------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"slicing": self.slicing, "tz_offset": self.tz_offset, "clock": self.clock, "start": self.start,
                "inner": {"kind": self._proto_kind, **self._proto_config}}

    @property
    def inner_kind(self) -> str:
        """The kind of the sliced accumulators (``"grid"``, ``"motion"``, ...)."""
        return self._proto_kind

    def new_slice(self) -> Accumulator:
        """A fresh accumulator of the wrapped configuration."""
        return _REGISTRY[self._proto_kind].from_state(dict(self._proto_state))

    # -- routing ----------------------------------------------------------------------------------
    def _clock_of(self, record: Any) -> tuple[str, float]:
        wall = getattr(record, "wall", None)
        t = getattr(record, "time", None)
        if wall is None and t is not None and self.start is not None:
            wall = self.start + t
        if self.basis is None:
            if wall is not None:
                self.basis = "wall"
            elif t is not None:
                if self.mode in CALENDAR:
                    raise ValueError(self._no_wall(record))
                self.basis = "time"
            else:
                raise ValueError(self._no_time(record))
        if self.basis == "wall":
            if wall is None:
                raise ValueError(self._no_wall(record) if t is not None else self._no_time(record))
            return "wall", float(wall)
        if t is None:
            raise ValueError(self._no_time(record))
        return "time", float(t)

    @staticmethod
    def _what(record: Any) -> str:
        idx = getattr(record, "frame", getattr(record, "index", None))
        return f"record {type(record).__name__}" + ("" if idx is None else f" (frame {idx})")

    def _no_time(self, record: Any) -> str:
        return (f"{self._what(record)} has no time (neither wall-clock time 'wall' nor seconds from the start "
                f"'time'), so it cannot be put in a {self.slicing!r} slice: give the source a frame rate (--fps) "
                "or a start time")
    def _no_wall(self, record: Any) -> str:
        what = {"hour": "hour of day", "weekday": "day of week", "weekhour": "hour of week"}.get(self.mode, "time")
        return (f"{self._what(record)} has no wall-clock time, so its {what} is unknown (slicing {self.slicing!r}): "
                "give the start time (a time stamp in the file name, TimeBase(start=...)) or slice by a period "
                "such as '1h' (seconds from the start)" if self.mode in CALENDAR else
                f"{self._what(record)} has no wall-clock time but earlier records had (clock='wall')")

    def key_of(self, record: Any) -> int:
        """The slice key of ``record`` (see the module docstring)."""
        basis, t = self._clock_of(record)
        if not math.isfinite(t):
            raise ValueError(f"{self._what(record)} has a non-finite time {t!r}")
        return self.key_at(t, basis)

    def _note(self, record: Any, key: int) -> None:
        """Count the record in its slice's footage (gaps of up to MAX_GAP seconds between
        consecutive records of one source in one slice measure the frame interval)."""
        _, t = self._clock_of(record)
        f = self.footage.get(key)
        if f is None:
            f = self.footage[key] = np.zeros(3)
        f[0] += 1
        src = str(getattr(record, "source", "") or "")
        if self._last is not None and self._last[0] == src and self._last[2] == key:
            gap = t - self._last[1]
            if 0 < gap <= MAX_GAP:
                f[1] += gap
                f[2] += 1
        self._last = (src, t, key)

    def seconds(self, slices: Any = None) -> float:
        """Seconds of footage in the chosen slices (records x their mean interval, per slice);
        NaN when a slice has a single record (no interval to measure)."""
        total = 0.0
        for k in self._select(slices):
            n, s, g = self.footage.get(k, np.zeros(3))
            if n and not g:
                return float("nan")
            total += n * s / g if g else 0.0
        return total

    def key_at(self, t: float, basis: str | None = None) -> int:
        """The slice key of time ``t`` (Unix seconds for wall-clock time, else seconds from the start)."""
        basis = basis or self.basis or "wall"
        local = t + (self.tz_offset if basis == "wall" else 0.0)
        if self.mode == "period":
            return int(math.floor(local / self.period))
        days = math.floor(local / 86400.0)
        hour = int(math.floor((local - days * 86400.0) / 3600.0))
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        if self.mode == "hour":
            return hour
        if self.mode == "weekday":
            return int(weekday)
        return int(weekday) * 24 + hour

    def _active(self, key: int) -> Accumulator:
        if key == self._current and key in self.slices:
            return self.slices[key]
        nxt = self.slices.get(key)
        if nxt is None:
            nxt = self.new_slice()
        prev = None if self._current is None else self.slices.get(self._current)
        carry = _CARRY.get(self._proto_kind)
        if prev is not None and carry is not None and prev is not nxt:
            nxt = carry(prev, nxt)
        self.slices[key] = nxt
        self._current = key
        return nxt

    @staticmethod
    def _feed(acc: Accumulator, record: Any) -> Any:
        if isinstance(record, TimedPoints):
            return acc.update(record.xy) if record.weights is None else acc.update(record.xy, record.weights)  # type: ignore[call-arg]
        return acc.update(record)

    def update(self, record: Any) -> SliceUpdate:
        """Count one record in the slice of its time; returns ``SliceUpdate(key, inner result)``."""
        key = self.key_of(record)
        acc = self._active(key)
        out = SliceUpdate(key, self._feed(acc, record))
        self._note(record, key)
        return out

    def _keys_at(self, t: np.ndarray, basis: str) -> np.ndarray:
        """:meth:`key_at` for an array of times (same arithmetic, vectorised)."""
        local = t + (self.tz_offset if basis == "wall" else 0.0)
        if self.mode == "period":
            return np.floor(local / self.period).astype(np.int64)
        days = np.floor(local / 86400.0)
        hour = np.floor((local - days * 86400.0) / 3600.0).astype(np.int64)
        weekday = ((days.astype(np.int64) + 3) % 7)
        if self.mode == "hour":
            return hour
        if self.mode == "weekday":
            return weekday
        return weekday * 24 + hour

    def _note_run(self, ts: np.ndarray, srcs: list[str], key: int) -> None:
        """:meth:`_note` for a run of consecutive records of one slice."""
        f = self.footage.get(key)
        if f is None:
            f = self.footage[key] = np.zeros(3)
        f[0] += len(ts)
        if len(ts) > 1:
            gaps = np.diff(ts)
            ok = (gaps > 0) & (gaps <= MAX_GAP)
            if srcs.count(srcs[0]) != len(srcs):
                ok &= np.array([a == b for a, b in zip(srcs[:-1], srcs[1:])])
            f[1] += float(gaps[ok].sum())
            f[2] += int(ok.sum())
        last = self._last
        if last is not None and last[0] == srcs[0] and last[2] == key:
            gap = float(ts[0]) - last[1]
            if 0 < gap <= MAX_GAP:
                f[1] += gap
                f[2] += 1
        self._last = (srcs[-1], float(ts[-1]), key)

    def update_batch(self, records: Sequence[Any], *, detail: bool = False) -> list[SliceUpdate]:
        """Count a batch: consecutive records of one slice go to that slice's ``update_batch`` in one
        call. Returns one :class:`SliceUpdate` per such run."""
        recs = _expand(records)
        if not recs:
            return []
        clocks = [self._clock_of(r) for r in recs]
        ts = np.fromiter((t for _, t in clocks), np.float64, len(recs))
        bad = np.flatnonzero(~np.isfinite(ts))
        if len(bad):
            raise ValueError(f"{self._what(recs[int(bad[0])])} has a non-finite time {ts[int(bad[0])]!r}")
        keys = self._keys_at(ts, clocks[0][0])
        srcs = [str(getattr(r, "source", "") or "") for r in recs]
        cuts = [0, *(np.flatnonzero(np.diff(keys)) + 1).tolist(), len(recs)]
        out: list[SliceUpdate] = []
        for a, z in zip(cuts[:-1], cuts[1:]):
            key = int(keys[a])
            acc = self._active(key)
            run = recs[a:z]
            if any(isinstance(r, TimedPoints) for r in run):
                res: Any = [self._feed(acc, r) for r in run]
            else:
                res = acc.update_batch(run, detail=detail)
            err = getattr(res, "error", None)
            if isinstance(err, BaseException):  # e.g. a grid frame the AITRIOS sample crashes on
                raise err
            self._note_run(ts[a:z], srcs[a:z], key)
            out.append(SliceUpdate(key, res))
        return out

    # -- results ----------------------------------------------------------------------------------
    def keys(self) -> list[int]:
        """The slice keys that hold records, sorted."""
        return sorted(self.slices)

    def __getitem__(self, key: int) -> Accumulator:
        return self.slices[key]

    def __len__(self) -> int:
        return len(self.slices)

    def _select(self, slices: Any) -> list[int]:
        if slices is None:
            return self.keys()
        if isinstance(slices, slice):
            if slices.step is not None:
                raise ValueError("a slice range takes no step")
            lo = -math.inf if slices.start is None else slices.start
            hi = math.inf if slices.stop is None else slices.stop
            return [k for k in self.keys() if lo <= k < hi]
        if callable(slices):
            return [k for k in self.keys() if slices(k)]
        if isinstance(slices, (int, np.integer)):
            slices = [slices]
        want = [int(k) for k in slices]
        return [k for k in self.keys() if k in set(want)]

    def merged(self, slices: Any = None) -> Accumulator:
        """One accumulator holding the chosen slices (all by default): a list of keys, a range
        ``slice(lo, hi)`` (keys ``lo <= k < hi``) or a predicate ``f(key) -> bool``."""
        keys = self._select(slices)
        out = self.new_slice()
        for k in keys:
            s = self.slices[k]
            st = s.state()
            out.merge(_REGISTRY[self._proto_kind].from_state(st))
        return out

    def result(self, slices: Any = None, **kwargs: Any) -> np.ndarray:
        """The wrapped accumulator's ``result(**kwargs)`` over the chosen slices (default all; see
        :meth:`merged`): for the whole run it equals the unsliced heatmap."""
        return self.merged(slices).result(**kwargs)  # type: ignore[call-arg]

    def total(self, **kwargs: Any) -> np.ndarray:
        """The result over every slice (= the unsliced heatmap)."""
        return self.result(None, **kwargs)

    def slice_results(self, **kwargs: Any) -> dict[int, np.ndarray]:
        """``{key: result}`` of every slice (``kwargs`` go to the slices' ``result``)."""
        return {k: self.slices[k].result(**kwargs) for k in self.keys()}  # type: ignore[call-arg]

    def start_of(self, key: int) -> float | None:
        """Start of a period slice (Unix seconds for wall-clock time, else seconds from the
        start); None for calendar slicings."""
        if self.mode != "period":
            return None
        t = key * self.period
        return t - self.tz_offset if self.basis == "wall" else t

    def label(self, key: int) -> str:
        """A human label of a slice: ``2026-11-30 09:00`` (period, wall clock), ``+1:15:00``
        (period, seconds from the start), ``09-10 h``, ``Mon``, ``Mon 09-10 h``."""
        key = int(key)
        if self.mode == "hour":
            return f"{key:02d}-{(key + 1) % 24:02d} h"
        if self.mode == "weekday":
            return _WEEKDAYS[key % 7]
        if self.mode == "weekhour":
            h = key % 24
            return f"{_WEEKDAYS[(key // 24) % 7]} {h:02d}-{(h + 1) % 24:02d} h"
        t = key * self.period
        if self.basis == "wall":
            d = _dt.datetime.fromtimestamp(t, _dt.timezone.utc)
            fmt = "%Y-%m-%d %H:%M" if self.period < 86400 or self.period % 86400 else "%Y-%m-%d"
            if self.period % 60:
                fmt += ":%S"
            tz = "" if not self.tz_offset else f" (UTC{self.tz_offset / 3600:+g})"
            return d.strftime(fmt) + tz
        return f"+{_dt.timedelta(seconds=t)}"

    def labels(self) -> list[str]:
        return [self.label(k) for k in self.keys()]

    # -- protocol ---------------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        keys = self.keys()
        st: dict[str, np.ndarray] = {
            "sliced_config": np.array(json.dumps({"slicing": self.slicing, "tz_offset": self.tz_offset,
                                                  "clock": self.clock, "start": self.start})),
            "inner_kind": np.array(self._proto_kind),
            "basis": np.array(self.basis or ""),
            "keys": np.array(keys, np.int64).reshape(-1),
            "current": np.array(_NONE if self._current is None else self._current, np.int64),
            "footage": np.array([self.footage.get(k, np.zeros(3)) for k in keys], np.float64).reshape(-1, 3),
            "last": np.array(json.dumps(self._last)),
        }
        for k, v in self._proto_state.items():
            st[f"proto/{k}"] = v
        for key in keys:
            for k, v in self.slices[key].state().items():
                st[f"s{key}/{k}"] = np.asarray(v)
        return st

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "SlicedAccumulator":
        cfg = json.loads(str(state["sliced_config"]))
        kind = str(state["inner_kind"])
        if kind not in _REGISTRY or kind == "sliced":
            raise ValueError(f"sliced state wraps an unknown accumulator kind {kind!r}")
        inner = _REGISTRY[kind]
        proto = inner.from_state({k[6:]: v for k, v in state.items() if k.startswith("proto/")})
        tz_h = float(cfg["tz_offset"]) / 3600.0
        obj = cls(proto, cfg["slicing"], tz=tz_h, clock=cfg["clock"], start=cfg.get("start"))
        obj.tz_offset = float(cfg["tz_offset"])
        basis = str(state["basis"])
        obj.basis = basis or None
        for key in np.asarray(state["keys"], np.int64).reshape(-1).tolist():
            pre = f"s{key}/"
            obj.slices[int(key)] = inner.from_state({k[len(pre):]: v for k, v in state.items() if k.startswith(pre)})
        cur = int(state["current"])
        obj._current = None if cur == _NONE else cur
        for key, f in zip(np.asarray(state["keys"], np.int64).reshape(-1).tolist(), np.asarray(state["footage"])):
            obj.footage[int(key)] = np.array(f, np.float64)
        last = json.loads(str(state["last"]))
        obj._last = None if last is None else (str(last[0]), float(last[1]), int(last[2]))
        return obj

    def _merge(self, other: "SlicedAccumulator") -> None:
        if self.basis and other.basis and self.basis != other.basis:
            raise ValueError(f"cannot merge slices of wall-clock time with slices of seconds from the start "
                             f"({self.basis} vs {other.basis})")
        self.basis = self.basis or other.basis
        for key in other.keys():
            theirs = type(other.slices[key]).from_state(other.slices[key].state())
            if key in self.slices:
                self.slices[key].merge(theirs)
            else:
                self.slices[key] = theirs
            self.footage[key] = self.footage.get(key, np.zeros(3)) + other.footage.get(key, np.zeros(3))

    def checkpoint_refusal(self) -> str | None:
        return self.new_slice().checkpoint_refusal()

    def __repr__(self) -> str:
        return (f"SlicedAccumulator({self._proto_kind!r}, slicing={self.slicing!r}, slices={len(self.slices)}, "
                f"clock={self.basis or self.clock!r})")

