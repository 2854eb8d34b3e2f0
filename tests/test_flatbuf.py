"""heatcore.io.flatbuf against the official ``flatbuffers`` runtime (Builder + Table reader).

The buffers on the official side are built here by hand from the schema in the fact sheet
(§9: BoundingBox2d slots left/top/right/bottom int32; GeneralObject slots class_id uint32,
bounding_box_type ubyte, bounding_box union offset, score float32; ObjectDetectionData slot 0
vector of GeneralObject; ObjectDetectionTop slot 0 perception), like the sample's generated code.
"""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heatcore.io.flatbuf import decode_detections, encode_detections

flatbuffers = pytest.importorskip("flatbuffers")
from flatbuffers import encode as fb_encode  # noqa: E402
from flatbuffers import number_types as N  # noqa: E402
from flatbuffers import packer, table  # noqa: E402

INT32 = st.integers(-(2**31), 2**31 - 1)
UINT32 = st.integers(0, 2**32 - 1)
F32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
OBJ = st.tuples(st.tuples(INT32, INT32, INT32, INT32), F32, UINT32)


# ------------------------------------------------------------------ the official side, by hand


def fb_build(objects, *, perception=True, with_list=True, union_types=None, file_identifier=None) -> bytes:
    """Build an ObjectDetectionTop with flatbuffers.Builder, prepending objects like the sample.

    ``objects``: list of ((l, t, r, b), score, class_id). ``union_types``: per-object union type
    (default 1); type 0 writes no union value, type 2 writes a dummy table as "another member".
    """
    b = flatbuffers.Builder(0)
    offs = []
    for i, ((l, t, r, bo), score, cls) in enumerate(objects):
        utype = 1 if union_types is None else union_types[i]
        box = None
        if utype == 1:
            b.StartObject(4)
            b.PrependInt32Slot(0, l, 0)
            b.PrependInt32Slot(1, t, 0)
            b.PrependInt32Slot(2, r, 0)
            b.PrependInt32Slot(3, bo, 0)
            box = b.EndObject()
        elif utype >= 2:
            b.StartObject(1)
            b.PrependInt32Slot(0, 12345, 0)
            box = b.EndObject()
        b.StartObject(4)
        b.PrependUint32Slot(0, cls, 0)
        b.PrependUint8Slot(1, utype, 0)
        if box is not None:
            b.PrependUOffsetTRelativeSlot(2, box, 0)
        b.PrependFloat32Slot(3, score, 0.0)
        offs.append(b.EndObject())
    vec = None
    if perception and with_list:
        b.StartVector(4, len(offs), 4)
        for o in offs:  # the sample's loader prepends in CSV order
            b.PrependUOffsetTRelative(o)
        vec = b.EndVector()
    data = None
    if perception:
        b.StartObject(1)
        if vec is not None:
            b.PrependUOffsetTRelativeSlot(0, vec, 0)
        data = b.EndObject()
    b.StartObject(1)
    if data is not None:
        b.PrependUOffsetTRelativeSlot(0, data, 0)
    top = b.EndObject()
    b.Finish(top, file_identifier=file_identifier)
    return bytes(b.Output())


def fb_read(buf: bytes):
    """Read a buffer with flatbuffers.table.Table, as the generated accessors do."""
    buf = bytearray(buf)
    top = table.Table(buf, fb_encode.Get(packer.uoffset, buf, 0))
    o = top.Offset(4)
    if not o:
        return []
    data = table.Table(buf, top.Indirect(o + top.Pos))
    o = data.Offset(4)
    if not o:
        return []
    out = []
    start = data.Vector(o)
    for i in range(data.VectorLen(o)):
        obj = table.Table(buf, data.Indirect(start + 4 * i))

        def get(t, slot, flags, default):
            off = t.Offset(4 + 2 * slot)
            return t.Get(flags, off + t.Pos) if off else default

        if get(obj, 1, N.Uint8Flags, 0) != 1:
            continue
        bb = table.Table(bytearray(), 0)
        obj.Union(bb, obj.Offset(8))
        coords = tuple(get(bb, k, N.Int32Flags, 0) for k in range(4))
        out.append((coords, get(obj, 3, N.Float32Flags, 0.0), get(obj, 0, N.Uint32Flags, 0)))
    return out


def as_tuples(decoded):
    boxes, scores, classes = decoded
    assert boxes.dtype == np.float64 and boxes.shape == (len(scores), 4)
    assert scores.dtype == np.float32 and classes.dtype == np.int64
    return [
        (tuple(int(v) for v in bx), float(s), int(c)) for bx, s, c in zip(boxes, scores, classes)
    ]


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ------------------------------------------------------------------ cross-checks


def test_sample_prepend_order_is_reversed():
    objs = [((120, 576, 412, 1048), 0.9, 0), ((1, 2, 3, 4), 0.5, 3), ((5, 6, 7, 8), 0.25, 1)]
    got = as_tuples(decode_detections(fb_build(objs)))
    # the official builder's prepend puts the first CSV object last
    assert got == [((5, 6, 7, 8), 0.25, 1), ((1, 2, 3, 4), 0.5, 3), ((120, 576, 412, 1048), f32(0.9), 0)]
    assert got[-1][1] == pytest.approx(0.8999999761581421, abs=0)


def test_our_buffer_read_by_flatbuffers_keeps_argument_order():
    buf = encode_detections([[1, 2, 3, 4], [0, -7, 2**31 - 1, -(2**31)]], [0.5, 0.0], [7, 0])
    assert len(buf) % 4 == 0
    assert fb_read(buf) == [((1, 2, 3, 4), 0.5, 7), ((0, -7, 2**31 - 1, -(2**31)), 0.0, 0)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OBJ, max_size=12))
def test_roundtrips_against_flatbuffers(objs):
    boxes = np.array([o[0] for o in objs], np.int64).reshape(-1, 4)
    scores = np.array([o[1] for o in objs], np.float64)
    classes = np.array([o[2] for o in objs], np.int64)
    expected = [(o[0], f32(o[1]), o[2]) for o in objs]
    ours = encode_detections(boxes, scores, classes)
    assert fb_read(ours) == expected  # our writer → official reader
    assert as_tuples(decode_detections(ours)) == expected  # our writer → our reader
    assert as_tuples(decode_detections(fb_build(objs))) == expected[::-1]  # official → ours


def test_defaults_and_empty_cases():
    # every field equal to its default is left out by the official builder
    assert as_tuples(decode_detections(fb_build([((0, 0, 0, 0), 0.0, 0)]))) == [((0, 0, 0, 0), 0.0, 0)]
    for buf in (fb_build([]), fb_build([((1, 2, 3, 4), 1.0, 1)], perception=False),
                fb_build([((1, 2, 3, 4), 1.0, 1)], with_list=False)):
        boxes, scores, classes = decode_detections(buf)
        assert boxes.shape == (0, 4) and scores.shape == (0,) and classes.shape == (0,)
    assert fb_read(encode_detections(np.zeros((0, 4)))) == []
    assert fb_read(encode_detections([])) == []


def test_file_identifier_is_ignored():
    buf = fb_build([((1, 2, 3, 4), 0.5, 2)], file_identifier=b"ODTP")
    assert as_tuples(decode_detections(buf)) == [((1, 2, 3, 4), 0.5, 2)]


def test_other_union_members_are_skipped():
    objs = [((1, 1, 2, 2), 0.5, 1), ((3, 3, 4, 4), 0.25, 2), ((5, 5, 6, 6), 0.75, 3)]
    buf = fb_build(objs, union_types=[1, 0, 2])  # BoundingBox2d, NONE, an unknown member
    assert as_tuples(decode_detections(buf)) == [((1, 1, 2, 2), 0.5, 1)]
    assert decode_detections(fb_build(objs[:1], union_types=[7]))[0].shape == (0, 4)


def test_bounding_box_2d_type_without_table_is_an_error():
    b = flatbuffers.Builder(0)
    b.StartObject(4)
    b.PrependUint8Slot(1, 1, 0)
    obj = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(obj)
    vec = b.EndVector()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, vec, 0)
    data = b.EndObject()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, data, 0)
    b.Finish(b.EndObject())
    with pytest.raises(ValueError, match="object 0 has union type BoundingBox2d but no bounding_box"):
        decode_detections(bytes(b.Output()))


def test_input_types():
    buf = encode_detections([[1, 2, 3, 4]], [0.5], [1])
    for form in (bytearray(buf), memoryview(buf), np.frombuffer(buf, np.uint8)):
        assert as_tuples(decode_detections(form)) == [((1, 2, 3, 4), 0.5, 1)]
    with pytest.raises(TypeError, match="base64"):
        decode_detections(buf.hex())
    with pytest.raises(TypeError, match="bytes-like"):
        decode_detections(12)


# ------------------------------------------------------------------ encoder value checks


def test_encoder_accepts_integral_floats_and_bools():
    buf = encode_detections(np.array([[1.0, 2.0, 3.0, 4.0]]), class_ids=[True])
    assert fb_read(buf) == [((1, 2, 3, 4), 0.0, 1)]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"boxes": [[1.5, 2, 3, 4]]}, ValueError, r"boxes\[0, 0\] = .*1\.5.* not an integer"),
        ({"boxes": [[0, 2**31, 3, 4]]}, ValueError, r"boxes\[0, 1\] = .*2147483648.* int32"),
        ({"boxes": [[0, 0, -(2**31) - 1, 4]]}, ValueError, r"boxes\[0, 2\].*int32"),
        ({"boxes": [[0, 0, 1, np.nan]]}, ValueError, r"boxes\[0, 3\].*not an integer"),
        ({"boxes": [[1, 2, 3]]}, ValueError, r"boxes must have shape \(N, 4\)"),
        ({"boxes": [["a", "b", "c", "d"]]}, TypeError, "boxes must be numeric"),
        ({"boxes": [[1, 2, 3, 4]], "class_ids": [-1]}, ValueError, r"class_ids\[0\] = .*-1.* uint32"),
        ({"boxes": [[1, 2, 3, 4]], "class_ids": [2**32]}, ValueError, r"class_ids\[0\].*uint32"),
        ({"boxes": [[1, 2, 3, 4]], "class_ids": [1, 2]}, ValueError, r"class_ids must have shape \(1,\)"),
        ({"boxes": [[1, 2, 3, 4]], "scores": [1e39]}, ValueError, r"scores\[0\] = 1e\+39 is not a finite float32"),
        ({"boxes": [[1, 2, 3, 4]], "scores": [np.inf]}, ValueError, r"scores\[0\]"),
        ({"boxes": [[1, 2, 3, 4]], "scores": [0.1, 0.2]}, ValueError, r"scores must have shape \(1,\)"),
    ],
)
def test_encoder_value_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        encode_detections(**kwargs)


# ------------------------------------------------------------------ malformed buffers


def _check_total(buf: bytes) -> None:
    """Decoding either succeeds with consistent arrays or raises ValueError; nothing else."""
    t0 = time.perf_counter()
    try:
        boxes, scores, classes = decode_detections(buf)
    except ValueError as exc:
        assert "malformed" in str(exc) or "BoundingBox2d" in str(exc)
    else:
        assert boxes.shape == (len(scores), 4) and classes.shape == scores.shape
    assert time.perf_counter() - t0 < 1.0


def test_short_and_truncated_buffers():
    for buf in (b"", b"\x00", b"\x04\x00\x00"):
        with pytest.raises(ValueError, match="too short"):
            decode_detections(buf)
    good = encode_detections([[1, 2, 3, 4], [5, 6, 7, 8]], [0.5, 0.25], [1, 2])
    for n in range(4, len(good)):
        with pytest.raises(ValueError, match="malformed"):
            decode_detections(good[:n])
    official = fb_build([((1, 2, 3, 4), 0.5, 1)])
    with pytest.raises(ValueError, match="malformed"):
        decode_detections(official[:8])


def test_huge_vector_length_is_rejected_without_looping():
    buf = bytearray(encode_detections([[1, 2, 3, 4]]))
    top = struct.unpack_from("<I", buf, 0)[0]
    # follow top -> perception -> list to find the vector and claim 2**32 - 1 elements
    def field_pos(tbl: int) -> int:
        vt = tbl - struct.unpack_from("<i", buf, tbl)[0]
        return tbl + struct.unpack_from("<H", buf, vt + 4)[0]

    f = field_pos(top)
    data = f + struct.unpack_from("<I", buf, f)[0]
    f = field_pos(data)
    vec = f + struct.unpack_from("<I", buf, f)[0]
    struct.pack_into("<I", buf, vec, 2**32 - 1)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="claims 4294967295 objects"):
        decode_detections(bytes(buf))
    assert time.perf_counter() - t0 < 0.5


def test_bad_vtable_size():
    buf = bytearray(encode_detections([[1, 2, 3, 4]]))
    top = struct.unpack_from("<I", buf, 0)[0]
    vt = top - struct.unpack_from("<i", buf, top)[0]
    struct.pack_into("<H", buf, vt, 3)
    with pytest.raises(ValueError, match="vtable of invalid size 3"):
        decode_detections(bytes(buf))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data):
    _check_total(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(OBJ, min_size=1, max_size=4), st.data())
def test_mutated_buffers_never_crash(objs, data):
    buf = bytearray(fb_build(objs) if data.draw(st.booleans()) else encode_detections(
        [o[0] for o in objs], [o[1] for o in objs], [o[2] for o in objs]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    _check_total(bytes(buf))


# ------------------------------------------------------------------ the sample's real detections


def _csv_frames(path):
    import csv
    import json

    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    for row in rows:
        objs = json.loads(row[1])["perception"]["object_detection_list"]
        yield [((o["bounding_box"]["left"], o["bounding_box"]["top"], o["bounding_box"]["right"],
                 o["bounding_box"]["bottom"]), o["score"], o["class_id"]) for o in objs]


@pytest.mark.data
def test_real_sample_detections(aitrios_csv):
    n = 0
    for objs in _csv_frames(aitrios_csv):
        expected = [(box, f32(s), c) for box, s, c in objs]
        # the sample's loader: official builder, objects prepended in CSV order → reversed
        assert as_tuples(decode_detections(fb_build(objs))) == expected[::-1]
        ours = encode_detections([o[0] for o in objs], [o[1] for o in objs], [o[2] for o in objs])
        assert fb_read(ours) == expected
        n += 1
    assert n == 600
