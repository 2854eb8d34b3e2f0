#include "heatcore/homography.hpp"

#include <limits>
#include <vector>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HEATCORE_HOMOGRAPHY_AVX 1
#endif

#include "heatcore/parallel.hpp"

namespace heatcore {

namespace {

// Every variant computes, per point and in this order (so results agree bit for bit with each
// other and with the NumPy twin; -ffp-contract=off keeps FMA out):
//   w = (h6*x + h7*y) + h8;  inv = w <= 0 ? NaN : 1/w;
//   x' = ((h0*x + h1*y) + h2) * inv;  y' = ((h3*x + h4*y) + h5) * inv.

std::size_t apply_scalar(const double* h, const double* pts, double* out, std::size_t begin,
                         std::size_t end) {
    const double h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6],
                 h7 = h[7], h8 = h[8];
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::size_t behind = 0;
    for (std::size_t i = begin; i < end; ++i) {
        const double x = pts[2 * i], y = pts[2 * i + 1];
        const double w = h6 * x + h7 * y + h8;
        const bool bad = w <= 0.0;
        const double inv = bad ? nan : 1.0 / w;
        behind += bad ? 1u : 0u;
        out[2 * i] = (h0 * x + h1 * y + h2) * inv;
        out[2 * i + 1] = (h3 * x + h4 * y + h5) * inv;
    }
    return behind;
}

#ifdef HEATCORE_HOMOGRAPHY_AVX
// Two points per 256-bit register (x0, y0, x1, y1): X = (x0, x0, x1, x1), Y = (y0, y0, y1, y1);
// the output lanes use (h0, h3), (h1, h4), (h2, h5); w is computed in every lane. Compiled for
// AVX only here and chosen at run time (no -march flags for the rest); the scalar loop does the
// odd last point and machines without AVX.
__attribute__((target("avx"))) std::size_t apply_avx(const double* h, const double* pts, double* out,
                                                      std::size_t begin, std::size_t end) {
    const __m256d a = _mm256_setr_pd(h[0], h[3], h[0], h[3]), b = _mm256_setr_pd(h[1], h[4], h[1], h[4]),
                  c = _mm256_setr_pd(h[2], h[5], h[2], h[5]);
    const __m256d g = _mm256_set1_pd(h[6]), k = _mm256_set1_pd(h[7]), l = _mm256_set1_pd(h[8]);
    const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
    const __m256d nan = _mm256_set1_pd(std::numeric_limits<double>::quiet_NaN());
    std::size_t behind = 0;
    std::size_t i = begin;
    for (; i + 2 <= end; i += 2) {
        const __m256d p = _mm256_loadu_pd(pts + 2 * i);
        const __m256d X = _mm256_unpacklo_pd(p, p), Y = _mm256_unpackhi_pd(p, p);
        const __m256d w = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(g, X), _mm256_mul_pd(k, Y)), l);
        const __m256d bad = _mm256_cmp_pd(w, zero, _CMP_LE_OQ);
        const __m256d inv = _mm256_blendv_pd(_mm256_div_pd(one, w), nan, bad);
        const int m = _mm256_movemask_pd(bad);
        behind += static_cast<std::size_t>((m & 1) + ((m >> 2) & 1));
        const __m256d num = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(a, X), _mm256_mul_pd(b, Y)), c);
        _mm256_storeu_pd(out + 2 * i, _mm256_mul_pd(num, inv));
    }
    return behind + apply_scalar(h, pts, out, i, end);
}

bool have_avx() {
    static const bool ok = __builtin_cpu_supports("avx");
    return ok;
}
#endif

std::size_t apply_chunk(const double* h, const double* pts, double* out, std::size_t begin,
                        std::size_t end) {
#ifdef HEATCORE_HOMOGRAPHY_AVX
    if (have_avx()) return apply_avx(h, pts, out, begin, end);
#endif
    return apply_scalar(h, pts, out, begin, end);
}

}  // namespace

std::size_t apply_homography(const double* h, const double* pts, double* out, std::size_t n,
                             int threads) {
    if (n == 0) return 0;
    const int t = resolve_threads(threads);
    std::vector<std::size_t> counts(static_cast<std::size_t>(t), 0);
    // ~64k points (1 MiB in, 1 MiB out) per worker at least: below that a thread costs more
    // than it saves.
    parallel_for(
        n, t,
        [&](std::size_t b, std::size_t e, int worker) {
            counts[static_cast<std::size_t>(worker)] += apply_chunk(h, pts, out, b, e);
        },
        std::size_t{1} << 16);
    std::size_t total = 0;
    for (std::size_t c : counts) total += c;
    return total;
}

}  // namespace heatcore
