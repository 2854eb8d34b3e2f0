"""Type stubs for heatcore._core, the compiled kernels (private: use the heatcore package).

All arrays are C-contiguous of the stated dtype (the Python layer converts once); functions
release the GIL while they compute. ``threads <= 0`` means all cores.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

# ---------------------------------------------------------------------------------------------
# KDE (cpp/src/kde.cpp)
# ---------------------------------------------------------------------------------------------
# (kde section)
# Grid units: point (u, v) = (column, row) with pixel (i, j) centred at (j, i); covariances in
# pixels^2. Results are sums of peak-1 Gaussians  sum_k w_k exp(-q_k / 2).

def kde_exact(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, height: int, width: int,
              sxx: float, sxy: float, syy: float, tol: float = 1e-7, threads: int = 0,
              affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0), scale: float = 1.0,
              dtype: Any = "float64") -> npt.NDArray[Any]:
    """Exact truncated splatting onto a new (height, width) grid (any positive-definite covariance),
    every kernel times ``scale``. Points are mapped to grid units by affine = (ax, bx, ay, by):
    u = ax x + bx, v = ay y + by. dtype float64 or float32 (summed in float64, rounded once).
    ValueError if the result is not finite."""

def kde_bin(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, grid: npt.NDArray[np.float64],
            mx: int, my: int, threads: int = 0) -> None:
    """Linear binning added in place into a C-contiguous float64 padded grid; grid pixel (0, 0) is at (my, mx)."""

def kde_blur(grid: npt.NDArray[np.float64], mx: int, my: int, height: int, width: int, sxx: float, sxy: float,
             syy: float, threads: int = 0, scale: float = 1.0, dtype: Any = "float64") -> npt.NDArray[Any]:
    """Recursive Gaussian blur of a binned padded grid (binning variance 1/6 subtracted), cropped at (my, mx),
    times ``scale``. ValueError for a pass sigma > 1e9 pixels or a result that is not finite."""

def kde_binned(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None, height: int, width: int,
               mx: int, my: int, sxx: float, sxy: float, syy: float, threads: int = 0,
               affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0), scale: float = 1.0,
               dtype: Any = "float64") -> npt.NDArray[Any]:
    """Binning into a float32 scratch grid (margins mx, my) + recursive blur, in one call (heatcore.kde's fast path)."""

def kde_blur_plan(sxx: float, sxy: float, syy: float) -> dict[str, Any] | None:
    """{'A', 'B', 'C', 'dx', 'dy'}: pass variances along x, y and lattice direction (dx, dy); None if impossible."""

def kde_iir_coefficients(var: float) -> tuple[list[complex], list[complex]]:
    """Poles and gains of the calibrated recursive Gaussian of variance var (steps^2)."""

def kde_stats(points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | None,
              moments: bool = True) -> dict[str, float]:
    """One pass: 'finite' rows, box 'xmin'..'ymax', 'wmin', 'sw' and (moments) 'sw2', 'swx', 'swy', 'swxx',
    'swxy', 'swyy' about the first finite point ('x0', 'y0')."""

def kde_truncation_radius(tol: float) -> float:
    """Mahalanobis truncation radius sqrt(-2 ln tol)."""


# ---------------------------------------------------------------------------------------------
# Motion (cpp/src/motion.cpp)
# ---------------------------------------------------------------------------------------------
# (motion section)
class MogModel:
    """KaewTraKulPong-Bowden Gaussian-mixture background model with OpenCV bgsegm MOG semantics
    (bit-identical masks), fused with the uint32 count of foreground frames per pixel."""

    def __init__(self, width: int, height: int, channels: int, history: int = 200, nmixtures: int = 5,
                 background_ratio: float = 0.7, noise_sigma: float = 0.0) -> None: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def nmixtures(self) -> int: ...
    @property
    def history(self) -> int: ...
    @property
    def background_ratio(self) -> float: ...
    @property
    def noise_sigma(self) -> float: ...
    @property
    def nframes(self) -> int: ...
    def apply(self, frame: npt.NDArray[np.uint8], counts: npt.NDArray[np.uint32] | None = None,
              roi: npt.NDArray[np.uint8] | None = None, learning_rate: float = -1.0, threads: int = 0,
              return_mask: bool = True) -> npt.NDArray[np.uint8] | None:
        """Update with one (H, W) or (H, W, 3) uint8 frame; mask 0/255; counts (H, W) += 1 where
        foreground and roi != 0 (in place)."""
    def apply_batch(self, frames: npt.NDArray[np.uint8], counts: npt.NDArray[np.uint32] | None = None,
                    roi: npt.NDArray[np.uint8] | None = None, learning_rate: float = -1.0, threads: int = 0,
                    return_mask: bool = False) -> npt.NDArray[np.uint8] | None:
        """apply() for a (B, H, W[, 3]) stack in one pass over the model (identical results)."""
    def apply_frames(self, frames: Any, counts: npt.NDArray[np.uint32] | None = None,
                     roi: npt.NDArray[np.uint8] | None = None, learning_rate: float = -1.0,
                     threads: int = 0) -> None:
        """apply_batch() for a sequence of separate (H, W[, 3]) frames (no stacking copy)."""
    def get_state(self) -> dict[str, Any]:
        """nframes; float32 sort_key/weight (K, H, W) and mean/var (K, C, H, W)."""
    def set_state(self, nframes: int, sort_key: npt.ArrayLike, weight: npt.ArrayLike, mean: npt.ArrayLike,
                  var: npt.ArrayLike) -> None: ...

def accumulate_mask(mask: npt.NDArray[np.uint8], counts: npt.NDArray[np.uint32],
                    roi: npt.NDArray[np.uint8] | None = None, min_value: int = 1, threads: int = 0) -> int:
    """counts += (mask >= min_value) & (roi != 0), in place; returns the number of pixels added."""

def gray_blur(frame: npt.NDArray[np.uint8], ksize: int = 11, threads: int = 0) -> npt.NDArray[np.uint8]:
    """cv2.cvtColor(BGR2GRAY) + cv2.blur((ksize, ksize)) (reflect-101 border), bit-exact. ksize: odd,
    at most the frame's longer side (pixels) and 4194303, else ValueError."""

def diff_accumulate(frame: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8], acc: npt.NDArray[np.uint32],
                    ksize: int = 11, roi: npt.NDArray[np.uint8] | None = None, threshold: int = -1,
                    threads: int = 0, return_blurred: bool = False) -> Any:
    """acc (uint32) += |gray_blur(frame) - reference| (or 1 where it exceeds threshold >= 0) inside
    roi, in place (fold into a wider sum at least every 16843009 frames); returns the total added (and the blurred frame with return_blurred=True)."""

def mog_simd(path: str | None = None) -> str:
    """The MOG kernel's instruction set ('scalar', 'sse41', 'avx2'); with ``path``, force it ('auto':
    the HEATCORE_SIMD environment variable, else the best this CPU supports). All paths give
    bit-identical masks and state. ValueError for an unknown or unsupported path. Process-wide."""

def mog_simd_paths() -> list[str]:
    """The MOG SIMD paths this CPU supports, e.g. ['scalar', 'sse41', 'avx2']."""


# ---------------------------------------------------------------------------------------------
# Grid counting (cpp/src/grid.cpp)
# ---------------------------------------------------------------------------------------------
# (grid section)
def grid_apply(grid: npt.NDArray[np.int64], boxes: npt.ArrayLike, width: int, height: int, nh: int, nv: int,
               spread: int, mode: str, geometry: str, anchor: float, sign: int) -> tuple[int, int, int] | None:
    """Add sign (+1/-1) * one frame's boxes (N, 4) l, t, r, b pixels into grid (nv, nh) int64 in place.
    mode "box"|"point", geometry "exact"|"aitrios". Returns None, or (box, cell_h, cell_v) of the
    first box the AITRIOS sample would raise IndexError on (grid untouched then)."""

def grid_counts(boxes: npt.ArrayLike, offsets: npt.ArrayLike, width: int, height: int, nh: int, nv: int,
                spread: int, mode: str, geometry: str, anchor: float, window: int, threads: int = 0,
                initial: npt.ArrayLike | None = None, history: int = 0,
                frame_base: int = 0) -> npt.NDArray[np.int32]:
    """Grid after each frame: frame t = boxes[offsets[t]:offsets[t+1]] (offsets (T+1,) int64).
    Returns (T - history, nv, nh) int32; window <= 0 = unbounded. The first `history` frames are a
    ring buffer already counted in `initial` (nv, nh). ValueError naming frame (from frame_base) and
    box where the AITRIOS sample raises IndexError."""

def grid_points(boxes: npt.ArrayLike, width: int, height: int, nh: int, nv: int, spread: int,
                geometry: str, anchor: float) -> npt.NDArray[np.float64]:
    """(N, 2) point (x, y pixels) of each box in point mode (aitrios: truncated like int())."""

def format_grid_json(grid: npt.ArrayLike, indent: int = 4, level: int = 1, spaces: bool = True) -> bytes:
    """json.dumps(grid.tolist(), indent=indent) of a (nv, nh) int32 grid nested `level` deep
    (indent <= 0: compact)."""

def format_frames_json(grids: npt.ArrayLike, boxes: npt.ArrayLike, offsets: npt.ArrayLike,
                       points: npt.ArrayLike | None, reverse: bool) -> tuple[bytes, npt.NDArray[np.int64]]:
    """The sample's per-frame JSON documents (indent=4, no timestamp) for grids (K, nv, nh) int32 with
    frame t's boxes (M, 4) / points (M, 2) at offsets[t]:offsets[t+1]; returns (text, ends (K+1,)):
    frame t is text[|ends[t]|:ends[t+1]], a negative end marks a frame with non-integer values
    (format it in Python; its end is -1 - position)."""

def format_grids_jsonl(grids: npt.ArrayLike, counts: npt.ArrayLike, first: int) -> bytes:
    """JSON Lines ({"frame", "number_of_detects", "griddata"}) for frames first, first + 1, ..."""

def parse_aitrios_rows(data: bytes, final: bool, max_rows: int) -> dict[str, Any]:
    """Split CSV text (no header) into rows and decode those in the AITRIOS sample's exact layout:
    boxes (M, 4) float64, scores float32, class_ids int64, box_offsets (rows + 1), row_begin,
    row_end, row_lines, fast (uint8, 0 = left to the general parser), consumed (bytes), rows."""


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)

def apply_homography(H: npt.ArrayLike, points: npt.ArrayLike, threads: int = 0) -> tuple[npt.NDArray[np.float64], int]:
    """Map (N, 2) float64 points through the 3x3 homography H (row-major):
    w = H[2,0]*x + H[2,1]*y + H[2,2]; x' = (H[0,0]*x + H[0,1]*y + H[0,2]) * (1/w), same for y'.
    Returns (mapped (N, 2) float64, number of points with w <= 0, which come out NaN and are never
    mirrored). NaN inputs give NaN outputs and are not counted. threads <= 0: all cores (threads
    start above ~65k points). Raises ValueError for a non-3x3 / non-finite H or points not (N, 2)."""


# ---------------------------------------------------------------------------------------------
# MOG2 (cpp/src/mog2.cpp), next to the motion kernels
# ---------------------------------------------------------------------------------------------
# (mog2 section)
class Mog2Model:
    """Zivkovic's adaptive Gaussian mixture with OpenCV's BackgroundSubtractorMOG2 semantics
    (bit-identical masks and model), fused with the uint32 count of foreground frames per pixel;
    its state can be exported and restored (exact checkpoints, warm-up of partitions)."""

    def __init__(self, width: int, height: int, channels: int, history: int = 500, var_threshold: float = 16.0,
                 detect_shadows: bool = True, nmixtures: int = 5, background_ratio: float = 0.9,
                 var_threshold_gen: float = 9.0, var_init: float = 15.0, var_min: float = 4.0,
                 var_max: float = 75.0, complexity_reduction_threshold: float = 0.05, shadow_value: int = 127,
                 shadow_threshold: float = 0.5) -> None: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def nmixtures(self) -> int: ...
    @property
    def history(self) -> int: ...
    @property
    def var_threshold(self) -> float: ...
    @property
    def detect_shadows(self) -> bool: ...
    @property
    def shadow_value(self) -> int: ...
    @property
    def nframes(self) -> int: ...
    simd_path: str
    """"avx2" or "scalar": the implementation apply() uses on this CPU."""
    @staticmethod
    def _set_simd_enabled(enabled: bool) -> None:
        """Testing hook: False forces the scalar path, True restores run-time dispatch."""
    def apply(self, frame: npt.NDArray[np.uint8], counts: npt.NDArray[np.uint32] | None = None,
              roi: npt.NDArray[np.uint8] | None = None, learning_rate: float = -1.0, threads: int = 0,
              return_mask: bool = True, count_shadows: bool = False) -> npt.NDArray[np.uint8] | None:
        """Update the model with one uint8 (H, W) or (H, W, 3) frame; returns the (H, W) mask (0
        background, 255 foreground, shadow_value for shadows) unless return_mask=False. counts
        (uint32, H x W, in place) += 1 where foreground (and shadows with count_shadows) inside roi.
        learning_rate < 0: 1 / min(2 * nframes, history); >= 1 restarts the model (as OpenCV)."""
    def apply_frames(self, frames: Any, counts: npt.NDArray[np.uint32] | None = None,
                     roi: npt.NDArray[np.uint8] | None = None, learning_rate: float = -1.0, threads: int = 0,
                     return_mask: bool = False, count_shadows: bool = False) -> npt.NDArray[np.uint8] | None:
        """apply() for a sequence of frames (or a (B, H, W[, 3]) stack) in one pass over the model
        state (identical results; the state crosses the memory bus once per batch). Returns the
        (B, H, W) masks with return_mask=True."""
    def get_state(self) -> dict[str, Any]:
        """{'nframes': int, 'weight', 'var': float32 (H, W, K), 'mean': float32 (H, W, K, C),
        'modes_used': uint8 (H, W)}; components k >= modes_used are zero."""
    def set_state(self, nframes: int, weight: npt.ArrayLike, var: npt.ArrayLike, mean: npt.ArrayLike,
                  modes_used: npt.ArrayLike) -> None:
        """Restore a state from get_state() (same shapes; ValueError otherwise)."""
