"""Motion heatmaps: heatcore vs OpenCV recipes vs the NumPy twin, measured in one run.

    python bench/compare_motion.py [--quick] [--threads N]

Videos: the campus clip (../shared/data/campus_480x360.avi, skipped when absent) and a synthetic
1280x720 clip written to a temporary folder. Rows (targets from issue 3):

- MOG kernel alone (frames already decoded, full size, colour): heatcore update + mask test +
  accumulation vs ``cv2.bgsegm`` MOG ``apply`` (target >= 3x). Mask agreement = identical pixels.
- end to end, full size colour MOG vs recipe A without its JPEG writes (read, bgsegm MOG,
  threshold, saturating uint8 add; target >= 2.5x).
- end to end, scale=0.5 gray MOG vs pure decode (OpenCV ``read()``; target >= 0.8x).
- diff method (gray + 11x11 blur + |frame - first|) vs pure decode (target within 10%), and vs
  recipe B done per frame in Python/OpenCV.

Each figure is the median of several repeats. Machine load matters: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import heatcore as hc  # noqa: E402
from heatcore import _core  # noqa: E402
from heatcore.motion import write_synthetic_video  # noqa: E402
from heatcore.reference.motion import MogReference  # noqa: E402

CAMPUS = Path(os.environ.get("HEATCORE_DATA", ROOT.parent / "shared" / "data")) / "campus_480x360.avi"


def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def decode_all(path: Path, limit: int | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while limit is None or len(out) < limit:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    cap.release()
    return out


def pure_decode(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    cap.release()
    return n


def recipe_a(path: Path) -> np.ndarray:
    """The published motion-heatmap guide, minus its per-frame JPEG writes."""
    cap = cv2.VideoCapture(str(path))
    mog = cv2.bgsegm.createBackgroundSubtractorMOG()
    ok, first = cap.read()
    acc = np.zeros(first.shape[:2], np.uint8)
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        mask = mog.apply(frame)
        _, th = cv2.threshold(mask, 1, 1, cv2.THRESH_BINARY)  # 0/1
        acc = cv2.add(acc, th)  # saturates at 255
    cap.release()
    color = cv2.applyColorMap(acc, cv2.COLORMAP_HOT)
    return cv2.addWeighted(first, 0.7, color, 0.7, 0)


def recipe_b(path: Path, stride: int = 1) -> np.ndarray:
    """The space-usage post: gray + 11x11 blur, absdiff against the first frame, float sum."""
    cap = cv2.VideoCapture(str(path))
    ref = None
    acc = None
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % stride == 0:
            g = cv2.blur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (11, 11))
            if ref is None:
                ref = g
                acc = np.zeros(g.shape, np.float64)
            acc += cv2.absdiff(g, ref)
        i += 1
    cap.release()
    return acc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    ap.add_argument("--threads", type=int, default=0, help="heatcore kernel threads (0 = all cores)")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    has_bgsegm = hasattr(cv2, "bgsegm")
    rows: list[tuple[str, ...]] = []
    tmp = tempfile.TemporaryDirectory()
    videos: list[tuple[str, Path]] = []
    if CAMPUS.exists():
        videos.append(("campus 480x360", CAMPUS))
    else:
        print(f"(campus video {CAMPUS} absent: skipped)")
    n_syn = 120 if args.quick else 300
    syn = write_synthetic_video(Path(tmp.name) / "synthetic_1280x720.mp4", 1280, 720, n_syn, fps=25.0,
                                fourcc="mp4v", seed=1, blobs=6)
    videos.append(("synthetic 1280x720", syn))
    threads = args.threads

    for name, path in videos:
        frames = decode_all(path, 150 if args.quick else 400)
        n = len(frames)
        h, w = frames[0].shape[:2]
        # -- MOG kernel alone ----------------------------------------------------------------
        if has_bgsegm:
            def cv_kernel():
                m = cv2.bgsegm.createBackgroundSubtractorMOG()
                for f in frames:
                    m.apply(f)

            def hc_kernel(t):
                def run():
                    m = _core.MogModel(w, h, 3)
                    c = np.zeros((h, w), np.uint32)
                    for f in frames:
                        m.apply(f, counts=c, threads=t, return_mask=False)
                return run

            stack = np.stack(frames)

            def hc_batch(t, b=8):
                def run():
                    m = _core.MogModel(w, h, 3)
                    c = np.zeros((h, w), np.uint32)
                    for i in range(0, n, b):
                        m.apply_batch(stack[i:i + b], counts=c, threads=t)
                return run

            t_cv = median_time(cv_kernel, repeats)
            t_hc1 = median_time(hc_kernel(1), repeats)
            t_hc = median_time(hc_kernel(threads), repeats)
            t_hb1 = median_time(hc_batch(1), repeats)
            t_hb = median_time(hc_batch(threads), repeats)
            # agreement of the masks
            m1, m2 = cv2.bgsegm.createBackgroundSubtractorMOG(), _core.MogModel(w, h, 3)
            worst, same = 1.0, 0
            for f in frames:
                a, b = m1.apply(f), m2.apply(f, threads=threads)
                eq = float((a == b).mean())
                worst = min(worst, eq)
                same += int(eq == 1.0)
            agree = f"{same}/{n} frames identical, worst {worst * 100:.4f}%"
            rows.append(("MOG kernel (colour, full size)", name, "cv2.bgsegm MOG apply", f"{n / t_cv:.0f}", "1.00x",
                         "", ""))
            rows.append(("", "", "heatcore MogModel, 1 thread", f"{n / t_hc1:.0f}", f"{t_cv / t_hc1:.2f}x", "", agree))
            rows.append(("", "", f"heatcore MogModel, threads={threads or os.cpu_count()}", f"{n / t_hc:.0f}",
                         f"{t_cv / t_hc:.2f}x", ">= 3x", agree))
            rows.append(("", "", "heatcore apply_batch(8 frames), 1 thread", f"{n / t_hb1:.0f}", f"{t_cv / t_hb1:.2f}x",
                         "", "identical (tested)"))
            rows.append(("", "", f"heatcore apply_batch(8 frames), threads={threads or os.cpu_count()}",
                         f"{n / t_hb:.0f}", f"{t_cv / t_hb:.2f}x", ">= 3x", "identical (tested)"))
            # the NumPy twin, on a small crop (it is slow)
            crop = [f[:90, :120].copy() for f in frames[:40]]

            def np_twin():
                m = MogReference(120, 90, 3)
                for f in crop:
                    m.apply(f)

            def cv_crop():
                m = cv2.bgsegm.createBackgroundSubtractorMOG()
                for f in crop:
                    m.apply(f)

            t_np = median_time(np_twin, 1)
            t_cvc = median_time(cv_crop, repeats)
            rows.append(("", "", "NumPy twin (120x90 crop)", f"{len(crop) / t_np:.0f}", f"{t_cvc / t_np:.2f}x vs cv2 on crop",
                         "", ""))

        # -- end to end ------------------------------------------------------------------------
        total = pure_decode(path)
        t_dec = median_time(lambda: pure_decode(path), repeats)
        rows.append(("pure decode (OpenCV read)", name, "cv2.VideoCapture.read", f"{total / t_dec:.0f}", "1.00x", "", ""))
        if hc.io.video.have_pyav():
            def av_luma():
                for _ in hc.io.video.iter_frames(path, gray=True, backend="pyav"):
                    pass
            t_av = median_time(av_luma, repeats)
            rows.append(("", "", "PyAV luma (gray) decode", f"{total / t_av:.0f}", f"{t_dec / t_av:.2f}x", "", ""))
        if has_bgsegm:
            t_a = median_time(lambda: recipe_a(path), repeats)
            t_e2e = median_time(lambda: hc.motion_heatmap(path, "mog", threads=threads, decoder="opencv"), repeats)
            rows.append(("end to end MOG, colour, full size", name, "recipe A (no JPEG writes)", f"{total / t_a:.0f}",
                         "1.00x", "", "recipe A saturates at 255"))
            rows.append(("", "", "heatcore motion_heatmap mog", f"{total / t_e2e:.0f}", f"{t_a / t_e2e:.2f}x", ">= 2.5x",
                         "masks identical (see kernel row)"))
        t_half = median_time(lambda: hc.motion_heatmap(path, "mog", scale=0.5, gray=True, threads=threads), repeats)
        rows.append(("end to end MOG, gray, scale 0.5", name, "heatcore motion_heatmap (decoder auto)",
                     f"{total / t_half:.0f}", f"{t_dec / t_half:.2f}x of decode", ">= 0.8x of decode", ""))
        t_b = median_time(lambda: recipe_b(path), repeats)
        t_diff = median_time(lambda: hc.motion_heatmap(path, "diff", threads=threads, decoder="opencv"), repeats)
        t_diff_auto = median_time(lambda: hc.motion_heatmap(path, "diff", threads=threads), repeats)
        hc_b = hc.motion_heatmap(path, "diff", threads=threads, decoder="opencv").result()
        rb = recipe_b(path)
        agree_b = "identical to recipe B" if np.array_equal(hc_b, rb) else f"max |diff| {np.abs(hc_b - rb).max():.3g}"
        rows.append(("diff (gray, 11x11 blur, |f - first|)", name, "recipe B every frame (Python + OpenCV)",
                     f"{total / t_b:.0f}", f"{t_dec / t_b:.2f}x of decode", "", ""))
        rows.append(("", "", "heatcore diff (OpenCV decode)", f"{total / t_diff:.0f}", f"{t_dec / t_diff:.2f}x of decode",
                     ">= 0.9x of decode", agree_b))
        rows.append(("", "", "heatcore diff (decoder auto: PyAV luma)", f"{total / t_diff_auto:.0f}",
                     f"{t_dec / t_diff_auto:.2f}x of decode", ">= 0.9x of decode", "luma instead of BGR->gray"))
    tmp.cleanup()

    print(f"Motion benchmarks ({'quick' if args.quick else 'full'}; medians of {repeats} runs; "
          f"{os.cpu_count()} cores; heatcore threads={threads or os.cpu_count()})\n")
    print("| case | video | contender | fps | ratio | target | agreement |")
    print("|---|---|---|---:|---:|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
