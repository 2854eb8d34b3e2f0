// pybind11 glue for the motion kernels (cpp/src/motion.cpp): conversion and size checks only.
#include <memory>

#include "bindings.hpp"
#include "heatcore/motion.hpp"

using namespace heatcore_bind;

namespace {

struct FrameView {
    const std::uint8_t* data;
    int width, height, channels;
    std::ptrdiff_t stride;
};

FrameView frame_view(const carray<std::uint8_t>& f, const char* name) {
    if (f.ndim() == 2) {
        return {f.data(), static_cast<int>(f.shape(1)), static_cast<int>(f.shape(0)), 1,
                static_cast<std::ptrdiff_t>(f.shape(1))};
    }
    if (f.ndim() == 3 && (f.shape(2) == 3 || f.shape(2) == 1)) {
        const int c = static_cast<int>(f.shape(2));
        return {f.data(), static_cast<int>(f.shape(1)), static_cast<int>(f.shape(0)), c,
                static_cast<std::ptrdiff_t>(f.shape(1) * c)};
    }
    throw py::value_error(std::string(name) + " must be (H, W) gray or (H, W, 3) BGR uint8, got shape with " +
                          std::to_string(f.ndim()) + " dimensions" +
                          (f.ndim() == 3 ? " and " + std::to_string(f.shape(2)) + " channels" : std::string()));
}

std::string shape_str(py::ssize_t h, py::ssize_t w) { return "(" + std::to_string(h) + ", " + std::to_string(w) + ")"; }

template <class T>
T* out_array(py::array& a, const char* name, int height, int width) {
    if (!py::isinstance<py::array_t<T>>(a) || !a.dtype().is(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must be a " + std::string(py::str(py::dtype::of<T>())) +
                             " array, got " + std::string(py::str(a.dtype())));
    if (a.ndim() != 2 || a.shape(0) != height || a.shape(1) != width)
        throw py::value_error(std::string(name) + " must have shape " + shape_str(height, width));
    if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (!a.writeable()) throw py::value_error(std::string(name) + " must be writeable");
    return static_cast<T*>(a.mutable_data());
}

const std::uint8_t* roi_ptr(const std::optional<carray<std::uint8_t>>& roi, int height, int width) {
    if (!roi) return nullptr;
    if (roi->ndim() != 2 || roi->shape(0) != height || roi->shape(1) != width)
        throw py::value_error("roi must be a uint8 mask of shape " + shape_str(height, width));
    return roi->data();
}

}  // namespace

void register_motion(py::module_& m) {
    using heatcore::MogModel;
    using heatcore::MogParams;
    py::class_<MogModel>(m, "MogModel",
                         "KaewTraKulPong-Bowden Gaussian-mixture background model (OpenCV bgsegm MOG "
                         "semantics), fused with foreground counting.")
        .def(py::init([](int width, int height, int channels, int history, int nmixtures, double background_ratio,
                         double noise_sigma) {
                 if (width <= 0 || height <= 0)
                     throw py::value_error("frame size must be positive, got " + std::to_string(width) + "x" +
                                           std::to_string(height));
                 if (channels != 1 && channels != 3)
                     throw py::value_error("channels must be 1 or 3, got " + std::to_string(channels));
                 MogParams p;
                 p.history = history;
                 p.nmixtures = nmixtures;
                 p.background_ratio = background_ratio;
                 p.noise_sigma = noise_sigma;
                 return std::make_unique<MogModel>(width, height, channels, p);
             }),
             py::arg("width"), py::arg("height"), py::arg("channels"), py::arg("history") = 200,
             py::arg("nmixtures") = 5, py::arg("background_ratio") = 0.7, py::arg("noise_sigma") = 0.0)
        .def_property_readonly("width", &MogModel::width)
        .def_property_readonly("height", &MogModel::height)
        .def_property_readonly("channels", &MogModel::channels)
        .def_property_readonly("nmixtures", &MogModel::nmixtures)
        .def_property_readonly("history", [](const MogModel& s) { return s.params().history; })
        .def_property_readonly("background_ratio", [](const MogModel& s) { return s.params().background_ratio; })
        .def_property_readonly("noise_sigma", [](const MogModel& s) { return s.params().noise_sigma; })
        .def_property_readonly("nframes", &MogModel::nframes)
        .def(
            "apply",
            [](MogModel& s, const carray<std::uint8_t>& frame, std::optional<py::array> counts,
               std::optional<carray<std::uint8_t>> roi, double learning_rate, int threads,
               bool return_mask) -> py::object {
                const FrameView f = frame_view(frame, "frame");
                if (f.width != s.width() || f.height != s.height() || f.channels != s.channels())
                    throw py::value_error("frame is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                                          " with " + std::to_string(f.channels) + " channel(s); the model is " +
                                          std::to_string(s.width()) + "x" + std::to_string(s.height()) + " with " +
                                          std::to_string(s.channels()));
                std::uint32_t* cptr = counts ? out_array<std::uint32_t>(*counts, "counts", f.height, f.width) : nullptr;
                const std::uint8_t* rptr = roi_ptr(roi, f.height, f.width);
                py::array_t<std::uint8_t> mask;
                std::uint8_t* mptr = nullptr;
                if (return_mask) {
                    mask = py::array_t<std::uint8_t>({static_cast<py::ssize_t>(f.height), static_cast<py::ssize_t>(f.width)});
                    mptr = mask.mutable_data();
                }
                {
                    py::gil_scoped_release nogil;
                    s.apply(f.data, f.stride, mptr, f.width, cptr, rptr, learning_rate, threads);
                }
                if (return_mask) return std::move(mask);
                return py::none();
            },
            py::arg("frame"), py::arg("counts") = py::none(), py::arg("roi") = py::none(),
            py::arg("learning_rate") = -1.0, py::arg("threads") = 0, py::arg("return_mask") = true,
            "Update the model with one uint8 frame; returns the 0/255 mask (or None with "
            "return_mask=False); counts (uint32, H x W) += 1 where foreground inside roi.")
        .def(
            "apply_batch",
            [](MogModel& s, const carray<std::uint8_t>& frames, std::optional<py::array> counts,
               std::optional<carray<std::uint8_t>> roi, double learning_rate, int threads,
               bool return_mask) -> py::object {
                const int C = s.channels();
                const bool ok = (C == 1 && frames.ndim() == 3) || (C == 3 && frames.ndim() == 4 && frames.shape(3) == 3);
                if (!ok || frames.shape(1) != s.height() || frames.shape(2) != s.width())
                    throw py::value_error("frames must be a (B, " + std::to_string(s.height()) + ", " +
                                          std::to_string(s.width()) + (C == 3 ? ", 3" : "") +
                                          ") uint8 stack for this model");
                const py::ssize_t nb = frames.shape(0);
                const int h = s.height(), w = s.width();
                std::uint32_t* cptr = counts ? out_array<std::uint32_t>(*counts, "counts", h, w) : nullptr;
                const std::uint8_t* rptr = roi_ptr(roi, h, w);
                const std::size_t fsize = static_cast<std::size_t>(h) * w * C;
                std::vector<const std::uint8_t*> fptrs(static_cast<std::size_t>(nb));
                for (py::ssize_t b = 0; b < nb; ++b) fptrs[b] = frames.data() + b * fsize;
                py::array_t<std::uint8_t> masks;
                std::vector<std::uint8_t*> mptrs;
                if (return_mask) {
                    masks = py::array_t<std::uint8_t>({nb, static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)});
                    for (py::ssize_t b = 0; b < nb; ++b) mptrs.push_back(masks.mutable_data() + b * h * w);
                }
                {
                    py::gil_scoped_release nogil;
                    s.apply_batch(fptrs.data(), static_cast<int>(nb), static_cast<std::ptrdiff_t>(w) * C,
                                  return_mask ? mptrs.data() : nullptr, w, cptr, rptr, learning_rate, threads);
                }
                if (return_mask) return std::move(masks);
                return py::none();
            },
            py::arg("frames"), py::arg("counts") = py::none(), py::arg("roi") = py::none(),
            py::arg("learning_rate") = -1.0, py::arg("threads") = 0, py::arg("return_mask") = false,
            "apply() for a (B, H, W[, 3]) stack of frames in one pass over the model (identical results, "
            "the model state crosses the memory bus once per batch); returns (B, H, W) masks with return_mask.")
        .def(
            "apply_frames",
            [](MogModel& s, const py::sequence& frames, std::optional<py::array> counts,
               std::optional<carray<std::uint8_t>> roi, double learning_rate, int threads) {
                const int h = s.height(), w = s.width(), C = s.channels();
                std::vector<carray<std::uint8_t>> keep;
                std::vector<const std::uint8_t*> fptrs;
                keep.reserve(py::len(frames));
                for (py::handle item : frames) {
                    keep.push_back(py::cast<carray<std::uint8_t>>(item));
                    const FrameView f = frame_view(keep.back(), "frame");
                    if (f.width != w || f.height != h || f.channels != C)
                        throw py::value_error("frame is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                                              " with " + std::to_string(f.channels) + " channel(s); the model is " +
                                              std::to_string(w) + "x" + std::to_string(h) + " with " +
                                              std::to_string(C));
                    fptrs.push_back(f.data);
                }
                std::uint32_t* cptr = counts ? out_array<std::uint32_t>(*counts, "counts", h, w) : nullptr;
                const std::uint8_t* rptr = roi_ptr(roi, h, w);
                py::gil_scoped_release nogil;
                s.apply_batch(fptrs.data(), static_cast<int>(fptrs.size()), static_cast<std::ptrdiff_t>(w) * C, nullptr,
                              w, cptr, rptr, learning_rate, threads);
            },
            py::arg("frames"), py::arg("counts") = py::none(), py::arg("roi") = py::none(),
            py::arg("learning_rate") = -1.0, py::arg("threads") = 0,
            "apply_batch() for a sequence of separate frame arrays (no stacking copy); no masks.")
        .def(
            "get_state",
            [](MogModel& s) {
                const py::ssize_t K = s.nmixtures(), H = s.height(), W = s.width(), C = s.channels();
                py::array_t<float> sk({K, H, W}), w({K, H, W}), mu({K, C, H, W}), var({K, C, H, W});
                s.get_state(sk.mutable_data(), w.mutable_data(), mu.mutable_data(), var.mutable_data());
                py::dict d;
                d["nframes"] = s.nframes();
                d["sort_key"] = sk;
                d["weight"] = w;
                d["mean"] = mu;
                d["var"] = var;
                return d;
            },
            "The model state: nframes and float32 planes sort_key/weight (K,H,W), mean/var (K,C,H,W).")
        .def(
            "set_state",
            [](MogModel& s, long long nframes, const carray<float>& sort_key, const carray<float>& weight,
               const carray<float>& mean, const carray<float>& var) {
                const std::size_t n = s.state_size(), nc = n * static_cast<std::size_t>(s.channels());
                auto check = [](const carray<float>& a, std::size_t want, const char* name) {
                    if (static_cast<std::size_t>(a.size()) != want)
                        throw py::value_error(std::string("state array ") + name + " has " + std::to_string(a.size()) +
                                              " values, the model needs " + std::to_string(want));
                };
                check(sort_key, n, "sort_key");
                check(weight, n, "weight");
                check(mean, nc, "mean");
                check(var, nc, "var");
                if (nframes < 0) throw py::value_error("nframes must be >= 0");
                s.set_state(nframes, sort_key.data(), weight.data(), mean.data(), var.data());
            },
            py::arg("nframes"), py::arg("sort_key"), py::arg("weight"), py::arg("mean"), py::arg("var"));

    m.def(
        "accumulate_mask",
        [](const carray<std::uint8_t>& mask, py::array counts, std::optional<carray<std::uint8_t>> roi, int min_value,
           int threads) {
            require_ndim(mask, 2, "mask");
            const int h = static_cast<int>(mask.shape(0)), w = static_cast<int>(mask.shape(1));
            std::uint32_t* c = out_array<std::uint32_t>(counts, "counts", h, w);
            const std::uint8_t* r = roi_ptr(roi, h, w);
            py::gil_scoped_release nogil;
            return heatcore::accumulate_mask(mask.data(), static_cast<std::size_t>(mask.size()), c, r, min_value,
                                             threads);
        },
        py::arg("mask"), py::arg("counts"), py::arg("roi") = py::none(), py::arg("min_value") = 1,
        py::arg("threads") = 0,
        "counts (uint32, H x W, in place) += 1 where mask >= min_value (and roi != 0); returns the number added.");

    m.def(
        "gray_blur",
        [](const carray<std::uint8_t>& frame, int ksize, int threads) {
            const FrameView f = frame_view(frame, "frame");
            if (ksize < 1 || ksize % 2 == 0)
                throw py::value_error("blur size must be an odd number >= 1, got " + std::to_string(ksize));
            py::array_t<std::uint8_t> out({static_cast<py::ssize_t>(f.height), static_cast<py::ssize_t>(f.width)});
            std::uint8_t* o = out.mutable_data();
            {
                py::gil_scoped_release nogil;
                heatcore::gray_blur(f.data, f.width, f.height, f.channels, f.stride, ksize, o, threads);
            }
            return out;
        },
        py::arg("frame"), py::arg("ksize") = 11, py::arg("threads") = 0,
        "Gray (OpenCV BGR->gray weights) + normalised ksize x ksize box blur (reflect-101 border), uint8.");

    m.def(
        "diff_accumulate",
        [](const carray<std::uint8_t>& frame, const carray<std::uint8_t>& reference, py::array acc, int ksize,
           std::optional<carray<std::uint8_t>> roi, int threshold, int threads, bool return_blurred) -> py::object {
            const FrameView f = frame_view(frame, "frame");
            if (ksize < 1 || ksize % 2 == 0)
                throw py::value_error("blur size must be an odd number >= 1, got " + std::to_string(ksize));
            if (reference.ndim() != 2 || reference.shape(0) != f.height || reference.shape(1) != f.width)
                throw py::value_error("reference must be a gray uint8 image of shape " + shape_str(f.height, f.width));
            if (threshold > 255) throw py::value_error("threshold must be <= 255");
            const bool narrow = acc.dtype().is(py::dtype::of<std::uint16_t>());
            std::uint32_t* a = narrow ? nullptr : out_array<std::uint32_t>(acc, "acc", f.height, f.width);
            std::uint16_t* a16 = narrow ? out_array<std::uint16_t>(acc, "acc", f.height, f.width) : nullptr;
            const std::uint8_t* r = roi_ptr(roi, f.height, f.width);
            py::array_t<std::uint8_t> blurred;
            std::uint8_t* bptr = nullptr;
            if (return_blurred) {
                blurred = py::array_t<std::uint8_t>({static_cast<py::ssize_t>(f.height), static_cast<py::ssize_t>(f.width)});
                bptr = blurred.mutable_data();
            }
            double total;
            {
                py::gil_scoped_release nogil;
                total = narrow ? heatcore::diff_accumulate(f.data, f.width, f.height, f.channels, f.stride, ksize,
                                                           reference.data(), a16, r, threshold, bptr, threads)
                               : heatcore::diff_accumulate(f.data, f.width, f.height, f.channels, f.stride, ksize,
                                                           reference.data(), a, r, threshold, bptr, threads);
            }
            if (return_blurred) return py::make_tuple(total, blurred);
            return py::float_(total);
        },
        py::arg("frame"), py::arg("reference"), py::arg("acc"), py::arg("ksize") = 11, py::arg("roi") = py::none(),
        py::arg("threshold") = -1, py::arg("threads") = 0, py::arg("return_blurred") = false,
        "acc (uint32 or uint16 partial sums, H x W, in place) += |gray_blur(frame) - reference| (or 1 where it "
        "exceeds threshold >= 0) inside roi; returns the total added (and the blurred frame with return_blurred=True).");

    // MOG SIMD path (run-time dispatch; every path gives bit-identical results)
    m.def(
        "mog_simd", [](std::optional<std::string> path) -> std::string {
            if (path) return heatcore::mog_simd_name(heatcore::mog_set_simd(*path));
            return heatcore::mog_simd_name(heatcore::mog_simd_path());
        },
        py::arg("path") = py::none(),
        "The instruction set the MOG kernel uses ('scalar', 'sse41' or 'avx2'). With path: force it "
        "('auto' = the HEATCORE_SIMD environment variable, else the best this CPU supports) and return the "
        "path now in use; ValueError for an unknown name or a path this CPU lacks. Process-wide.");
    m.def(
        "mog_simd_paths", [] {
            std::vector<std::string> out;
            for (auto p : heatcore::mog_simd_available()) out.emplace_back(heatcore::mog_simd_name(p));
            return out;
        },
        "The MOG SIMD paths this CPU can run, e.g. ['scalar', 'sse41', 'avx2'].");
}
