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

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HEATCORE_MOG2_AVX2 1
#else
#define HEATCORE_MOG2_AVX2 0
#endif

namespace heatcore {

namespace {

constexpr std::size_t kMinRowsPerTask = 8;
constexpr int L = Mog2Model::kLanes;
constexpr int kPrefetch = 4;  // blocks
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


#if HEATCORE_MOG2_AVX2
// ---------------------------------------------------------------------------------------------
// AVX2: the same procedure for the 8 pixels of a block at once. Every lane performs exactly the
// scalar operations (IEEE single precision, no FMA); control flow becomes lane masks. A lane's
// walk over its components ends at its own count (which pruning can shorten), a matched
// component bubbles up right after its update (only components before it are involved, all
// final by then), and a new component is written and sunk to its place per lane. Planes of
// components no lane of the block uses are not touched.
// ---------------------------------------------------------------------------------------------
#define HC_AVX2 __attribute__((target("avx2")))

HC_AVX2 inline bool any(__m256 m) { return _mm256_movemask_ps(m) != 0; }
HC_AVX2 inline __m256 lt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
HC_AVX2 inline __m256 gt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
HC_AVX2 inline __m256 sel(__m256 a, __m256 b, __m256 m) { return _mm256_blendv_ps(a, b, m); }  // m ? b : a
HC_AVX2 inline __m256 imask(__m256i m) { return _mm256_castsi256_ps(m); }

// 8 x int32 (values 0..255) -> 8 bytes at dst.
HC_AVX2 inline void store8(std::uint8_t* dst, __m256i v) {
    const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(w16, w16));
}

// Swap components i and j (all fields) in the lanes of `m`.
template <int C>
HC_AVX2 inline void swap_lanes(float* p, std::ptrdiff_t ms, int i, int j, __m256 m) {
    for (int f = 0; f < 2 + C; ++f) {
        float* a = p + i * ms + f * L;
        float* b = p + j * ms + f * L;
        const __m256 va = _mm256_loadu_ps(a), vb = _mm256_loadu_ps(b);
        _mm256_storeu_ps(a, sel(va, vb, m));
        _mm256_storeu_ps(b, sel(vb, va, m));
    }
}

// One block of 8 pixels: xs[c] = the 8 samples of channel c; p = the block in plane 0;
// used = the 8 counts (updated); out = the 8 mask values.
// The 8 samples of channel c of 8 interleaved pixels at src (reads exactly 8 * C bytes).
template <int C>
HC_AVX2 inline void load_samples(const std::uint8_t* src, __m256* x) {
    if (C == 1) {
        x[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src))));
        return;
    }
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));       // bytes 0..15
    const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 16));  // bytes 16..23
    for (int c = 0; c < C; ++c) {
        alignas(16) std::int8_t il[16], ih[16];
        for (int j = 0; j < 16; ++j) il[j] = ih[j] = -1;
        for (int j = 0; j < 8; ++j) {
            const int b = j * 3 + c;
            if (b < 16) il[j] = static_cast<std::int8_t>(b);
            else ih[j] = static_cast<std::int8_t>(b - 16);
        }
        const __m128i v = _mm_or_si128(_mm_shuffle_epi8(lo, _mm_load_si128(reinterpret_cast<const __m128i*>(il))),
                                       _mm_shuffle_epi8(hi, _mm_load_si128(reinterpret_cast<const __m128i*>(ih))));
        x[c] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
    }
}

template <int C>
HC_AVX2 void block_avx2(const std::uint8_t* src, float* p, std::uint8_t* used, std::uint8_t* out, const Consts& k) {
    const std::ptrdiff_t ms = k.ms;
    const __m256 aT = _mm256_set1_ps(k.alphaT), a1 = _mm256_set1_ps(k.alpha1), prune = _mm256_set1_ps(k.prune);
    const __m256 negprune = _mm256_set1_ps(-k.prune), Tb = _mm256_set1_ps(k.Tb), TB = _mm256_set1_ps(k.TB);
    const __m256 Tg = _mm256_set1_ps(k.Tg), vmin = _mm256_set1_ps(k.varMin), vmax = _mm256_set1_ps(k.varMax);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.f);
    const __m256 ones = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    __m256 x[C];
    load_samples<C>(src, x);
    __m256i n = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(used)));
    __m256 bg = zero, fits = zero, total = zero;

    // 1. walk the components
    for (int m = 0; m < k.K; ++m) {
        const __m256 act = imask(_mm256_cmpgt_epi32(n, _mm256_set1_epi32(m)));
        if (!any(act)) break;
        float* q = p + m * ms;
        // the same component of the block kPrefetch blocks ahead: planes of weak components are
        // not streamed in order, so the hardware prefetcher misses them
        for (int b = 0; b < (2 + C) * L * 4; b += 64)
            _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetch * (2 + C) * L) + b, _MM_HINT_T0);
        const __m256 wold = _mm256_loadu_ps(q);
        __m256 wm = _mm256_add_ps(_mm256_mul_ps(a1, wold), prune);
        const __m256 chk = _mm256_andnot_ps(fits, act);
        __m256 hit = zero;
        if (any(chk)) {
            const __m256 var = _mm256_loadu_ps(q + L);
            __m256 mu[C], d[C];
            for (int c = 0; c < C; ++c) {
                mu[c] = _mm256_loadu_ps(q + (2 + c) * L);
                d[c] = _mm256_sub_ps(mu[c], x[c]);
            }
            __m256 dist2 = _mm256_mul_ps(d[0], d[0]);
            for (int c = 1; c < C; ++c) dist2 = _mm256_add_ps(dist2, _mm256_mul_ps(d[c], d[c]));
            bg = _mm256_or_ps(bg, _mm256_and_ps(chk, _mm256_and_ps(lt(total, TB), lt(dist2, _mm256_mul_ps(Tb, var)))));
            hit = _mm256_and_ps(chk, lt(dist2, _mm256_mul_ps(Tg, var)));
            if (any(hit)) {
                const __m256 w2 = _mm256_add_ps(wm, aT);
                const __m256 r = _mm256_div_ps(aT, w2);
                for (int c = 0; c < C; ++c)
                    _mm256_storeu_ps(q + (2 + c) * L, sel(mu[c], _mm256_sub_ps(mu[c], _mm256_mul_ps(r, d[c])), hit));
                __m256 vn = _mm256_add_ps(var, _mm256_mul_ps(r, _mm256_sub_ps(dist2, var)));
                vn = sel(vn, vmin, lt(vn, vmin));
                vn = sel(vn, vmax, gt(vn, vmax));
                _mm256_storeu_ps(q + L, sel(var, vn, hit));
                wm = sel(wm, w2, hit);
                fits = _mm256_or_ps(fits, hit);
            }
        }
        const __m256 wcmp = wm;  // the bubble compares the weight before pruning
        const __m256 pr = _mm256_and_ps(act, lt(wm, negprune));
        wm = _mm256_andnot_ps(pr, wm);
        n = _mm256_add_epi32(n, _mm256_castps_si256(pr));  // -1 where pruned
        _mm256_storeu_ps(q, sel(wold, wm, act));
        total = sel(total, _mm256_add_ps(total, wm), act);
        if (m > 0 && any(hit)) {
            __m256 bub = hit;
            for (int i = m; i > 0; --i) {
                bub = _mm256_andnot_ps(lt(wcmp, _mm256_loadu_ps(p + (i - 1) * ms)), bub);
                if (!any(bub)) break;
                swap_lanes<C>(p, ms, i, i - 1, bub);
            }
        }
    }

    // 2. renormalise
    {
        const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
        const __m256 big = gt(_mm256_and_ps(total, absmask), _mm256_set1_ps(FLT_EPSILON));
        const __m256 inv = _mm256_and_ps(big, _mm256_div_ps(one, total));
        for (int m = 0; m < k.K; ++m) {
            const __m256 s = imask(_mm256_cmpgt_epi32(n, _mm256_set1_epi32(m)));
            if (!any(s)) break;
            float* q = p + m * ms;
            const __m256 w = _mm256_loadu_ps(q);
            _mm256_storeu_ps(q, sel(w, _mm256_mul_ps(w, inv), s));
        }
    }

    // 3. a new component where nothing matched
    const __m256 fresh = _mm256_xor_ps(fits, ones);
    if (k.alphaT > 0.f && any(fresh)) {
        const __m256i Kv = _mm256_set1_epi32(k.K);
        const __m256i full = _mm256_cmpeq_epi32(n, Kv);
        const __m256i slot = _mm256_blendv_epi8(n, _mm256_set1_epi32(k.K - 1), full);
        const __m256i grown = _mm256_sub_epi32(n, _mm256_cmpgt_epi32(Kv, n));  // n + 1 below K
        const __m256i freshi = _mm256_castps_si256(fresh);
        const __m256i nn = _mm256_blendv_epi8(n, grown, freshi);
        const __m256 wslot = sel(aT, one, imask(_mm256_cmpeq_epi32(nn, _mm256_set1_epi32(1))));
        const __m256i last = _mm256_sub_epi32(nn, _mm256_set1_epi32(1));
        alignas(32) std::int32_t sl[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(sl), _mm256_and_si256(slot, freshi));
        int top = 0;
        for (int j = 0; j < 8; ++j) top = std::max(top, sl[j]);
        for (int m = 0; m <= top; ++m) {
            const __m256i mv = _mm256_set1_epi32(m);
            const __m256 scale = _mm256_and_ps(fresh, imask(_mm256_cmpgt_epi32(last, mv)));
            const __m256 here = _mm256_and_ps(fresh, imask(_mm256_cmpeq_epi32(slot, mv)));
            float* q = p + m * ms;
            if (any(scale) || any(here)) {
                __m256 w = _mm256_loadu_ps(q);
                w = sel(w, _mm256_mul_ps(w, a1), scale);
                _mm256_storeu_ps(q, sel(w, wslot, here));
            }
            if (any(here)) {
                _mm256_storeu_ps(q + L, sel(_mm256_loadu_ps(q + L), _mm256_set1_ps(k.varInit), here));
                for (int c = 0; c < C; ++c)
                    _mm256_storeu_ps(q + (2 + c) * L, sel(_mm256_loadu_ps(q + (2 + c) * L), x[c], here));
            }
        }
        __m256 still = fresh;
        for (int i = top; i > 0; --i) {
            const __m256 part = _mm256_and_ps(still, imask(_mm256_cmpgt_epi32(slot, _mm256_set1_epi32(i - 1))));
            if (!any(part)) continue;
            const __m256 go = _mm256_andnot_ps(lt(aT, _mm256_loadu_ps(p + (i - 1) * ms)), part);
            if (any(go)) swap_lanes<C>(p, ms, i, i - 1, go);
            still = _mm256_andnot_ps(_mm256_andnot_ps(go, part), still);
        }
        n = nn;
    }

    // 4. mask and shadows
    __m256 shadow = zero;
    __m256 undecided = _mm256_xor_ps(bg, ones);
    if (k.shadows && any(undecided)) {
        const __m256 tau = _mm256_set1_ps(k.tau);
        __m256 tw = zero;
        for (int m = 0; m < k.K; ++m) {
            __m256 part = _mm256_and_ps(undecided, imask(_mm256_cmpgt_epi32(n, _mm256_set1_epi32(m))));
            if (!any(part)) break;
            const float* q = p + m * ms;
            __m256 mu[C];
            for (int c = 0; c < C; ++c) mu[c] = _mm256_loadu_ps(q + (2 + c) * L);
            __m256 num = _mm256_mul_ps(x[0], mu[0]), den = _mm256_mul_ps(mu[0], mu[0]);
            for (int c = 1; c < C; ++c) {
                num = _mm256_add_ps(num, _mm256_mul_ps(x[c], mu[c]));
                den = _mm256_add_ps(den, _mm256_mul_ps(mu[c], mu[c]));
            }
            const __m256 dz = _mm256_and_ps(part, _mm256_cmp_ps(den, zero, _CMP_EQ_OQ));
            undecided = _mm256_andnot_ps(dz, undecided);
            part = _mm256_andnot_ps(dz, part);
            const __m256 cand = _mm256_and_ps(part, _mm256_and_ps(_mm256_cmp_ps(num, den, _CMP_LE_OQ),
                                                                  _mm256_cmp_ps(num, _mm256_mul_ps(tau, den), _CMP_GE_OQ)));
            if (any(cand)) {
                const __m256 a = _mm256_div_ps(num, den);
                __m256 dd = _mm256_sub_ps(_mm256_mul_ps(a, mu[0]), x[0]);
                __m256 d2 = _mm256_mul_ps(dd, dd);
                for (int c = 1; c < C; ++c) {
                    dd = _mm256_sub_ps(_mm256_mul_ps(a, mu[c]), x[c]);
                    d2 = _mm256_add_ps(d2, _mm256_mul_ps(dd, dd));
                }
                const __m256 lim = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(Tb, _mm256_loadu_ps(q + L)), a), a);
                const __m256 yes = _mm256_and_ps(cand, lt(d2, lim));
                shadow = _mm256_or_ps(shadow, yes);
                undecided = _mm256_andnot_ps(yes, undecided);
                part = _mm256_andnot_ps(yes, part);
            }
            tw = sel(tw, _mm256_add_ps(tw, _mm256_loadu_ps(q)), part);
            undecided = _mm256_andnot_ps(_mm256_and_ps(part, gt(tw, TB)), undecided);
        }
    }
    store8(used, n);
    const __m256i fgval = _mm256_castps_si256(sel(_mm256_castsi256_ps(_mm256_set1_epi32(255)),
                                                  _mm256_castsi256_ps(_mm256_set1_epi32(k.shadow_value)), shadow));
    store8(out, _mm256_andnot_si256(_mm256_castps_si256(bg), fgval));
}
#undef HC_AVX2
#endif  // HEATCORE_MOG2_AVX2

bool use_avx2() {
#if HEATCORE_MOG2_AVX2
    static const bool ok = __builtin_cpu_supports("avx2");
    return ok && g_simd_enabled.load(std::memory_order_relaxed);
#else
    return false;
#endif
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

const char* Mog2Model::simd_path() { return use_avx2() ? "avx2" : "scalar"; }
void Mog2Model::set_simd_enabled(bool enabled) { g_simd_enabled = enabled; }

template <int C>
void Mog2Model::rows(int y0, int y1, const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                     std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                     const std::uint8_t* roi, int count_min, const float* alphas, const float* prunes,
                     std::uint64_t* fg) {
    std::vector<Consts> ks(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
        Consts& k = ks[b];
        k.alphaT = alphas[b];
        k.alpha1 = 1.f - alphas[b];
        k.prune = prunes[b];
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
    }
    const int W = width_;
    const bool simd = use_avx2();
    const int Wv = simd ? (W / L) * L : 0;  // pixels [0, Wv) go through the SIMD path
    std::vector<std::uint8_t> mbuf(static_cast<std::size_t>(W));
    std::uint64_t n_fg = 0;
    // Row by row; within a row every frame of the batch in turn, while the row's state is in cache.
    for (int y = y0; y < y1; ++y) {
        std::uint8_t* used = used_.data() + static_cast<std::size_t>(y) * nblk_ * L;
        std::uint32_t* crow = counts ? counts + static_cast<std::size_t>(y) * W : nullptr;
        const std::uint8_t* rrow = roi ? roi + static_cast<std::size_t>(y) * W : nullptr;
        for (int b = 0; b < nb; ++b) {
            const Consts& k = ks[b];
            const std::uint8_t* src = frames[b] + static_cast<std::ptrdiff_t>(y) * frame_stride;
            std::uint8_t* mrow = masks ? masks[b] + static_cast<std::ptrdiff_t>(y) * mask_stride : mbuf.data();
#if HEATCORE_MOG2_AVX2
            for (int bx = 0; bx < Wv / L; ++bx)
                block_avx2<C>(src + bx * L * C, block(y, bx), used + bx * L, mrow + bx * L, k);
#endif
            for (int x = Wv; x < W; ++x) {
                float s[C];
                for (int c = 0; c < C; ++c) s[c] = static_cast<float>(src[x * C + c]);
                mrow[x] = update_pixel<C>(s, block(y, x / L) + (x % L), used[x], k);
            }
            if (crow) {
                for (int x = 0; x < W; ++x) {
                    const std::uint32_t hit = (mrow[x] >= count_min) & (!rrow || rrow[x] != 0);
                    crow[x] += hit;
                    n_fg += hit;
                }
            }
        }
    }
    *fg = n_fg;
}

std::uint64_t Mog2Model::apply(const std::uint8_t* frame, std::ptrdiff_t frame_stride, std::uint8_t* mask,
                               std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi,
                               int count_min, double learning_rate, int threads) {
    return apply_batch(&frame, 1, frame_stride, mask ? &mask : nullptr, mask_stride, counts, roi, count_min,
                       learning_rate, threads);
}

std::uint64_t Mog2Model::apply_batch(const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                                     std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                                     const std::uint8_t* roi, int count_min, double learning_rate, int threads) {
    if (nb <= 0) return 0;
    if (nb > 1 && learning_rate >= 1) {  // each frame restarts the model: one at a time
        std::uint64_t total = 0;
        for (int b = 0; b < nb; ++b)
            total += apply_batch(frames + b, 1, frame_stride, masks ? masks + b : nullptr, mask_stride, counts, roi,
                                 count_min, learning_rate, threads);
        return total;
    }
    if (nframes_ == 0 || learning_rate >= 1) reset();
    std::vector<float> alphas(static_cast<std::size_t>(nb)), prunes(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) {
        ++nframes_;
        const double lr = (learning_rate >= 0 && nframes_ > 1)
                              ? learning_rate
                              : 1.0 / static_cast<double>(std::min<long long>(2 * nframes_, params_.history));
        alphas[b] = static_cast<float>(lr);
        prunes[b] = static_cast<float>(-lr * static_cast<double>(params_.complexity_reduction));
    }
    const int nt = resolve_threads(threads);
    std::vector<std::uint64_t> fg(static_cast<std::size_t>(nt) + 1, 0);
    parallel_for(
        static_cast<std::size_t>(height_), nt,
        [&](std::size_t b, std::size_t e, int w) {
            if (channels_ == 3)
                rows<3>(static_cast<int>(b), static_cast<int>(e), frames, nb, frame_stride, masks, mask_stride, counts,
                        roi, count_min, alphas.data(), prunes.data(), &fg[w]);
            else
                rows<1>(static_cast<int>(b), static_cast<int>(e), frames, nb, frame_stride, masks, mask_stride, counts,
                        roi, count_min, alphas.data(), prunes.data(), &fg[w]);
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
