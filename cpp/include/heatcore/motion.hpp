// motion kernels: plain C++ API (pointers + sizes). No Python types.
//
// * MogModel: the KaewTraKulPong-Bowden Gaussian-mixture background model exactly as OpenCV's
//   bgsegm MOG computes it (see shared/specs/mog_background_model.md), fused with the
//   foreground-count accumulation. The state is kept as structure-of-arrays planes
//   (plane[k][pixel]); the kernel works on 1, 4 or 8 pixels at once (scalar / SSE4.1 / AVX2,
//   chosen at run time, all bit-identical).
// * accumulate_mask: counts[i] += (mask[i] >= min_value) inside an optional ROI.
// * diff_accumulate: gray conversion + box blur + |frame - reference| + float accumulation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace heatcore {

// Instruction set of the MOG kernel (chosen at run time; all give bit-identical results).
enum class MogSimd : int { scalar = 0, sse41 = 1, avx2 = 2 };
// The path in use. Chosen on first use: the environment variable HEATCORE_SIMD
// (scalar | sse41 | avx2 | auto; unset = auto = the best this CPU supports; a path the CPU lacks
// falls back to the best it has; anything else throws std::invalid_argument).
MogSimd mog_simd_path();
// Force a path ("scalar", "sse41", "avx2") or go back to the automatic choice ("auto"); throws
// std::invalid_argument for an unknown name or a path this CPU does not support. Process-wide.
MogSimd mog_set_simd(const std::string& name);
// The paths this CPU can run (scalar always).
std::vector<MogSimd> mog_simd_available();
const char* mog_simd_name(MogSimd path);

struct MogParams {
    int history = 200;              // <= 0 means 200
    int nmixtures = 5;              // <= 0 means 5; capped at 8
    double background_ratio = 0.7;  // <= 0 means 0.95; capped at 1
    double noise_sigma = 0.0;       // <= 0 means 15
};

// Normalise parameters the way OpenCV's constructor does.
MogParams mog_resolve_params(const MogParams& p);

class MogModel {
public:
    MogModel(int width, int height, int channels, const MogParams& params);

    int width() const { return width_; }
    int height() const { return height_; }
    int channels() const { return channels_; }
    int nmixtures() const { return K_; }
    const MogParams& params() const { return params_; }
    long long nframes() const { return nframes_; }

    // Process one frame (uint8, `channels` interleaved, rows `frame_stride` bytes apart).
    // mask (optional, width*height bytes, rows `mask_stride` apart): 255 foreground, 0 background.
    // counts (optional, width*height uint32): += 1 where foreground and roi (optional,
    // width*height bytes) is non-zero. learning_rate < 0 means automatic (1/min(n, history)).
    // Returns the number of foreground pixels counted.
    std::uint64_t apply(const std::uint8_t* frame, std::ptrdiff_t frame_stride, std::uint8_t* mask,
                        std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi,
                        double learning_rate, int threads);

    // The same for nb frames at once (all of the same size, `frame_stride` apart per row;
    // masks optional, one per frame): each row of the model is updated by every frame in turn
    // while it is in cache, so the model state crosses the memory bus once per batch instead of
    // once per frame. Results are identical to nb calls of apply().
    std::uint64_t apply_batch(const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                              std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                              const std::uint8_t* roi, double learning_rate, int threads);

    // State: dense planes sort_key/weight (K * width * height floats), mean/var
    // (K * channels * width * height), plane k (channel c) at offset k * npix ((k * C + c) * npix).
    void get_state(float* sort_key, float* weight, float* mean, float* var) const;
    // Replaces the state (and the frame counter, >= 0); the arrays as get_state writes them.
    void set_state(long long nframes, const float* sort_key, const float* weight, const float* mean,
                   const float* var);
    std::size_t state_size() const { return static_cast<std::size_t>(K_) * npix_; }  // sort_key/weight floats
    void set_nframes(long long n) { nframes_ = n; }
    void reset();

private:
    void process_rows(int y0, int y1, const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                      std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                      const std::uint8_t* roi, const float* alphas, std::uint64_t* fg_count);
    void frozen_rows(int y0, int y1, const std::uint8_t* frame, std::ptrdiff_t frame_stride,
                     std::uint8_t* mask, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                     const std::uint8_t* roi, std::uint64_t* fg_count);

    int width_, height_, channels_, K_;
    MogParams params_;
    long long nframes_ = 0;
    std::size_t npix_;
    // All planes in one buffer, `stride_` floats apart (>= npix_, padded, see the constructor).
    std::vector<float> state_;
    std::size_t stride_ = 0;
    float *wt_ = nullptr, *sk_ = nullptr, *mu_ = nullptr, *vr_ = nullptr;
    void state_changed();
    // Derived (not part of OpenCV's state): per pixel, components k >= nused_ are all zero, so the
    // normalisation pass can stop there (multiplying zeros changes nothing).
    std::vector<std::uint8_t> nused_;
};

// counts[i] += 1 where mask[i] >= min_value (and roi[i] != 0 when roi is given). Returns the
// number of pixels counted.
std::uint64_t accumulate_mask(const std::uint8_t* mask, std::size_t n, std::uint32_t* counts,
                              const std::uint8_t* roi, int min_value, int threads);

// Largest box-blur size accepted by gray_blur / diff_accumulate (besides: at most the frame's
// longer side). Keeps the horizontal window sums (255 * ksize) inside int32.
constexpr int kMaxBlur = (1 << 22) - 1;

// Gray (OpenCV's BGR->gray fixed-point weights when channels == 3) followed by a normalised
// ksize x ksize box blur (reflect-101 border, rounded to uint8), as cv2.cvtColor + cv2.blur.
// ksize: odd, 1 <= ksize <= min(max(width, height), kMaxBlur), else std::invalid_argument.
// Work and memory are linear in the frame size (no term in ksize^2).
// out: width*height bytes.
void gray_blur(const std::uint8_t* frame, int width, int height, int channels,
               std::ptrdiff_t frame_stride, int ksize, std::uint8_t* out, int threads);

// Fused diff step: b = gray_blur(frame); d = |b - reference|; acc += (threshold < 0 ? d :
// (d > threshold ? 1 : 0)) where roi (optional) is non-zero. acc is uint32 (exact, 4 bytes of
// memory traffic per pixel): the caller folds it into a wider sum at least every
// (2^32 - 1) / 255 frames. blurred_out (optional) receives b. Returns the sum of the added values.
double diff_accumulate(const std::uint8_t* frame, int width, int height, int channels,
                       std::ptrdiff_t frame_stride, int ksize, const std::uint8_t* reference,
                       std::uint32_t* acc, const std::uint8_t* roi, int threshold, std::uint8_t* blurred_out,
                       int threads);

// The same with uint16 partial sums (half the memory traffic): fold at least every 257 frames.
double diff_accumulate(const std::uint8_t* frame, int width, int height, int channels,
                       std::ptrdiff_t frame_stride, int ksize, const std::uint8_t* reference,
                       std::uint16_t* acc, const std::uint8_t* roi, int threshold, std::uint8_t* blurred_out,
                       int threads);

}  // namespace heatcore
