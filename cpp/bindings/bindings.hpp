// Shared pybind11 helpers for the bind_<area>.cpp files. Bindings know nothing of files.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace heatcore_bind {

// Arrays are taken C-contiguous with forcecast: the Python layer converts once, kernels see
// plain pointers of a fixed dtype.
template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Raises ValueError unless `a` has exactly `ndim` dimensions.
template <class T>
inline void require_ndim(const carray<T>& a, py::ssize_t ndim, const char* name) {
    if (a.ndim() != ndim)
        throw py::value_error(std::string(name) + " must have " + std::to_string(ndim) +
                              " dimensions, got " + std::to_string(a.ndim()));
}

// A new C-contiguous array of the given shape, zero-initialised, returned to Python without
// copying.
template <class T>
inline py::array_t<T> zeros(std::initializer_list<py::ssize_t> shape) {
    py::array_t<T> out{std::vector<py::ssize_t>(shape)};
    std::fill_n(out.mutable_data(), out.size(), T{});
    return out;
}

}  // namespace heatcore_bind

void register_kde(py::module_& m);
void register_motion(py::module_& m);
void register_grid(py::module_& m);
void register_homography(py::module_& m);
void register_mog2(py::module_& m);
