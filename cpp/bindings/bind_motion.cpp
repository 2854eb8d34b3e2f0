// pybind11 glue for the motion kernels (cpp/src/motion.cpp).
#include "bindings.hpp"
#include "heatcore/motion.hpp"

void register_motion(py::module_& m) {
    (void)m;
}
