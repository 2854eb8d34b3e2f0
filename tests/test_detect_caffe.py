"""The Caffe path (published MobileNet-SSD layout): a tiny Caffe SSD the test writes itself.

The prototxt is text; the .caffemodel is protobuf binary written with a ten-line encoder. The
net ends in the same Permute/Flatten/PriorBox/Softmax/DetectionOutput head as MobileNetSSD_deploy
(21 VOC classes, person = 15), with constant predictions so the expected box is computed here
from the SSD formulas, independently of OpenCV.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from heatcore.detect import DNNDetector, make_detector

pytestmark = pytest.mark.skipif(int(cv2.__version__.split(".")[0]) >= 5,
                                reason="OpenCV 5 has no Caffe importer (heatcore pins opencv < 5)")

PROTOTXT = """name: "tiny_ssd"
input: "data"
input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { pool: AVE global_pooling: true } }
layer { name: "loc" type: "Convolution" bottom: "pool" top: "loc" convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "conf" type: "Convolution" bottom: "pool" top: "conf" convolution_param { num_output: 21 kernel_size: 1 } }
layer { name: "loc_perm" type: "Permute" bottom: "loc" top: "loc_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "loc_flat" type: "Flatten" bottom: "loc_perm" top: "loc_flat" flatten_param { axis: 1 } }
layer { name: "conf_perm" type: "Permute" bottom: "conf" top: "conf_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conf_flat" type: "Flatten" bottom: "conf_perm" top: "conf_flat" flatten_param { axis: 1 } }
layer { name: "prior" type: "PriorBox" bottom: "pool" bottom: "data" top: "prior"
  prior_box_param { min_size: 16.0 clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 offset: 0.5 } }
layer { name: "conf_reshape" type: "Reshape" bottom: "conf_flat" top: "conf_reshape" reshape_param { shape { dim: 0 dim: -1 dim: 21 } } }
layer { name: "conf_softmax" type: "Softmax" bottom: "conf_reshape" top: "conf_softmax" softmax_param { axis: 2 } }
layer { name: "conf_sm_flat" type: "Flatten" bottom: "conf_softmax" top: "conf_sm_flat" flatten_param { axis: 1 } }
layer { name: "detection_out" type: "DetectionOutput" bottom: "loc_flat" bottom: "conf_sm_flat" bottom: "prior"
  top: "detection_out"
  detection_output_param { num_classes: 21 share_location: true background_label_id: 0
    nms_param { nms_threshold: 0.45 top_k: 100 } code_type: CENTER_SIZE keep_top_k: 100 confidence_threshold: 0.01 } }
"""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _len_field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _blob(arr: np.ndarray) -> bytes:
    """caffe.BlobProto: shape (7: BlobShape{1: packed int64 dims}), data (5: packed float)."""
    shape = _len_field(1, b"".join(_varint(int(d)) for d in arr.shape))
    return _len_field(7, shape) + _len_field(5, np.asarray(arr, "<f4").tobytes())


def _layer(name: str, kind: str, blobs: list[np.ndarray]) -> bytes:
    """caffe.LayerParameter: name (1), type (2), blobs (7)."""
    body = _len_field(1, name.encode()) + _len_field(2, kind.encode())
    return body + b"".join(_len_field(7, _blob(b)) for b in blobs)


LOC_BIAS = np.array([1.0, -1.0, 0.0, 5 * math.log(2.0)])  # dx, dy, dw, dh (in variance units)
PERSON_LOGIT = 4.0


def write_tiny_caffe_ssd(tmp_path):
    conf_bias = np.zeros(21)
    conf_bias[15] = PERSON_LOGIT
    net = _len_field(1, b"tiny_ssd")
    net += _len_field(100, _layer("loc", "Convolution", [np.zeros((4, 3, 1, 1)), LOC_BIAS]))
    net += _len_field(100, _layer("conf", "Convolution", [np.zeros((21, 3, 1, 1)), conf_bias]))
    (tmp_path / "tiny.caffemodel").write_bytes(net)
    (tmp_path / "tiny.prototxt").write_text(PROTOTXT)
    return tmp_path / "tiny.prototxt", tmp_path / "tiny.caffemodel"


def expected_box(frame_w: int, frame_h: int) -> tuple[np.ndarray, float]:
    # One prior: a 16x16 px box centred in the 32x32 input -> centre 0.5, size 0.5 (fractions).
    pcx = pcy = 0.5
    pw = ph = 16 / 32
    dx, dy, dw, dh = LOC_BIAS
    cx, cy = pcx + 0.1 * dx * pw, pcy + 0.1 * dy * ph
    w, h = pw * math.exp(0.2 * dw), ph * math.exp(0.2 * dh)
    box = np.array([(cx - w / 2) * frame_w, (cy - h / 2) * frame_h, (cx + w / 2) * frame_w, (cy + h / 2) * frame_h])
    score = math.exp(PERSON_LOGIT) / (math.exp(PERSON_LOGIT) + 20.0)  # softmax over 21 classes, others 0
    return box, score


def test_tiny_caffe_ssd_loads_and_decodes(tmp_path):
    proto, model = write_tiny_caffe_ssd(tmp_path)
    frame = np.random.default_rng(0).integers(0, 255, (200, 400, 3), dtype=np.uint8)
    box, score = expected_box(400, 200)
    for det_fn in (DNNDetector(model, proto, input_size=(32, 32), classes=[15], min_score=0.5),
                   make_detector(f"{proto}:{model}", input_size=(32, 32), classes=[15], min_score=0.5),
                   make_detector(str(model), input_size=(32, 32), classes=[15], min_score=0.5)):  # prototxt beside it
        det = det_fn(frame)
        assert len(det) == 1 and det.class_ids.tolist() == [15]
        np.testing.assert_allclose(det.xyxy[0], box, atol=0.05)
        assert det.scores[0] == pytest.approx(score, abs=1e-4)
    # only persons: another class filter keeps nothing; a batch gives one result per frame
    assert len(DNNDetector(model, proto, input_size=(32, 32), classes=[7])(frame)) == 0
    d = DNNDetector(model, proto, input_size=(32, 32), classes=[15], min_score=0.5)
    small = frame[:100, :100]
    out = d.detect_batch([frame, small, frame])
    assert [len(o) for o in out] == [1, 1, 1]
    np.testing.assert_allclose(out[1].xyxy[0], expected_box(100, 100)[0], atol=0.05)
    np.testing.assert_allclose(out[2].xyxy, out[0].xyxy)


def test_caffe_prototxt_without_weights_is_a_clear_error(tmp_path):
    proto, model = write_tiny_caffe_ssd(tmp_path)
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(ValueError, match="bad.caffemodel"):
        DNNDetector(bad, proto)
