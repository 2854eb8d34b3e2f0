"""The accumulator protocol: save/load, merge checks, checkpoint and resume."""

from __future__ import annotations

import numpy as np
import pytest

from heatcore.accumulator import Accumulator, load_state
from heatcore.pipeline import CheckpointMismatch, IterSource, Job, run


class _Hist(Accumulator):
    """A tiny accumulator for protocol tests: counts values into bins."""

    kind = "test-hist"

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.counts = np.zeros(bins, np.uint32)

    def update(self, batch):
        np.add.at(self.counts, np.asarray(batch) % self.bins, 1)

    def result(self):
        return self.counts.copy()

    def config(self):
        return {"bins": self.bins}

    def state(self):
        return {"bins": np.array(self.bins), "counts": self.counts}

    @classmethod
    def from_state(cls, state):
        obj = cls(int(state["bins"]))
        obj.counts = state["counts"].astype(np.uint32)
        return obj

    def _merge(self, other):
        self.counts += other.counts


def test_save_load_round_trip(tmp_path):
    h = _Hist(4)
    h.update([0, 1, 1, 7])
    p = h.save(tmp_path / "h.npz")
    back = _Hist.load(p)
    np.testing.assert_array_equal(back.result(), h.result())
    assert isinstance(load_state(p), _Hist)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_state(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a heatcore checkpoint"):
        load_state(bad)
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a heatcore checkpoint"):
        load_state(tmp_path / "other.npz")


def test_merge_is_sum_and_checks_config():
    a, b = _Hist(3), _Hist(3)
    a.update([0, 1])
    b.update([1, 2, 2])
    whole = _Hist(3)
    whole.update([0, 1, 1, 2, 2])
    a += b
    np.testing.assert_array_equal(a.result(), whole.result())
    with pytest.raises(ValueError, match="bins"):
        a.merge(_Hist(5))
    with pytest.raises(TypeError):
        a.merge(object())  # type: ignore[arg-type]


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path):
    data = list(range(100))
    ck = tmp_path / "state.npz"

    def job(bins=7, stop_after=None):
        src = IterSource(lambda start: iter(data[start:]), fingerprint={"data": "0..99"}, total=100, batch=3)
        return Job(source=src, accumulators={"h": _Hist(bins)}, checkpoint=ck, checkpoint_every=10,
                   stop_after=stop_after)

    # Interrupted after 57 items (checkpoint every 10 → resumes from the last save, at 54).
    first = run(job(stop_after=57))
    assert first.records == 57
    res = run(job())
    assert 0 < res.resumed_at <= 57
    whole = _Hist(7)
    whole.update(data)
    np.testing.assert_array_equal(res["h"].result(), whole.result())
    # A checkpoint made with another configuration is refused, not silently mixed, and says what differs.
    with pytest.raises(CheckpointMismatch, match="bins"):
        run(job(bins=3))
