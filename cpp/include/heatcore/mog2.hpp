// MOG2 background model: plain C++ API (pointers + sizes). No Python types.
//
// Zivkovic's adaptive Gaussian mixture (an adaptive number of Gaussians per pixel, a complexity
// reduction prior, shadow detection), with the semantics of OpenCV's
// cv::BackgroundSubtractorMOG2 (video module): the same parameters and defaults, the same float32
// operations in the same order, so the masks and the model are OpenCV's bit for bit. Fused with
// the count of foreground frames per pixel.
//
// The state is stored per mixture component k (a plane each), in blocks of 8 horizontally adjacent
// pixels ("lanes"): per block the fields weight, variance, mean[0..C) each as 8 consecutive
// floats. A pixel's components are in order of decreasing weight; only the first modes_used(pixel) of them
// are meaningful. The same layout serves the scalar and the SIMD (AVX2) paths; get_state() and
// set_state() convert from / to plain (H, W, K[, C]) arrays.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace heatcore {

struct Mog2Params {
    int history = 500;                  // <= 0 means 500
    int nmixtures = 5;                  // 1..255
    double var_threshold = 16.0;        // Tb (squared Mahalanobis distance); <= 0 means 16
    float background_ratio = 0.9f;      // TB
    float var_threshold_gen = 9.0f;     // Tg
    float var_init = 15.0f;
    float var_min = 4.0f;
    float var_max = 75.0f;
    float complexity_reduction = 0.05f;  // cT
    bool detect_shadows = true;
    std::uint8_t shadow_value = 127;
    float shadow_threshold = 0.5f;  // tau
};

// The parameters as OpenCV's constructor normalises them; throws std::invalid_argument for
// values OpenCV cannot run with (nmixtures outside 1..255).
Mog2Params mog2_resolve_params(const Mog2Params& p);

class Mog2Model {
public:
    static constexpr int kLanes = 8;

    Mog2Model(int width, int height, int channels, const Mog2Params& params);

    int width() const { return width_; }
    int height() const { return height_; }
    int channels() const { return channels_; }
    int nmixtures() const { return K_; }
    const Mog2Params& params() const { return params_; }
    long long nframes() const { return nframes_; }

    // Process one frame (uint8, `channels` interleaved, rows `frame_stride` bytes apart).
    // mask (optional, rows `mask_stride` apart): 0 background, 255 foreground, shadow_value for
    // shadows. counts (optional, width*height uint32, dense): += 1 where the mask value is
    // >= count_min and roi (optional, width*height bytes) is non-zero. learning_rate < 0 means
    // automatic (1 / min(2 * nframes, history)); >= 1 re-initialises the model first (as OpenCV).
    // threads <= 0: all cores. Returns the number of pixels counted.
    std::uint64_t apply(const std::uint8_t* frame, std::ptrdiff_t frame_stride, std::uint8_t* mask,
                        std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi, int count_min,
                        double learning_rate, int threads);

    // The same for nb frames of equal size at once (masks optional, one per frame): every row of
    // the model is updated by each frame in turn while it is in cache, so the model state crosses
    // the memory bus once per batch instead of once per frame. Results are identical to nb calls
    // of apply() (a learning_rate >= 1 falls back to those calls).
    std::uint64_t apply_batch(const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
                              std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts,
                              const std::uint8_t* roi, int count_min, double learning_rate, int threads);

    // Export / import the state as dense arrays: weight and var (H, W, K), mean (H, W, K, C),
    // modes_used (H, W). Components k >= modes_used are exported as zeros.
    void get_state(float* weight, float* var, float* mean, std::uint8_t* modes_used) const;
    // Throws std::invalid_argument for a modes_used value above nmixtures.
    void set_state(long long nframes, const float* weight, const float* var, const float* mean,
                   const std::uint8_t* modes_used);
    void reset();

    // Which implementation apply() uses: "avx2" or "scalar" (run-time dispatch).
    static const char* simd_path();
    // Testing hook: force the scalar path (false) or allow SIMD again (true).
    static void set_simd_enabled(bool enabled);

private:
    template <int C>
    void rows(int y0, int y1, const std::uint8_t* const* frames, int nb, std::ptrdiff_t frame_stride,
              std::uint8_t* const* masks, std::ptrdiff_t mask_stride, std::uint32_t* counts, const std::uint8_t* roi,
              int count_min, const float* alphas, const float* prunes, std::uint64_t* fg);

    // Layout: one plane per component k (mode_stride() floats apart); in a plane, per row, blocks
    // of 8 pixels holding the fields weight, variance, mean[0..C) as 8 consecutive floats each.
    // Pixels use only their first components, so the planes of weak components are rarely touched.
    std::size_t block_floats() const { return static_cast<std::size_t>(2 + channels_) * kLanes; }
    std::ptrdiff_t mode_stride() const {
        return static_cast<std::ptrdiff_t>(height_) * nblk_ * static_cast<std::ptrdiff_t>(block_floats());
    }
    float* block(int y, int bx) { return state_.data() + (static_cast<std::size_t>(y) * nblk_ + bx) * block_floats(); }
    const float* block(int y, int bx) const {
        return state_.data() + (static_cast<std::size_t>(y) * nblk_ + bx) * block_floats();
    }

    int width_, height_, channels_, K_, nblk_;
    Mog2Params params_;
    long long nframes_ = 0;
    std::vector<float> state_;
    std::vector<std::uint8_t> used_;  // (H, nblk * 8), padded lanes stay 0
};

}  // namespace heatcore
