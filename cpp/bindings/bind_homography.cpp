// pybind11 glue for the homography kernels (cpp/src/homography.cpp).
#include "bindings.hpp"
#include "heatcore/homography.hpp"

void register_homography(py::module_& m) {
    (void)m;
}
