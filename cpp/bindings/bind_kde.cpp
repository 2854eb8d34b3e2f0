// pybind11 glue for the kde kernels (cpp/src/kde.cpp).
#include "bindings.hpp"
#include "heatcore/kde.hpp"

void register_kde(py::module_& m) {
    (void)m;
}
