// pybind11 glue for the grid kernels (cpp/src/grid.cpp).
#include "bindings.hpp"
#include "heatcore/grid.hpp"

void register_grid(py::module_& m) {
    (void)m;
}
