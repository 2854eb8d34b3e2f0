// Gaussian KDE kernels: exact truncated splatting and linear binning + recursive blur.
#include "heatcore/kde.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cmath>
#include <complex>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "heatcore/parallel.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace heatcore {

namespace {
constexpr double kTwoPi = 6.283185307179586476925286766559;
// exp(-t^2/2), t >= 0, fitted (least squares, t in [0, 14]) by three damped cosines
// sum_k (a cos(w t) + c sin(w t)) exp(-b t); max abs error 8.4e-6 of the peak.
// Rows: a, c, b, w.
constexpr double kFit[3][4] = {
    {3.1545256, 7.31261191, 2.18272762, 0.52660518},
    {-2.31305845, -0.9198975, 2.15162817, 1.61612797},
    {0.15852447, -0.04392657, 2.07925217, 2.85671727},
};
constexpr double kBinVar = 1.0 / 6.0;  // mean variance linear binning adds per axis
constexpr double kMinPassVar = 4.0;    // recursive passes need sigma >= 2 steps
constexpr double kMaxPassVar = 1e18;   // and sigma <= 1e9 steps (float32 poles near 1 lose precision)
}  // namespace

double kde_truncation_radius(double tol) {
    if (!(tol > 0.0) || tol >= 1.0) tol = 1e-7;
    return std::sqrt(-2.0 * std::log(tol));
}

// ------------------------------------------------------------------------------------------
// Exact splatting
// ------------------------------------------------------------------------------------------
namespace {
// Fast path of kde_stats without moments: box, finiteness (x * 0 is NaN for NaN/inf), sum and
// min of weights. Returns false when some value is not finite (the caller then counts rows).
bool quick_stats(const double* pts, const double* w, std::size_t n, KdeStats& s) {
    double mn[2][4], mxv[2][4], z[2][4];
    for (int l = 0; l < 2; ++l)
        for (int a = 0; a < 4; ++a) {
            mn[l][a] = std::numeric_limits<double>::infinity();
            mxv[l][a] = -std::numeric_limits<double>::infinity();
            z[l][a] = 0.0;
        }
    std::size_t k = 0;
    // four independent accumulator sets per coordinate (the compiler keeps them in registers)
    for (; k + 4 <= n; k += 4) {
        for (int a = 0; a < 4; ++a) {
            const double x = pts[2 * (k + a)], y = pts[2 * (k + a) + 1];
            mn[0][a] = x < mn[0][a] ? x : mn[0][a];
            mxv[0][a] = x > mxv[0][a] ? x : mxv[0][a];
            mn[1][a] = y < mn[1][a] ? y : mn[1][a];
            mxv[1][a] = y > mxv[1][a] ? y : mxv[1][a];
            z[0][a] += x * 0.0;
            z[1][a] += y * 0.0;
        }
    }
    for (; k < n; ++k) {
        const double x = pts[2 * k], y = pts[2 * k + 1];
        mn[0][0] = x < mn[0][0] ? x : mn[0][0];
        mxv[0][0] = x > mxv[0][0] ? x : mxv[0][0];
        mn[1][0] = y < mn[1][0] ? y : mn[1][0];
        mxv[1][0] = y > mxv[1][0] ? y : mxv[1][0];
        z[0][0] += x * 0.0;
        z[1][0] += y * 0.0;
    }
    double zz = 0.0;
    s.xmin = s.ymin = std::numeric_limits<double>::infinity();
    s.xmax = s.ymax = -std::numeric_limits<double>::infinity();
    for (int a = 0; a < 4; ++a) {
        zz += z[0][a] + z[1][a];
        s.xmin = std::min(s.xmin, mn[0][a]); s.xmax = std::max(s.xmax, mxv[0][a]);
        s.ymin = std::min(s.ymin, mn[1][a]); s.ymax = std::max(s.ymax, mxv[1][a]);
    }
    double sw = 0.0, wmin = std::numeric_limits<double>::infinity(), wz = 0.0;
    if (w) {
        double sa[4] = {0, 0, 0, 0}, ma[4], za[4] = {0, 0, 0, 0};
        for (double& m : ma) m = std::numeric_limits<double>::infinity();
        std::size_t j = 0;
        for (; j + 4 <= n; j += 4)
            for (int a = 0; a < 4; ++a) {
                const double v = w[j + a];
                sa[a] += v;
                ma[a] = v < ma[a] ? v : ma[a];
                za[a] += v * 0.0;
            }
        for (; j < n; ++j) { sa[0] += w[j]; ma[0] = w[j] < ma[0] ? w[j] : ma[0]; za[0] += w[j] * 0.0; }
        for (int a = 0; a < 4; ++a) { sw += sa[a]; wmin = std::min(wmin, ma[a]); wz += za[a]; }
    } else {
        sw = static_cast<double>(n);
        wmin = 1.0;
    }
    if (!(zz == 0.0 && wz == 0.0)) return false;
    s.finite = n;
    s.sw = sw;
    s.wmin = wmin;
    s.x0 = pts[0];
    s.y0 = pts[1];
    return true;
}
}  // namespace

KdeStats kde_stats(const double* pts, const double* w, std::size_t n, bool moments) {
    KdeStats s;
    if (!moments && n > 0) {
        KdeStats q;
        if (quick_stats(pts, w, n, q)) return q;
    }
    // origin: the first finite row
    std::size_t k0 = 0;
    for (; k0 < n; ++k0) {
        const double wk = w ? w[k0] : 1.0;
        if (std::isfinite(pts[2 * k0]) && std::isfinite(pts[2 * k0 + 1]) && std::isfinite(wk)) break;
    }
    if (k0 == n) return s;
    s.x0 = s.xmin = s.xmax = pts[2 * k0];
    s.y0 = s.ymin = s.ymax = pts[2 * k0 + 1];
    s.wmin = w ? w[k0] : 1.0;
    // two interleaved accumulator sets (independent add chains run in parallel)
    struct Acc {
        std::size_t cnt = 0;
        double xmin, xmax, ymin, ymax, wmin;
        double sw = 0, sw2 = 0, swx = 0, swy = 0, swxx = 0, swxy = 0, swyy = 0;
    };
    Acc a[2];
    for (Acc& q : a) { q.xmin = q.xmax = s.x0; q.ymin = q.ymax = s.y0; q.wmin = s.wmin; }
    const double x0 = s.x0, y0 = s.y0;
    auto add = [&](Acc& q, std::size_t k) {
        const double x = pts[2 * k], y = pts[2 * k + 1];
        const double wk = w ? w[k] : 1.0;
        if (!(std::isfinite(x) && std::isfinite(y) && std::isfinite(wk))) return;
        ++q.cnt;
        q.xmin = x < q.xmin ? x : q.xmin; q.xmax = x > q.xmax ? x : q.xmax;
        q.ymin = y < q.ymin ? y : q.ymin; q.ymax = y > q.ymax ? y : q.ymax;
        q.wmin = wk < q.wmin ? wk : q.wmin;
        q.sw += wk;
        if (moments) {
            const double dx = x - x0, dy = y - y0, wx = wk * dx, wy = wk * dy;
            q.sw2 += wk * wk; q.swx += wx; q.swy += wy;
            q.swxx += wx * dx; q.swxy += wx * dy; q.swyy += wy * dy;
        }
    };
    // two threads for large inputs (each with two interleaved accumulator sets)
    const std::size_t m = n - k0;
    const int t = m >= 400000 ? 2 : 1;
    Acc part[2][2];
    for (auto& pq : part)
        for (Acc& q : pq) q = a[0];
    parallel_for(m, t, [&](std::size_t b, std::size_t e, int wkr) {
        Acc* q = part[wkr];
        std::size_t k = k0 + b;
        for (; k + 1 < k0 + e; k += 2) { add(q[0], k); add(q[1], k + 1); }
        if (k < k0 + e) add(q[0], k);
    }, 200000);
    for (int r = 0; r < 2; ++r) {
        a[r] = part[0][r];
        Acc& o = part[1][r];
        a[r].cnt += o.cnt;
        a[r].xmin = std::min(a[r].xmin, o.xmin); a[r].xmax = std::max(a[r].xmax, o.xmax);
        a[r].ymin = std::min(a[r].ymin, o.ymin); a[r].ymax = std::max(a[r].ymax, o.ymax);
        a[r].wmin = std::min(a[r].wmin, o.wmin);
        a[r].sw += o.sw; a[r].sw2 += o.sw2; a[r].swx += o.swx; a[r].swy += o.swy;
        a[r].swxx += o.swxx; a[r].swxy += o.swxy; a[r].swyy += o.swyy;
    }
    s.finite = a[0].cnt + a[1].cnt;
    s.xmin = std::min(a[0].xmin, a[1].xmin); s.xmax = std::max(a[0].xmax, a[1].xmax);
    s.ymin = std::min(a[0].ymin, a[1].ymin); s.ymax = std::max(a[0].ymax, a[1].ymax);
    s.wmin = std::min(a[0].wmin, a[1].wmin);
    s.sw = a[0].sw + a[1].sw;
    if (moments) {
        s.sw2 = a[0].sw2 + a[1].sw2; s.swx = a[0].swx + a[1].swx; s.swy = a[0].swy + a[1].swy;
        s.swxx = a[0].swxx + a[1].swxx; s.swxy = a[0].swxy + a[1].swxy; s.swyy = a[0].swyy + a[1].swyy;
    }
    return s;
}

// Exact splatting, tiled: the output is produced in bands of a few rows that fit in L2 (threads
// take the next band). A band is zeroed while in cache, every point whose window meets it adds
// its rows, and it leaves the cache once, finished (float32 output: summed in a float64 scratch
// band and rounded once). Axis-aligned kernels are separable: each point's 1-D x and y profiles
// are computed once (a recurrence re-anchored by exp every 16 values, no per-pixel exp) and a
// window row is row[j] += (w f_y(i)) f_x(j). Correlated kernels evaluate each window row by the
// recurrence e_{j+1} = e_j rho_j, rho_{j+1} = rho_j exp(-a).
namespace {

constexpr int kAnchor = 16;                  // recurrence values between two exact exp()
constexpr std::size_t kBandBytes = 256 << 10;  // float64 scratch per band (fits in L2)
constexpr std::size_t kMaxProfile = std::size_t{1} << 21;  // doubles of 1-D profiles per chunk
constexpr std::size_t kMaxEntries = std::size_t{1} << 22;  // (point, band) pairs per chunk

// g[j] = f exp(-(x0 + j - c)^2 / (2 var)), j in [0, len).
void gauss_profile(double* g, int len, double x0, double c, double var, double f) {
    const double h = -0.5 / var;
    if (var < 1.0) {  // narrow: a few values, and the recurrence factors could overflow
        for (int j = 0; j < len; ++j) {
            const double d = (x0 + j) - c;
            g[j] = f * std::exp(h * d * d);
        }
        return;
    }
    // e_{j+1} / e_j = exp(h (2 d_j + 1)) =: rho_j and rho_{j+1} = rho_j exp(2 h). With var >= 1
    // and |d| <= r sigma (window) every exponent is within +-(r + 2): no overflow.
    const double q = std::exp(2.0 * h);
    for (int b = 0; b < len; b += kAnchor) {
        const int e = std::min(len, b + kAnchor);
        const double d = (x0 + b) - c;
        double val = f * std::exp(h * d * d);
        double rho = std::exp(h * (2.0 * d + 1.0));
        for (int j = b; j < e; ++j) {
            g[j] = val;
            val *= rho;
            rho *= q;
        }
    }
}

// rows[t * W + j] += s[t] * g[j] for t < nr (nr <= 4), j < len. The same multiply and add per
// element on every path (no FMA contraction): the AVX2 clone gives bit-identical results.
template <int NR>
inline void splat_rows_t(double* __restrict__ row, std::size_t W, const double* __restrict__ g, int len,
                         const double* s) {
    if constexpr (NR == 1) {
        const double s0 = s[0];
        for (int j = 0; j < len; ++j) row[j] += s0 * g[j];
    } else if constexpr (NR == 2) {
        const double s0 = s[0], s1 = s[1];
        double* __restrict__ r1 = row + W;
        for (int j = 0; j < len; ++j) {
            const double v = g[j];
            row[j] += s0 * v;
            r1[j] += s1 * v;
        }
    } else {
        const double s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
        double* __restrict__ r1 = row + W;
        double* __restrict__ r2 = row + 2 * W;
        double* __restrict__ r3 = row + 3 * W;
        for (int j = 0; j < len; ++j) {
            const double v = g[j];
            row[j] += s0 * v;
            r1[j] += s1 * v;
            r2[j] += s2 * v;
            r3[j] += s3 * v;
        }
    }
}

inline void splat_block(double* row, std::size_t W, const double* g, int len, const double* s, int nr) {
    int t = 0;
    for (; t + 4 <= nr; t += 4) splat_rows_t<4>(row + t * W, W, g, len, s + t);
    if (t + 2 <= nr) { splat_rows_t<2>(row + t * W, W, g, len, s + t); t += 2; }
    if (t < nr) splat_rows_t<1>(row + t * W, W, g, len, s + t);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HEATCORE_KDE_AVX2 1
__attribute__((target("avx2"))) void splat_block_avx2(double* row, std::size_t W, const double* g, int len,
                                                      const double* s, int nr) {
    int t = 0;
    for (; t + 4 <= nr; t += 4) splat_rows_t<4>(row + t * W, W, g, len, s + t);
    if (t + 2 <= nr) { splat_rows_t<2>(row + t * W, W, g, len, s + t); t += 2; }
    if (t < nr) splat_rows_t<1>(row + t * W, W, g, len, s + t);
}
bool have_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif

using SplatFn = void (*)(double*, std::size_t, const double*, int, const double*, int);
SplatFn pick_splat() {
#ifdef HEATCORE_KDE_AVX2
    if (have_avx2()) return splat_block_avx2;
#endif
    return splat_block;
}

// True when every value of x[0..m) is finite. x * 0 is +-0 for finite x and NaN otherwise;
// OR-ing the bit patterns keeps a NaN (exponent all ones, mantissa non-zero) and turns zeros
// into +-0 only. Two accumulators, no add latency chain.
bool all_finite(const double* x, std::size_t m) {
#if defined(__SSE2__)
    __m128d b0 = _mm_setzero_pd(), b1 = _mm_setzero_pd();
    const __m128d zero = _mm_setzero_pd();
    std::size_t j = 0;
    for (; j + 4 <= m; j += 4) {
        b0 = _mm_or_pd(b0, _mm_mul_pd(_mm_loadu_pd(x + j), zero));
        b1 = _mm_or_pd(b1, _mm_mul_pd(_mm_loadu_pd(x + j + 2), zero));
    }
    double lanes[2];
    _mm_storeu_pd(lanes, _mm_or_pd(b0, b1));
    bool ok = !std::isnan(lanes[0]) && !std::isnan(lanes[1]);
#else
    std::size_t j = 0;
    bool ok = true;
#endif
    for (; j < m; ++j) ok = ok && std::isfinite(x[j]);
    return ok;
}

struct Win {
    double u, v, f;    // centre (grid units) and factor (weight x scale)
    int i0, i1;        // rows [i0, i1]
    int j0, len;       // columns [j0, j0 + len) (axis-aligned kernels)
    std::size_t prof;  // offset of the x profile (len values) then the y profile (i1 - i0 + 1)
};

template <class T>
void exact_impl(const double* pts, const double* w, std::size_t n, int H, int W, KdeCov cov, double tol,
                T* out, int threads, KdeAffine map, double scale) {
    if (H <= 0 || W <= 0) return;
    const std::size_t total = static_cast<std::size_t>(H) * static_cast<std::size_t>(W);
    const double sxx = cov.sxx, sxy = cov.sxy, syy = cov.syy;
    if (!(std::isfinite(sxx) && std::isfinite(sxy) && std::isfinite(syy)) || !(sxx > 0) || !(syy > 0))
        throw std::invalid_argument("kde_exact: covariance must be finite and positive definite");
    // conditional variance of x given the row, computed without forming the determinant
    // (which can overflow or underflow for extreme but valid covariances)
    const double slope = sxy / syy;  // the row's centre moves by slope * dy
    const double cvar = sxx - sxy * slope;
    if (!(cvar > 0) || !std::isfinite(scale))
        throw std::invalid_argument(!std::isfinite(scale) ? "kde_exact: scale must be finite"
                                                          : "kde_exact: covariance must be positive definite");
    if (n == 0) {
        std::fill(out, out + total, T(0));
        return;
    }
    const double r = kde_truncation_radius(tol);
    const double rx = r * std::sqrt(sxx), ry = r * std::sqrt(syy);
    const bool diag = sxy == 0.0;
    const double a = 1.0 / cvar;
    const double hx = r * std::sqrt(cvar);  // half-width of a row's span
    const double ea = std::exp(-a);
    const double Wm1 = static_cast<double>(W - 1), Hm1 = static_cast<double>(H - 1);

    const int TB = static_cast<int>(std::clamp<std::size_t>(kBandBytes / (sizeof(double) * static_cast<std::size_t>(W)),
                                                            1, 64));
    const int nb = (H - 1) / TB + 1;
    const int tmax = std::min({resolve_threads(threads), nb, 1024});
    const SplatFn splat = pick_splat();

    std::vector<Win> win;
    std::vector<double> prof;
    std::vector<std::size_t> start(static_cast<std::size_t>(nb) + 1);
    std::vector<std::uint32_t> list;
    std::size_t k = 0;
    bool first = true;
    while (first || k < n) {
        // 1. windows of the next chunk of points (bounded profile and list memory)
        win.clear();
        std::size_t nprof = 0, nent = 0;
        double work = 0.0;
        for (; k < n; ++k) {
            const double u = map.ax * pts[2 * k] + map.bx, v = map.ay * pts[2 * k + 1] + map.by;
            const double wk = w ? w[k] : 1.0;
            if (wk == 0.0 || !std::isfinite(u) || !std::isfinite(v) || !std::isfinite(wk)) continue;
            // ranges in double, clamped to the grid before any conversion to int
            const double ylo = std::max(0.0, std::ceil(v - ry)), yhi = std::min(Hm1, std::floor(v + ry));
            if (!(ylo <= yhi)) continue;
            Win q{u, v, wk * scale, static_cast<int>(ylo), static_cast<int>(yhi), 0, 0, 0};
            const std::size_t rows = static_cast<std::size_t>(q.i1 - q.i0) + 1;
            std::size_t need = 0;
            if (diag) {
                const double xlo = std::max(0.0, std::ceil(u - rx)), xhi = std::min(Wm1, std::floor(u + rx));
                if (!(xlo <= xhi)) continue;
                q.j0 = static_cast<int>(xlo);
                q.len = static_cast<int>(xhi) - q.j0 + 1;
                need = static_cast<std::size_t>(q.len) + rows;
                work += static_cast<double>(rows) * q.len;
            } else {
                work += static_cast<double>(rows) * std::min(static_cast<double>(W), 2.0 * hx + 1.0);
            }
            const std::size_t bands = static_cast<std::size_t>(q.i1 / TB - q.i0 / TB) + 1;
            if (!win.empty() && (nprof + need > kMaxProfile || nent + bands > kMaxEntries)) break;
            q.prof = nprof;
            nprof += need;
            nent += bands;
            win.push_back(q);
        }
        // tiny jobs stay on the calling thread (thread start-up costs ~50 us)
        const int nt = work + static_cast<double>(total) < 4e5 ? 1 : tmax;

        // 2. the 1-D profiles (axis-aligned kernels)
        if (diag) {
            if (prof.size() < nprof) prof.resize(nprof);
            parallel_for(win.size(), nt, [&](std::size_t b, std::size_t e, int) {
                for (std::size_t p = b; p < e; ++p) {
                    const Win& q = win[p];
                    double* g = prof.data() + q.prof;
                    gauss_profile(g, q.len, q.j0, q.u, sxx, 1.0);
                    gauss_profile(g + q.len, q.i1 - q.i0 + 1, q.i0, q.v, syy, q.f);
                }
            }, 64);
        }

        // 3. points by band (counting sort; points keep their order: results do not depend on threads)
        std::fill(start.begin(), start.end(), std::size_t{0});
        for (const Win& q : win)
            for (int b = q.i0 / TB; b <= q.i1 / TB; ++b) ++start[static_cast<std::size_t>(b) + 1];
        for (int b = 0; b < nb; ++b) start[b + 1] += start[b];
        list.resize(nent);
        {
            std::vector<std::size_t> fill(start.begin(), start.end() - 1);
            for (std::size_t p = 0; p < win.size(); ++p)
                for (int b = win[p].i0 / TB; b <= win[p].i1 / TB; ++b) list[fill[b]++] = static_cast<std::uint32_t>(p);
        }

        // 4. bands: accumulate in scratch, write once; workers take the next band (clustered
        // points make some bands much busier than others)
        std::atomic<int> next{0};
        std::atomic<bool> finite{true};
        parallel_for(static_cast<std::size_t>(nt), nt, [&](std::size_t, std::size_t, int) {
            // float64 output: accumulate in place (the band is in cache once zeroed); float32:
            // in a float64 scratch band, rounded once when stored
            std::vector<double> scratch(std::is_same<T, double>::value ? 0 : static_cast<std::size_t>(TB) * W);
            for (int b; (b = next.fetch_add(1, std::memory_order_relaxed)) < nb;) {
                const int r0 = b * TB, r1 = std::min(H, r0 + TB);  // rows [r0, r1)
                const std::size_t m = static_cast<std::size_t>(r1 - r0) * static_cast<std::size_t>(W);
                T* dst = out + static_cast<std::size_t>(r0) * static_cast<std::size_t>(W);
                double* band;
                if constexpr (std::is_same<T, double>::value) {
                    band = dst;
                    if (first) std::fill(band, band + m, 0.0);
                } else {
                    band = scratch.data();
                    if (first) {
                        std::fill(band, band + m, 0.0);
                    } else {
                        for (std::size_t j = 0; j < m; ++j) band[j] = static_cast<double>(dst[j]);
                    }
                }
                for (std::size_t e = start[b]; e < start[b + 1]; ++e) {
                    const Win& q = win[list[e]];
                    const int ia = std::max(q.i0, r0), ib = std::min(q.i1, r1 - 1);
                    if (diag) {
                        const double* gx = prof.data() + q.prof;
                        const double* gy = gx + q.len + (ia - q.i0);
                        splat(band + static_cast<std::size_t>(ia - r0) * W + q.j0, static_cast<std::size_t>(W), gx,
                              q.len, gy, ib - ia + 1);
                        continue;
                    }
                    for (int i = ia; i <= ib; ++i) {
                        const double dy = i - q.v;
                        const double qs = dy * dy / syy;  // min of q over the row
                        if (qs > r * r) continue;
                        const double mc = q.u + slope * dy;  // where q is smallest on this row
                        const double xlo = std::max(0.0, std::ceil(mc - hx));
                        const double xhi = std::min(Wm1, std::floor(mc + hx));
                        if (!(xlo <= xhi)) continue;
                        const int j0 = static_cast<int>(xlo), j1 = static_cast<int>(xhi);
                        const double d0 = j0 - mc;
                        // e_j = f exp(-qs/2 - a (j - mc)^2 / 2); e_{j+1} = e_j rho_j, rho_{j+1} = rho_j exp(-a)
                        double ev = q.f * std::exp(-0.5 * qs - 0.5 * a * d0 * d0);
                        double rho = std::exp(-a * d0 - 0.5 * a);
                        double* row = band + static_cast<std::size_t>(i - r0) * W;
                        for (int j = j0; j <= j1; ++j) {
                            row[j] += ev;
                            ev *= rho;
                            rho *= ea;
                        }
                    }
                }
                if (!all_finite(band, m)) finite.store(false, std::memory_order_relaxed);
                if constexpr (!std::is_same<T, double>::value)
                    for (std::size_t j = 0; j < m; ++j) dst[j] = static_cast<T>(band[j]);
            }
        }, 1);
        if (!finite.load())
            throw std::range_error("kde_exact: the result is not finite (weights or scale too large)");
        first = false;
    }
}

}  // namespace

void kde_exact(const double* pts, const double* w, std::size_t n, int H, int W, KdeCov cov, double tol,
               double* out, int threads, KdeAffine map, double scale) {
    exact_impl(pts, w, n, H, W, cov, tol, out, threads, map, scale);
}

void kde_exact(const double* pts, const double* w, std::size_t n, int H, int W, KdeCov cov, double tol,
               float* out, int threads, KdeAffine map, double scale) {
    exact_impl(pts, w, n, H, W, cov, tol, out, threads, map, scale);
}


// ------------------------------------------------------------------------------------------
// Linear binning
// ------------------------------------------------------------------------------------------
namespace {
template <class G>
void bin_impl(const double* pts, const double* w, std::size_t n, G* grid, int Hp, int Wp, int mx,
              int my, int threads, KdeAffine map) {
    if (n == 0 || Hp <= 0 || Wp <= 0) return;
    // Threads own row bands of the grid; each scans all points and adds the rows it owns.
    // (every thread reads all points: only worth it when the scatter, not the read, dominates)
    const std::size_t cells = static_cast<std::size_t>(Hp) * static_cast<std::size_t>(Wp);
    const int t = cells < (std::size_t{1} << 20)
                      ? 1
                      : std::min(resolve_threads(threads), std::max(1, static_cast<int>(n / 50000)));
    parallel_for(static_cast<std::size_t>(Hp), t, [&](std::size_t r0, std::size_t r1, int) {
        const long lo = static_cast<long>(r0), hi = static_cast<long>(r1);  // rows [lo, hi)
        const double ulim = static_cast<double>(Wp), vlim = static_cast<double>(Hp);
        // fast path: all four neighbours inside the band and the grid
        const double flo = static_cast<double>(lo), fhi = static_cast<double>(hi - 1);
        const double fu1 = static_cast<double>(Wp - 1);
        const double ax_ = map.ax, ay_ = map.ay, bx_ = map.bx + mx, by_ = map.by + my;
        for (std::size_t k = 0; k < n; ++k) {
            const double u = ax_ * pts[2 * k] + bx_, v = ay_ * pts[2 * k + 1] + by_;
            const double wk = w ? w[k] : 1.0;
            if (u >= 0.0 && u < fu1 && v >= flo && v < fhi) {
                const long i = static_cast<long>(v), j = static_cast<long>(u);
                const double ax = u - static_cast<double>(j), ay = v - static_cast<double>(i);
                const double w1 = wk * ay, w0 = wk - w1;
                G* row = grid + static_cast<std::size_t>(i) * Wp + j;
                row[0] += static_cast<G>(w0 - w0 * ax);
                row[1] += static_cast<G>(w0 * ax);
                row[Wp] += static_cast<G>(w1 - w1 * ax);
                row[Wp + 1] += static_cast<G>(w1 * ax);
                continue;
            }
            if (!(u > -1.0 && u < ulim && v > -1.0 && v < vlim)) continue;  // also drops NaN
            const double fu = std::floor(u), fv = std::floor(v);
            const long i = static_cast<long>(fv), j = static_cast<long>(fu);
            if (i + 1 < lo || i >= hi) continue;
            const double ax = u - fu, ay = v - fv;
            const double w1 = wk * ay, w0 = wk - w1;
            const bool jin0 = j >= 0, jin1 = j + 1 < Wp;
            if (i >= lo && i < hi) {
                G* row = grid + static_cast<std::size_t>(i) * Wp;
                if (jin0) row[j] += static_cast<G>(w0 - w0 * ax);
                if (jin1) row[j + 1] += static_cast<G>(w0 * ax);
            }
            if (i + 1 >= lo && i + 1 < hi) {
                G* row = grid + static_cast<std::size_t>(i + 1) * Wp;
                if (jin0) row[j] += static_cast<G>(w1 - w1 * ax);
                if (jin1) row[j + 1] += static_cast<G>(w1 * ax);
            }
        }
    }, 16);
}
}  // namespace

void kde_bin(const double* pts, const double* w, std::size_t n, double* grid, int Hp, int Wp,
             int mx, int my, int threads, KdeAffine map) {
    bin_impl(pts, w, n, grid, Hp, Wp, mx, my, threads, map);
}

// ------------------------------------------------------------------------------------------
// Recursive Gaussian
// ------------------------------------------------------------------------------------------
void kde_iir_coefficients(double var, double z[6], double g[6]) {
    using C = std::complex<double>;
    const double target = var;
    double s = std::sqrt(var);
    C zk[3], gk[3];
    double sum = 1.0;
    for (int it = 0; it < 8; ++it) {
        sum = 0.0;
        double m2 = 0.0;
        for (int k = 0; k < 3; ++k) {
            zk[k] = std::exp(C(-kFit[k][2], kFit[k][3]) / s);
            gk[k] = C(kFit[k][0], -kFit[k][1]);
            const C one(1.0, 0.0);
            sum += (gk[k] * (one + zk[k]) / (one - zk[k])).real();
            m2 += (gk[k] * 2.0 * zk[k] * (one + zk[k]) / std::pow(one - zk[k], 3)).real();
        }
        const double cur = m2 / sum;
        s *= std::sqrt(target / cur);
    }
    for (int k = 0; k < 3; ++k) {
        zk[k] = std::exp(C(-kFit[k][2], kFit[k][3]) / s);
        gk[k] = C(kFit[k][0], -kFit[k][1]);
    }
    sum = 0.0;
    for (int k = 0; k < 3; ++k)
        sum += (gk[k] * (C(1.0) + zk[k]) / (C(1.0) - zk[k])).real();
    for (int k = 0; k < 3; ++k) {
        const C gn = gk[k] / sum;
        z[2 * k] = zk[k].real();
        z[2 * k + 1] = zk[k].imag();
        g[2 * k] = gn.real();
        g[2 * k + 1] = gn.imag();
    }
}

KdeBlurPlan kde_blur_plan(KdeCov cov) {
    KdeBlurPlan best{false, 0, 0, 0, 0, 0, 0.0};
    const double sxx = cov.sxx - kBinVar, syy = cov.syy - kBinVar, sxy = cov.sxy;
    if (std::abs(sxy) <= 1e-12 * std::sqrt(std::abs(cov.sxx * cov.syy))) {
        best = {sxx >= kMinPassVar && syy >= kMinPassVar, sxx, syy, 0.0, 0, 0, 0.0};
        return best;
    }
    const int sg = sxy > 0 ? 1 : -1;
    double best_score = -std::numeric_limits<double>::infinity();
    // candidate lattice directions (p, 1) and (1, p): covariance C d d^T with d . d sign = sxy
    for (int p = 1; p <= 4; ++p) {
        for (int orient = 0; orient < 2; ++orient) {
            if (p == 1 && orient == 1) continue;
            const int ddx = orient == 0 ? p * sg : 1, ddy = orient == 0 ? 1 : p * sg;
            const double C = sxy / (ddx * ddy);  // > 0
            const double A = sxx - C * ddx * ddx, B = syy - C * ddy * ddy;
            const double score = std::min(std::min(A, B), C);
            if (score > best_score) {
                best_score = score;
                best = {score >= kMinPassVar, A, B, C, ddx, ddy, 0.0};
            }
        }
    }
    if (!best.ok) {
        // weak correlation: passes along (1, 1) and (-1, 1) whose variances differ by sxy
        const double C1 = kMinPassVar + std::max(sxy, 0.0), C2 = kMinPassVar + std::max(-sxy, 0.0);
        const double A = sxx - C1 - C2, B = syy - C1 - C2;
        if (A >= kMinPassVar && B >= kMinPassVar) best = {true, A, B, C1, 1, 1, C2};
    }
    return best;
}

namespace {

struct Coef {
    float zr[3], zi[3], gr[3], gi[3];
};

// Forward step of one row: u = x + z u; dst = sum Re(g u). Restrict pointers let it vectorize.
template <class Tin>
void fwd_row(const Tin* __restrict__ src, float* __restrict__ dst, float* __restrict__ r0,
             float* __restrict__ i0, float* __restrict__ r1, float* __restrict__ i1,
             float* __restrict__ r2, float* __restrict__ i2, int width, const Coef& k) {
    const float zr0 = k.zr[0], zi0 = k.zi[0], zr1 = k.zr[1], zi1 = k.zi[1], zr2 = k.zr[2], zi2 = k.zi[2];
    const float gr0 = k.gr[0], gi0 = k.gi[0], gr1 = k.gr[1], gi1 = k.gi[1], gr2 = k.gr[2], gi2 = k.gi[2];
    for (int c = 0; c < width; ++c) {
        const float x = static_cast<float>(src[c]);
        const float a0 = x + zr0 * r0[c] - zi0 * i0[c], b0 = zr0 * i0[c] + zi0 * r0[c];
        const float a1 = x + zr1 * r1[c] - zi1 * i1[c], b1 = zr1 * i1[c] + zi1 * r1[c];
        const float a2 = x + zr2 * r2[c] - zi2 * i2[c], b2 = zr2 * i2[c] + zi2 * r2[c];
        r0[c] = a0; i0[c] = b0; r1[c] = a1; i1[c] = b1; r2[c] = a2; i2[c] = b2;
        dst[c] = (gr0 * a0 - gi0 * b0) + (gr1 * a1 - gi1 * b1) + (gr2 * a2 - gi2 * b2);
    }
}

// Backward step: v = z (x_next + v); dst += sum Re(g v).
template <class Tin>
void bwd_row(const Tin* __restrict__ src, float* __restrict__ dst, float* __restrict__ r0,
             float* __restrict__ i0, float* __restrict__ r1, float* __restrict__ i1,
             float* __restrict__ r2, float* __restrict__ i2, int width, const Coef& k) {
    const float zr0 = k.zr[0], zi0 = k.zi[0], zr1 = k.zr[1], zi1 = k.zi[1], zr2 = k.zr[2], zi2 = k.zi[2];
    const float gr0 = k.gr[0], gi0 = k.gi[0], gr1 = k.gr[1], gi1 = k.gi[1], gr2 = k.gr[2], gi2 = k.gi[2];
    for (int c = 0; c < width; ++c) {
        const float x = static_cast<float>(src[c]);
        const float p0 = x + r0[c], q0 = i0[c];
        const float p1 = x + r1[c], q1 = i1[c];
        const float p2 = x + r2[c], q2 = i2[c];
        const float a0 = zr0 * p0 - zi0 * q0, b0 = zr0 * q0 + zi0 * p0;
        const float a1 = zr1 * p1 - zi1 * q1, b1 = zr1 * q1 + zi1 * p1;
        const float a2 = zr2 * p2 - zi2 * q2, b2 = zr2 * q2 + zi2 * p2;
        r0[c] = a0; i0[c] = b0; r1[c] = a1; i1[c] = b1; r2[c] = a2; i2[c] = b2;
        dst[c] += (gr0 * a0 - gi0 * b0) + (gr1 * a1 - gi1 * b1) + (gr2 * a2 - gi2 * b2);
    }
}

// One recursive Gaussian pass along the "rows" direction of a rows x cols array: each column
// (or, with shift p, each lattice line through (c + p*t, y + t)) is filtered forward and
// backward with zero boundary. in: rows x cols (Tin), out: rows x cols float.
// Columns [c0, c1) only (shift 0), or all columns (shift != 0).
template <class Tin>
void line_pass(const Tin* in, float* out, int rows, int cols, int shift, const double* z,
               const double* g, int c0, int c1) {
    Coef k;
    for (int q = 0; q < 3; ++q) {
        k.zr[q] = float(z[2 * q]); k.zi[q] = float(z[2 * q + 1]);
        k.gr[q] = float(g[2 * q]); k.gi[q] = float(g[2 * q + 1]);
    }
    const int ext = std::abs(shift) * (rows > 0 ? rows - 1 : 0);
    const int width = c1 - c0;
    const int n = width + ext;
    std::vector<float> st(static_cast<std::size_t>(6) * n, 0.0f);
    float* s[6];
    for (int q = 0; q < 6; ++q) s[q] = st.data() + static_cast<std::size_t>(q) * n;
    // the line through column c of row y has state index (c - shift * y + off)
    const int off = shift > 0 ? ext : 0;
    for (int y = 0; y < rows; ++y) {
        const int b = off - shift * y;
        fwd_row(in + static_cast<std::size_t>(y) * cols + c0, out + static_cast<std::size_t>(y) * cols + c0,
                s[0] + b, s[1] + b, s[2] + b, s[3] + b, s[4] + b, s[5] + b, width, k);
    }
    std::fill(st.begin(), st.end(), 0.0f);
    std::vector<float> xrow(shift != 0 ? static_cast<std::size_t>(width) : 0);
    for (int y = rows - 2; y >= 0; --y) {
        const int b = off - shift * y;
        const Tin* next = in + static_cast<std::size_t>(y + 1) * cols + c0;
        float* dst = out + static_cast<std::size_t>(y) * cols + c0;
        if (shift == 0) {
            bwd_row(next, dst, s[0] + b, s[1] + b, s[2] + b, s[3] + b, s[4] + b, s[5] + b, width, k);
        } else {
            // the line through column c of row y continues at column c + shift of row y + 1
            for (int c = 0; c < width; ++c) {
                const int cs = c + shift;
                xrow[c] = (cs >= 0 && cs < width) ? static_cast<float>(next[cs]) : 0.0f;
            }
            bwd_row(xrow.data(), dst, s[0] + b, s[1] + b, s[2] + b, s[3] + b, s[4] + b, s[5] + b, width, k);
        }
    }
}

// Filter along rows (lines of a rows x cols array), parallel over column chunks when shift == 0.
template <class Tin>
void pass(const Tin* in, float* out, int rows, int cols, int shift, double var, int threads) {
    if (rows <= 0 || cols <= 0) return;
    double z[6], g[6];
    kde_iir_coefficients(var, z, g);
    if (shift != 0) {
        line_pass(in, out, rows, cols, shift, z, g, 0, cols);
        return;
    }
    const std::size_t chunk = 256;
    const std::size_t nchunks = (static_cast<std::size_t>(cols) + chunk - 1) / chunk;
    parallel_for(nchunks, threads, [&](std::size_t b, std::size_t e, int) {
        for (std::size_t q = b; q < e; ++q) {
            const int c0 = static_cast<int>(q * chunk);
            const int c1 = std::min(cols, static_cast<int>((q + 1) * chunk));
            line_pass(in, out, rows, cols, 0, z, g, c0, c1);
        }
    }, 2);
}

// dst (cols x rows) = transpose of src (rows x cols), blocked, parallel over row blocks of dst.
template <class Tin, class Tout>
void transpose(const Tin* src, Tout* dst, int rows, int cols, int threads, double scale = 1.0) {
    const int B = 32;
    const std::size_t nb = (static_cast<std::size_t>(cols) + B - 1) / B;
    parallel_for(nb, threads, [&](std::size_t b, std::size_t e, int) {
        for (std::size_t q = b; q < e; ++q) {
            const int c0 = static_cast<int>(q) * B, c1 = std::min(cols, c0 + B);
            for (int r0 = 0; r0 < rows; r0 += B) {
                const int r1 = std::min(rows, r0 + B);
                for (int c = c0; c < c1; ++c) {
                    Tout* d = dst + static_cast<std::size_t>(c) * rows;
                    for (int r = r0; r < r1; ++r)
                        d[r] = static_cast<Tout>(scale * src[static_cast<std::size_t>(r) * cols + c]);
                }
            }
        }
    }, 1);
}

}  // namespace

namespace {
// Per-calling-thread scratch buffers, reused across calls (no page faults on every call).
std::vector<float>& scratch(int k) {
    thread_local std::vector<float> bufs[4];
    return bufs[k];
}

template <class Tin, class Tout>
void blur_impl(const Tin* grid, int Hp, int Wp, int mx, int my, int H, int W, KdeCov cov,
               Tout* out, int threads, double user_scale) {
    const KdeBlurPlan plan = kde_blur_plan(cov);
    if (!plan.ok)
        throw std::invalid_argument(
            "kde_blur: this covariance cannot be split into accurate recursive passes (a pass "
            "sigma would be below 2 pixels); use exact splatting");
    const double pass_max = std::max({plan.A, plan.B, plan.C, plan.C2});
    if (!(pass_max <= kMaxPassVar))
        throw std::invalid_argument("kde_blur: a pass sigma of " + std::to_string(std::sqrt(pass_max)) +
                                    " pixels exceeds 1e9 (the float32 recursive filter loses precision)");
    if (!std::isfinite(user_scale)) throw std::invalid_argument("kde_blur: scale must be finite");
    if (mx < 0 || my < 0 || H <= 0 || W <= 0 || mx + W > Wp || my + H > Hp)
        throw std::invalid_argument("kde_blur: crop outside the padded grid");
    const std::size_t np = static_cast<std::size_t>(Hp) * Wp;
    std::vector<float>& a = scratch(0);
    std::vector<float>& b = scratch(1);
    if (a.size() < np) a.resize(np);
    if (b.size() < np) b.resize(np);
    const double det = cov.sxx * cov.syy - cov.sxy * cov.sxy;
    const double scale = kTwoPi * std::sqrt(det) * user_scale;  // unit-sum blur -> peak-1 kernels
    std::atomic<bool> finite{true};
    auto check = [&](bool ok) {
        if (!ok) finite.store(false, std::memory_order_relaxed);
    };
    auto done = [&] {
        if (!finite.load())
            throw std::range_error("kde_blur: the result is not finite (weights or scale too large)");
    };

    if (plan.C == 0.0) {
        // Separable: y pass over columns (vectorised across columns), then the x pass on blocks
        // of 8 rows interleaved into an (Wp x 8) buffer (vectorised across the 8 rows), written
        // straight to the cropped, scaled output. No full-image transposes.
        pass(grid, b.data(), Hp, Wp, 0, plan.B, threads);
        double z[6], g[6];
        kde_iir_coefficients(plan.A, z, g);
        const float* src = b.data();
        const std::size_t nblk = (static_cast<std::size_t>(H) + 7) / 8;
        parallel_for(nblk, threads, [&](std::size_t b0, std::size_t b1, int) {
            std::vector<float> ibuf(static_cast<std::size_t>(Wp) * 8), obuf(ibuf.size());
            for (std::size_t q = b0; q < b1; ++q) {
                const int i0 = static_cast<int>(q) * 8, cnt = std::min(8, H - i0);
                for (int l = 0; l < 8; ++l) {
                    if (l < cnt) {
                        const float* row = src + static_cast<std::size_t>(my + i0 + l) * Wp;
                        for (int c = 0; c < Wp; ++c) ibuf[static_cast<std::size_t>(c) * 8 + l] = row[c];
                    } else {
                        for (int c = 0; c < Wp; ++c) ibuf[static_cast<std::size_t>(c) * 8 + l] = 0.0f;
                    }
                }
                line_pass(ibuf.data(), obuf.data(), Wp, 8, 0, z, g, 0, 8);
                bool ok = true;
                for (int l = 0; l < cnt; ++l) {
                    Tout* o = out + static_cast<std::size_t>(i0 + l) * W;
                    const float* ob = obuf.data() + static_cast<std::size_t>(mx) * 8 + l;
                    for (int j = 0; j < W; ++j) {
                        const double v = scale * static_cast<double>(ob[static_cast<std::size_t>(j) * 8]);
                        ok = ok & (std::abs(v) <= std::numeric_limits<double>::max());
                        o[j] = static_cast<Tout>(v);
                    }
                }
                check(ok);
            }
        }, 1);
        done();
        return;
    }
    // 1. optional diagonal pass along (dx, 1) in the row-major layout, then the y pass.
    if (plan.C > 0 && plan.dy == 1 && plan.C2 > 0) {
        pass(grid, b.data(), Hp, Wp, plan.dx, plan.C, threads);
        pass(b.data(), a.data(), Hp, Wp, -1, plan.C2, threads);
        pass(a.data(), b.data(), Hp, Wp, 0, plan.B, threads);
    } else if (plan.C > 0 && plan.dy == 1) {
        pass(grid, a.data(), Hp, Wp, plan.dx, plan.C, threads);
        pass(a.data(), b.data(), Hp, Wp, 0, plan.B, threads);
    } else {
        pass(grid, b.data(), Hp, Wp, 0, plan.B, threads);
    }
    // 2. transpose to x-major (Wp x Hp), optional diagonal pass along (1, dy), then the x pass.
    transpose(b.data(), a.data(), Hp, Wp, threads);
    const float* xs = a.data();
    float* xd = b.data();
    if (plan.C > 0 && plan.dy != 1) {
        pass(a.data(), b.data(), Wp, Hp, plan.dy, plan.C, threads);
        xs = b.data();
        xd = a.data();
    }
    pass(xs, xd, Wp, Hp, 0, plan.A, threads);
    // 3. crop + transpose back, scaled to peak-1 kernels.
    const float* res = xd;
    // tiled (32 x 32) so reads and writes both stay in cache
    parallel_for(static_cast<std::size_t>(H), threads, [&](std::size_t r0, std::size_t r1, int) {
        const int B = 32;
        bool ok = true;
        for (int i0 = static_cast<int>(r0); i0 < static_cast<int>(r1); i0 += B) {
            const int i1 = std::min(static_cast<int>(r1), i0 + B);
            for (int j0 = 0; j0 < W; j0 += B) {
                const int j1 = std::min(W, j0 + B);
                for (int i = i0; i < i1; ++i) {
                    Tout* o = out + static_cast<std::size_t>(i) * W;
                    const float* src = res + static_cast<std::size_t>(my + i);
                    for (int j = j0; j < j1; ++j) {
                        const double v = scale * static_cast<double>(src[static_cast<std::size_t>(mx + j) * Hp]);
                        ok = ok & (std::abs(v) <= std::numeric_limits<double>::max());
                        o[j] = static_cast<Tout>(v);
                    }
                }
            }
        }
        check(ok);
    }, 16);
    done();
}
}  // namespace

void kde_blur(const double* grid, int Hp, int Wp, int mx, int my, int H, int W, KdeCov cov,
              double* out, int threads, double scale) {
    blur_impl(grid, Hp, Wp, mx, my, H, W, cov, out, threads, scale);
}

void kde_blur(const double* grid, int Hp, int Wp, int mx, int my, int H, int W, KdeCov cov,
              float* out, int threads, double scale) {
    blur_impl(grid, Hp, Wp, mx, my, H, W, cov, out, threads, scale);
}

namespace {
template <class Tout>
void binned_impl(const double* pts, const double* w, std::size_t n, int H, int W, int mx, int my,
                 KdeCov cov, Tout* out, int threads, KdeAffine map, double scale) {
    if (mx < 0 || my < 0 || H <= 0 || W <= 0 || mx > (1 << 20) || my > (1 << 20) ||
        static_cast<long long>(H) + 2LL * my > std::numeric_limits<int>::max() ||
        static_cast<long long>(W) + 2LL * mx > std::numeric_limits<int>::max())
        throw std::invalid_argument("kde_binned: bad grid size or margins");
    const int Hp = H + 2 * my, Wp = W + 2 * mx;
    std::vector<float>& g = scratch(2);
    const std::size_t np = static_cast<std::size_t>(Hp) * Wp;
    if (g.size() < np) g.resize(np);
    const int T = n >= 200000 ? std::min(resolve_threads(threads), 8) : 1;
    if (T > 1) {
        // Split the points: worker q bins its share into its own grid (q = 0: the main one),
        // then the extra grids are added row-parallel. Every point is read once.
        std::vector<float>& ex = scratch(3);
        const std::size_t need = np * static_cast<std::size_t>(T - 1);
        if (ex.size() < need) ex.resize(need);
        const std::size_t share = (n + T - 1) / T;
        parallel_for(static_cast<std::size_t>(T), T, [&](std::size_t b, std::size_t e, int) {
            for (std::size_t q = b; q < e; ++q) {
                float* dst = q == 0 ? g.data() : ex.data() + (q - 1) * np;
                std::fill(dst, dst + np, 0.0f);
                const std::size_t lo = q * share, hi = std::min(n, lo + share);
                if (lo < hi)
                    bin_impl(pts + 2 * lo, w ? w + lo : nullptr, hi - lo, dst, Hp, Wp, mx, my, 1, map);
            }
        }, 1);
        parallel_for(static_cast<std::size_t>(Hp), T, [&](std::size_t r0, std::size_t r1, int) {
            float* base = g.data();
            for (int q = 1; q < T; ++q) {
                const float* src = ex.data() + static_cast<std::size_t>(q - 1) * np;
                for (std::size_t i = r0 * Wp; i < r1 * Wp; ++i) base[i] += src[i];
            }
        }, 16);
    } else {
        std::fill(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(np), 0.0f);
        bin_impl(pts, w, n, g.data(), Hp, Wp, mx, my, 1, map);
    }
    blur_impl(g.data(), Hp, Wp, mx, my, H, W, cov, out, threads, scale);
}
}  // namespace

void kde_binned(const double* pts, const double* w, std::size_t n, int H, int W, int mx, int my,
                KdeCov cov, double* out, int threads, KdeAffine map, double scale) {
    binned_impl(pts, w, n, H, W, mx, my, cov, out, threads, map, scale);
}

void kde_binned(const double* pts, const double* w, std::size_t n, int H, int W, int mx, int my,
                KdeCov cov, float* out, int threads, KdeAffine map, double scale) {
    binned_impl(pts, w, n, H, W, mx, my, cov, out, threads, map, scale);
}

}  // namespace heatcore
