"""heatcore watch throughput and recovery: recordings per minute for campus-sized recordings
(480x360, 10 s at 25 fps, MOG motion), through the service (folder mode, ledger checkpoint after
every recording) vs the same files through motion_heatmap in a plain loop (the anchor); and the
recovery time after SIGKILL (restart until the next recording is counted).

    python bench/compare_ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from heatcore._synthetic import write_synthetic_video
from heatcore.motion import motion_heatmap

CAMPUS = Path(os.environ.get("HEATCORE_DATA", "/work/shared/data")) / "campus_480x360.avi"


def make_recordings(d: Path, n: int, frames: int) -> list[Path]:
    """n recordings of `frames` frames, Kerberos names, two cameras: clips of the campus video
    when present, else synthetic 480x360 scenes."""
    out = []
    cap = cv2.VideoCapture(str(CAMPUS)) if CAMPUS.exists() else None
    for i in range(n):
        cam = f"cam{i % 2 + 1}"
        p = d / f"{1616678735 + 60 * i}_6-967003_{cam}_0-0-480-360_24_769.mp4"
        if cap is not None:
            w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (480, 360))
            for _ in range(frames):
                ok, f = cap.read()
                if not ok:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    ok, f = cap.read()
                w.write(cv2.resize(f, (480, 360)))
            w.release()
        else:
            write_synthetic_video(p, 480, 360, frames, seed=i, fourcc="mp4v")
        out.append(p)
    return out


def run_watch(folder: Path, out: Path, idle: float = 1.0) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "heatcore", "watch", "--folder", str(folder), "-o", str(out),
                    "--poll", "0.2", "--idle-exit", str(idle), "--quiet"], check=True)
    return time.perf_counter() - t0 - idle  # the idle wait at the end is not work


def recovery(folder: Path, out: Path) -> float:
    """SIGKILL after the first checkpoint; seconds from the restart until the next recording is counted."""
    cmd = [sys.executable, "-m", "heatcore", "watch", "--folder", str(folder), "-o", str(out), "--poll", "0.2",
           "--quiet"]
    p = subprocess.Popen(cmd)
    def stamp() -> int:
        return max((q.stat().st_mtime_ns for q in (out / "ledger").glob("*/*.npz")), default=0)

    while not stamp():
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    m0 = stamp()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd)
    while stamp() == m0:
        time.sleep(0.01)
    dt = time.perf_counter() - t0
    p.send_signal(signal.SIGTERM)
    p.wait()
    return dt


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, frames, reps = (4, 125, 2) if args.quick else (8, 250, 3)
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        recs = make_recordings(d / "in", n, frames) if (d / "in").mkdir() is None else []
        svc, anc, rec = [], [], []
        for r in range(reps):  # interleaved
            t0 = time.perf_counter()
            for p in recs:
                motion_heatmap(p, "mog")
            anc.append(time.perf_counter() - t0)
            out = d / f"out{r}"
            svc.append(run_watch(d / "in", out))
            shutil.rmtree(out)
            rec.append(recovery(d / "in", d / f"rec{r}"))
        src = "campus_480x360.avi clips" if CAMPUS.exists() else "synthetic"
        s, a = statistics.median(svc), statistics.median(anc)
        print(f"{n} recordings of {frames} frames 480x360 ({src}), MOG, {reps} interleaved runs, "
              f"load {os.getloadavg()[0]:.1f}\n")
        print("| case | heatcore watch | anchor (motion_heatmap loop) | ratio | target |")
        print("|---|---|---|---|---|")
        print(f"| recordings per minute | {60 * n / s:.1f} | {60 * n / a:.1f} | {a / s:.2f} | service overhead small |")
        print(f"| recovery after SIGKILL (s, restart → next recording counted) | {statistics.median(rec):.2f} | "
              f"- | - | seconds |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
