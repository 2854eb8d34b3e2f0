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
    """cv2.cvtColor(BGR2GRAY) + cv2.blur((ksize, ksize)) (reflect-101 border), bit-exact."""

def diff_accumulate(frame: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8], acc: npt.NDArray[np.uint32],
                    ksize: int = 11, roi: npt.NDArray[np.uint8] | None = None, threshold: int = -1,
                    threads: int = 0, return_blurred: bool = False) -> Any:
    """acc (uint32) += |gray_blur(frame) - reference| (or 1 where it exceeds threshold >= 0) inside
    roi, in place (fold into a wider sum at least every 16843009 frames); returns the total added (and the blurred frame with return_blurred=True)."""


# ---------------------------------------------------------------------------------------------
# Grid counting (cpp/src/grid.cpp)
# ---------------------------------------------------------------------------------------------
# (grid section)


# ---------------------------------------------------------------------------------------------
# Homography (cpp/src/homography.cpp)
# ---------------------------------------------------------------------------------------------
# (homography section)
