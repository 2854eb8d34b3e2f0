// pybind11 glue for the MOG2 kernel (cpp/src/mog2.cpp): conversion and size checks only.
#include <memory>

#include "bindings.hpp"
#include "heatcore/mog2.hpp"

using namespace heatcore_bind;

namespace {

std::string dims(int h, int w, int c) {
    return "(" + std::to_string(h) + ", " + std::to_string(w) + (c == 3 ? ", 3)" : ")");
}

// The frame as (data, row stride); checks it matches the model.
const std::uint8_t* check_frame(const heatcore::Mog2Model& s, const carray<std::uint8_t>& f) {
    const int C = s.channels();
    const bool gray = f.ndim() == 2 || (f.ndim() == 3 && f.shape(2) == 1);
    const bool colour = f.ndim() == 3 && f.shape(2) == 3;
    if (!(gray || colour) || (C == 1) != gray || f.shape(0) != s.height() || f.shape(1) != s.width()) {
        std::string got = "(";
        for (py::ssize_t i = 0; i < f.ndim(); ++i) got += (i ? ", " : "") + std::to_string(f.shape(i));
        got += ")";
        throw py::value_error("frame has shape " + got + "; the model takes uint8 frames of shape " +
                              dims(s.height(), s.width(), C));
    }
    return f.data();
}

template <class T>
T* out_plane(py::array& a, const char* name, int height, int width) {
    if (!a.dtype().is(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must be a " + std::string(py::str(py::dtype::of<T>())) +
                             " array, got " + std::string(py::str(a.dtype())));
    if (a.ndim() != 2 || a.shape(0) != height || a.shape(1) != width)
        throw py::value_error(std::string(name) + " must have shape (" + std::to_string(height) + ", " +
                              std::to_string(width) + ")");
    if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (!a.writeable()) throw py::value_error(std::string(name) + " must be writeable");
    return static_cast<T*>(a.mutable_data());
}

template <class T>
void check_shape(const carray<T>& a, std::vector<py::ssize_t> want, const char* name) {
    bool ok = a.ndim() == static_cast<py::ssize_t>(want.size());
    for (std::size_t i = 0; ok && i < want.size(); ++i) ok = a.shape(i) == want[i];
    if (!ok) {
        std::string w = "(", g = "(";
        for (std::size_t i = 0; i < want.size(); ++i) w += (i ? ", " : "") + std::to_string(want[i]);
        for (py::ssize_t i = 0; i < a.ndim(); ++i) g += (i ? ", " : "") + std::to_string(a.shape(i));
        throw py::value_error(std::string("state array ") + name + " has shape " + g + ")" + ", the model needs " +
                              w + ")");
    }
}

}  // namespace

void register_mog2(py::module_& m) {
    using heatcore::Mog2Model;
    using heatcore::Mog2Params;
    py::class_<Mog2Model>(m, "Mog2Model",
                          "Zivkovic's adaptive Gaussian mixture background model with OpenCV's "
                          "BackgroundSubtractorMOG2 semantics (bit-identical masks), fused with the uint32 "
                          "count of foreground frames per pixel; its state can be exported and restored.")
        .def(py::init([](int width, int height, int channels, int history, double var_threshold, bool detect_shadows,
                         int nmixtures, double background_ratio, double var_threshold_gen, double var_init,
                         double var_min, double var_max, double complexity_reduction_threshold, int shadow_value,
                         double shadow_threshold) {
                 if (width <= 0 || height <= 0)
                     throw py::value_error("frame size must be positive, got " + std::to_string(width) + "x" +
                                           std::to_string(height));
                 if (channels != 1 && channels != 3)
                     throw py::value_error("channels must be 1 or 3, got " + std::to_string(channels));
                 if (nmixtures < 1 || nmixtures > 255)
                     throw py::value_error("nmixtures must be in 1..255, got " + std::to_string(nmixtures));
                 if (shadow_value < 0 || shadow_value > 255)
                     throw py::value_error("shadow_value must be in 0..255, got " + std::to_string(shadow_value));
                 Mog2Params p;
                 p.history = history;
                 p.var_threshold = var_threshold;
                 p.detect_shadows = detect_shadows;
                 p.nmixtures = nmixtures;
                 p.background_ratio = static_cast<float>(background_ratio);
                 p.var_threshold_gen = static_cast<float>(var_threshold_gen);
                 p.var_init = static_cast<float>(var_init);
                 p.var_min = static_cast<float>(var_min);
                 p.var_max = static_cast<float>(var_max);
                 p.complexity_reduction = static_cast<float>(complexity_reduction_threshold);
                 p.shadow_value = static_cast<std::uint8_t>(shadow_value);
                 p.shadow_threshold = static_cast<float>(shadow_threshold);
                 return std::make_unique<Mog2Model>(width, height, channels, p);
             }),
             py::arg("width"), py::arg("height"), py::arg("channels"), py::arg("history") = 500,
             py::arg("var_threshold") = 16.0, py::arg("detect_shadows") = true, py::arg("nmixtures") = 5,
             py::arg("background_ratio") = 0.9, py::arg("var_threshold_gen") = 9.0, py::arg("var_init") = 15.0,
             py::arg("var_min") = 4.0, py::arg("var_max") = 75.0, py::arg("complexity_reduction_threshold") = 0.05,
             py::arg("shadow_value") = 127, py::arg("shadow_threshold") = 0.5)
        .def_property_readonly("width", &Mog2Model::width)
        .def_property_readonly("height", &Mog2Model::height)
        .def_property_readonly("channels", &Mog2Model::channels)
        .def_property_readonly("nmixtures", &Mog2Model::nmixtures)
        .def_property_readonly("history", [](const Mog2Model& s) { return s.params().history; })
        .def_property_readonly("var_threshold", [](const Mog2Model& s) { return s.params().var_threshold; })
        .def_property_readonly("detect_shadows", [](const Mog2Model& s) { return s.params().detect_shadows; })
        .def_property_readonly("shadow_value", [](const Mog2Model& s) { return int(s.params().shadow_value); })
        .def_property_readonly("nframes", &Mog2Model::nframes)
        .def_property_readonly_static("simd_path", [](py::object) { return std::string(Mog2Model::simd_path()); })
        .def_static("_set_simd_enabled", &Mog2Model::set_simd_enabled, py::arg("enabled"),
                    "Testing hook: False forces the scalar path, True restores run-time dispatch.")
        .def(
            "apply",
            [](Mog2Model& s, const carray<std::uint8_t>& frame, std::optional<py::array> counts,
               std::optional<carray<std::uint8_t>> roi, double learning_rate, int threads, bool return_mask,
               bool count_shadows) -> py::object {
                const std::uint8_t* fptr = check_frame(s, frame);
                const int h = s.height(), w = s.width();
                std::uint32_t* cptr = counts ? out_plane<std::uint32_t>(*counts, "counts", h, w) : nullptr;
                const std::uint8_t* rptr = nullptr;
                if (roi) {
                    if (roi->ndim() != 2 || roi->shape(0) != h || roi->shape(1) != w)
                        throw py::value_error("roi must be a uint8 mask of shape " + dims(h, w, 1));
                    rptr = roi->data();
                }
                py::array_t<std::uint8_t> mask;
                std::uint8_t* mptr = nullptr;
                if (return_mask) {
                    mask = py::array_t<std::uint8_t>({static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)});
                    mptr = mask.mutable_data();
                }
                int count_min = 255;
                if (count_shadows && s.params().detect_shadows) count_min = std::max(1, int(s.params().shadow_value));
                {
                    py::gil_scoped_release nogil;
                    s.apply(fptr, static_cast<std::ptrdiff_t>(w) * s.channels(), mptr, w, cptr, rptr, count_min,
                            learning_rate, threads);
                }
                if (return_mask) return std::move(mask);
                return py::none();
            },
            py::arg("frame"), py::arg("counts") = py::none(), py::arg("roi") = py::none(),
            py::arg("learning_rate") = -1.0, py::arg("threads") = 0, py::arg("return_mask") = true,
            py::arg("count_shadows") = false,
            "Update the model with one uint8 frame; returns the mask (0 background, 255 foreground, "
            "shadow_value for shadows) or None with return_mask=False. counts (uint32, H x W) += 1 where "
            "foreground (shadows too with count_shadows) inside roi.")
        .def(
            "apply_frames",
            [](Mog2Model& s, const py::sequence& frames, std::optional<py::array> counts,
               std::optional<carray<std::uint8_t>> roi, double learning_rate, int threads, bool return_mask,
               bool count_shadows) -> py::object {
                const int h = s.height(), w = s.width();
                std::vector<carray<std::uint8_t>> keep;
                std::vector<const std::uint8_t*> fptrs;
                const py::ssize_t count = static_cast<py::ssize_t>(py::len(frames));
                keep.reserve(static_cast<std::size_t>(count));
                for (py::ssize_t i = 0; i < count; ++i) {
                    // own the item: for an array, frames[i] is a new view nothing else holds
                    py::object item = frames[i];
                    keep.push_back(py::cast<carray<std::uint8_t>>(item));
                    fptrs.push_back(check_frame(s, keep.back()));
                }
                std::uint32_t* cptr = counts ? out_plane<std::uint32_t>(*counts, "counts", h, w) : nullptr;
                const std::uint8_t* rptr = nullptr;
                if (roi) {
                    if (roi->ndim() != 2 || roi->shape(0) != h || roi->shape(1) != w)
                        throw py::value_error("roi must be a uint8 mask of shape " + dims(h, w, 1));
                    rptr = roi->data();
                }
                const py::ssize_t nb = static_cast<py::ssize_t>(fptrs.size());
                py::array_t<std::uint8_t> masks;
                std::vector<std::uint8_t*> mptrs;
                if (return_mask) {
                    masks = py::array_t<std::uint8_t>({nb, static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)});
                    for (py::ssize_t b = 0; b < nb; ++b) mptrs.push_back(masks.mutable_data() + b * h * w);
                }
                int count_min = 255;
                if (count_shadows && s.params().detect_shadows) count_min = std::max(1, int(s.params().shadow_value));
                {
                    py::gil_scoped_release nogil;
                    s.apply_batch(fptrs.data(), static_cast<int>(nb), static_cast<std::ptrdiff_t>(w) * s.channels(),
                                  return_mask ? mptrs.data() : nullptr, w, cptr, rptr, count_min, learning_rate,
                                  threads);
                }
                if (return_mask) return std::move(masks);
                return py::none();
            },
            py::arg("frames"), py::arg("counts") = py::none(), py::arg("roi") = py::none(),
            py::arg("learning_rate") = -1.0, py::arg("threads") = 0, py::arg("return_mask") = false,
            py::arg("count_shadows") = false,
            "apply() for a sequence of frames (or a (B, H, W[, 3]) stack) in one pass over the model: each "
            "row of the state is updated by every frame while it is in cache (identical results, the state "
            "crosses the memory bus once per batch). Returns the (B, H, W) masks with return_mask=True.")
        .def(
            "get_state",
            [](const Mog2Model& s) {
                const py::ssize_t K = s.nmixtures(), H = s.height(), W = s.width(), C = s.channels();
                py::array_t<float> weight({H, W, K}), var({H, W, K}), mean({H, W, K, C});
                py::array_t<std::uint8_t> used({H, W});
                s.get_state(weight.mutable_data(), var.mutable_data(), mean.mutable_data(), used.mutable_data());
                py::dict d;
                d["nframes"] = s.nframes();
                d["weight"] = weight;
                d["var"] = var;
                d["mean"] = mean;
                d["modes_used"] = used;
                return d;
            },
            "The model state: nframes, float32 weight/var (H, W, K), mean (H, W, K, C) and uint8 "
            "modes_used (H, W); components k >= modes_used are zero.")
        .def(
            "set_state",
            [](Mog2Model& s, long long nframes, const carray<float>& weight, const carray<float>& var,
               const carray<float>& mean, const carray<std::uint8_t>& modes_used) {
                const py::ssize_t K = s.nmixtures(), H = s.height(), W = s.width(), C = s.channels();
                check_shape(weight, {H, W, K}, "weight");
                check_shape(var, {H, W, K}, "var");
                check_shape(mean, {H, W, K, C}, "mean");
                check_shape(modes_used, {H, W}, "modes_used");
                if (nframes < 0) throw py::value_error("nframes must be >= 0, got " + std::to_string(nframes));
                try {
                    s.set_state(nframes, weight.data(), var.data(), mean.data(), modes_used.data());
                } catch (const std::invalid_argument& e) {
                    throw py::value_error(e.what());
                }
            },
            py::arg("nframes"), py::arg("weight"), py::arg("var"), py::arg("mean"), py::arg("modes_used"),
            "Restore a state exported by get_state() (same shapes).");
}
