"""Motion heatmaps: heatcore vs OpenCV recipes vs the NumPy twin, measured in one run.

    python bench/compare_motion.py [--quick] [--threads N]

Videos: the campus clip (../shared/data/campus_480x360.avi, skipped when absent), the campus clip
upscaled to 1280x720 (real footage at HD size), a synthetic busy 1280x720 scene (a third of the
pixels flicker between two or three colours, 12 movers, noise: most pixels leave the MOG fast
path) and a calm synthetic 1280x720 clip, the last three written to a temporary folder (mp4v).
Rows (targets from issues 3 and 14):

- MOG kernel alone (frames already decoded, full size, colour): heatcore update + mask test +
  accumulation vs ``cv2.bgsegm`` MOG ``apply`` (target >= 3x single-threaded), for every SIMD
  path (scalar / sse41 / avx2, forced with ``_core.mog_simd``), 1 and 2 threads, frame by frame
  and ``apply_batch`` of 8 frames. All contenders run interleaved in each repeat; the ratio
  column uses wall time, "CPU ratio" process CPU time (robust on a loaded machine; single-thread
  rows only). Mask agreement = identical pixels.
- end to end, full size colour MOG vs recipe A without its JPEG writes (read, bgsegm MOG,
  threshold, saturating uint8 add; target >= 3x).
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
from heatcore._synthetic import write_synthetic_video  # noqa: E402
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


def busy_frames(width: int, height: int, n: int, seed: int = 0) -> list[np.ndarray]:
    """The busy scene of tests/test_mog_simd.py: textured background, a third of the pixels
    flickering between two or three colours, 12 moving discs, sensor noise (BGR uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([80 + 40 * np.sin(xx / 7.0), 120 + 30 * np.cos(yy / 5.0), 100 + 50 * np.sin((xx + yy) / 11.0)], -1)
    alt = rng.uniform(0, 255, (3, height, width, 3)).astype(np.float32)
    modes = rng.integers(1, 4, (height, width))
    modes[rng.random((height, width)) < 0.66] = 1
    pos = rng.uniform(0, 1, (12, 2)) * [width, height]
    vel = rng.uniform(-3, 3, (12, 2))
    col = rng.uniform(0, 255, (12, 3))
    rad = rng.uniform(2, max(3.0, min(width, height) / 6), 12)
    iy, ix = yy.astype(int), xx.astype(int)
    out = []
    for _ in range(n):
        pick = rng.integers(0, 3, (height, width)) % modes
        img = np.where((pick == 0)[..., None], base, alt[np.clip(pick - 1, 0, 2), iy, ix])
        for b in range(12):
            img[(xx - pos[b, 0]) ** 2 + (yy - pos[b, 1]) ** 2 < rad[b] ** 2] = col[b]
        img = img + rng.normal(0, 6, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
        pos = (pos + vel) % [width, height]
    return out


def write_video(path: Path, frames, fps: float = 25.0) -> Path:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    return path


def interleaved(contenders: dict, repeats: int) -> dict:
    """Run every contender once per repeat, in turn; returns name -> (median wall s, median CPU s)."""
    wall: dict = {k: [] for k in contenders}
    cpu: dict = {k: [] for k in contenders}
    for _ in range(repeats):
        for k, fn in contenders.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            cpu[k].append(time.process_time() - c)
            wall[k].append(time.perf_counter() - t)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in contenders}


def mog_kernel_rows(name: str, frames: list[np.ndarray], repeats: int, rows: list) -> None:
    """cv2.bgsegm vs every SIMD path x {1, 2 threads} x {frame by frame, apply_batch(8)}."""
    n = len(frames)
    h, w = frames[0].shape[:2]

    def cv_kernel():
        m = cv2.bgsegm.createBackgroundSubtractorMOG()
        for f in frames:
            m.apply(f)

    def hc(path, t, b):
        def run():
            _core.mog_simd(path)
            m = _core.MogModel(w, h, 3)
            c = np.zeros((h, w), np.uint32)
            if b == 1:
                for f in frames:
                    m.apply(f, counts=c, threads=t, return_mask=False)
            else:
                for i in range(0, n, b):
                    m.apply_frames(frames[i:i + b], counts=c, threads=t)
        return run

    contenders = {"cv": cv_kernel}
    for path in _core.mog_simd_paths():
        for t in (1, 2):
            for b in (1, 8):
                contenders[(path, t, b)] = hc(path, t, b)
    try:
        res = interleaved(contenders, repeats)
        # agreement of the masks, every path
        agree = {}
        for path in _core.mog_simd_paths():
            _core.mog_simd(path)
            m1, m2 = cv2.bgsegm.createBackgroundSubtractorMOG(), _core.MogModel(w, h, 3)
            worst, same = 1.0, 0
            for f in frames:
                a, b = m1.apply(f), m2.apply(f, threads=2)
                eq = float((a == b).mean())
                worst = min(worst, eq)
                same += int(eq == 1.0)
            agree[path] = f"{same}/{n} frames identical, worst {worst * 100:.4f}%"
    finally:
        _core.mog_simd("auto")
    t_cv, c_cv = res["cv"]
    rows.append(("MOG kernel (colour, full size)", name, "cv2.bgsegm MOG apply (1 thread)", f"{n / t_cv:.0f}", "1.00x",
                 "1.00x", "", ""))
    for (path, t, b), (tw, tc) in ((k, v) for k, v in res.items() if k != "cv"):
        mode = "apply" if b == 1 else "apply_batch(8)"
        rows.append(("", "", f"heatcore {path}, {mode}, {t} thread{'s' if t > 1 else ''}", f"{n / tw:.0f}",
                     f"{t_cv / tw:.2f}x", f"{c_cv / tc:.2f}x" if t == 1 else "", ">= 3x" if t == 1 else "",
                     agree[path] if b == 1 else "identical (tested)"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    ap.add_argument("--threads", type=int, default=0, help="heatcore kernel threads (0 = all cores)")
    args = ap.parse_args()
    repeats = 3 if args.quick else 5
    has_bgsegm = hasattr(cv2, "bgsegm")
    rows: list[tuple[str, ...]] = []
    load0 = f"{os.getloadavg()[0]:.2f}"
    tmp = tempfile.TemporaryDirectory()
    # (name, path, frames for the kernel rows, also the decode / diff rows)
    videos: list[tuple[str, Path, int, bool]] = []
    n_hd = 60 if args.quick else 150
    if CAMPUS.exists():
        videos.append(("campus 480x360", CAMPUS, 150 if args.quick else 400, True))
        up = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_LINEAR) for f in decode_all(CAMPUS, n_hd + 50)]
        videos.append(("campus upscaled 1280x720", write_video(Path(tmp.name) / "campus_1280x720.mp4", up), n_hd,
                       False))
        del up
    else:
        print(f"(campus video {CAMPUS} absent: skipped)")
    videos.append(("synthetic busy 1280x720",
                   write_video(Path(tmp.name) / "busy_1280x720.mp4", busy_frames(1280, 720, n_hd + 50, seed=1)), n_hd,
                   False))
    n_syn = 120 if args.quick else 300
    syn = write_synthetic_video(Path(tmp.name) / "synthetic_1280x720.mp4", 1280, 720, n_syn, fps=25.0,
                                fourcc="mp4v", seed=1, blobs=6)
    videos.append(("synthetic 1280x720", syn, n_hd, True))
    threads = args.threads

    for vi, (name, path, nframes, more_rows) in enumerate(videos):
        frames = decode_all(path, nframes)
        # -- MOG kernel alone ----------------------------------------------------------------
        if has_bgsegm:
            mog_kernel_rows(name, frames, 3 if (args.quick or not more_rows) else repeats, rows)
            if vi == 0:
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
                rows.append(("", "", "NumPy twin (120x90 crop)", f"{len(crop) / t_np:.0f}",
                             f"{t_cvc / t_np:.2f}x vs cv2 on crop", "", "", ""))
        del frames

        # -- end to end ------------------------------------------------------------------------
        total = pure_decode(path)
        if has_bgsegm:
            e2e = interleaved({
                "a": lambda: recipe_a(path),
                "hc": lambda: hc.motion_heatmap(path, "mog", threads=threads, decoder="opencv"),
                "hc1": lambda: hc.motion_heatmap(path, "mog", threads=1, decoder="opencv"),
            }, repeats if more_rows else 3)
            t_a, t_e2e, t_e2e1 = e2e["a"][0], e2e["hc"][0], e2e["hc1"][0]
            rows.append(("end to end MOG, colour, full size", name, "recipe A (no JPEG writes)", f"{total / t_a:.0f}",
                         "1.00x", "", "", "recipe A saturates at 255"))
            rows.append(("", "", f"heatcore motion_heatmap mog, threads={threads or os.cpu_count()}",
                         f"{total / t_e2e:.0f}", f"{t_a / t_e2e:.2f}x", "", ">= 3x", "masks identical (see kernel row)"))
            rows.append(("", "", "heatcore motion_heatmap mog, threads=1 (+ decode thread)", f"{total / t_e2e1:.0f}",
                         f"{t_a / t_e2e1:.2f}x", "", ">= 3x", ""))
        if not more_rows:
            continue
        t_dec = median_time(lambda: pure_decode(path), repeats)
        rows.append(("pure decode (OpenCV read)", name, "cv2.VideoCapture.read", f"{total / t_dec:.0f}", "1.00x", "", ""))
        if hc.io.video.have_pyav():
            def av_luma():
                for _ in hc.io.video.iter_frames(path, gray=True, backend="pyav"):
                    pass
            t_av = median_time(av_luma, repeats)
            rows.append(("", "", "PyAV luma (gray) decode", f"{total / t_av:.0f}", f"{t_dec / t_av:.2f}x", "", ""))
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
    print(f"load average before / after: {load0} / {os.getloadavg()[0]:.2f} (1 min)\n")
    print("| case | video | contender | fps | ratio | CPU ratio | target | agreement |")
    print("|---|---|---|---:|---:|---:|---|---|")
    for r in rows:
        r = r if len(r) == 8 else r[:5] + ("",) + r[5:]  # rows without a CPU-time ratio
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
