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

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define HEATCORE_MOG_SSE2 1
#else
#define HEATCORE_MOG_SSE2 0
#endif

namespace heatcore {

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
    sortkey_.assign(K_ * npix_, 0.f);
    weight_.assign(K_ * npix_, 0.f);
    mean_.assign(K_ * channels_ * npix_, 0.f);
    var_.assign(K_ * channels_ * npix_, 0.f);
    nused_.assign(npix_, 0);
}

void MogModel::state_changed() {
    const std::size_t N = npix_;
    const int C = channels_;
    for (std::size_t p = 0; p < N; ++p) {
        int n = 0;
        for (int k = K_ - 1; k >= 0 && n == 0; --k) {
            bool nz = weight_[k * N + p] != 0.f || sortkey_[k * N + p] != 0.f;
            for (int c = 0; c < C && !nz; ++c)
                nz = mean_[(k * C + c) * N + p] != 0.f || var_[(k * C + c) * N + p] != 0.f;
            if (nz) n = k + 1;
        }
        nused_[p] = static_cast<std::uint8_t>(n);
    }
}

void MogModel::reset() {
    std::fill(sortkey_.begin(), sortkey_.end(), 0.f);
    std::fill(weight_.begin(), weight_.end(), 0.f);
    std::fill(mean_.begin(), mean_.end(), 0.f);
    std::fill(var_.begin(), var_.end(), 0.f);
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
    const int K = K_, C = channels_, W = width_;
    const std::size_t N = npix_;
    const float vT = kVarThreshold;
    const float minVar = static_cast<float>(params_.noise_sigma * params_.noise_sigma);
    const float w0 = kInitialWeight;
    const float var0 = static_cast<float>(kDefaultNoiseSigma * kDefaultNoiseSigma * 4);
    const float sk0 = C == 1 ? static_cast<float>(w0 / (kDefaultNoiseSigma * 2))
                             : static_cast<float>(w0 / (kDefaultNoiseSigma * 2 * std::sqrt(3.)));
    const float T = static_cast<float>(params_.background_ratio);
    float* SK = sortkey_.data();
    float* WT = weight_.data();
    float* MU = mean_.data();
    float* VR = var_.data();
    std::uint8_t* NU = nused_.data();

    std::vector<float> wsum_row(W);
    std::vector<int> khit_row(W), fast_row(W), slow_row(W);
    int* __restrict slow = slow_row.data();
    std::vector<float> pix_rows(3 * static_cast<std::size_t>(W));
    float* __restrict pa = pix_rows.data();
    float* __restrict pb = pa + W;
    float* __restrict pc = pb + W;
    std::uint64_t fg_total = 0;

    // Row by row; within a row, every frame of the batch in turn while the row's model state is
    // still in cache (the per-pixel sequence of updates is unchanged, so is every result).
    for (int y = y0; y < y1; ++y) {
      for (int bi = 0; bi < nb; ++bi) {
        const float alpha = alphas[bi];
        std::uint8_t* mask = masks ? masks[bi] : nullptr;
        const std::uint8_t* src = frames[bi] + static_cast<std::ptrdiff_t>(y) * frame_stride;
        const std::size_t row0 = static_cast<std::size_t>(y) * W;
        // Phase 0 (SIMD over the row): the common case, where the pixel matches its strongest
        // component k = 0 (so nothing is re-sorted). The update is written with selects; pixels
        // that do not take this path (and the row tail) are left untouched for phase 1.
        int* __restrict fast = fast_row.data();
        int xv = 0;  // pixels [0, xv) went through phase 0
        {
            float* __restrict w0p = WT + row0;
            float* __restrict s0p = SK + row0;
            if (C == 1) {
                int x0 = 0;
#if HEATCORE_MOG_SSE2
                const __m128i z = _mm_setzero_si128();
                for (; x0 + 16 <= W; x0 += 16) {
                    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + x0));
                    const __m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
                    _mm_storeu_ps(pa + x0, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)));
                    _mm_storeu_ps(pa + x0 + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)));
                    _mm_storeu_ps(pa + x0 + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, z)));
                    _mm_storeu_ps(pa + x0 + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, z)));
                }
#endif
                for (int x = x0; x < W; ++x) pa[x] = static_cast<float>(src[x]);
            } else {
                int x0 = 0;
#if HEATCORE_MOG_SSE2
                // 16 interleaved BGR pixels -> three planes: four rounds of the same byte
                // butterfly (unpack the low half of one vector with the high half of the next).
                const __m128i z = _mm_setzero_si128();
                auto round3 = [](__m128i& t0, __m128i& t1, __m128i& t2) {
                    const __m128i u0 = _mm_unpacklo_epi8(t0, _mm_unpackhi_epi64(t1, t1));
                    const __m128i u1 = _mm_unpacklo_epi8(_mm_unpackhi_epi64(t0, t0), t2);
                    const __m128i u2 = _mm_unpacklo_epi8(t1, _mm_unpackhi_epi64(t2, t2));
                    t0 = u0;
                    t1 = u1;
                    t2 = u2;
                };
                auto widen_store = [&](__m128i v, float* dst) {
                    const __m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
                    _mm_storeu_ps(dst, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)));
                    _mm_storeu_ps(dst + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)));
                    _mm_storeu_ps(dst + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, z)));
                    _mm_storeu_ps(dst + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, z)));
                };
                for (; x0 + 16 <= W; x0 += 16) {
                    const std::uint8_t* q = src + 3 * x0;
                    __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
                    __m128i t1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16));
                    __m128i t2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 32));
                    round3(t0, t1, t2);
                    round3(t0, t1, t2);
                    round3(t0, t1, t2);
                    round3(t0, t1, t2);
                    widen_store(t0, pa + x0);
                    widen_store(t1, pb + x0);
                    widen_store(t2, pc + x0);
                }
#endif
                for (int x = x0; x < W; ++x) {
                    pa[x] = static_cast<float>(src[3 * x]);
                    pb[x] = static_cast<float>(src[3 * x + 1]);
                    pc[x] = static_cast<float>(src[3 * x + 2]);
                }
            }
#if HEATCORE_MOG_SSE2
            const __m128 vAlpha = _mm_set1_ps(alpha), vOne = _mm_set1_ps(1.f), vEps = _mm_set1_ps(FLT_EPSILON),
                         vVT = _mm_set1_ps(vT), vMinVar = _mm_set1_ps(minVar);
            auto blend = [](__m128 m, __m128 a, __m128 b) {
                return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
            };
            // std::max(v, minVar) == (v < minVar ? minVar : v) == _mm_max_ps(v, minVar) for non-NaN v
            if (C == 1) {
                float* m0p = MU + row0;
                float* v0p = VR + row0;
                for (; xv + 4 <= W; xv += 4) {
                    const __m128 w = _mm_loadu_ps(w0p + xv), mu = _mm_loadu_ps(m0p + xv), var = _mm_loadu_ps(v0p + xv);
                    const __m128 diff = _mm_sub_ps(_mm_loadu_ps(pa + xv), mu);
                    const __m128 d2 = _mm_mul_ps(diff, diff);
                    const __m128 ok = _mm_and_ps(_mm_cmpge_ps(w, vEps), _mm_cmplt_ps(d2, _mm_mul_ps(vVT, var)));
                    const __m128 dw = _mm_mul_ps(vAlpha, _mm_sub_ps(vOne, w));
                    const __m128 nv = _mm_max_ps(_mm_add_ps(var, _mm_mul_ps(vAlpha, _mm_sub_ps(d2, var))), vMinVar);
                    const __m128 sk = _mm_div_ps(w, _mm_sqrt_ps(nv));
                    _mm_storeu_ps(w0p + xv, blend(ok, _mm_add_ps(w, dw), w));
                    _mm_storeu_ps(m0p + xv, blend(ok, _mm_add_ps(mu, _mm_mul_ps(vAlpha, diff)), mu));
                    _mm_storeu_ps(v0p + xv, blend(ok, nv, var));
                    _mm_storeu_ps(s0p + xv, blend(ok, sk, _mm_loadu_ps(s0p + xv)));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(fast + xv), _mm_castps_si128(ok));
                }
            } else {
                float* m0p = MU + row0;
                float* m1p = MU + N + row0;
                float* m2p = MU + 2 * N + row0;
                float* v0p = VR + row0;
                float* v1p = VR + N + row0;
                float* v2p = VR + 2 * N + row0;
                for (; xv + 4 <= W; xv += 4) {
                    const __m128 w = _mm_loadu_ps(w0p + xv);
                    const __m128 m0 = _mm_loadu_ps(m0p + xv), m1 = _mm_loadu_ps(m1p + xv), m2 = _mm_loadu_ps(m2p + xv);
                    const __m128 v0 = _mm_loadu_ps(v0p + xv), v1 = _mm_loadu_ps(v1p + xv), v2 = _mm_loadu_ps(v2p + xv);
                    const __m128 e0 = _mm_sub_ps(_mm_loadu_ps(pa + xv), m0);
                    const __m128 e1 = _mm_sub_ps(_mm_loadu_ps(pb + xv), m1);
                    const __m128 e2 = _mm_sub_ps(_mm_loadu_ps(pc + xv), m2);
                    const __m128 q0 = _mm_mul_ps(e0, e0), q1 = _mm_mul_ps(e1, e1), q2 = _mm_mul_ps(e2, e2);
                    const __m128 d2 = _mm_add_ps(_mm_add_ps(q0, q1), q2);
                    const __m128 vs = _mm_add_ps(_mm_add_ps(v0, v1), v2);
                    const __m128 ok = _mm_and_ps(_mm_cmpge_ps(w, vEps), _mm_cmplt_ps(d2, _mm_mul_ps(vVT, vs)));
                    const __m128 dw = _mm_mul_ps(vAlpha, _mm_sub_ps(vOne, w));
                    const __m128 n0 = _mm_max_ps(_mm_add_ps(v0, _mm_mul_ps(vAlpha, _mm_sub_ps(q0, v0))), vMinVar);
                    const __m128 n1 = _mm_max_ps(_mm_add_ps(v1, _mm_mul_ps(vAlpha, _mm_sub_ps(q1, v1))), vMinVar);
                    const __m128 n2 = _mm_max_ps(_mm_add_ps(v2, _mm_mul_ps(vAlpha, _mm_sub_ps(q2, v2))), vMinVar);
                    const __m128 sk = _mm_div_ps(w, _mm_sqrt_ps(_mm_add_ps(_mm_add_ps(n0, n1), n2)));
                    _mm_storeu_ps(w0p + xv, blend(ok, _mm_add_ps(w, dw), w));
                    _mm_storeu_ps(m0p + xv, blend(ok, _mm_add_ps(m0, _mm_mul_ps(vAlpha, e0)), m0));
                    _mm_storeu_ps(m1p + xv, blend(ok, _mm_add_ps(m1, _mm_mul_ps(vAlpha, e1)), m1));
                    _mm_storeu_ps(m2p + xv, blend(ok, _mm_add_ps(m2, _mm_mul_ps(vAlpha, e2)), m2));
                    _mm_storeu_ps(v0p + xv, blend(ok, n0, v0));
                    _mm_storeu_ps(v1p + xv, blend(ok, n1, v1));
                    _mm_storeu_ps(v2p + xv, blend(ok, n2, v2));
                    _mm_storeu_ps(s0p + xv, blend(ok, sk, _mm_loadu_ps(s0p + xv)));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(fast + xv), _mm_castps_si128(ok));
                }
            }
#endif
            for (int x = xv; x < W; ++x) fast[x] = 0;  // tail (or no SIMD): all through phase 1
        }
        // Phase 1 (scalar, data dependent) on the remaining pixels only: match, update, bubble
        // up or replace.
        int ns = 0;
        {
            int x = 0;
#if HEATCORE_MOG_SSE2
            // skip blocks of 4 fast pixels (the common case) with one test
            for (; x + 4 <= W; x += 4) {
                const int mm = _mm_movemask_ps(_mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(fast + x))));
                if (mm == 0xF) continue;
                for (int j = 0; j < 4; ++j) {
                    slow[ns] = x + j;
                    ns += fast[x + j] == 0;
                }
            }
#endif
            for (; x < W; ++x) {
                slow[ns] = x;
                ns += fast[x] == 0;
            }
        }
        if (C == 1) {
            for (int i = 0; i < ns; ++i) {
                const int x = slow[i];
                const std::size_t p = row0 + x;
                float wsum = 0.f;
                const float pix = src[x];
                int kHit = -1, k = 0;
                for (; k < K; ++k) {
                    const float w = WT[k * N + p];
                    wsum += w;
                    if (w < FLT_EPSILON) break;
                    const float mu = MU[k * N + p];
                    float var = VR[k * N + p];
                    const float diff = pix - mu;
                    const float d2 = diff * diff;
                    if (d2 < vT * var) {
                        wsum -= w;
                        const float dw = alpha * (1.f - w);
                        WT[k * N + p] = w + dw;
                        MU[k * N + p] = mu + alpha * diff;
                        var = std::max(var + alpha * (d2 - var), minVar);
                        VR[k * N + p] = var;
                        SK[k * N + p] = w / std::sqrt(var);
                        int k1 = k - 1;
                        for (; k1 >= 0; --k1) {
                            const std::size_t a = k1 * N + p, c = (k1 + 1) * N + p;
                            if (SK[a] >= SK[c]) break;
                            std::swap(SK[a], SK[c]);
                            std::swap(WT[a], WT[c]);
                            std::swap(MU[a], MU[c]);
                            std::swap(VR[a], VR[c]);
                        }
                        kHit = k1 + 1;
                        break;
                    }
                }
                if (kHit < 0) {
                    k = std::min(k, K - 1);
                    kHit = k;
                    wsum += w0 - WT[k * N + p];
                    WT[k * N + p] = w0;
                    MU[k * N + p] = pix;
                    VR[k * N + p] = var0;
                    SK[k * N + p] = sk0;
                    if (NU[p] < k + 1) NU[p] = static_cast<std::uint8_t>(k + 1);
                } else {
                    for (; k < K; ++k) wsum += WT[k * N + p];
                }
                wsum_row[x] = wsum;
                khit_row[x] = kHit;
            }
        } else {
            for (int i = 0; i < ns; ++i) {
                const int x = slow[i];
                const std::size_t p = row0 + x;
                float wsum = 0.f;
                const float p0 = src[3 * x], p1 = src[3 * x + 1], p2 = src[3 * x + 2];
                int kHit = -1, k = 0;
                for (; k < K; ++k) {
                    const float w = WT[k * N + p];
                    wsum += w;
                    if (w < FLT_EPSILON) break;
                    float* mu = MU + (std::size_t)k * 3 * N + p;  // channel c at mu[c * N]
                    float* vr = VR + (std::size_t)k * 3 * N + p;
                    const float m0 = mu[0], m1 = mu[N], m2 = mu[2 * N];
                    const float v0 = vr[0], v1 = vr[N], v2 = vr[2 * N];
                    const float e0 = p0 - m0, e1 = p1 - m1, e2 = p2 - m2;
                    const float d2 = e0 * e0 + e1 * e1 + e2 * e2;
                    if (d2 < vT * (v0 + v1 + v2)) {
                        wsum -= w;
                        const float dw = alpha * (1.f - w);
                        WT[k * N + p] = w + dw;
                        mu[0] = m0 + alpha * e0;
                        mu[N] = m1 + alpha * e1;
                        mu[2 * N] = m2 + alpha * e2;
                        const float n0 = std::max(v0 + alpha * (e0 * e0 - v0), minVar);
                        const float n1 = std::max(v1 + alpha * (e1 * e1 - v1), minVar);
                        const float n2 = std::max(v2 + alpha * (e2 * e2 - v2), minVar);
                        vr[0] = n0;
                        vr[N] = n1;
                        vr[2 * N] = n2;
                        SK[k * N + p] = w / std::sqrt(n0 + n1 + n2);
                        int k1 = k - 1;
                        for (; k1 >= 0; --k1) {
                            const std::size_t a = k1 * N + p, c = (k1 + 1) * N + p;
                            if (SK[a] >= SK[c]) break;
                            std::swap(SK[a], SK[c]);
                            std::swap(WT[a], WT[c]);
                            const std::size_t a3 = (std::size_t)k1 * 3 * N + p, c3 = (std::size_t)(k1 + 1) * 3 * N + p;
                            for (int ch = 0; ch < 3; ++ch) {
                                std::swap(MU[a3 + ch * N], MU[c3 + ch * N]);
                                std::swap(VR[a3 + ch * N], VR[c3 + ch * N]);
                            }
                        }
                        kHit = k1 + 1;
                        break;
                    }
                }
                if (kHit < 0) {
                    k = std::min(k, K - 1);
                    kHit = k;
                    wsum += w0 - WT[k * N + p];
                    WT[k * N + p] = w0;
                    const std::size_t b3 = (std::size_t)k * 3 * N + p;
                    MU[b3] = p0;
                    MU[b3 + N] = p1;
                    MU[b3 + 2 * N] = p2;
                    VR[b3] = VR[b3 + N] = VR[b3 + 2 * N] = var0;
                    SK[k * N + p] = sk0;
                    if (NU[p] < k + 1) NU[p] = static_cast<std::uint8_t>(k + 1);
                } else {
                    for (; k < K; ++k) wsum += WT[k * N + p];
                }
                wsum_row[x] = wsum;
                khit_row[x] = kHit;
            }
        }
        // Phase 2 (SIMD over the row): wsum of the fast-path pixels (0 + w_0(new) + w_1 + ... +
        // w_{K-1}: the match at k = 0 took w_0 back out of the running sum, leaving exactly 0),
        // normalisation of weights and sort keys, kForeground, the foreground test, the mask and
        // the accumulation.
        float* __restrict wsr = wsum_row.data();
        int* __restrict khr = khit_row.data();
        std::uint8_t* mrow = mask ? mask + static_cast<std::ptrdiff_t>(y) * mask_stride : nullptr;
        std::uint32_t* crow = counts ? counts + row0 : nullptr;
        const std::uint8_t* rrow = roi ? roi + row0 : nullptr;
        std::uint64_t nfg = 0;
        int x = 0;
#if HEATCORE_MOG_SSE2
        {
            const __m128 vT4 = _mm_set1_ps(T), one = _mm_set1_ps(1.f), zero = _mm_setzero_ps();
            const __m128i izero = _mm_setzero_si128(), minus1 = _mm_set1_epi32(-1);
            __m128i vfg = _mm_setzero_si128();
            for (; x + 4 <= W; x += 4) {
                const __m128i fm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(fast + x));
                const __m128 fmf = _mm_castsi128_ps(fm);
                const std::uint8_t* nu = NU + row0 + x;
                const int kmax = std::max(std::max(nu[0], nu[1]), std::max(nu[2], nu[3]));
                __m128 acc = zero;
                for (int k = 0; k < kmax; ++k) acc = _mm_add_ps(acc, _mm_loadu_ps(WT + k * N + row0 + x));
                const __m128 ws = _mm_or_ps(_mm_and_ps(fmf, acc), _mm_andnot_ps(fmf, _mm_loadu_ps(wsr + x)));
                const __m128i kh = _mm_andnot_si128(fm, _mm_loadu_si128(reinterpret_cast<const __m128i*>(khr + x)));
                const __m128 sc = _mm_div_ps(one, ws);
                __m128 cum = zero;
                __m128i kfg = minus1;
                for (int k = 0; k < kmax; ++k) {
                    float* wk = WT + k * N + row0 + x;
                    float* sk = SK + k * N + row0 + x;
                    const __m128 w = _mm_mul_ps(_mm_loadu_ps(wk), sc);
                    _mm_storeu_ps(wk, w);
                    cum = _mm_add_ps(cum, w);
                    _mm_storeu_ps(sk, _mm_mul_ps(_mm_loadu_ps(sk), sc));
                    const __m128i cond = _mm_and_si128(_mm_cmplt_epi32(kfg, izero), _mm_castps_si128(_mm_cmpgt_ps(cum, vT4)));
                    kfg = _mm_or_si128(_mm_and_si128(cond, _mm_set1_epi32(k + 1)), _mm_andnot_si128(cond, kfg));
                }
                // foreground where kHit >= kForeground, i.e. not (kForeground > kHit)
                __m128i fg = _mm_andnot_si128(_mm_cmpgt_epi32(kfg, kh), minus1);
                if (mrow) {
                    const __m128i b16 = _mm_packs_epi32(fg, fg);
                    const __m128i b8 = _mm_packs_epi16(b16, b16);
                    const int v = _mm_cvtsi128_si32(b8);
                    std::memcpy(mrow + x, &v, 4);
                }
                if (crow) {
                    if (rrow) {
                        int rv;
                        std::memcpy(&rv, rrow + x, 4);
                        __m128i r = _mm_cvtsi32_si128(rv);
                        r = _mm_unpacklo_epi16(_mm_unpacklo_epi8(r, izero), izero);
                        fg = _mm_andnot_si128(_mm_cmpeq_epi32(r, izero), fg);
                    }
                    __m128i* cp = reinterpret_cast<__m128i*>(crow + x);
                    _mm_storeu_si128(cp, _mm_sub_epi32(_mm_loadu_si128(cp), fg));
                    vfg = _mm_sub_epi32(vfg, fg);
                }
            }
            alignas(16) std::uint32_t lanes[4];
            _mm_store_si128(reinterpret_cast<__m128i*>(lanes), vfg);
            nfg += static_cast<std::uint64_t>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
        }
#endif
        for (; x < W; ++x) {
            float wsum = wsr[x];
            int kHit = khr[x];
            if (fast[x]) {
                wsum = 0.f;
                for (int k = 0; k < K; ++k) wsum += WT[k * N + row0 + x];
                kHit = 0;
            }
            const float wscale = 1.f / wsum;
            float cumw = 0.f;
            int kForeground = -1;
            for (int k = 0; k < K; ++k) {
                const std::size_t p = k * N + row0 + x;
                const float w = WT[p] * wscale;
                WT[p] = w;
                cumw += w;
                SK[p] *= wscale;
                if (cumw > T && kForeground < 0) kForeground = k + 1;
            }
            const bool fg = kHit >= kForeground;
            if (mrow) mrow[x] = fg ? 255 : 0;
            if (crow && fg && (!rrow || rrow[x])) {
                crow[x] += 1;
                ++nfg;
            }
        }
        fg_total += nfg;
      }
    }
    *fg_count += fg_total;
}

void MogModel::frozen_rows(int y0, int y1, const std::uint8_t* frame, std::ptrdiff_t frame_stride,
                           std::uint8_t* mask, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                           const std::uint8_t* roi, std::uint64_t* fg_count) {
    const int K = K_, C = channels_, W = width_;
    const std::size_t N = npix_;
    const float vT = kVarThreshold;
    const float T = static_cast<float>(params_.background_ratio);
    const float* SK = sortkey_.data();
    const float* WT = weight_.data();
    const float* MU = mean_.data();
    const float* VR = var_.data();
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

inline int reflect101(int p, int len) {
    if (len == 1) return 0;
    while (p < 0 || p >= len) p = p < 0 ? -p : 2 * len - 2 - p;
    return p;
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
// General version (any odd ksize): horizontal running sums per source row, then columns.
template <class Emit>
void blur_rows_wide(const std::uint8_t* frame, int width, int height, int channels, std::ptrdiff_t stride, int ksize,
               int y0, int y1, Emit&& emit) {
    const int r = ksize / 2;
    const int W = width;
    std::vector<std::int32_t> ring(static_cast<std::size_t>(ksize) * W);
    std::vector<std::int32_t> col(W, 0);
    std::vector<std::uint8_t> out(W);
    std::vector<int> xmap(static_cast<std::size_t>(W) + 2 * r);
    for (int i = 0; i < W + 2 * r; ++i) xmap[i] = reflect101(i - r, W);
    const std::uint32_t area = static_cast<std::uint32_t>(ksize) * ksize;
    std::vector<std::uint8_t> gp(static_cast<std::size_t>(W) + 2 * r);  // gray row padded by reflection
    auto hrow = [&](int sy, std::int32_t* dst) {
        gray_row(frame + static_cast<std::ptrdiff_t>(reflect101(sy, height)) * stride, W, channels, gp.data() + r);
        for (int i = 0; i < r; ++i) {
            gp[i] = gp[r + xmap[i]];
            gp[r + W + i] = gp[r + xmap[r + W + i]];
        }
        const std::uint8_t* __restrict q = gp.data();
        std::int32_t s = 0;
        for (int i = 0; i < ksize; ++i) s += q[i];
        dst[0] = s;
        for (int x = 1; x < W; ++x) {
            s += static_cast<std::int32_t>(q[x + ksize - 1]) - static_cast<std::int32_t>(q[x - 1]);
            dst[x] = s;
        }
    };
    // Ring slot j holds the horizontal sums of source row (y - r + j) for the current y.
    for (int j = 0; j < ksize; ++j) {
        std::int32_t* d = ring.data() + static_cast<std::size_t>(j) * W;
        hrow(y0 - r + j, d);
        for (int x = 0; x < W; ++x) col[x] += d[x];
    }
    int oldest = 0;  // ring slot of row y - r
    // round(col / area) with halves up (never reached: area is odd). For area < 32768 the float
    // quotient of the exact integers is correctly rounded and cannot cross an integer, so floor of
    // it is exact (vectorizes, unlike the integer division kept for huge kernels).
    const bool fast_div = area < 32768u;
    const float den = static_cast<float>(2u * area);
    for (int y = y0; y < y1; ++y) {
        if (fast_div) {
            const std::int32_t* __restrict cs = col.data();
            std::uint8_t* __restrict o = out.data();
            for (int x = 0; x < W; ++x)
                o[x] = static_cast<std::uint8_t>(static_cast<int>(static_cast<float>(2 * cs[x] + static_cast<std::int32_t>(area)) / den));
        } else {
            for (int x = 0; x < W; ++x)
                out[x] = static_cast<std::uint8_t>((2u * static_cast<std::uint32_t>(col[x]) + area) / (2u * area));
        }
        emit(y, out.data());
        if (y + 1 < y1) {
            std::int32_t* d = ring.data() + static_cast<std::size_t>(oldest) * W;
            for (int x = 0; x < W; ++x) col[x] -= d[x];
            hrow(y + r + 1, d);
            for (int x = 0; x < W; ++x) col[x] += d[x];
            oldest = (oldest + 1) % ksize;
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
    if (ksize < 1 || ksize % 2 == 0) throw std::invalid_argument("blur size must be odd and >= 1");
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
                          std::int32_t rs = 0;  // <= 255 * width
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
