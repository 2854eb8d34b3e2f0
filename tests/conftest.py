"""Shared fixtures: paths to ../shared/data (tests that need it skip cleanly when absent)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import heatcore._core  # noqa: F401  (built once up front: an editable build rebuilds on first import)

_ROOT = Path(__file__).resolve().parents[1]
# The tests never use the network nor a model cache left on this machine: downloads are off and
# the cache is a fresh folder (tests that need the person model point HEATCORE_MODEL_DIR at the
# shared copy, and skip when it is absent).
os.environ["HEATCORE_OFFLINE"] = "1"
os.environ["HEATCORE_CACHE"] = tempfile.mkdtemp(prefix="heatcore-test-cache-")
# --import-mode=importlib: shared helpers (helpers.py, console_server.py) import from this folder
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The shared data folder sits beside the repository (../shared/data); HEATCORE_DATA overrides.
DATA_DIR = Path(os.environ.get("HEATCORE_DATA", _ROOT.parent / "shared" / "data"))


def _data_file(name: str) -> Path:
    path = DATA_DIR / name
    if not path.exists():
        pytest.skip(f"shared data file {path} is not present")
    return path


@pytest.fixture(scope="session")
def campus_video() -> Path:
    """The 480x360, 795-frame pedestrian video."""
    return _data_file("campus_480x360.avi")


@pytest.fixture(scope="session")
def aitrios_csv() -> Path:
    """The AITRIOS sample's real detection CSV (600 frames, 1920x1080 boxes)."""
    return _data_file("aitrios_sample_detections.csv")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def client():
    """A Dask client of a real LocalCluster (2 processes of one thread on 127.0.0.1, no dashboard),
    one per test module."""
    dask_distributed = pytest.importorskip("distributed")
    from heatcore import distributed

    cluster = distributed.local_cluster(2)
    c = dask_distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture
def server():
    """The AITRIOS Console stand-in (tests/console_server.py) on 127.0.0.1, stopped afterwards."""
    from console_server import ConsoleServer

    srv = ConsoleServer().start()
    try:
        yield srv
    finally:
        srv.stop()
