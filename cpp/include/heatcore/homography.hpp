// homography kernels: plain C++ API (pointers + sizes). No Python types.
#pragma once
#include <cstddef>
#include <cstdint>

namespace heatcore {

// Maps n points through the 3x3 homography `h` (row-major, 9 doubles):
//   w  = h[6]*x + h[7]*y + h[8]
//   x' = (h[0]*x + h[1]*y + h[2]) * (1/w),  y' = (h[3]*x + h[4]*y + h[5]) * (1/w)
// `pts` and `out` are (n, 2) row-major doubles (x, y); they may be the same buffer.
// Points with w <= 0 (on or behind the horizon of the plane) become NaN in `out` and are counted;
// they are never mirrored to the other side. Points whose w is NaN (NaN input) come out NaN and
// are not counted. Runs on `threads` workers (<= 0: all cores) once n is large enough to pay.
// Returns the number of points with w <= 0.
std::size_t apply_homography(const double* h, const double* pts, double* out, std::size_t n,
                             int threads);

}  // namespace heatcore
