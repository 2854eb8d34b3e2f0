"""The default person detector (SSDLite, shared copy of the model) and HOG's automatic upscaling,
measured against people counted by hand on campus_480x360.avi (tests/data/campus_people.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import heatcore
import heatcore._core  # noqa: F401 - imported here, not first inside a capsys test (editable rebuilds print)
import heatcore.floorplan  # noqa: F401
import heatcore.track  # noqa: F401
from heatcore import models
from heatcore.cli import main
from heatcore.detect import (HOGDetector, SSDPersonDetector, default_person_height, detect_batch, detect_video,
                             hog_probability, make_detector)
from heatcore.io.detections import AitriosCSV

_ROOT = Path(__file__).resolve().parents[1]
SHARED_MODEL_DIR = Path(os.environ.get("HEATCORE_DATA", _ROOT.parent / "shared" / "data")) / "models" / "ssdlite_person"
PEOPLE = json.loads((Path(__file__).parent / "data" / "campus_people.json").read_text())


@pytest.fixture(scope="module")
def model_env(tmp_path_factory):
    if not (SHARED_MODEL_DIR / "frozen_inference_graph.pb").is_file():
        pytest.skip(f"shared model {SHARED_MODEL_DIR} is not present")
    return {"HEATCORE_MODEL_DIR": str(SHARED_MODEL_DIR), "HEATCORE_CACHE": str(tmp_path_factory.mktemp("cache")),
            "HEATCORE_OFFLINE": "1"}


@pytest.fixture
def person_model(model_env, monkeypatch):
    for k, v in model_env.items():
        monkeypatch.setenv(k, v)

    def no_network(*a, **k):
        raise AssertionError("tests must not run pip / use the network")

    monkeypatch.setattr(models, "_run", no_network)
    return SHARED_MODEL_DIR


@pytest.fixture(scope="module")
def counted_frames(campus_video):
    want = {f["frame"]: f for f in PEOPLE["frames"]}
    cap = cv2.VideoCapture(str(campus_video))
    out = {}
    for i in range(max(want) + 1):
        ok, frame = cap.read()
        assert ok, f"campus video ends before frame {i}"
        if i in want:
            out[i] = frame
    cap.release()
    return out


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def score_against_hand_counts(results: dict) -> dict:
    """Greedy one-to-one matching (IoU > 0.2 with the hand box) per frame."""
    people = boxes = matched = 0
    heights = []
    for f in PEOPLE["frames"]:
        det = results[f["frame"]]
        people += f["people"]
        boxes += len(det)
        heights += (det.xyxy[:, 3] - det.xyxy[:, 1]).tolist()
        used: set[int] = set()
        for p in f["boxes"]:
            cand = [(_iou(p, b), k) for k, b in enumerate(det.xyxy.tolist()) if k not in used]
            cand = [c for c in cand if c[0] > 0.2]
            if cand:
                used.add(max(cand)[1])
                matched += 1
    person_h = np.median([b[3] - b[1] for f in PEOPLE["frames"] for b in f["boxes"]])
    return {"people": people, "boxes": boxes, "matched": matched, "box_h": float(np.median(heights)) if heights else 0.0,
            "person_h": float(person_h)}


def test_hand_counts_file_is_sane():
    assert len(PEOPLE["frames"]) >= 8
    for f in PEOPLE["frames"]:
        assert f["people"] == len(f["boxes"]) > 0
        for left, top, right, bottom in f["boxes"]:
            assert 0 <= left < right <= 480 and 0 <= top < bottom <= 360


@pytest.mark.data
def test_default_detector_finds_the_people_on_campus(person_model, counted_frames):
    det = make_detector(None)
    assert isinstance(det, SSDPersonDetector)
    results = {i: det(f) for i, f in counted_frames.items()}
    s = score_against_hand_counts(results)
    assert 0.8 * s["people"] <= s["boxes"] <= 1.2 * s["people"], s
    assert s["matched"] >= 0.8 * s["people"], s  # recall against the hand boxes
    assert s["matched"] >= 0.85 * s["boxes"], s  # precision
    assert s["person_h"] / 1.5 <= s["box_h"] <= 1.5 * s["person_h"], s
    for d in results.values():
        assert np.all((d.scores > 0) & (d.scores <= 1)) and set(d.class_ids.tolist()) <= {0}
        assert np.all(d.xyxy[:, 0] > -20) and np.all(d.xyxy[:, 2] < 500) and np.all(d.xyxy[:, 3] < 380)
    # one batched forward pass gives the same boxes as one frame at a time
    frames = list(counted_frames.values())[:4]
    batched = detect_batch(det, frames)
    for f, b in zip(frames, batched):
        single = det(f)
        assert len(single) == len(b)
        np.testing.assert_allclose(b.xyxy, single.xyxy, atol=0.5)
        np.testing.assert_allclose(b.scores, single.scores, atol=2e-3)


@pytest.mark.data
def test_hog_upscales_to_see_small_people(counted_frames):
    hog = HOGDetector()
    assert hog.upscale_factor((480, 360)) == pytest.approx(96 / 45)  # default person height 360 / 8 = 45 px
    assert default_person_height((480, 360)) == 45
    results = {i: hog(f) for i, f in counted_frames.items()}
    s = score_against_hand_counts(results)
    assert s["matched"] >= 0.6 * s["people"], s
    assert s["person_h"] / 1.5 <= s["box_h"] <= 1.5 * s["person_h"], s
    for d in results.values():
        assert np.all((d.scores >= 0.3) & (d.scores <= 1))  # probabilities above the default min_score
    # without upscaling (the old default) HOG misses most of them
    native = score_against_hand_counts({i: HOGDetector(max_upscale=1.0)(f) for i, f in counted_frames.items()})
    assert native["matched"] < 0.5 * s["matched"], (native, s)


def test_hog_options_and_logistic():
    np.testing.assert_allclose(hog_probability([0.5, 0.0, 1.0]), [0.5, 1 / (1 + np.exp(2.0)), 1 / (1 + np.exp(-2.0))])
    assert HOGDetector(person_height=24).upscale_factor((640, 480)) == pytest.approx(4.0)
    assert HOGDetector(person_height=24, max_upscale=3).upscale_factor((640, 480)) == pytest.approx(3.0)
    assert HOGDetector(person_height=200).upscale_factor((640, 480)) == 1.0  # never shrinks
    assert HOGDetector(resize_width=960).upscale_factor((480, 360)) == 2.0
    for bad in (dict(person_height=0), dict(max_upscale=0.5), dict(score="logit"), dict(resize_width=10)):
        with pytest.raises(ValueError):
            HOGDetector(**bad)
    assert len(HOGDetector(score="margin").detect_batch([np.zeros((64, 64, 3), np.uint8)] * 2)) == 2


@pytest.mark.data
def test_detect_video_batches_and_prefetch_agree(person_model, campus_video):
    det = SSDPersonDetector()
    a = list(detect_video(campus_video, det, stride=40, stop=400, prefetch=False))
    b = list(detect_video(campus_video, det, stride=40, stop=400, batch=4))
    assert [i for i, _ in a] == [i for i, _ in b] == list(range(0, 400, 40))
    for (_, x), (_, y) in zip(a, b):
        assert len(x) == len(y)
        np.testing.assert_allclose(x.xyxy, y.xyxy, atol=0.5)
    with pytest.raises(ValueError, match="batch"):
        list(detect_video(campus_video, det, batch=0))


def test_prefetch_reraises_decoder_errors_and_stops_early():
    from heatcore.detect import _prefetch

    def gen():
        yield 1
        yield 2
        raise OSError("disk gone")

    it = _prefetch(gen(), 2)
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(OSError, match="disk gone"):
        next(it)
    it2 = _prefetch(iter(range(1000)), 2)
    assert next(it2) == 0
    it2.close()  # the worker stops, no hang


@pytest.mark.data
def test_cli_detect_defaults_to_the_person_detector(person_model, campus_video, tmp_path, capsys):
    out, ait = tmp_path / "d.csv", tmp_path / "a.csv"
    assert main(["detect", str(campus_video), "-o", str(out), "--aitrios-csv", str(ait), "--stride", "100",
                 "--quiet"]) == 0
    rows = list(AitriosCSV(ait))
    assert len(rows) == 8
    scores = np.concatenate([r.scores for r in rows])
    assert len(scores) >= 16 and np.all((scores > 0) & (scores <= 1))
    # HOG options without --detector select HOG; its AITRIOS scores are probabilities too
    assert main(["detect", str(campus_video), "-o", str(out), "--aitrios-csv", str(ait), "--stride", "400",
                 "--quiet", "--person-height", "60"]) == 0
    s = np.concatenate([r.scores for r in AitriosCSV(ait)])
    assert np.all((s >= 0) & (s <= 1))
    assert main(["detect", str(campus_video), "-o", str(out), "--detector", "person", "--hog-width", "600"]) == 2
    assert "--hog-width" in capsys.readouterr().err
    assert main(["detect", str(campus_video), "-o", str(out), "--min-score", "2"]) == 2
    assert "probability" in capsys.readouterr().err


def test_cli_detect_offline_error(campus_video, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEATCORE_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("HEATCORE_MODEL_DIR", raising=False)
    monkeypatch.setenv("HEATCORE_OFFLINE", "1")
    assert main(["detect", str(campus_video), "-o", str(tmp_path / "d.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "heatcore models fetch person" in err and "--detector hog" in err
    assert str(tmp_path / "empty" / "models" / "ssdlite_person" / "frozen_inference_graph.pb") in err
    with pytest.raises(ValueError, match="unknown detector 'yolo'"):
        make_detector("yolo")


def test_detector_options_helper(tmp_path, monkeypatch):
    import argparse

    from heatcore.commands._detector import add_detector_arguments, detector_from_args

    p = argparse.ArgumentParser()
    add_detector_arguments(p)
    a = p.parse_args(["--person-height", "30"])
    d = detector_from_args(a)
    assert isinstance(d, HOGDetector) and d.person_height == 30 and a.detector == "hog"
    a = p.parse_args(["--detector", "hog", "--min-score", "0.6"])
    assert detector_from_args(a).min_score == 0.6
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        detector_from_args(p.parse_args(["--detector", str(tmp_path / "nope.onnx")]))
    monkeypatch.setenv("HEATCORE_OFFLINE", "1")
    monkeypatch.setenv("HEATCORE_CACHE", str(tmp_path / "c"))
    with pytest.raises(models.ModelNotFoundError, match=str(tmp_path / "elsewhere")):
        detector_from_args(p.parse_args(["--model-dir", str(tmp_path / "elsewhere")]))
    q = argparse.ArgumentParser()
    add_detector_arguments(q, filters=False)  # commands with their own --min-score / --classes
    assert not hasattr(q.parse_args([]), "classes")


@pytest.mark.data
def test_floorplan_from_video_uses_the_person_detector(person_model, campus_video, tmp_path, capsys):
    import re

    from heatcore import Homography

    h = Homography.from_points([[0, 360], [480, 360], [400, 100], [80, 100]], [[0, 200], [300, 200], [300, 0], [0, 0]])
    h.save(tmp_path / "H.json")
    assert main(["floorplan", str(campus_video), "--homography", str(tmp_path / "H.json"), "--plan-size", "300x200",
                 "--stride", "200", "-o", str(tmp_path / "v.png"), "--quiet", "--dwell",
                 "--state", str(tmp_path / "v.npz")]) == 0
    acc = heatcore.load_state(tmp_path / "v.npz")
    assert acc.counts["frames"] == 4 and acc.dwell().sum() > 0
    # frames 0, 200, 400, 600 hold 3 + 7 + 3 + ~6 people (hand counts): most are detected
    n = int(re.search(r"(\d+) detections in 4 frames", capsys.readouterr().out).group(1))
    assert 12 <= n <= 24
