"""Encode and decode the AITRIOS ``SmartCamera.ObjectDetectionTop`` flatbuffer (no dependency).

This is the metadata payload of an AITRIOS object-detection model: the ``O`` field of a Console
inference result (base64 of these bytes) and what the sample's CSV loader builds per frame.
The schema (``ObjectDetectionTop.fbs``, namespace ``SmartCamera``)::

    table BoundingBox2d { left: int; top: int; right: int; bottom: int; }       // slots 0-3
    union BoundingBox { BoundingBox2d = 1 }
    table GeneralObject { class_id: uint; bounding_box: BoundingBox; score: float; }
          // slots: class_id 0, bounding_box_type 1 (ubyte), bounding_box 2, score 3
    table ObjectDetectionData { object_detection_list: [GeneralObject]; }      // slot 0
    table ObjectDetectionTop { perception: ObjectDetectionData; }               // slot 0
    root_type ObjectDetectionTop;

The reader and writer here are written from the FlatBuffers binary format (little-endian;
a root ``uoffset`` at byte 0, tables with a signed offset to their vtable, vtables of
``uint16`` entries, vectors prefixed by a ``uint32`` length), not generated code, so the
package needs no ``flatbuffers`` runtime.

Decoding follows the sample: objects come out in **vector order**; only objects whose union
type is ``BoundingBox2d`` (1) are kept (others are skipped silently); a missing field reads
as its default (0 / 0.0); a missing ``perception`` or list means no detections.

Order note: the sample's local CSV loader builds the vector by *prepending* the objects in
CSV order, so its buffers decode in **reverse CSV order**. :func:`encode_detections` writes
the objects in the order given (vector order = argument order); pass ``boxes[::-1]`` (and the
reversed scores / class ids) to produce the sample's order for a CSV row.

Every read is bounds-checked: a truncated or corrupt buffer raises ``ValueError`` (never an
IndexError, a crash or a hang; vector lengths are checked against the buffer size before
any loop).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

__all__ = ["decode_detections", "encode_detections", "BOUNDING_BOX_2D"]

#: Union type code of ``BoundingBox2d`` in ``union BoundingBox``.
BOUNDING_BOX_2D = 1

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_UINT32_MAX = 2**32 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# ----------------------------------------------------------------------------------------------
# decoding
# ----------------------------------------------------------------------------------------------


class _Reader:
    """Bounds-checked little-endian reads from one buffer."""

    __slots__ = ("buf", "n")

    def __init__(self, buf: Any) -> None:
        if isinstance(buf, str):
            raise TypeError("flatbuffer must be bytes-like, got str (base64-decode it first)")
        try:
            view = memoryview(buf)
        except TypeError:
            raise TypeError(
                f"flatbuffer must be bytes-like (bytes, bytearray, memoryview), got {type(buf).__name__}"
            ) from None
        if not view.contiguous:
            view = memoryview(view.tobytes())
        self.buf = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        self.n = len(self.buf)

    def _fail(self, what: str, pos: int, size: int) -> ValueError:
        return ValueError(
            f"malformed ObjectDetectionTop flatbuffer: {what} ({size} bytes at offset {pos}) "
            f"lies outside the {self.n}-byte buffer"
        )

    def read(self, st: struct.Struct, pos: int, what: str) -> Any:
        if pos < 0 or pos + st.size > self.n:
            raise self._fail(what, pos, st.size)
        return st.unpack_from(self.buf, pos)[0]

    def indirect(self, pos: int, what: str) -> int:
        """Follow the ``uoffset`` stored at ``pos``; return the target position."""
        target = pos + self.read(_U32, pos, what)
        if target >= self.n:
            raise ValueError(
                f"malformed ObjectDetectionTop flatbuffer: {what} at offset {pos} points to "
                f"offset {target}, past the end of the {self.n}-byte buffer"
            )
        return target

    def table(self, pos: int, what: str) -> tuple[int, int, int]:
        """Return (table position, vtable position, vtable size in bytes)."""
        vt = pos - self.read(_I32, pos, f"{what} vtable offset")
        vt_size = self.read(_U16, vt, f"{what} vtable")
        if vt_size < 4 or vt_size % 2:
            raise ValueError(
                f"malformed ObjectDetectionTop flatbuffer: {what} at offset {pos} has a vtable "
                f"of invalid size {vt_size}"
            )
        if vt + vt_size > self.n:
            raise self._fail(f"{what} vtable", vt, vt_size)
        return pos, vt, vt_size

    def field(self, tbl: tuple[int, int, int], slot: int) -> int:
        """Absolute position of field ``slot`` of a table, or 0 when the field is absent."""
        pos, vt, vt_size = tbl
        entry = 4 + 2 * slot
        if entry >= vt_size:
            return 0
        off = _U16.unpack_from(self.buf, vt + entry)[0]
        return pos + off if off else 0


def decode_detections(buf: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one ``SmartCamera.ObjectDetectionTop`` flatbuffer.

    Parameters
    ----------
    buf:
        The raw flatbuffer bytes (bytes, bytearray, memoryview or a uint8 array), read as in the
        sample with ``GetRootAs(buf, 0)`` (a file identifier, if any, is ignored).

    Returns
    -------
    boxes, scores, class_ids:
        ``(N, 4)`` float64 ``left, top, right, bottom`` in image pixels (the int32 values),
        ``(N,)`` float32 scores and ``(N,)`` int64 class ids, in vector order, for the objects
        whose union type is ``BoundingBox2d``. Missing ``perception`` or list → ``N = 0``.

    Raises
    ------
    TypeError
        ``buf`` is not bytes-like.
    ValueError
        The buffer is truncated or corrupt (an offset points outside it), or an object says it
        holds a ``BoundingBox2d`` but has no bounding-box table.
    """
    r = _Reader(buf)
    if r.n < 4:
        raise ValueError(
            f"malformed ObjectDetectionTop flatbuffer: {r.n} bytes is too short for the root offset"
        )
    top = r.table(r.indirect(0, "root offset"), "ObjectDetectionTop")
    empty = (np.zeros((0, 4), np.float64), np.zeros(0, np.float32), np.zeros(0, np.int64))
    f = r.field(top, 0)
    if not f:
        return empty
    data = r.table(r.indirect(f, "perception offset"), "ObjectDetectionData")
    f = r.field(data, 0)
    if not f:
        return empty
    vec = r.indirect(f, "object_detection_list offset")
    count = r.read(_U32, vec, "object_detection_list length")
    if vec + 4 + 4 * count > r.n:
        raise ValueError(
            f"malformed ObjectDetectionTop flatbuffer: object_detection_list claims {count} "
            f"objects at offset {vec}, more than the {r.n}-byte buffer can hold"
        )
    boxes: list[tuple[int, int, int, int]] = []
    scores: list[float] = []
    classes: list[int] = []
    for i in range(count):
        elem = vec + 4 + 4 * i
        obj = r.table(r.indirect(elem, f"object {i} offset"), f"GeneralObject {i}")
        f_type = r.field(obj, 1)
        btype = r.read(_U8, f_type, f"object {i} bounding_box_type") if f_type else 0
        if btype != BOUNDING_BOX_2D:
            continue  # NONE or another union member: the sample skips these silently
        f_box = r.field(obj, 2)
        if not f_box:
            raise ValueError(
                f"malformed ObjectDetectionTop flatbuffer: object {i} has union type "
                "BoundingBox2d but no bounding_box table"
            )
        box = r.table(r.indirect(f_box, f"object {i} bounding_box offset"), f"BoundingBox2d {i}")
        coords = []
        for slot, name in enumerate(("left", "top", "right", "bottom")):
            fp = r.field(box, slot)
            coords.append(r.read(_I32, fp, f"object {i} {name}") if fp else 0)
        f_cls = r.field(obj, 0)
        f_score = r.field(obj, 3)
        boxes.append(tuple(coords))  # type: ignore[arg-type]
        classes.append(r.read(_U32, f_cls, f"object {i} class_id") if f_cls else 0)
        scores.append(r.read(_F32, f_score, f"object {i} score") if f_score else 0.0)
    if not boxes:
        return empty
    return (
        np.asarray(boxes, np.float64).reshape(-1, 4),
        np.asarray(scores, np.float32),
        np.asarray(classes, np.int64),
    )


# ----------------------------------------------------------------------------------------------
# encoding
# ----------------------------------------------------------------------------------------------


def _integral(name: str, values: Any, shape_tail: tuple[int, ...], lo: int, hi: int, kind: str) -> np.ndarray:
    """Check ``values`` are integers in [lo, hi]; return them as int64 (shape (N, *shape_tail))."""
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros((0, *shape_tail), np.int64)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.ndim != 1 + len(shape_tail) or a.shape[1:] != shape_tail:
        want = "(N, " + ", ".join(map(str, shape_tail)) + ")" if shape_tail else "(N,)"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name}{list(idx)} = {a[idx].item()!r} is not an integer ({kind})")
    out_of_range = (a < lo) | (a > hi)
    if out_of_range.any():
        idx = tuple(int(i) for i in np.argwhere(out_of_range)[0])
        raise ValueError(f"{name}{list(idx)} = {a[idx].item()!r} is out of range for {kind} [{lo}, {hi}]")
    return a.astype(np.int64)


class _Writer:
    """Forward (parent-before-child) flatbuffer layout; every object 4-byte aligned."""

    def __init__(self) -> None:
        self.vtables: dict[bytes, int] = {}
        self.vt_blob = bytearray()

    def vtable(self, field_offsets: list[int], table_size: int) -> bytes:
        while field_offsets and field_offsets[-1] == 0:  # trailing absent fields are trimmed
            field_offsets = field_offsets[:-1]
        vt = struct.pack(f"<{2 + len(field_offsets)}H", 4 + 2 * len(field_offsets), table_size, *field_offsets)
        if vt not in self.vtables:
            self.vtables[vt] = len(self.vt_blob)
            self.vt_blob += vt + b"\0" * (-len(vt) % 4)
        return vt


def _table(fields: list[tuple[int, str, Any] | None]) -> tuple[bytes, list[int]]:
    """Lay out one table's inline part (after its 4-byte vtable offset).

    ``fields`` is one entry per slot: ``(size, struct format, value)`` or None (absent).
    4-byte fields come first, then 1-byte ones; returns (inline bytes without the vtable
    offset, field offsets within the table).
    """
    offsets = [0] * len(fields)
    body = bytearray()
    for want in (4, 1):
        for slot, spec in enumerate(fields):
            if spec is not None and spec[0] == want:
                offsets[slot] = 4 + len(body)
                body += struct.pack(spec[1], spec[2])
    body += b"\0" * (-len(body) % 4)
    return bytes(body), offsets


def encode_detections(boxes: Any, scores: Any = None, class_ids: Any = None) -> bytes:
    """Encode detections as a ``SmartCamera.ObjectDetectionTop`` flatbuffer.

    Parameters
    ----------
    boxes:
        ``(N, 4)`` ``left, top, right, bottom`` in image pixels; integers in the int32 range
        (integral floats are accepted, fractional ones are a ValueError, as in the sample).
    scores:
        ``(N,)`` scores stored as float32 (finite, within float32 range); None → 0.0.
    class_ids:
        ``(N,)`` class ids, integers in the uint32 range; None → 0.

    Every object is written as a ``GeneralObject`` with a ``BoundingBox2d`` in the given
    order (see the module note on the sample's reversed order). Fields equal to their
    default (0, 0.0) are left out, as the official builder does; the decoder restores them.
    The buffer starts with the root offset and has no file identifier.
    """
    b = _integral("boxes", boxes, (4,), _INT32_MIN, _INT32_MAX, "int32")
    n = b.shape[0]
    if scores is None:
        s = np.zeros(n, np.float64)
    else:
        s_in = np.asarray(scores)
        if s_in.dtype.kind not in "biuf":
            raise TypeError(f"scores must be numeric, got dtype {s_in.dtype}")
        s = s_in.astype(np.float64).reshape(-1) if s_in.size else np.zeros(0)
        if s_in.ndim > 1 or s.shape[0] != n:
            raise ValueError(f"scores must have shape ({n},) to match boxes, got {s_in.shape}")
        bad = ~np.isfinite(s) | (np.abs(s) > _FLOAT32_MAX)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"scores[{i}] = {float(s[i])!r} is not a finite float32 value")
    if class_ids is None:
        c = np.zeros(n, np.int64)
    else:
        c = _integral("class_ids", class_ids, (), 0, _UINT32_MAX, "uint32")
        if c.shape[0] != n:
            raise ValueError(f"class_ids must have shape ({n},) to match boxes, got {np.shape(class_ids)}")

    w = _Writer()
    # Plan every table: (vtable bytes, inline bytes, offsets of uoffset fields to patch, children)
    top_body, top_offs = _table([(4, "<I", 0)])
    top_vt = w.vtable(top_offs, 4 + len(top_body))
    data_body, data_offs = _table([(4, "<I", 0)])
    data_vt = w.vtable(data_offs, 4 + len(data_body))
    objects = []
    for i in range(n):
        cls = int(c[i])
        score = float(np.float32(s[i]))
        obj_body, obj_offs = _table(
            [
                (4, "<I", cls) if cls else None,
                (1, "<B", BOUNDING_BOX_2D),
                (4, "<I", 0),  # patched below with the offset to the box table
                (4, "<f", score) if score != 0.0 else None,
            ]
        )
        obj_vt = w.vtable(obj_offs, 4 + len(obj_body))
        box_body, box_offs = _table([(4, "<i", int(v)) if v else None for v in b[i]])
        box_vt = w.vtable(box_offs, 4 + len(box_body))
        objects.append((obj_vt, bytearray(obj_body), obj_offs[2], box_vt, box_body))

    out = bytearray(4)  # root offset, patched below
    vt_base = len(out)
    out += w.vt_blob

    def put_table(vt: bytes, body: bytes) -> int:
        pos = len(out)
        out.extend(_I32.pack(pos - (vt_base + w.vtables[vt])))
        out.extend(body)
        return pos

    def patch(field_pos: int, target: int) -> None:
        _U32.pack_into(out, field_pos, target - field_pos)

    top = put_table(top_vt, top_body)
    patch(0, top)
    data = put_table(data_vt, data_body)
    patch(top + top_offs[0], data)
    vec = len(out)
    patch(data + data_offs[0], vec)
    out += _U32.pack(n) + bytes(4 * n)
    for i, (obj_vt, obj_buf, box_field, box_vt, box_body) in enumerate(objects):
        obj = put_table(obj_vt, bytes(obj_buf))
        patch(vec + 4 + 4 * i, obj)
        box = put_table(box_vt, box_body)
        patch(obj + box_field, box)
    return bytes(out)
