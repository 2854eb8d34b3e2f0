// kde kernels: plain C++ API (pointers + sizes). No Python types.
//
// Coordinates are GRID units: a point (u, v) has u along columns and v along rows, and the
// centre of pixel (row i, column j) is at (u, v) = (j, i). Covariances are in grid units too.
// Every kernel produces the raw sum  K(i, j) = sum_k w_k exp(-q_k / 2)  with
// q_k = d^T Sigma^-1 d, d = (j - u_k, i - v_k): peak-1 Gaussians (the Python layer scales
// them to densities / counts).
#pragma once
#include <cstddef>
#include <cstdint>

namespace heatcore {

struct KdeCov {
    double sxx, sxy, syy;  // covariance in grid units (pixels^2)
};

// Maps data coordinates to grid units: u = ax * x + bx, v = ay * y + by.
struct KdeAffine {
    double ax = 1.0, bx = 0.0, ay = 1.0, by = 0.0;
};

// One pass over the points: how many rows are finite (x, y and weight), the bounding box and the
// weighted moments about (x0, y0) = the first finite point (numerically stable covariances).
struct KdeStats {
    std::size_t finite = 0;
    double xmin = 0, xmax = 0, ymin = 0, ymax = 0, wmin = 0;
    double x0 = 0, y0 = 0;
    double sw = 0, sw2 = 0, swx = 0, swy = 0, swxx = 0, swxy = 0, swyy = 0;
};
// moments = false skips the second moments (only count, box, min weight and sum of weights).
KdeStats kde_stats(const double* pts, const double* w, std::size_t n, bool moments = true);

// Truncation radius (Mahalanobis units) for a relative L2 truncation error `tol` of one kernel:
// the fraction of a Gaussian's squared L2 norm outside radius r is exp(-r^2), so r = sqrt(-2 ln tol).
double kde_truncation_radius(double tol);

// Exact truncated splatting of n points (pts: n x 2 row-major (u, v); w: n weights or nullptr)
// onto out (H x W, overwritten), every kernel multiplied by `scale` (folded into the weights:
// no extra pass). Axis-aligned kernels (sxy == 0) are separable: each point's 1-D profiles are
// computed once and its window rows are scaled copies of the x profile. The output is built in
// row bands that stay in L2 (threads take bands) and written once; a float output is summed in
// float64 and rounded once. Window ranges are clamped in floating point before any conversion
// to int, so any finite covariance is safe (cost <= n x H x W). Throws std::invalid_argument for
// a non-positive-definite or non-finite covariance or scale, std::range_error when the result
// is not finite (e.g. weights near the float64 limit).
void kde_exact(const double* pts, const double* w, std::size_t n, int H, int W, KdeCov cov,
               double tol, double* out, int threads, KdeAffine map = {}, double scale = 1.0);
void kde_exact(const double* pts, const double* w, std::size_t n, int H, int W, KdeCov cov,
               double tol, float* out, int threads, KdeAffine map = {}, double scale = 1.0);

// Linear binning: adds each point's weight to its 4 nearest pixel centres of the padded grid
// (Hp x Wp, row-major, accumulated in place). Grid pixel (0, 0) sits at padded (my, mx).
// Points whose neighbours fall outside the padded grid lose those parts.
void kde_bin(const double* pts, const double* w, std::size_t n, double* grid, int Hp, int Wp,
             int mx, int my, int threads, KdeAffine map = {});

// How the blur splits a covariance into separable recursive passes: variance A along x,
// B along y (both already minus the linear-binning variance 1/6), C along the lattice
// direction (dx, dy) (C = 0: no diagonal pass) and C2 along (-1, 1) (weak correlations use
// both diagonals: C - C2 = sxy). ok = false when no split keeps every pass's sigma >= 2
// (then only exact splatting is accurate).
struct KdeBlurPlan {
    bool ok;
    double A, B, C;
    int dx, dy;
    double C2;
};
KdeBlurPlan kde_blur_plan(KdeCov cov);

// Blur a linearly binned padded grid (Hp x Wp) with the Gaussian of covariance `cov` (the
// binning variance is subtracted) and write the crop at (my, mx) of size H x W to out, scaled
// to peak-1 kernels. Cost does not grow with sigma (third-order complex-pole recursive
// filters, forward + backward, zero boundary), every kernel multiplied by `scale`. Throws
// std::invalid_argument if !plan.ok or a pass sigma exceeds 1e9 pixels (float32 poles that close
// to 1 lose precision), std::range_error if the result is not finite.
void kde_blur(const double* grid, int Hp, int Wp, int mx, int my, int H, int W, KdeCov cov,
              double* out, int threads, double scale = 1.0);
void kde_blur(const double* grid, int Hp, int Wp, int mx, int my, int H, int W, KdeCov cov,
              float* out, int threads, double scale = 1.0);

// Binning (into a float32 padded scratch grid with margins mx, my) + blur in one call: the fast
// path of heatcore.kde. Scratch buffers are kept per calling thread and reused.
void kde_binned(const double* pts, const double* w, std::size_t n, int H, int W, int mx, int my,
                KdeCov cov, double* out, int threads, KdeAffine map = {}, double scale = 1.0);
void kde_binned(const double* pts, const double* w, std::size_t n, int H, int W, int mx, int my,
                KdeCov cov, float* out, int threads, KdeAffine map = {}, double scale = 1.0);

// Coefficients of the recursive Gaussian of variance `var` (steps^2): three complex poles
// z[k] and gains g[k] (interleaved re, im), calibrated so the discrete impulse response
// h[n] = sum_k Re(g_k z_k^|n|) sums to 1 and has second moment `var`.
void kde_iir_coefficients(double var, double z[6], double g[6]);

}  // namespace heatcore
