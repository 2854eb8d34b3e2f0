#include "heatcore/homography.hpp"

#include <limits>
#include <vector>

#include "heatcore/parallel.hpp"

namespace heatcore {

namespace {

// One contiguous chunk [begin, end). Written so the compiler can vectorise the loop: no branch
// on the hot path, the horizon test becomes a select.
std::size_t apply_chunk(const double* h, const double* pts, double* out, std::size_t begin,
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
