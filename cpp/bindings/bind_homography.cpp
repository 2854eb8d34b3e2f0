// pybind11 glue for the homography kernels (cpp/src/homography.cpp).
#include "bindings.hpp"
#include "heatcore/homography.hpp"

#include <cmath>

using namespace heatcore_bind;

void register_homography(py::module_& m) {
    m.def(
        "apply_homography",
        [](const carray<double>& h, const carray<double>& points, int threads) {
            require_ndim(h, 2, "H");
            if (h.shape(0) != 3 || h.shape(1) != 3)
                throw py::value_error("H must have shape (3, 3), got (" + std::to_string(h.shape(0)) +
                                      ", " + std::to_string(h.shape(1)) + ")");
            for (int i = 0; i < 9; ++i)
                if (!std::isfinite(h.data()[i]))
                    throw py::value_error("H must hold finite numbers (found NaN/inf)");
            require_ndim(points, 2, "points");
            if (points.shape(1) != 2)
                throw py::value_error("points must have shape (N, 2), got (" +
                                      std::to_string(points.shape(0)) + ", " +
                                      std::to_string(points.shape(1)) + ")");
            const auto n = static_cast<std::size_t>(points.shape(0));
            py::array_t<double> out({points.shape(0), py::ssize_t{2}});
            double* o = out.mutable_data();
            const double* p = points.data();
            const double* hp = h.data();
            std::size_t behind;
            {
                py::gil_scoped_release release;
                behind = heatcore::apply_homography(hp, p, o, n, threads);
            }
            return py::make_tuple(out, behind);
        },
        py::arg("H"), py::arg("points"), py::arg("threads") = 0,
        "Map (N, 2) float64 points through the 3x3 homography H. Returns (mapped (N, 2) float64, "
        "number of points with w <= 0, which come out NaN).");
}
