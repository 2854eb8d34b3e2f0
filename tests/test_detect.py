"""Detectors: ONNX decoding (tiny self-built models), NMS, filters, duck typing, HOG, detect_video."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from heatcore import DNNDetector, Detections, HOGDetector, detect_video
from heatcore.detect import (as_detections, box_anchors, have_onnxruntime, make_detector, parse_anchor,
                             postprocess)
from heatcore.records import Detections

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def build_onnx(path, arr: np.ndarray, size=(32, 32)):
    """A model whose output is the fixed tensor ``arr`` (plus 0 * mean(input), so the input is used)."""
    nodes = [
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(arr.astype(np.float32), "cv")),
        helper.make_node("Constant", [], ["z"], value=numpy_helper.from_array(np.zeros(1, np.float32), "zv")),
        helper.make_node("ReduceMean", ["data"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "z"], ["mz"]),
        helper.make_node("Add", ["c", "mz"], ["out"]),
    ]
    g = helper.make_graph(nodes, "fixed", [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, size[1], size[0]])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, list(arr.shape))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


FRAME = np.zeros((200, 400, 3), np.uint8)  # W = 400, H = 200


def test_ssd_decoding(tmp_path):
    rows = np.array([[[[0, 15, 0.9, 0.1, 0.2, 0.3, 0.4],
                       [0, 15, 0.2, 0.5, 0.5, 0.6, 0.6],     # below min_score
                       [0, 3, 0.8, 0.6, 0.1, 0.9, 0.9],      # other class
                       [0, 15, 0.7, 0.11, 0.21, 0.31, 0.41]]]])  # overlaps the first -> NMS
    model = build_onnx(tmp_path / "ssd.onnx", rows)
    det = DNNDetector(model, input_size=(32, 32), min_score=0.5)(FRAME)
    # boxes in pixels: fractions * (400, 200); NMS keeps the 0.9 box of class 15
    order = np.argsort(det.class_ids)
    np.testing.assert_allclose(det.xyxy[order], [[240, 20, 360, 180], [40, 40, 120, 80]], atol=1e-3)
    np.testing.assert_allclose(det.scores[order], [0.8, 0.9], atol=1e-6)
    det15 = DNNDetector(model, input_size=(32, 32), min_score=0.5, classes=[15], nms_threshold=None)(FRAME)
    assert len(det15) == 2 and set(det15.class_ids.tolist()) == {15}


def test_yolo_decoding_v5_and_v8(tmp_path):
    # input 32x32 px, frame 400x200 -> x scale 12.5, y scale 6.25
    v5 = np.array([[[16, 16, 8, 8, 0.9, 0.1, 0.8],      # class 1, score 0.72
                    [4, 4, 2, 2, 0.2, 0.9, 0.1],        # score 0.18 -> dropped
                    [16.5, 16, 8, 8, 0.8, 0.1, 0.7]]])  # overlaps row 0 -> NMS
    det = DNNDetector(build_onnx(tmp_path / "v5.onnx", v5), decode="yolo", input_size=(32, 32), min_score=0.5,
                      transpose=False)(FRAME)
    assert len(det) == 1
    np.testing.assert_allclose(det.xyxy[0], [12 * 12.5, 12 * 6.25, 20 * 12.5, 20 * 6.25])
    assert det.class_ids[0] == 1 and det.scores[0] == pytest.approx(0.72, abs=1e-6)
    # YOLOv8: (1, 4 + C, N), no objectness, transposed
    v8 = np.array([[16, 16, 8, 8, 0.3, 0.6], [4, 4, 4, 4, 0.9, 0.1]]).T[None]  # (1, 6, 2)
    det8 = DNNDetector(build_onnx(tmp_path / "v8.onnx", v8), decode="yolo", objectness=False,
                       input_size=(32, 32), min_score=0.5, transpose=True)(FRAME)
    order = np.argsort(det8.scores)
    np.testing.assert_allclose(det8.scores[order], [0.6, 0.9], atol=1e-6)
    np.testing.assert_array_equal(det8.class_ids[order], [1, 0])
    np.testing.assert_allclose(det8.xyxy[order][1], [2 * 12.5, 2 * 6.25, 6 * 12.5, 6 * 6.25])
    # auto layout: (1, D, N) with N > D is transposed (real models have thousands of candidates)
    many = np.zeros((1, 6, 20))
    many[0, :, 3] = [16, 16, 8, 8, 0.1, 0.95]
    d_auto = DNNDetector(build_onnx(tmp_path / "v8b.onnx", many), decode="yolo", objectness=False,
                         input_size=(32, 32), min_score=0.5)(FRAME)
    assert d_auto.class_ids.tolist() == [1] and d_auto.scores[0] == pytest.approx(0.95, abs=1e-6)


def test_dnn_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        DNNDetector(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot read"):
        DNNDetector(junk)
    model = build_onnx(tmp_path / "m.onnx", np.zeros((1, 1, 1, 7)))
    with pytest.raises(ValueError, match="decode"):
        DNNDetector(model, decode="magic")
    d = DNNDetector(model, decode="yolo", input_size=(32, 32))
    with pytest.raises(ValueError, match="YOLO rows"):
        d.decode_output(np.zeros((1, 10, 4)), (100, 100))
    with pytest.raises(ValueError, match="uint8"):
        d(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(FileNotFoundError, match="prototxt"):
        make_detector(f"{tmp_path}/a.prototxt:{model}")


def test_postprocess_nms_and_filters():
    det = Detections([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]],
                     [0.9, 0.8, 0.3, 0.7], [0, 0, 0, 1])
    out = postprocess(det, nms_threshold=0.5)
    assert sorted(out.scores.tolist()) == [0.3, 0.7, 0.9]  # the 0.8 box overlaps 0.9 (IoU 0.68); class 1 kept
    assert len(postprocess(det, nms_threshold=0.7)) == 4  # IoU 0.68 < 0.7
    assert postprocess(det, min_score=0.75, nms_threshold=None).scores.tolist() == [0.9, 0.8]
    assert postprocess(det, classes=[1]).class_ids.tolist() == [1]
    nan = Detections([[0, 0, np.nan, 1]], [1.0], [0])
    assert len(postprocess(nan)) == 0
    with pytest.raises(ValueError, match="nms_threshold"):
        postprocess(det, nms_threshold=2)
    neg = Detections([[0, 0, 10, 10], [1, 1, 11, 11]], [-0.5, -0.2], [0, 0])  # SVM margins may be < 0
    assert postprocess(neg).scores.tolist() == [-0.2]


def test_duck_typing_and_callables():
    sv = SimpleNamespace(xyxy=np.array([[1, 2, 3, 4.0]]), confidence=np.array([0.5]), class_id=np.array([2]),
                         tracker_id=np.array([7]))
    d = as_detections(sv)
    assert d.xyxy.tolist() == [[1, 2, 3, 4]] and d.class_ids.tolist() == [2] and d.track_ids.tolist() == [7]
    ul = [SimpleNamespace(boxes=SimpleNamespace(xyxy=np.array([[5, 5, 9, 9.0]]), conf=np.array([0.9]),
                                                cls=np.array([0.0]), id=None))]
    d = as_detections(ul)
    assert d.xyxy.tolist() == [[5, 5, 9, 9]] and d.scores.tolist() == [0.9] and d.track_ids is None
    assert len(as_detections(None)) == 0
    assert as_detections(np.array([[0, 0, 1, 1, 0.5, 3]])).class_ids.tolist() == [3]
    assert as_detections(Detections(np.array([[0, 0, 2, 2.0]]), np.array([0.4], np.float32),
                                    np.array([1]), frame=3)).class_ids.tolist() == [1]
    f = make_detector(lambda frame: (np.array([[0, 0, frame.shape[1], frame.shape[0]]]), np.array([1.0])))
    assert f(FRAME).xyxy.tolist() == [[0, 0, 400, 200]]
    with pytest.raises(TypeError, match="detector"):
        make_detector(42)
    with pytest.raises(ValueError, match="shape"):
        as_detections(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one entry per box"):
        Detections([[0, 0, 1, 1]], [0.1, 0.2], None)
    with pytest.raises(TypeError):
        as_detections(object())


def test_anchors():
    b = np.array([[10, 20, 30, 60.0]])
    assert box_anchors(b).tolist() == [[20, 60]]
    assert box_anchors(b, "center").tolist() == [[20, 40]]
    assert box_anchors(b, "0.25,0").tolist() == [[15, 20]]
    assert parse_anchor((0, 1)) == (0, 1)
    with pytest.raises(ValueError, match="anchor"):
        parse_anchor("feet")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        parse_anchor("2,0")


def test_hog_on_campus(campus_video):
    hog = HOGDetector(resize_width=720, min_score=0.3)
    frames = list(detect_video(campus_video, hog, stride=100, stop=500))
    assert [i for i, _ in frames] == [0, 100, 200, 300, 400]
    boxes = np.concatenate([d.xyxy for _, d in frames])
    assert len(boxes) >= 3  # people walk through the whole clip
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert np.all(boxes[:, 0] > -60) and np.all(boxes[:, 2] < 540)  # within (or just over) 480 px
    assert np.all(h > w)  # upright people
    assert np.all((h > 40) & (h < 360))


def test_hog_finds_a_drawn_person_free_frame_empty():
    assert len(HOGDetector()(np.full((256, 256, 3), 128, np.uint8))) == 0
    with pytest.raises(ValueError, match="scale"):
        HOGDetector(scale=1.0)


def test_detect_video_with_tracker_and_callable(campus_video):
    from heatcore.track import Tracker

    def fake(frame):
        return np.array([[10, 10, 50, 100, 0.9], [200, 10, 240, 100, 0.8]])

    out = list(detect_video(campus_video, fake, stride=10, stop=40, tracker=Tracker(), min_score=0.85))
    assert [i for i, _ in out] == [0, 10, 20, 30]
    assert all(d.track_ids.tolist() == [0] for _, d in out)
    with pytest.raises(FileNotFoundError):
        list(detect_video("/nonexistent/video.mp4", fake))


def test_caffe_model_gives_a_clear_error_when_opencv_cannot_read_it(tmp_path):
    import cv2

    from heatcore import DNNDetector

    proto = tmp_path / "ssd.prototxt"
    proto.write_text('name: "x"\n')
    weights = tmp_path / "ssd.caffemodel"
    weights.write_bytes(b"")
    # OpenCV 5 has no Caffe importer; OpenCV 4 rejects these empty files. Either way: ValueError
    # naming the model, never a raw cv2.error.
    with pytest.raises(ValueError, match="ssd.caffemodel") as exc:
        DNNDetector(weights, config=proto)
    if int(cv2.__version__.split(".")[0]) >= 5:
        assert "ONNX" in str(exc.value)


def build_batch_onnx(path, base: np.ndarray, slope: np.ndarray, size=(32, 32)):
    """A model with a free batch axis: output[n] = base + mean(image n) * slope, shape (N, R, K)."""
    nodes = [
        helper.make_node("Constant", [], ["b"], value=numpy_helper.from_array(base[None].astype(np.float32), "bv")),
        helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(slope[None].astype(np.float32), "sv")),
        helper.make_node("ReduceMean", ["data"], ["m3"], axes=[1, 2, 3], keepdims=1),  # (N, 1, 1, 1)
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shv")),
        helper.make_node("Reshape", ["m3", "shape"], ["m"]),
        helper.make_node("Mul", ["m", "s"], ["ms"]),
        helper.make_node("Add", ["b", "ms"], ["out"]),
    ]
    g = helper.make_graph(nodes, "batch", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, size[1], size[0]])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N"] + list(base.shape))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def test_detect_batch_matches_single_frames_on_both_engines(tmp_path):
    # YOLOv5 rows whose objectness grows with the image's brightness (blob = pixel / 255 here)
    base = np.array([[16, 16, 8, 8, 0.0, 0.2, 0.8], [4, 4, 4, 4, 0.0, 0.9, 0.1]])
    slope = np.array([[0, 0, 0, 0, 1.0, 0, 0], [0, 0, 0, 0, 0.5, 0, 0]])
    model = build_batch_onnx(tmp_path / "b.onnx", base, slope)
    frames = [np.full((200, 400, 3), v, np.uint8) for v in (255, 128, 30)]
    engines = ["opencv"] + (["onnxruntime"] if have_onnxruntime() else [])
    results = {}
    for eng in engines:
        d = DNNDetector(model, decode="yolo", input_size=(32, 32), scale=1 / 255, mean=(0, 0, 0), transpose=False,
                        min_score=0.1, nms_threshold=None, engine=eng)
        single = [d(f) for f in frames]
        batched = d.detect_batch(frames)
        for s, b in zip(single, batched):
            np.testing.assert_allclose(b.xyxy, s.xyxy, atol=1e-4)
            np.testing.assert_allclose(b.scores, s.scores, atol=1e-5)
        # independent expectation: objectness = slope * mean brightness, score = obj * best class score
        for f, det in zip(frames, single):
            m = f[0, 0, 0] / 255.0
            want = sorted(v for v in (0.8 * 1.0 * m, 0.9 * 0.5 * m) if v >= 0.1)
            np.testing.assert_allclose(sorted(det.scores), want, atol=1e-4)
        results[eng] = batched
    if "onnxruntime" in results:
        for a, b in zip(results["opencv"], results["onnxruntime"]):
            np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-4)
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)


def test_onnxruntime_engine_decodes_like_opencv(tmp_path):
    pytest.importorskip("onnxruntime")
    rows = np.array([[[[0, 15, 0.9, 0.1, 0.2, 0.3, 0.4], [0, 3, 0.8, 0.6, 0.1, 0.9, 0.9]]]])
    model = build_onnx(tmp_path / "ssd.onnx", rows)
    a = DNNDetector(model, input_size=(32, 32), engine="opencv")(FRAME)
    b = DNNDetector(model, input_size=(32, 32), engine="onnxruntime")(FRAME)
    c = make_detector(str(model), input_size=(32, 32), engine="auto")
    assert c.engine == "onnxruntime"
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-4)
    np.testing.assert_array_equal(a.class_ids, b.class_ids)
    with pytest.raises(ValueError, match="engine must be"):
        DNNDetector(model, engine="magic")
    other = tmp_path / "m.pb"
    other.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"\.onnx models only"):
        DNNDetector(other, engine="onnxruntime")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"nope")
    with pytest.raises(ValueError, match="onnxruntime cannot read"):
        DNNDetector(junk, engine="onnxruntime")


def test_forward_and_decode_split(tmp_path):
    rows = np.array([[[[0, 15, 0.9, 0.1, 0.2, 0.3, 0.4]]]])
    d = DNNDetector(build_onnx(tmp_path / "s.onnx", rows), input_size=(32, 32))
    raw = d.forward_batch([FRAME])
    out = d.decode_batch(raw, [(400, 200)])
    np.testing.assert_allclose(out[0].xyxy, d(FRAME).xyxy)
    np.testing.assert_allclose(out[0].xyxy, [[40, 40, 120, 80]], atol=1e-3)
