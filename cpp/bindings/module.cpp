// The compiled module heatcore._core: one register_<area>() per area.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "heatcore's compiled kernels (private; use the heatcore package)";
    register_kde(m);
    register_motion(m);
    register_grid(m);
    register_homography(m);
    register_mog2(m);  // the Mog2Model class, next to the motion kernels
}
