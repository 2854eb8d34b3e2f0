// Motion kernels: fused MOG background model + accumulation, mask accumulation, frame diff.
// The MOG arithmetic follows shared/specs/mog_background_model.md operation by operation in
// float32 (built with -ffp-contract=off) so masks match OpenCV's bgsegm MOG bit for bit.
#include "heatcore/motion.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "heatcore/parallel.hpp"

#include <atomic>
#include <cstdlib>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define HEATCORE_MOG_X86 1
#else
#define HEATCORE_MOG_X86 0
#endif
#if defined(__GNUC__) || defined(__clang__)
#define HEATCORE_MOG_INLINE inline __attribute__((always_inline))
#else
#define HEATCORE_MOG_INLINE inline
#endif

namespace heatcore {

// ---------------------------------------------------------------------------------------------
// MOG kernel, one instantiation per instruction set (cpp/src/mog_kernel.inc), chosen at run time.
namespace {

constexpr int kMaxK = 8;  // most mixture components (OpenCV's cap)

struct MogRowCtx {
    int K, C, W;
    std::size_t N;
    float vT, minVar, w0, var0, sk0, T;
    float *SK, *WT, *MU, *VR;
    std::uint8_t* NU;
};

namespace mog_scalar {
#define HEATCORE_MOG_SCALAR_ONLY
#include "mog_kernel.inc"
#undef HEATCORE_MOG_SCALAR_ONLY
}  // namespace mog_scalar

#if HEATCORE_MOG_X86
// BGR or gray uint8 row -> float planes, 16 pixels per step (SSE2, the x86-64 baseline; a byte
// butterfly de-interleaves BGR). Used by both SIMD paths.
template <int C>
void to_planes_sse2(const std::uint8_t* src, int W, float* const* planes) {
    const __m128i z = _mm_setzero_si128();
    auto widen_store = [&](__m128i v, float* dst) {
        const __m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
        _mm_storeu_ps(dst, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)));
        _mm_storeu_ps(dst + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)));
        _mm_storeu_ps(dst + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, z)));
        _mm_storeu_ps(dst + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, z)));
    };
    int x = 0;
    if (C == 1) {
        for (; x + 16 <= W; x += 16) widen_store(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + x)), planes[0] + x);
    } else {
        auto round3 = [](__m128i& t0, __m128i& t1, __m128i& t2) {
            const __m128i u0 = _mm_unpacklo_epi8(t0, _mm_unpackhi_epi64(t1, t1));
            const __m128i u1 = _mm_unpacklo_epi8(_mm_unpackhi_epi64(t0, t0), t2);
            const __m128i u2 = _mm_unpacklo_epi8(t1, _mm_unpackhi_epi64(t2, t2));
            t0 = u0;
            t1 = u1;
            t2 = u2;
        };
        for (; x + 16 <= W; x += 16) {
            const std::uint8_t* q = src + 3 * x;
            __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
            __m128i t1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16));
            __m128i t2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 32));
            round3(t0, t1, t2);
            round3(t0, t1, t2);
            round3(t0, t1, t2);
            round3(t0, t1, t2);
            widen_store(t0, planes[0] + x);
            widen_store(t1, planes[1] + x);
            widen_store(t2, planes[2] + x);
        }
    }
    for (; x < W; ++x)
        for (int ch = 0; ch < C; ++ch) planes[ch][x] = static_cast<float>(src[C * x + ch]);
}

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.1")
#endif
namespace mog_sse41 {
struct VW {
    static constexpr int L = 4;
    using F = __m128;
    using M = __m128;
    static HEATCORE_MOG_INLINE F load(const float* p) { return _mm_loadu_ps(p); }
    static HEATCORE_MOG_INLINE void store(float* p, F v) { _mm_storeu_ps(p, v); }
    static HEATCORE_MOG_INLINE F set1(float v) { return _mm_set1_ps(v); }
    static HEATCORE_MOG_INLINE F add(F a, F b) { return _mm_add_ps(a, b); }
    static HEATCORE_MOG_INLINE F sub(F a, F b) { return _mm_sub_ps(a, b); }
    static HEATCORE_MOG_INLINE F mul(F a, F b) { return _mm_mul_ps(a, b); }
    static HEATCORE_MOG_INLINE F div(F a, F b) { return _mm_div_ps(a, b); }
    static HEATCORE_MOG_INLINE F sqrt(F a) { return _mm_sqrt_ps(a); }
    // max(v, minVar) == (v < minVar ? minVar : v) == std::max(v, minVar) for non-NaN v
    static HEATCORE_MOG_INLINE F vmax(F a, F b) { return _mm_max_ps(a, b); }
    static HEATCORE_MOG_INLINE M lt(F a, F b) { return _mm_cmplt_ps(a, b); }
    static HEATCORE_MOG_INLINE M ge(F a, F b) { return _mm_cmpge_ps(a, b); }
    static HEATCORE_MOG_INLINE M gt(F a, F b) { return _mm_cmpgt_ps(a, b); }
    static HEATCORE_MOG_INLINE M mand(M a, M b) { return _mm_and_ps(a, b); }
    static HEATCORE_MOG_INLINE M mor(M a, M b) { return _mm_or_ps(a, b); }
    static HEATCORE_MOG_INLINE M mandnot(M a, M b) { return _mm_andnot_ps(a, b); }
    static HEATCORE_MOG_INLINE bool any(M m) { return _mm_movemask_ps(m) != 0; }
    static HEATCORE_MOG_INLINE bool all(M m) { return _mm_movemask_ps(m) == 0xF; }
    static HEATCORE_MOG_INLINE M ones() { return _mm_castsi128_ps(_mm_set1_epi32(-1)); }
    static HEATCORE_MOG_INLINE unsigned bits(M m) { return static_cast<unsigned>(_mm_movemask_ps(m)); }
    static HEATCORE_MOG_INLINE F sel(M m, F a, F b) { return _mm_blendv_ps(b, a, m); }
    static HEATCORE_MOG_INLINE std::uint64_t finish(M fgm, std::uint8_t* mrow, std::uint32_t* crow,
                                                    const std::uint8_t* rrow) {
        __m128i fg = _mm_castps_si128(fgm);
        if (mrow) {
            const __m128i b16 = _mm_packs_epi32(fg, fg);
            const int v = _mm_cvtsi128_si32(_mm_packs_epi16(b16, b16));
            std::memcpy(mrow, &v, 4);
        }
        if (!crow) return 0;
        if (rrow) {
            int rv;
            std::memcpy(&rv, rrow, 4);
            const __m128i r = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(rv));
            fg = _mm_andnot_si128(_mm_cmpeq_epi32(r, _mm_setzero_si128()), fg);
        }
        __m128i* cp = reinterpret_cast<__m128i*>(crow);
        _mm_storeu_si128(cp, _mm_sub_epi32(_mm_loadu_si128(cp), fg));
        return static_cast<std::uint64_t>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(fg)))));
    }
    template <int C>
    static void to_planes(const std::uint8_t* src, int W, float* const* planes) {
        to_planes_sse2<C>(src, W, planes);
    }
};
#include "mog_kernel.inc"
}  // namespace mog_sse41
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
namespace mog_avx2 {
struct VW {
    static constexpr int L = 8;
    using F = __m256;
    using M = __m256;
    static HEATCORE_MOG_INLINE F load(const float* p) { return _mm256_loadu_ps(p); }
    static HEATCORE_MOG_INLINE void store(float* p, F v) { _mm256_storeu_ps(p, v); }
    static HEATCORE_MOG_INLINE F set1(float v) { return _mm256_set1_ps(v); }
    static HEATCORE_MOG_INLINE F add(F a, F b) { return _mm256_add_ps(a, b); }
    static HEATCORE_MOG_INLINE F sub(F a, F b) { return _mm256_sub_ps(a, b); }
    static HEATCORE_MOG_INLINE F mul(F a, F b) { return _mm256_mul_ps(a, b); }
    static HEATCORE_MOG_INLINE F div(F a, F b) { return _mm256_div_ps(a, b); }
    static HEATCORE_MOG_INLINE F sqrt(F a) { return _mm256_sqrt_ps(a); }
    static HEATCORE_MOG_INLINE F vmax(F a, F b) { return _mm256_max_ps(a, b); }
    static HEATCORE_MOG_INLINE M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
    static HEATCORE_MOG_INLINE M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
    static HEATCORE_MOG_INLINE M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
    static HEATCORE_MOG_INLINE M mand(M a, M b) { return _mm256_and_ps(a, b); }
    static HEATCORE_MOG_INLINE M mor(M a, M b) { return _mm256_or_ps(a, b); }
    static HEATCORE_MOG_INLINE M mandnot(M a, M b) { return _mm256_andnot_ps(a, b); }
    static HEATCORE_MOG_INLINE bool any(M m) { return _mm256_movemask_ps(m) != 0; }
    static HEATCORE_MOG_INLINE bool all(M m) { return _mm256_movemask_ps(m) == 0xFF; }
    static HEATCORE_MOG_INLINE M ones() { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
    static HEATCORE_MOG_INLINE unsigned bits(M m) { return static_cast<unsigned>(_mm256_movemask_ps(m)); }
    static HEATCORE_MOG_INLINE F sel(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
    static HEATCORE_MOG_INLINE std::uint64_t finish(M fgm, std::uint8_t* mrow, std::uint32_t* crow,
                                                    const std::uint8_t* rrow) {
        __m256i fg = _mm256_castps_si256(fgm);
        if (mrow) {
            const __m128i b16 = _mm_packs_epi32(_mm256_castsi256_si128(fg), _mm256_extracti128_si256(fg, 1));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(mrow), _mm_packs_epi16(b16, b16));
        }
        if (!crow) return 0;
        if (rrow) {
            const __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(rrow)));
            fg = _mm256_andnot_si256(_mm256_cmpeq_epi32(r, _mm256_setzero_si256()), fg);
        }
        __m256i* cp = reinterpret_cast<__m256i*>(crow);
        _mm256_storeu_si256(cp, _mm256_sub_epi32(_mm256_loadu_si256(cp), fg));
        return static_cast<std::uint64_t>(
            __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(fg)))));
    }
    template <int C>
    static void to_planes(const std::uint8_t* src, int W, float* const* planes) {
        to_planes_sse2<C>(src, W, planes);
    }
};
#include "mog_kernel.inc"
}  // namespace mog_avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif  // HEATCORE_MOG_X86

MogSimd best_mog_simd() {
#if HEATCORE_MOG_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return MogSimd::avx2;
    if (__builtin_cpu_supports("sse4.1")) return MogSimd::sse41;
#endif
    return MogSimd::scalar;
}

// -1: not chosen yet (the first MOG call reads HEATCORE_SIMD)
std::atomic<int> g_mog_simd{-1};

}  // namespace

const char* mog_simd_name(MogSimd path) {
    switch (path) {
        case MogSimd::avx2: return "avx2";
        case MogSimd::sse41: return "sse41";
        default: return "scalar";
    }
}

std::vector<MogSimd> mog_simd_available() {
    std::vector<MogSimd> out{MogSimd::scalar};
    const MogSimd best = best_mog_simd();
    if (best >= MogSimd::sse41) out.push_back(MogSimd::sse41);
    if (best >= MogSimd::avx2) out.push_back(MogSimd::avx2);
    return out;
}

MogSimd mog_simd_parse(const std::string& name, bool allow_auto) {
    if (name == "scalar") return MogSimd::scalar;
    if (name == "sse41" || name == "sse4.1") return MogSimd::sse41;
    if (name == "avx2") return MogSimd::avx2;
    if (allow_auto && (name == "auto" || name.empty())) return best_mog_simd();
    throw std::invalid_argument("MOG SIMD path must be 'scalar', 'sse41', 'avx2' or 'auto', got '" + name + "'");
}

MogSimd mog_simd_path() {
    int v = g_mog_simd.load(std::memory_order_relaxed);
    if (v >= 0) return static_cast<MogSimd>(v);
    const char* env = std::getenv("HEATCORE_SIMD");
    MogSimd want;
    try {
        want = mog_simd_parse(env ? std::string(env) : std::string(), true);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("environment variable HEATCORE_SIMD: ") + e.what());
    }
    // a path this CPU lacks falls back to the best one it has
    want = std::min(want, best_mog_simd());
    g_mog_simd.store(static_cast<int>(want), std::memory_order_relaxed);
    return want;
}

MogSimd mog_set_simd(const std::string& name) {
    if (name == "auto") {
        g_mog_simd.store(-1, std::memory_order_relaxed);
        return mog_simd_path();
    }
    const MogSimd want = mog_simd_parse(name, false);
    if (want > best_mog_simd())
        throw std::invalid_argument(std::string("MOG SIMD path '") + name + "' is not supported by this CPU (best: " +
                                    mog_simd_name(best_mog_simd()) + ")");
    g_mog_simd.store(static_cast<int>(want), std::memory_order_relaxed);
    return want;
}

namespace {
constexpr double kDefaultNoiseSigma = 30 * 0.5;
constexpr float kVarThreshold = static_cast<float>(2.5 * 2.5);
constexpr float kInitialWeight = static_cast<float>(0.05);
constexpr int kMaxMixtures = 8;
constexpr std::size_t kMinRowsPerTask = 8;
}  // namespace

MogParams mog_resolve_params(const MogParams& p) {
    MogParams r = p;
    r.history = p.history > 0 ? p.history : 200;
    r.nmixtures = std::min(p.nmixtures > 0 ? p.nmixtures : 5, kMaxMixtures);
    r.background_ratio = std::min(p.background_ratio > 0 ? p.background_ratio : 0.95, 1.0);
    r.noise_sigma = p.noise_sigma <= 0 ? kDefaultNoiseSigma : p.noise_sigma;
    return r;
}

MogModel::MogModel(int width, int height, int channels, const MogParams& params)
    : width_(width), height_(height), channels_(channels), params_(mog_resolve_params(params)) {
    if (width <= 0 || height <= 0)
        throw std::invalid_argument("MOG frame size must be positive, got " + std::to_string(width) + "x" +
                                    std::to_string(height));
    if (channels != 1 && channels != 3)
        throw std::invalid_argument("MOG accepts 1- or 3-channel frames, got " + std::to_string(channels));
    K_ = params_.nmixtures;
    npix_ = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    // One buffer of K * (2 + 2C) planes. The plane stride is padded so that it is not a multiple
    // of 4 KiB (1280x720 would be): the same pixel in successive planes then falls in different
    // L1 sets (no conflict misses across the up to 64 planes one vector of pixels touches) and
    // loads do not falsely alias the previous plane's stores.
    stride_ = (npix_ + 1023) / 1024 * 1024 + 272;  // 272 floats = 17 cache lines
    const std::size_t kc = static_cast<std::size_t>(K_) * static_cast<std::size_t>(channels_);
    state_.assign((2 * static_cast<std::size_t>(K_) + 2 * kc) * stride_, 0.f);
    wt_ = state_.data();
    sk_ = wt_ + K_ * stride_;
    mu_ = sk_ + K_ * stride_;
    vr_ = mu_ + kc * stride_;
    nused_.assign(npix_, 0);
}

void MogModel::get_state(float* sort_key, float* weight, float* mean, float* var) const {
    const std::size_t N = npix_, kc = static_cast<std::size_t>(K_) * static_cast<std::size_t>(channels_);
    for (int k = 0; k < K_; ++k) {
        std::memcpy(sort_key + k * N, sk_ + k * stride_, N * sizeof(float));
        std::memcpy(weight + k * N, wt_ + k * stride_, N * sizeof(float));
    }
    for (std::size_t i = 0; i < kc; ++i) {
        std::memcpy(mean + i * N, mu_ + i * stride_, N * sizeof(float));
        std::memcpy(var + i * N, vr_ + i * stride_, N * sizeof(float));
    }
}

void MogModel::set_state(long long nframes, const float* sort_key, const float* weight, const float* mean,
                         const float* var) {
    if (nframes < 0) throw std::invalid_argument("nframes must be >= 0, got " + std::to_string(nframes));
    const std::size_t N = npix_, kc = static_cast<std::size_t>(K_) * static_cast<std::size_t>(channels_);
    for (int k = 0; k < K_; ++k) {
        std::memcpy(sk_ + k * stride_, sort_key + k * N, N * sizeof(float));
        std::memcpy(wt_ + k * stride_, weight + k * N, N * sizeof(float));
    }
    for (std::size_t i = 0; i < kc; ++i) {
        std::memcpy(mu_ + i * stride_, mean + i * N, N * sizeof(float));
        std::memcpy(vr_ + i * stride_, var + i * N, N * sizeof(float));
    }
    nframes_ = nframes;
    state_changed();
}

void MogModel::state_changed() {
    const std::size_t N = npix_, S = stride_;
    const int C = channels_;
    for (std::size_t p = 0; p < N; ++p) {
        int n = 0;
        for (int k = K_ - 1; k >= 0 && n == 0; --k) {
            bool nz = wt_[k * S + p] != 0.f || sk_[k * S + p] != 0.f;
            for (int c = 0; c < C && !nz; ++c)
                nz = mu_[(k * C + c) * S + p] != 0.f || vr_[(k * C + c) * S + p] != 0.f;
            if (nz) n = k + 1;
        }
        nused_[p] = static_cast<std::uint8_t>(n);
    }
}

void MogModel::reset() {
    std::fill(state_.begin(), state_.end(), 0.f);
    std::fill(nused_.begin(), nused_.end(), std::uint8_t{0});
    nframes_ = 0;
}

std::uint64_t MogModel::apply(const std::uint8_t* frame, std::ptrdiff_t frame_stride, std::uint8_t* mask,
                              std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi,
                              double learning_rate, int threads) {
    return apply_batch(&frame, 1, frame_stride, mask ? &mask : nullptr, mask_stride, counts, roi, learning_rate,
                       threads);
}

std::uint64_t MogModel::apply_batch(const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                                    std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                                    const std::uint8_t* roi, double learning_rate, int threads) {
    if (nb <= 0) return 0;
    if (nb > 1 && (learning_rate >= 1 || learning_rate == 0)) {
        // re-initialising or frozen frames: one at a time (each has its own rule)
        std::uint64_t total = 0;
        for (int b = 0; b < nb; ++b)
            total += apply_batch(frames + b, 1, frame_stride, masks ? masks + b : nullptr, mask_stride, counts, roi,
                                 learning_rate, threads);
        return total;
    }
    if (nframes_ == 0 || learning_rate >= 1) reset();
    std::vector<float> alphas(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
        ++nframes_;
        const double lr = (learning_rate >= 0 && nframes_ > 1)
                              ? learning_rate
                              : 1.0 / static_cast<double>(std::min<long long>(nframes_, params_.history));
        alphas[b] = static_cast<float>(lr);
    }
    const bool frozen = alphas[0] == 0.f;  // only when nb == 1 (see above)
    const int nt = resolve_threads(threads);
    std::vector<std::uint64_t> fg(static_cast<std::size_t>(nt) + 1, 0);
    parallel_for(
        static_cast<std::size_t>(height_), nt,
        [&](std::size_t b, std::size_t e, int w) {
            if (!frozen)
                process_rows(static_cast<int>(b), static_cast<int>(e), frames, nb, frame_stride, masks, mask_stride,
                             counts, roi, alphas.data(), &fg[w]);
            else
                frozen_rows(static_cast<int>(b), static_cast<int>(e), frames[0], frame_stride,
                            masks ? masks[0] : nullptr, mask_stride, counts, roi, &fg[w]);
        },
        kMinRowsPerTask);
    std::uint64_t total = 0;
    for (auto v : fg) total += v;
    return total;
}

void MogModel::process_rows(int y0, int y1, const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                            std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                            const std::uint8_t* roi, const float* alphas, std::uint64_t* fg_count) {
    MogRowCtx c;
    c.K = K_;
    c.C = channels_;
    c.W = width_;
    c.N = stride_;
    c.vT = kVarThreshold;
    c.minVar = static_cast<float>(params_.noise_sigma * params_.noise_sigma);
    c.w0 = kInitialWeight;
    c.var0 = static_cast<float>(kDefaultNoiseSigma * kDefaultNoiseSigma * 4);
    c.sk0 = channels_ == 1 ? static_cast<float>(kInitialWeight / (kDefaultNoiseSigma * 2))
                           : static_cast<float>(kInitialWeight / (kDefaultNoiseSigma * 2 * std::sqrt(3.)));
    c.T = static_cast<float>(params_.background_ratio);
    c.SK = sk_;
    c.WT = wt_;
    c.MU = mu_;
    c.VR = vr_;
    c.NU = nused_.data();
    std::vector<float> pixbuf(3 * (static_cast<std::size_t>(width_) + 8));
    std::vector<int> listbuf((kMaxK + 1) * (static_cast<std::size_t>(width_) + 1));
    switch (mog_simd_path()) {
#if HEATCORE_MOG_X86
        case MogSimd::avx2:
            mog_avx2::mog_rows(c, y0, y1, frames, nb, frame_stride, masks, mask_stride, counts, roi, alphas,
                               pixbuf.data(), listbuf.data(), fg_count);
            return;
        case MogSimd::sse41:
            mog_sse41::mog_rows(c, y0, y1, frames, nb, frame_stride, masks, mask_stride, counts, roi, alphas,
                                pixbuf.data(), listbuf.data(), fg_count);
            return;
#endif
        default:
            mog_scalar::mog_rows(c, y0, y1, frames, nb, frame_stride, masks, mask_stride, counts, roi, alphas,
                                 pixbuf.data(), listbuf.data(), fg_count);
    }
}

void MogModel::frozen_rows(int y0, int y1, const std::uint8_t* frame, std::ptrdiff_t frame_stride,
                           std::uint8_t* mask, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                           const std::uint8_t* roi, std::uint64_t* fg_count) {
    const int K = K_, C = channels_, W = width_;
    const std::size_t N = stride_;  // plane stride
    const float vT = kVarThreshold;
    const float T = static_cast<float>(params_.background_ratio);
    const float* SK = sk_;
    const float* WT = wt_;
    const float* MU = mu_;
    const float* VR = vr_;
    (void)SK;
    std::uint64_t fg_total = 0;
    for (int y = y0; y < y1; ++y) {
        const std::uint8_t* src = frame + static_cast<std::ptrdiff_t>(y) * frame_stride;
        const std::size_t row0 = static_cast<std::size_t>(y) * W;
        for (int x = 0; x < W; ++x) {
            const std::size_t p = row0 + x;
            int kHit = -1, kForeground = -1;
            for (int k = 0; k < K; ++k) {
                if (WT[k * N + p] < FLT_EPSILON) break;
                bool match;
                if (C == 1) {
                    const float diff = src[x] - MU[k * N + p];
                    match = diff * diff < vT * VR[k * N + p];
                } else {
                    const std::size_t b3 = (std::size_t)k * 3 * N + p;
                    const float e0 = src[3 * x] - MU[b3];
                    const float e1 = src[3 * x + 1] - MU[b3 + N];
                    const float e2 = src[3 * x + 2] - MU[b3 + 2 * N];
                    const float d2 = e0 * e0 + e1 * e1 + e2 * e2;
                    match = d2 < vT * (VR[b3] + VR[b3 + N] + VR[b3 + 2 * N]);
                }
                if (match) {
                    kHit = k;
                    break;
                }
            }
            if (kHit >= 0) {
                float wsum = 0.f;
                for (int k = 0; k < K; ++k) {
                    wsum += WT[k * N + p];
                    if (wsum > T) {
                        kForeground = k + 1;
                        break;
                    }
                }
            }
            const bool fg = kHit < 0 || kHit >= kForeground;
            if (mask) mask[static_cast<std::ptrdiff_t>(y) * mask_stride + x] = fg ? 255 : 0;
            if (counts && fg && (!roi || roi[p])) {
                counts[p] += 1;
                ++fg_total;
            }
        }
    }
    *fg_count += fg_total;
}

std::uint64_t accumulate_mask(const std::uint8_t* mask, std::size_t n, std::uint32_t* counts,
                              const std::uint8_t* roi, int min_value, int threads) {
    const int nt = resolve_threads(threads);
    std::vector<std::uint64_t> tot(static_cast<std::size_t>(nt) + 1, 0);
    const std::uint8_t lo = static_cast<std::uint8_t>(std::clamp(min_value, 0, 255));
    const bool all = min_value <= 0;
    parallel_for(
        n, nt,
        [&](std::size_t b, std::size_t e, int w) {
            std::uint64_t s = 0;
            if (all) {
                for (std::size_t i = b; i < e; ++i) {
                    const std::uint32_t f = roi ? (roi[i] != 0) : 1u;
                    counts[i] += f;
                    s += f;
                }
            } else if (roi) {
                for (std::size_t i = b; i < e; ++i) {
                    const std::uint32_t f = (mask[i] >= lo) & (roi[i] != 0);
                    counts[i] += f;
                    s += f;
                }
            } else {
                for (std::size_t i = b; i < e; ++i) {
                    const std::uint32_t f = mask[i] >= lo;
                    counts[i] += f;
                    s += f;
                }
            }
            tot[w] += s;
        },
        1 << 16);
    std::uint64_t s = 0;
    for (auto v : tot) s += v;
    return s;
}

namespace {

// Reflect-101 border index (... 2 1 | 0 1 2 ... n-1 | n-2 ...) in O(1) for any p, however far
// outside [0, len) (the sequence is periodic with period 2 * len - 2).
inline int reflect101(long long p, int len) {
    if (len == 1) return 0;
    const long long period = 2LL * len - 2;
    long long q = p % period;
    if (q < 0) q += period;
    return static_cast<int>(q < len ? q : period - q);
}

// OpenCV's fixed-point BGR -> gray weights (15-bit, as cv2.cvtColor(COLOR_BGR2GRAY) rounds for uint8).
constexpr int kB2Y = 3735, kG2Y = 19235, kR2Y = 9798, kGrayShift = 15;

inline void gray_row(const std::uint8_t* src, int width, int channels, std::uint8_t* out) {
    if (channels == 1) {
        std::memcpy(out, src, static_cast<std::size_t>(width));
        return;
    }
    for (int x = 0; x < width; ++x) {
        const int v = src[3 * x] * kB2Y + src[3 * x + 1] * kG2Y + src[3 * x + 2] * kR2Y + (1 << (kGrayShift - 1));
        out[x] = static_cast<std::uint8_t>(v >> kGrayShift);
    }
}

// Blur rows [y0, y1) of the gray+box-blurred image; calls emit(y, row) for each output row.
// General version (any odd ksize up to kMaxBlur): horizontal window sums per source row
// (int32: <= 255 * ksize), vertical window sums in int64 (<= 255 * ksize^2). Work and memory are
// linear in the frame size and in ksize: when ksize <= height, a ring of the ksize rows in the
// window; otherwise (the window covers every row, several times) the horizontal sums of all
// `height` rows are kept once and the first window is built from the number of times each source
// row occurs in it.
template <class Emit>
void blur_rows_wide(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t stride, int ksize,
               int y0, int y1, Emit&& emit) {
    const int r = ksize / 2;
    const int W = width;
    const std::size_t Wz = static_cast<std::size_t>(W);
    std::vector<std::int64_t> col(Wz, 0);
    std::vector<std::uint8_t> out(Wz);
    std::vector<int> xmap(Wz + 2 * static_cast<std::size_t>(r));
    for (std::size_t i = 0; i < xmap.size(); ++i) xmap[i] = reflect101(static_cast<long long>(i) - r, W);
    const std::uint64_t area = static_cast<std::uint64_t>(ksize) * static_cast<std::uint64_t>(ksize);
    std::vector<std::uint8_t> gp(Wz + 2 * static_cast<std::size_t>(r));  // gray row padded by reflection
    auto hrow = [&](int sy, std::int32_t* dst) {  // sy in [0, height)
        gray_row(frame + static_cast<std::ptrdiff_t>(sy) * stride, W, channels, gp.data() + r);
        for (int i = 0; i < r; ++i) {
            gp[i] = gp[r + xmap[i]];
            gp[static_cast<std::size_t>(r) + W + i] = gp[r + xmap[static_cast<std::size_t>(r) + W + i]];
        }
        const std::uint8_t* __restrict q = gp.data();
        std::int32_t s = 0;  // <= 255 * ksize < 2^31 (ksize <= kMaxBlur)
        for (int i = 0; i < ksize; ++i) s += q[i];
        dst[0] = s;
        for (int x = 1; x < W; ++x) {
            s += static_cast<std::int32_t>(q[x + ksize - 1]) - static_cast<std::int32_t>(q[x - 1]);
            dst[x] = s;
        }
    };
    const bool ring_mode = ksize <= height;
    const std::size_t nslots = ring_mode ? static_cast<std::size_t>(ksize) : static_cast<std::size_t>(height);
    std::vector<std::int32_t> rows(nslots * Wz);
    if (ring_mode) {
        // Ring slot j holds the horizontal sums of source row (y - r + j) for the current y.
        for (int j = 0; j < ksize; ++j) {
            std::int32_t* d = rows.data() + static_cast<std::size_t>(j) * Wz;
            hrow(reflect101(static_cast<long long>(y0) - r + j, height), d);
            for (int x = 0; x < W; ++x) col[x] += d[x];
        }
    } else {
        // Slot s holds source row s; the first window counts each row as often as it occurs.
        std::vector<std::int64_t> mult(static_cast<std::size_t>(height), 0);
        const long long period = height == 1 ? 1 : 2LL * height - 2;
        const long long a = static_cast<long long>(y0) - r;
        const long long full = static_cast<long long>(ksize) / period;  // whole periods in the window
        for (int s = 0; s < height; ++s) mult[s] = full * ((height == 1 || s == 0 || s == height - 1) ? 1 : 2);
        for (long long m = a + full * period; m <= static_cast<long long>(y0) + r; ++m) ++mult[reflect101(m, height)];
        for (int s = 0; s < height; ++s) {
            std::int32_t* d = rows.data() + static_cast<std::size_t>(s) * Wz;
            hrow(s, d);
            const std::int64_t c = mult[s];
            if (c)
                for (int x = 0; x < W; ++x) col[x] += c * d[x];
        }
    }
    int oldest = 0;  // ring slot of row y - r
    // round(col / area) with halves up (never reached: area is odd). For area < 32768 the float
    // quotient of the exact integers is correctly rounded and cannot cross an integer, so floor of
    // it is exact (vectorizes, unlike the integer division kept for huge kernels).
    const bool fast_div = area < 32768u;
    const float den = static_cast<float>(2u * area);
    for (int y = y0; y < y1; ++y) {
        if (fast_div) {
            const std::int64_t* __restrict cs = col.data();
            std::uint8_t* __restrict o = out.data();
            for (int x = 0; x < W; ++x)
                o[x] = static_cast<std::uint8_t>(static_cast<int>(
                    static_cast<float>(2 * static_cast<std::int32_t>(cs[x]) + static_cast<std::int32_t>(area)) / den));
        } else {
            for (int x = 0; x < W; ++x)
                out[x] = static_cast<std::uint8_t>((2u * static_cast<std::uint64_t>(col[x]) + area) / (2u * area));
        }
        emit(y, out.data());
        if (y + 1 < y1) {
            if (ring_mode) {
                std::int32_t* d = rows.data() + static_cast<std::size_t>(oldest) * Wz;
                for (int x = 0; x < W; ++x) col[x] -= d[x];
                hrow(reflect101(static_cast<long long>(y) + r + 1, height), d);
                for (int x = 0; x < W; ++x) col[x] += d[x];
                oldest = (oldest + 1) % ksize;
            } else {
                const std::int32_t* dout = rows.data() + static_cast<std::size_t>(reflect101(static_cast<long long>(y) - r, height)) * Wz;
                const std::int32_t* din = rows.data() + static_cast<std::size_t>(reflect101(static_cast<long long>(y) + r + 1, height)) * Wz;
                for (int x = 0; x < W; ++x) col[x] += static_cast<std::int64_t>(din[x]) - dout[x];
            }
        }
    }
}

// ksize <= 15: the window sums fit uint16 (255 * 15 * 15 < 65536). Vertical running sums of the
// gray rows first, then the horizontal window sum as ksize shifted adds over the padded column
// sums: every loop is a straight uint16 loop the compiler vectorizes.
// h[x] = c[x] + ... + c[x + K - 1] (uint16), K known at compile time so the sum stays in
// registers and the loop vectorizes.
template <int K>
void hsum_fixed(const std::uint16_t* __restrict c, std::uint16_t* __restrict h, int W) {
    for (int x = 0; x < W; ++x) {
        std::uint16_t s = c[x];
        for (int i = 1; i < K; ++i) s = static_cast<std::uint16_t>(s + c[x + i]);
        h[x] = s;
    }
}

template <class Emit>
void blur_rows_small(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t stride,
                     int ksize, int y0, int y1, Emit&& emit) {
    const int r = ksize / 2;
    const int W = width;
    std::vector<std::uint8_t> ring(static_cast<std::size_t>(ksize) * W);
    std::vector<std::uint16_t> col(W, 0), cp(static_cast<std::size_t>(W) + 2 * r), hs(W);
    std::vector<std::uint8_t> out(W);
    std::vector<int> xmap(static_cast<std::size_t>(W) + 2 * r);
    for (int i = 0; i < W + 2 * r; ++i) xmap[i] = reflect101(i - r, W);
    const int area = ksize * ksize;
    const float den = static_cast<float>(2 * area);
    auto load = [&](int sy, std::uint8_t* dst) {
        gray_row(frame + static_cast<std::ptrdiff_t>(reflect101(sy, height)) * stride, W, channels, dst);
    };
    for (int j = 0; j < ksize; ++j) {
        std::uint8_t* d = ring.data() + static_cast<std::size_t>(j) * W;
        load(y0 - r + j, d);
        for (int x = 0; x < W; ++x) col[x] = static_cast<std::uint16_t>(col[x] + d[x]);
    }
    int oldest = 0;
    for (int y = y0; y < y1; ++y) {
        std::uint16_t* __restrict c = cp.data();
        const std::uint16_t* __restrict cs = col.data();
        for (int x = 0; x < W; ++x) c[r + x] = cs[x];
        for (int i = 0; i < r; ++i) {
            c[i] = cs[xmap[i]];
            c[r + W + i] = cs[xmap[r + W + i]];
        }
        std::uint16_t* __restrict h = hs.data();
        switch (ksize) {
            case 1: hsum_fixed<1>(c, h, W); break;
            case 3: hsum_fixed<3>(c, h, W); break;
            case 5: hsum_fixed<5>(c, h, W); break;
            case 7: hsum_fixed<7>(c, h, W); break;
            case 9: hsum_fixed<9>(c, h, W); break;
            case 11: hsum_fixed<11>(c, h, W); break;
            case 13: hsum_fixed<13>(c, h, W); break;
            default: hsum_fixed<15>(c, h, W); break;
        }
        std::uint8_t* __restrict o = out.data();
        for (int x = 0; x < W; ++x)
            o[x] = static_cast<std::uint8_t>(static_cast<int>(static_cast<float>(2 * static_cast<int>(h[x]) + area) / den));
        emit(y, o);
        if (y + 1 < y1) {
            std::uint8_t* d = ring.data() + static_cast<std::size_t>(oldest) * W;
            std::uint16_t* __restrict cc = col.data();
            for (int x = 0; x < W; ++x) cc[x] = static_cast<std::uint16_t>(cc[x] - d[x]);
            load(y + r + 1, d);
            for (int x = 0; x < W; ++x) cc[x] = static_cast<std::uint16_t>(cc[x] + d[x]);
            oldest = (oldest + 1) % ksize;
        }
    }
}

template <class Emit>
void blur_rows(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t stride, int ksize,
               int y0, int y1, Emit&& emit) {
    if (ksize <= 15)
        blur_rows_small(frame, width, height, channels, stride, ksize, y0, y1, emit);
    else
        blur_rows_wide(frame, width, height, channels, stride, ksize, y0, y1, emit);
}

void check_blur(int width, int height, int channels, int ksize) {
    if (width <= 0 || height <= 0) throw std::invalid_argument("frame size must be positive");
    if (channels != 1 && channels != 3) throw std::invalid_argument("frames must have 1 or 3 channels");
    if (ksize < 1 || ksize % 2 == 0)
        throw std::invalid_argument("blur size must be an odd number >= 1, got " + std::to_string(ksize));
    if (ksize > std::max(width, height) || ksize > kMaxBlur)
        throw std::invalid_argument("blur size " + std::to_string(ksize) + " is larger than the frame (" +
                                    std::to_string(width) + "x" + std::to_string(height) +
                                    "): it must be at most the longer side, and at most " +
                                    std::to_string(kMaxBlur));
}

}  // namespace

void gray_blur(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t frame_stride,
               int ksize, std::uint8_t* out, int threads) {
    check_blur(width, height, channels, ksize);
    parallel_for(
        static_cast<std::size_t>(height), threads,
        [&](std::size_t b, std::size_t e, int) {
            blur_rows(frame, width, height, channels, frame_stride, ksize, static_cast<int>(b), static_cast<int>(e),
                      [&](int y, const std::uint8_t* row) {
                          std::memcpy(out + static_cast<std::size_t>(y) * width, row, static_cast<std::size_t>(width));
                      });
        },
        32);
}

namespace {
template <class T>
double diff_accumulate_impl(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t frame_stride,
                       int ksize, const std::uint8_t* reference, T* acc, const std::uint8_t* roi, int threshold,
                       std::uint8_t* blurred_out, int threads) {
    check_blur(width, height, channels, ksize);
    const int nt = resolve_threads(threads);
    std::vector<double> tot(static_cast<std::size_t>(nt) + 1, 0.0);
    parallel_for(
        static_cast<std::size_t>(height), nt,
        [&](std::size_t b, std::size_t e, int w) {
            double s = 0;
            blur_rows(frame, width, height, channels, frame_stride, ksize, static_cast<int>(b), static_cast<int>(e),
                      [&](int y, const std::uint8_t* row) {
                          const std::size_t o = static_cast<std::size_t>(y) * width;
                          if (blurred_out) std::memcpy(blurred_out + o, row, static_cast<std::size_t>(width));
                          const std::uint8_t* ref = reference + o;
                          T* a = acc + o;
                          const std::uint8_t* rr = roi ? roi + o : nullptr;
                          std::int64_t rs = 0;
                          if (threshold < 0 && !rr) {
                              for (int x = 0; x < width; ++x) {
                                  const int d = std::abs(static_cast<int>(row[x]) - static_cast<int>(ref[x]));
                                  a[x] = static_cast<T>(a[x] + d);
                                  rs += d;
                              }
                          } else {
                              for (int x = 0; x < width; ++x) {
                                  const int d = std::abs(static_cast<int>(row[x]) - static_cast<int>(ref[x]));
                                  int v = threshold < 0 ? d : (d > threshold ? 1 : 0);
                                  if (rr && !rr[x]) v = 0;
                                  a[x] = static_cast<T>(a[x] + v);
                                  rs += v;
                              }
                          }
                          s += static_cast<double>(rs);
                      });
            tot[w] += s;
        },
        32);
    double s = 0;
    for (auto v : tot) s += v;
    return s;
}
}  // namespace

double diff_accumulate(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t frame_stride,
                       int ksize, const std::uint8_t* reference, std::uint32_t* acc, const std::uint8_t* roi, int threshold,
                       std::uint8_t* blurred_out, int threads) {
    return diff_accumulate_impl(frame, width, height, channels, frame_stride, ksize, reference, acc, roi, threshold,
                                blurred_out, threads);
}

double diff_accumulate(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t frame_stride,
                       int ksize, const std::uint8_t* reference, std::uint16_t* acc, const std::uint8_t* roi, int threshold,
                       std::uint8_t* blurred_out, int threads) {
    return diff_accumulate_impl(frame, width, height, channels, frame_stride, ksize, reference, acc, roi, threshold,
                                blurred_out, threads);
}

}  // namespace heatcore
