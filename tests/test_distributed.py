"""Splitting jobs into parts and merging them back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from heatcore import distributed
from heatcore.accumulator import Accumulator


class _Sum(Accumulator):
    kind = "test-sum"

    def __init__(self, size: int = 5) -> None:
        self.size = size
        self.total = np.zeros(size, np.int64)

    def update(self, batch):
        np.add.at(self.total, np.asarray(batch) % self.size, 1)

    def result(self):
        return self.total.copy()

    def config(self):
        return {"size": self.size}

    def state(self):
        return {"total": self.total}

    @classmethod
    def from_state(cls, state):
        obj = cls(len(state["total"]))
        obj.total = state["total"].copy()
        return obj

    def _merge(self, other):
        self.total += other.total


def _job(start: int, stop: int) -> _Sum:
    acc = _Sum()
    acc.update(np.arange(start, stop))
    return acc


@pytest.mark.parametrize("n,parts,align", [(100, 3, 1), (101, 7, 5), (5, 10, 1), (0, 3, 1)])
def test_split_range_covers_everything_once(n, parts, align):
    ranges = distributed.split_range(n, parts, align=align)
    covered = [i for a, b in ranges for i in range(a, b)]
    assert covered == list(range(n))
    assert len(ranges) <= parts
    assert all(a % align == 0 for a, _ in ranges)


def test_split_range_rejects_bad_values():
    with pytest.raises(ValueError, match="parts"):
        distributed.split_range(10, 0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        distributed.split_range(-1, 2)


@pytest.mark.parametrize("use_executor", [False, True])
def test_map_merge_equals_one_run(use_executor):
    tasks = [dict(start=a, stop=b) for a, b in distributed.split_range(1000, 4)]
    if use_executor:
        with ThreadPoolExecutor(2) as ex:
            merged = distributed.map_merge(_job, tasks, executor=ex)
    else:
        merged = distributed.map_merge(_job, tasks)
    np.testing.assert_array_equal(merged.result(), _job(0, 1000).result())


def test_map_merge_errors():
    with pytest.raises(ValueError, match="at least one"):
        distributed.map_merge(_job, [])
    with pytest.raises(TypeError, match="submit"):
        distributed.map_merge(_job, [dict(start=0, stop=1)], executor=object())
    with pytest.raises(ValueError, match="at least one"):
        distributed.merge_all([])
    with pytest.raises(TypeError, match="accumulators"):
        distributed.merge_all([1, 2])


def test_run_partitions_without_dask_is_exact(tmp_path):
    """Partitions (files and frame ranges) merged as they complete, here and on a thread pool."""
    from heatcore.inputs import Segment
    from heatcore._synthetic import write_synthetic_video
    from heatcore.motion import motion_heatmap, sample_reference

    paths = [write_synthetic_video(tmp_path / f"{k}.avi", 64, 48, 25, seed=k) for k in range(2)]
    ref, _ = sample_reference(paths[0], 5)
    segs = [Segment("gate", p, float(k)) for k, p in enumerate(paths)]
    want = motion_heatmap(paths[0], "diff", reference=ref).merge(motion_heatmap(paths[1], "diff", reference=ref))
    here = distributed.run_partitions(segs, "diff", split_frames=10, reference=ref)["gate"]
    with ThreadPoolExecutor(2) as ex:
        pool = distributed.run_partitions(segs, "diff", executor=ex, split_frames=10, reference=ref)["gate"]
    for got in (here, pool):
        assert got.frames == 50
        assert np.array_equal(got.result(), want.result())
    with pytest.raises(ValueError, match="fixed reference image"):
        distributed.run_partitions(segs, "diff")
    with pytest.raises(ValueError, match="on_error"):
        distributed.run_partitions(segs, "diff", reference=ref, on_error="ignore")
