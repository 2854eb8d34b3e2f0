// pybind11 glue for the kde kernels (cpp/src/kde.cpp): conversion and size checks only.
#include <cmath>
#include <cstdio>
#include <complex>
#include <pybind11/complex.h>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "heatcore/kde.hpp"

using namespace heatcore_bind;

namespace {

struct Pts {
    const double* p = nullptr;
    const double* w = nullptr;
    std::size_t n = 0;
};

Pts check_points(const carray<double>& pts, const std::optional<carray<double>>& weights) {
    if (!(pts.ndim() == 2 && pts.shape(1) == 2) && !(pts.ndim() == 1 && pts.size() == 0))
        throw py::value_error("points must have shape (N, 2), got ndim " + std::to_string(pts.ndim()));
    Pts r;
    r.n = pts.ndim() == 2 ? static_cast<std::size_t>(pts.shape(0)) : 0;
    r.p = pts.data();
    if (weights) {
        if (weights->ndim() != 1 || static_cast<std::size_t>(weights->shape(0)) != r.n)
            throw py::value_error("weights must have shape (" + std::to_string(r.n) + ",)");
        r.w = weights->data();
    }
    return r;
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

heatcore::KdeCov check_cov(double sxx, double sxy, double syy) {
    // positive definite <=> sxx > 0 and the conditional variance sxx - sxy^2 / syy > 0, computed
    // without forming sxx * syy (which overflows for huge but valid covariances)
    if (!std::isfinite(sxx) || !std::isfinite(sxy) || !std::isfinite(syy) || !(sxx > 0) ||
        !(syy > 0) || !(sxx - sxy * (sxy / syy) > 0))
        throw py::value_error("covariance (" + fmt(sxx) + ", " + fmt(sxy) + ", " + fmt(syy) +
                              ") is not positive definite");
    return {sxx, sxy, syy};
}

// true for float32, false for float64; anything else is a ValueError naming it.
bool out_is_f32(const py::object& dtype) {
    const py::dtype dt = py::dtype::from_args(dtype);
    if (dt.kind() == 'f' && dt.itemsize() == 4) return true;
    if (dt.kind() == 'f' && dt.itemsize() == 8) return false;
    throw py::value_error("dtype must be float32 or float64, got " + std::string(py::str(dtype)));
}

void check_scale(double scale) {
    if (!std::isfinite(scale)) throw py::value_error("scale must be finite, got " + std::to_string(scale));
}

void check_shape(int H, int W) {
    if (H <= 0 || W <= 0)
        throw py::value_error("grid shape must be positive, got " + std::to_string(H) + "x" +
                              std::to_string(W));
}

}  // namespace

void register_kde(py::module_& m) {
    m.def(
        "kde_exact",
        [](carray<double> pts, std::optional<carray<double>> weights, int H, int W, double sxx,
           double sxy, double syy, double tol, int threads, std::array<double, 4> affine, double scale,
           py::object dtype) -> py::array {
            check_shape(H, W);
            const Pts p = check_points(pts, weights);
            const heatcore::KdeCov cov = check_cov(sxx, sxy, syy);
            if (!(tol > 0 && tol < 1)) throw py::value_error("tol must be in (0, 1), got " + std::to_string(tol));
            check_scale(scale);
            const heatcore::KdeAffine map{affine[0], affine[1], affine[2], affine[3]};
            if (out_is_f32(dtype)) {
                auto out = py::array_t<float>(std::vector<py::ssize_t>{H, W});
                float* o = out.mutable_data();
                {
                    py::gil_scoped_release nogil;
                    heatcore::kde_exact(p.p, p.w, p.n, H, W, cov, tol, o, threads, map, scale);
                }
                return std::move(out);
            }
            auto out = py::array_t<double>(std::vector<py::ssize_t>{H, W});
            double* o = out.mutable_data();
            {
                py::gil_scoped_release nogil;
                heatcore::kde_exact(p.p, p.w, p.n, H, W, cov, tol, o, threads, map, scale);
            }
            return std::move(out);
        },
        py::arg("points"), py::arg("weights"), py::arg("height"), py::arg("width"), py::arg("sxx"),
        py::arg("sxy"), py::arg("syy"), py::arg("tol") = 1e-7, py::arg("threads") = 0,
        py::arg("affine") = std::array<double, 4>{1.0, 0.0, 1.0, 0.0}, py::arg("scale") = 1.0,
        py::arg("dtype") = "float64",
        "Exact truncated splatting: scale x sum of peak-1 Gaussians at pixel centres (grid units; points\n"
        "are mapped by affine = (ax, bx, ay, by): u = ax x + bx, v = ay y + by). dtype float64 or float32\n"
        "(summed in float64, rounded once).");

    m.def(
        "kde_bin",
        [](carray<double> pts, std::optional<carray<double>> weights, py::array_t<double> grid,
           int mx, int my, int threads) {
            const Pts p = check_points(pts, weights);
            if (grid.ndim() != 2)
                throw py::value_error("grid must be 2-D, got ndim " + std::to_string(grid.ndim()));
            if (!(grid.flags() & py::array::c_style) || !grid.writeable())
                throw py::value_error("grid must be a writeable C-contiguous float64 array");
            const int Hp = static_cast<int>(grid.shape(0)), Wp = static_cast<int>(grid.shape(1));
            double* g = grid.mutable_data();
            {
                py::gil_scoped_release nogil;
                heatcore::kde_bin(p.p, p.w, p.n, g, Hp, Wp, mx, my, threads);
            }
        },
        py::arg("points"), py::arg("weights"), py::arg("grid"), py::arg("mx"), py::arg("my"),
        py::arg("threads") = 0,
        "Linear binning, added in place into a padded float64 grid whose pixel (my, mx) is grid pixel (0, 0).");

    m.def(
        "kde_blur",
        [](carray<double> grid, int mx, int my, int H, int W, double sxx, double sxy, double syy,
           int threads, double scale, py::object dtype) -> py::array {
            require_ndim(grid, 2, "grid");
            check_shape(H, W);
            const heatcore::KdeCov cov = check_cov(sxx, sxy, syy);
            check_scale(scale);
            const int Hp = static_cast<int>(grid.shape(0)), Wp = static_cast<int>(grid.shape(1));
            if (mx < 0 || my < 0 || mx + W > Wp || my + H > Hp)
                throw py::value_error("crop (" + std::to_string(H) + "x" + std::to_string(W) + " at " +
                                      std::to_string(my) + "," + std::to_string(mx) +
                                      ") lies outside the padded grid " + std::to_string(Hp) + "x" +
                                      std::to_string(Wp));
            if (!heatcore::kde_blur_plan(cov).ok)
                throw py::value_error("this covariance cannot be blurred accurately by recursive passes "
                                      "(a pass sigma would be below 2 pixels); use method='exact'");
            const double* g = grid.data();
            if (out_is_f32(dtype)) {
                auto out = py::array_t<float>(std::vector<py::ssize_t>{H, W});
                float* o = out.mutable_data();
                {
                    py::gil_scoped_release nogil;
                    heatcore::kde_blur(g, Hp, Wp, mx, my, H, W, cov, o, threads, scale);
                }
                return std::move(out);
            }
            auto out = py::array_t<double>(std::vector<py::ssize_t>{H, W});
            double* o = out.mutable_data();
            {
                py::gil_scoped_release nogil;
                heatcore::kde_blur(g, Hp, Wp, mx, my, H, W, cov, o, threads, scale);
            }
            return std::move(out);
        },
        py::arg("grid"), py::arg("mx"), py::arg("my"), py::arg("height"), py::arg("width"),
        py::arg("sxx"), py::arg("sxy"), py::arg("syy"), py::arg("threads") = 0, py::arg("scale") = 1.0,
        py::arg("dtype") = "float64",
        "Recursive Gaussian blur of a linearly binned padded grid, cropped and scaled to scale x peak-1 kernels.");

    m.def(
        "kde_binned",
        [](carray<double> pts, std::optional<carray<double>> weights, int H, int W, int mx, int my,
           double sxx, double sxy, double syy, int threads, std::array<double, 4> affine, double scale,
           py::object dtype) -> py::array {
            check_shape(H, W);
            const Pts p = check_points(pts, weights);
            const heatcore::KdeCov cov = check_cov(sxx, sxy, syy);
            check_scale(scale);
            if (mx < 0 || my < 0 || mx > (1 << 20) || my > (1 << 20))
                throw py::value_error("margins must be in [0, 2^20], got " + std::to_string(mx) + ", " + std::to_string(my));
            if (!heatcore::kde_blur_plan(cov).ok)
                throw py::value_error("this covariance cannot be blurred accurately by recursive passes "
                                      "(a pass sigma would be below 2 pixels); use method='exact'");
            const heatcore::KdeAffine map{affine[0], affine[1], affine[2], affine[3]};
            if (out_is_f32(dtype)) {
                auto out = py::array_t<float>(std::vector<py::ssize_t>{H, W});
                float* o = out.mutable_data();
                {
                    py::gil_scoped_release nogil;
                    heatcore::kde_binned(p.p, p.w, p.n, H, W, mx, my, cov, o, threads, map, scale);
                }
                return std::move(out);
            }
            auto out = py::array_t<double>(std::vector<py::ssize_t>{H, W});
            double* o = out.mutable_data();
            {
                py::gil_scoped_release nogil;
                heatcore::kde_binned(p.p, p.w, p.n, H, W, mx, my, cov, o, threads, map, scale);
            }
            return std::move(out);
        },
        py::arg("points"), py::arg("weights"), py::arg("height"), py::arg("width"), py::arg("mx"), py::arg("my"),
        py::arg("sxx"), py::arg("sxy"), py::arg("syy"), py::arg("threads") = 0,
        py::arg("affine") = std::array<double, 4>{1.0, 0.0, 1.0, 0.0}, py::arg("scale") = 1.0,
        py::arg("dtype") = "float64",
        "Linear binning (float32 scratch grid with margins mx, my) + recursive blur: scale x peak-1 kernel sums.");

    m.def(
        "kde_blur_plan",
        [](double sxx, double sxy, double syy) -> py::object {
            const heatcore::KdeBlurPlan p = heatcore::kde_blur_plan({sxx, sxy, syy});
            if (!p.ok) return py::none();
            py::dict d;
            d["A"] = p.A; d["B"] = p.B; d["C"] = p.C; d["dx"] = p.dx; d["dy"] = p.dy; d["C2"] = p.C2;
            return std::move(d);
        },
        py::arg("sxx"), py::arg("sxy"), py::arg("syy"),
        "How kde_blur splits a covariance into passes, or None when it cannot.");

    m.def(
        "kde_iir_coefficients",
        [](double var) {
            if (!(var > 0) || !std::isfinite(var)) throw py::value_error("var must be > 0");
            double z[6], g[6];
            heatcore::kde_iir_coefficients(var, z, g);
            py::list zl, gl;
            for (int k = 0; k < 3; ++k) {
                zl.append(std::complex<double>(z[2 * k], z[2 * k + 1]));
                gl.append(std::complex<double>(g[2 * k], g[2 * k + 1]));
            }
            return py::make_tuple(zl, gl);
        },
        py::arg("var"), "Poles and gains of the recursive Gaussian of variance var (steps^2).");

    m.def(
        "kde_stats",
        [](carray<double> pts, std::optional<carray<double>> weights, bool moments) {
            const Pts p = check_points(pts, weights);
            heatcore::KdeStats s;
            {
                py::gil_scoped_release nogil;
                s = heatcore::kde_stats(p.p, p.w, p.n, moments);
            }
            py::dict d;
            d["finite"] = s.finite; d["xmin"] = s.xmin; d["xmax"] = s.xmax; d["ymin"] = s.ymin;
            d["ymax"] = s.ymax; d["wmin"] = s.wmin; d["x0"] = s.x0; d["y0"] = s.y0; d["sw"] = s.sw;
            d["sw2"] = s.sw2; d["swx"] = s.swx; d["swy"] = s.swy; d["swxx"] = s.swxx;
            d["swxy"] = s.swxy; d["swyy"] = s.swyy;
            return d;
        },
        py::arg("points"), py::arg("weights"), py::arg("moments") = true,
        "One pass: count of finite rows, bounding box, min weight, weighted moments about (x0, y0).");

    m.def("kde_truncation_radius", &heatcore::kde_truncation_radius, py::arg("tol"));
}
