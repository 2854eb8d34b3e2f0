// MOG2 background model (Zivkovic 2004/2006) with OpenCV's BackgroundSubtractorMOG2 semantics.
//
// Every float32 operation is the one OpenCV performs, in the same order (the library is built
// with -ffp-contract=off: no fused multiply-adds), so masks and model agree bit for bit. The
// per-pixel procedure, in words:
//   1. walk the pixel's components in order (strongest first): every weight decays
//      (w = (1 - alpha) * w + prune, prune = -alpha * cT); the first component whose squared
//      distance is below Tg * var absorbs the sample (weight += alpha, mean and variance move by
//      alpha / weight, the variance clamped to [var_min, var_max]) and bubbles up past weaker
//      components; the pixel is background if a component met before the cumulative weight
//      reached TB has distance below Tb * var; a weight below alpha * cT is zeroed and shortens
//      the walk by one;
//   2. renormalise the weights of the remaining components (by 1 / total, or 0 for a total near 0);
//   3. without a match (and alpha > 0) a new component (weight alpha, mean = sample,
//      var = var_init) replaces the weakest or is appended, and sinks to its place;
//   4. a foreground pixel is a shadow when it is a darker version (ratio in [tau, 1]) of a
//      background component with a small colour distortion.
#include "heatcore/mog2.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <stdexcept>
#include <string>

#include "heatcore/parallel.hpp"

namespace heatcore {

namespace {

constexpr std::size_t kMinRowsPerTask = 8;
constexpr int L = Mog2Model::kLanes;
std::atomic<bool> g_simd_enabled{true};

struct Consts {
    float alphaT, alpha1, prune, Tb, TB, Tg, varInit, varMin, varMax, tau;
    bool shadows;
    std::uint8_t shadow_value;
    int K;
    std::ptrdiff_t ms;  // floats between the planes of consecutive components
};

// Shadow test of one pixel (lane pointer p, stride L between fields), after the update.
template <int C>
inline bool shadow_pixel(const float* x, const float* p, int nmodes, const Consts& k) {
    float tw = 0.f;
    for (int m = 0; m < nmodes; ++m) {
        const float* q = p + m * k.ms;
        float num = 0.f, den = 0.f;
        for (int c = 0; c < C; ++c) {
            const float mu = q[(2 + c) * L];
            num += x[c] * mu;
            den += mu * mu;
        }
        if (den == 0.f) return false;
        if (num <= den && num >= k.tau * den) {
            const float a = num / den;
            float d2 = 0.f;
            for (int c = 0; c < C; ++c) {
                const float dd = a * q[(2 + c) * L] - x[c];
                d2 += dd * dd;
            }
            if (d2 < k.Tb * q[L] * a * a) return true;
        }
        tw += q[0];
        if (tw > k.TB) return false;
    }
    return false;
}

template <int C>
inline void swap_modes(float* p, int i, int j, std::ptrdiff_t ms) {
    constexpr int S = 2 + C;
    for (int f = 0; f < S; ++f) std::swap(p[i * ms + f * L], p[j * ms + f * L]);
}

// One pixel: x = the sample (C floats), p = its lane in the block, used = its modes count.
// Returns the mask value.
template <int C>
inline std::uint8_t update_pixel(const float* x, float* p, std::uint8_t& used, const Consts& k) {
    bool background = false, fits = false;
    int n = used;
    float total = 0.f;
    for (int m = 0; m < n; ++m) {
        float* q = p + m * k.ms;
        float w = k.alpha1 * q[0] + k.prune;
        int moved = 0;
        if (!fits) {
            const float var = q[L];
            float d[C];
            float dist2;
            if (C == 3) {
                d[0] = q[2 * L] - x[0];
                d[1] = q[3 * L] - x[1];
                d[2] = q[4 * L] - x[2];
                dist2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            } else {
                d[0] = q[2 * L] - x[0];
                dist2 = d[0] * d[0];  // OpenCV: 0.f + d*d, the same value
            }
            if (total < k.TB && dist2 < k.Tb * var) background = true;
            if (dist2 < k.Tg * var) {
                fits = true;
                w += k.alphaT;
                const float r = k.alphaT / w;
                for (int c = 0; c < C; ++c) q[(2 + c) * L] -= r * d[c];
                float vn = var + r * (dist2 - var);
                vn = vn < k.varMin ? k.varMin : vn;  // OpenCV's MAX / MIN macros (NaN kept)
                vn = vn > k.varMax ? k.varMax : vn;
                q[L] = vn;
                for (int i = m; i > 0; --i) {
                    if (w < p[(i - 1) * k.ms]) break;
                    ++moved;
                    swap_modes<C>(p, i, i - 1, k.ms);
                }
            }
        }
        if (w < -k.prune) {
            w = 0.f;
            --n;
        }
        p[(m - moved) * k.ms] = w;
        total += w;
    }
    const float inv = std::abs(total) > FLT_EPSILON ? 1.f / total : 0.f;
    for (int m = 0; m < n; ++m) p[m * k.ms] *= inv;
    if (!fits && k.alphaT > 0.f) {
        const int m = n == k.K ? k.K - 1 : n++;
        float* q = p + m * k.ms;
        if (n == 1) {
            q[0] = 1.f;
        } else {
            q[0] = k.alphaT;
            for (int i = 0; i < n - 1; ++i) p[i * k.ms] *= k.alpha1;
        }
        for (int c = 0; c < C; ++c) q[(2 + c) * L] = x[c];
        q[L] = k.varInit;
        for (int i = n - 1; i > 0; --i) {
            if (k.alphaT < p[(i - 1) * k.ms]) break;
            swap_modes<C>(p, i, i - 1, k.ms);
        }
    }
    used = static_cast<std::uint8_t>(n);
    if (background) return 0;
    return (k.shadows && shadow_pixel<C>(x, p, n, k)) ? k.shadow_value : 255;
}

}  // namespace

Mog2Params mog2_resolve_params(const Mog2Params& p) {
    Mog2Params r = p;
    r.history = p.history > 0 ? p.history : 500;
    r.var_threshold = p.var_threshold > 0 ? static_cast<double>(static_cast<float>(p.var_threshold)) : 16.0;
    if (p.nmixtures < 1 || p.nmixtures > 255)
        throw std::invalid_argument("nmixtures must be in 1..255, got " + std::to_string(p.nmixtures));
    return r;
}

Mog2Model::Mog2Model(int width, int height, int channels, const Mog2Params& params)
    : width_(width), height_(height), channels_(channels), params_(mog2_resolve_params(params)) {
    if (width <= 0 || height <= 0)
        throw std::invalid_argument("MOG2 frame size must be positive, got " + std::to_string(width) + "x" +
                                    std::to_string(height));
    if (channels != 1 && channels != 3)
        throw std::invalid_argument("MOG2 accepts 1- or 3-channel frames, got " + std::to_string(channels));
    K_ = params_.nmixtures;
    nblk_ = (width + L - 1) / L;
    state_.assign(static_cast<std::size_t>(K_) * height * nblk_ * block_floats(), 0.f);
    used_.assign(static_cast<std::size_t>(height) * nblk_ * L, 0);
}

void Mog2Model::reset() {
    std::fill(state_.begin(), state_.end(), 0.f);
    std::fill(used_.begin(), used_.end(), std::uint8_t{0});
    nframes_ = 0;
}

const char* Mog2Model::simd_path() { return "scalar"; }
void Mog2Model::set_simd_enabled(bool enabled) { g_simd_enabled = enabled; }

template <int C>
void Mog2Model::rows_scalar(int y0, int y1, const std::uint8_t* frame, std::ptrdiff_t frame_stride,
                            std::uint8_t* mask, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                            const std::uint8_t* roi, int count_min, float alphaT, float prune, std::uint64_t* fg) {
    Consts k;
    k.alphaT = alphaT;
    k.alpha1 = 1.f - alphaT;
    k.prune = prune;
    k.Tb = static_cast<float>(params_.var_threshold);
    k.TB = params_.background_ratio;
    k.Tg = params_.var_threshold_gen;
    k.varInit = params_.var_init;
    k.varMin = std::min(params_.var_min, params_.var_max);
    k.varMax = std::max(params_.var_min, params_.var_max);
    k.tau = params_.shadow_threshold;
    k.shadows = params_.detect_shadows;
    k.shadow_value = params_.shadow_value;
    k.K = K_;
    k.ms = mode_stride();
    const int W = width_;
    std::uint64_t n_fg = 0;
    for (int y = y0; y < y1; ++y) {
        const std::uint8_t* src = frame + static_cast<std::ptrdiff_t>(y) * frame_stride;
        std::uint8_t* used = used_.data() + static_cast<std::size_t>(y) * nblk_ * L;
        std::uint8_t* mrow = mask ? mask + static_cast<std::ptrdiff_t>(y) * mask_stride : nullptr;
        std::uint32_t* crow = counts ? counts + static_cast<std::size_t>(y) * W : nullptr;
        const std::uint8_t* rrow = roi ? roi + static_cast<std::size_t>(y) * W : nullptr;
        for (int x = 0; x < W; ++x) {
            float s[C];
            for (int c = 0; c < C; ++c) s[c] = static_cast<float>(src[x * C + c]);
            float* p = block(y, x / L) + (x % L);
            const std::uint8_t v = update_pixel<C>(s, p, used[x], k);
            if (mrow) mrow[x] = v;
            if (crow && v >= count_min && (!rrow || rrow[x])) {
                ++crow[x];
                ++n_fg;
            }
        }
    }
    *fg = n_fg;
}

std::uint64_t Mog2Model::apply(const std::uint8_t* frame, std::ptrdiff_t frame_stride, std::uint8_t* mask,
                               std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi,
                               int count_min, double learning_rate, int threads) {
    if (nframes_ == 0 || learning_rate >= 1) reset();
    ++nframes_;
    const double lr = (learning_rate >= 0 && nframes_ > 1)
                          ? learning_rate
                          : 1.0 / static_cast<double>(std::min<long long>(2 * nframes_, params_.history));
    const float alphaT = static_cast<float>(lr);
    const float prune = static_cast<float>(-lr * static_cast<double>(params_.complexity_reduction));
    const int nt = resolve_threads(threads);
    std::vector<std::uint64_t> fg(static_cast<std::size_t>(nt) + 1, 0);
    parallel_for(
        static_cast<std::size_t>(height_), nt,
        [&](std::size_t b, std::size_t e, int w) {
            if (channels_ == 3)
                rows_scalar<3>(static_cast<int>(b), static_cast<int>(e), frame, frame_stride, mask, mask_stride,
                               counts, roi, count_min, alphaT, prune, &fg[w]);
            else
                rows_scalar<1>(static_cast<int>(b), static_cast<int>(e), frame, frame_stride, mask, mask_stride,
                               counts, roi, count_min, alphaT, prune, &fg[w]);
        },
        kMinRowsPerTask);
    std::uint64_t total = 0;
    for (auto v : fg) total += v;
    return total;
}

void Mog2Model::get_state(float* weight, float* var, float* mean, std::uint8_t* modes_used) const {
    const int K = K_, C = channels_;
    const std::ptrdiff_t ms = mode_stride();
    for (int y = 0; y < height_; ++y) {
        for (int x = 0; x < width_; ++x) {
            const std::size_t pix = static_cast<std::size_t>(y) * width_ + x;
            const int n = used_[static_cast<std::size_t>(y) * nblk_ * L + x];
            const float* p = block(y, x / L) + (x % L);
            modes_used[pix] = static_cast<std::uint8_t>(n);
            for (int m = 0; m < K; ++m) {
                const bool live = m < n;
                weight[pix * K + m] = live ? p[m * ms] : 0.f;
                var[pix * K + m] = live ? p[m * ms + L] : 0.f;
                for (int c = 0; c < C; ++c)
                    mean[(pix * K + m) * C + c] = live ? p[m * ms + (2 + c) * L] : 0.f;
            }
        }
    }
}

void Mog2Model::set_state(long long nframes, const float* weight, const float* var, const float* mean,
                          const std::uint8_t* modes_used) {
    const int K = K_, C = channels_;
    const std::ptrdiff_t ms = mode_stride();
    const std::size_t npix = static_cast<std::size_t>(width_) * height_;
    for (std::size_t i = 0; i < npix; ++i)
        if (modes_used[i] > K)
            throw std::invalid_argument("modes_used has " + std::to_string(modes_used[i]) + " at pixel " +
                                        std::to_string(i) + ", above nmixtures = " + std::to_string(K));
    if (nframes < 0) throw std::invalid_argument("nframes must be >= 0, got " + std::to_string(nframes));
    reset();
    for (int y = 0; y < height_; ++y) {
        for (int x = 0; x < width_; ++x) {
            const std::size_t pix = static_cast<std::size_t>(y) * width_ + x;
            float* p = block(y, x / L) + (x % L);
            used_[static_cast<std::size_t>(y) * nblk_ * L + x] = modes_used[pix];
            for (int m = 0; m < K; ++m) {
                p[m * ms] = weight[pix * K + m];
                p[m * ms + L] = var[pix * K + m];
                for (int c = 0; c < C; ++c) p[m * ms + (2 + c) * L] = mean[(pix * K + m) * C + c];
            }
        }
    }
    nframes_ = nframes;
}

}  // namespace heatcore
