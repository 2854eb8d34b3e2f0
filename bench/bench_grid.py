"""pytest-benchmark suite for grid counting and its outputs.

    PYTHONPATH=python python -m pytest bench/bench_grid.py --benchmark-enable

Uses the AITRIOS sample's CSV (../shared/data/aitrios_sample_detections.csv; skipped when absent)
with its settings: 1920x1080, 60x36 cells, point mode, spread 1, window 600. Ratios against the
NumPy twin and the sample's pure-Python loop are printed by bench/compare_grid.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import heatcore as hc
from heatcore import _core
from heatcore.jobs import grid_job
from heatcore.pipeline import run as _run
from heatcore.grid_output import frame_json, render_grid_frame
from heatcore.io.detections import AitriosCSV
from heatcore.reference import grid as ref
from heatcore.reference.aitrios_sample import SampleHeatMap

CSV = Path(os.environ.get("HEATCORE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / \
    "aitrios_sample_detections.csv"
SETTINGS = dict(image_size=(1920, 1080), grid=(60, 36), spread=1, window=600, mode="point", geometry="aitrios")
ARGS = (1920, 1080, 60, 36, 1, "point", "aitrios", 1.0, 600)


@pytest.fixture(scope="module")
def frames():
    if not CSV.exists():
        pytest.skip(f"{CSV} is absent")
    return list(AitriosCSV(CSV))


@pytest.fixture(scope="module")
def packed(frames):
    boxes = np.ascontiguousarray(np.concatenate([f.xyxy for f in frames]))
    off = np.concatenate([[0], np.cumsum([len(f) for f in frames])]).astype(np.int64)
    return boxes, off


def run_pipeline(records, counter, out, **kw):
    """CSV/records → grid outputs through the pipeline (heatcore.jobs.grid_job)."""
    return _run(grid_job(records, counter, out, **kw))


def test_count_cpp_one_thread(benchmark, packed):
    boxes, off = packed
    out = benchmark(_core.grid_counts, boxes, off, *ARGS, 1)
    assert out.shape == (600, 36, 60)


def test_count_cpp_all_threads(benchmark, packed):
    boxes, off = packed
    benchmark(_core.grid_counts, boxes, off, *ARGS, 0)


def test_count_streaming_update(benchmark, frames):
    def run():
        c = hc.GridCounter(**SETTINGS)
        for f in frames:
            c.update(f)
        return c.result()

    benchmark(run)


def test_count_numpy_twin(benchmark, packed):
    boxes, off = packed
    benchmark.pedantic(ref.grid_counts, args=(boxes, off, *ARGS), rounds=3, iterations=1)


def test_count_pure_python_sample_loop(benchmark, frames):
    boxes = [[tuple(int(v) for v in b) for b in f.xyxy[::-1]] for f in frames]

    def run():
        s = SampleHeatMap(1, 600, 1920, 1080, 60, 36, True)
        for b in boxes:
            s(b)

    benchmark.pedantic(run, rounds=3, iterations=1)


def test_parse_csv(benchmark):
    if not CSV.exists():
        pytest.skip("no CSV")
    benchmark(lambda: list(AitriosCSV(CSV)))


def test_frame_json(benchmark, frames):
    g = hc.grid_counts(frames, **SETTINGS)[-1]
    f = frames[-1]
    benchmark(frame_json, g, f.xyxy, mode="point", points=f.xyxy[:, 2:])


def test_csv_to_json_end_to_end(benchmark):
    if not CSV.exists():
        pytest.skip("no CSV")
    root = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    made = []

    def run():
        d = Path(tempfile.mkdtemp(prefix="hc-bench-grid-", dir=root))
        made.append(d)
        return run_pipeline(AitriosCSV(CSV), hc.GridCounter(**SETTINGS), d, reverse=True)

    try:
        benchmark.pedantic(run, rounds=3, iterations=1)
    finally:
        for d in made:
            shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("with_image", [True, False])
def test_render_frame_1920x1080(benchmark, frames, with_image):
    g = hc.grid_counts(frames, **SETTINGS)[-1]
    img = np.full((1080, 1920, 3), 90, np.uint8) if with_image else None
    out = benchmark(render_grid_frame, g, size=(1920, 1080), image=img, cmap="Reds", vmin=0, vmax=600,
                    alpha=0.4, number_of_detects=9)
    assert out.shape == (1080, 1920, 3)
