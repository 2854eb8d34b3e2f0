// pybind11 glue for the grid kernels (cpp/src/grid.cpp): convert, check sizes, release the GIL.
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#include <string>

#include "bindings.hpp"
#include "heatcore/grid.hpp"

using namespace heatcore_bind;

namespace {

heatcore::GridSpec make_spec(int64_t width, int64_t height, int64_t nh, int64_t nv, int64_t spread,
                             const std::string& mode, const std::string& geometry, double anchor) {
    if (width <= 0 || height <= 0)
        throw py::value_error("image size must be positive, got " + std::to_string(width) + "x" + std::to_string(height));
    if (nh <= 0 || nv <= 0)
        throw py::value_error("grid must be positive, got " + std::to_string(nh) + "x" + std::to_string(nv));
    if (spread < -1000000 || spread > 1000000)
        throw py::value_error("spread must be within +-1000000 cells, got " + std::to_string(spread));
    if (!std::isfinite(anchor)) throw py::value_error("anchor must be finite");
    heatcore::GridSpec s;
    s.width = width;
    s.height = height;
    s.nh = nh;
    s.nv = nv;
    s.spread = spread;
    s.anchor = anchor;
    if (mode == "box") s.mode = heatcore::GridMode::box;
    else if (mode == "point") s.mode = heatcore::GridMode::point;
    else throw py::value_error("mode must be 'box' or 'point', got '" + mode + "'");
    if (geometry == "exact") s.geometry = heatcore::GridGeometry::exact;
    else if (geometry == "aitrios") s.geometry = heatcore::GridGeometry::aitrios;
    else throw py::value_error("geometry must be 'exact' or 'aitrios', got '" + geometry + "'");
    if (s.geometry == heatcore::GridGeometry::aitrios && (width < nh || height < nv))
        throw py::value_error("aitrios geometry needs cells of at least one pixel (image size >= grid)");
    if (s.geometry == heatcore::GridGeometry::exact && spread < 0)
        throw py::value_error("spread must be >= 0 in the exact geometry, got " + std::to_string(spread));
    return s;
}

void check_boxes(const carray<double>& boxes) {
    require_ndim(boxes, 2, "boxes");
    if (boxes.shape(1) != 4)
        throw py::value_error("boxes must have shape (N, 4), got (" + std::to_string(boxes.shape(0)) + ", " +
                              std::to_string(boxes.shape(1)) + ")");
}

}  // namespace

void register_grid(py::module_& m) {
    m.def(
        "grid_apply",
        [](py::array_t<int64_t, py::array::c_style> grid, carray<double> boxes, int64_t width, int64_t height,
           int64_t nh, int64_t nv, int64_t spread, const std::string& mode, const std::string& geometry,
           double anchor, int64_t sign) -> py::object {
            const heatcore::GridSpec s = make_spec(width, height, nh, nv, spread, mode, geometry, anchor);
            check_boxes(boxes);
            if (grid.ndim() != 2 || grid.shape(0) != nv || grid.shape(1) != nh)
                throw py::value_error("grid must be an int64 (" + std::to_string(nv) + ", " + std::to_string(nh) +
                                      ") array");
            if (!grid.writeable()) throw py::value_error("grid must be writeable");
            if (sign != 1 && sign != -1) throw py::value_error("sign must be +1 or -1");
            const std::size_t n = static_cast<std::size_t>(boxes.shape(0));
            const double* b = boxes.data();
            int64_t* g = grid.mutable_data();
            heatcore::GridError err;
            int64_t bad;
            {
                py::gil_scoped_release release;
                bad = heatcore::grid_first_bad_box(s, b, n, &err);
                if (bad < 0) heatcore::grid_apply(s, b, n, g, sign);
            }
            if (bad >= 0) return py::make_tuple(err.box, err.cell_h, err.cell_v);
            return py::none();
        },
        py::arg("grid"), py::arg("boxes"), py::arg("width"), py::arg("height"), py::arg("nh"), py::arg("nv"),
        py::arg("spread"), py::arg("mode"), py::arg("geometry"), py::arg("anchor"), py::arg("sign"),
        "Add sign * the contribution of one frame's boxes (N, 4) into grid (nv, nh) int64 in place.\n"
        "Returns None, or (box, cell_h, cell_v) of the first box the AITRIOS sample would crash on\n"
        "(grid untouched then).");

    m.def(
        "grid_counts",
        [](carray<double> boxes, carray<int64_t> offsets, int64_t width, int64_t height, int64_t nh, int64_t nv,
           int64_t spread, const std::string& mode, const std::string& geometry, double anchor, int64_t window,
           int threads, py::object initial, int64_t history, int64_t frame_base) -> py::array_t<int32_t> {
            const heatcore::GridSpec s = make_spec(width, height, nh, nv, spread, mode, geometry, anchor);
            check_boxes(boxes);
            require_ndim(offsets, 1, "offsets");
            if (offsets.shape(0) < 1) throw py::value_error("offsets must have frames + 1 >= 1 entries");
            const std::size_t frames = static_cast<std::size_t>(offsets.shape(0) - 1);
            const int64_t* off = offsets.data();
            if (off[0] != 0) throw py::value_error("offsets[0] must be 0, got " + std::to_string(off[0]));
            for (std::size_t t = 0; t < frames; ++t)
                if (off[t + 1] < off[t])
                    throw py::value_error("offsets must be non-decreasing (offsets[" + std::to_string(t + 1) +
                                          "] < offsets[" + std::to_string(t) + "])");
            if (off[frames] != boxes.shape(0))
                throw py::value_error("offsets[-1] (" + std::to_string(off[frames]) + ") must equal the number of boxes (" +
                                      std::to_string(boxes.shape(0)) + ")");
            const double cells = static_cast<double>(nh) * static_cast<double>(nv) * static_cast<double>(frames);
            if (cells > 4e9) throw py::value_error("output of frames x nv x nh int32 is too large (" +
                                                   std::to_string(cells) + " cells); count in chunks");
            if (history < 0 || static_cast<std::size_t>(history) > frames)
                throw py::value_error("history must be in [0, frames], got " + std::to_string(history));
            if (window > 0 && history > window)
                throw py::value_error("history (" + std::to_string(history) + ") must not exceed the window (" +
                                      std::to_string(window) + ")");
            carray<int32_t> init;
            const int32_t* init_ptr = nullptr;
            if (!initial.is_none()) {
                init = carray<int32_t>::ensure(initial);
                if (!init || init.ndim() != 2 || init.shape(0) != nv || init.shape(1) != nh)
                    throw py::value_error("initial must be an int32 (" + std::to_string(nv) + ", " + std::to_string(nh) +
                                          ") array");
                init_ptr = init.data();
            }
            const std::size_t hist = static_cast<std::size_t>(history);
            py::array_t<int32_t> out({static_cast<py::ssize_t>(frames - hist), static_cast<py::ssize_t>(nv),
                                      static_cast<py::ssize_t>(nh)});
            heatcore::GridError err;
            bool ok;
            {
                py::gil_scoped_release release;
                ok = heatcore::grid_counts(s, boxes.data(), off, frames, window, out.mutable_data(), threads, &err,
                                           init_ptr, hist);
            }
            if (!ok)
                throw py::value_error("frame " + std::to_string(err.frame + frame_base) + ", box " + std::to_string(err.box) +
                                      ": point cell (h=" + std::to_string(err.cell_h) + ", v=" +
                                      std::to_string(err.cell_v) + ") is outside the " + std::to_string(nh) + "x" +
                                      std::to_string(nv) +
                                      " grid; the AITRIOS sample raises IndexError here (spread <= 0 in point mode)");
            return out;
        },
        py::arg("boxes"), py::arg("offsets"), py::arg("width"), py::arg("height"), py::arg("nh"), py::arg("nv"),
        py::arg("spread"), py::arg("mode"), py::arg("geometry"), py::arg("anchor"), py::arg("window"),
        py::arg("threads") = 0, py::arg("initial") = py::none(), py::arg("history") = 0, py::arg("frame_base") = 0,
        "Grid after every frame of a sequence: frame t holds boxes[offsets[t]:offsets[t+1]].\n"
        "Returns (frames - history, nv, nh) int32. window <= 0: unbounded. The first `history` frames\n"
        "are an earlier run's ring buffer, already counted in `initial` (nv, nh) int32. Errors name\n"
        "frames counted from frame_base.");

    m.def(
        "grid_points",
        [](carray<double> boxes, int64_t width, int64_t height, int64_t nh, int64_t nv, int64_t spread,
           const std::string& geometry, double anchor) -> py::array_t<double> {
            const heatcore::GridSpec s = make_spec(width, height, nh, nv, spread, "point", geometry, anchor);
            check_boxes(boxes);
            const std::size_t n = static_cast<std::size_t>(boxes.shape(0));
            py::array_t<double> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(2)});
            double* o = out.mutable_data();
            const double* b = boxes.data();
            {
                py::gil_scoped_release release;
                heatcore::grid_points(s, b, n, o);
            }
            return out;
        },
        py::arg("boxes"), py::arg("width"), py::arg("height"), py::arg("nh"), py::arg("nv"), py::arg("spread"),
        py::arg("geometry"), py::arg("anchor"),
        "The point (x, y) in pixels each box (N, 4) turns into in point mode.");

    m.def(
        "format_grid_json",
        [](carray<int32_t> grid, int indent, int level, bool spaces) -> py::bytes {
            require_ndim(grid, 2, "grid");
            if (indent > 64 || level < 0 || level > 64) throw py::value_error("indent/level out of range");
            std::string s;
            const int32_t* g = grid.data();
            const int64_t nv = grid.shape(0), nh = grid.shape(1);
            {
                py::gil_scoped_release release;
                heatcore::format_grid_json(g, nv, nh, indent, level, spaces, &s);
            }
            return py::bytes(s);
        },
        py::arg("grid"), py::arg("indent") = 4, py::arg("level") = 1, py::arg("spaces") = true,
        "JSON text (bytes) of a (nv, nh) int32 grid, identical to json.dumps(grid.tolist(), indent=indent)\n"
        "nested `level` levels deep (indent <= 0: compact one-line form).");

    m.def(
        "parse_aitrios_rows",
        [](py::bytes data, bool final, int64_t max_rows) -> py::dict {
            char* buf = nullptr;
            py::ssize_t len = 0;
            if (PYBIND11_BYTES_AS_STRING_AND_SIZE(data.ptr(), &buf, &len) != 0) throw py::error_already_set();
            if (max_rows <= 0) throw py::value_error("max_rows must be > 0");
            heatcore::AitriosRows r;
            {
                py::gil_scoped_release release;
                heatcore::parse_aitrios_rows(buf, static_cast<std::size_t>(len), final,
                                             static_cast<std::size_t>(max_rows), &r);
            }
            const py::ssize_t m = static_cast<py::ssize_t>(r.scores.size());
            const py::ssize_t rows = static_cast<py::ssize_t>(r.fast.size());
            py::array_t<double> boxes({m, static_cast<py::ssize_t>(4)});
            if (m) std::memcpy(boxes.mutable_data(), r.boxes.data(), r.boxes.size() * sizeof(double));
            auto vec = [](const auto& v) {
                using T = typename std::decay_t<decltype(v)>::value_type;
                py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
                if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
                return a;
            };
            py::dict d;
            d["boxes"] = boxes;
            d["scores"] = vec(r.scores);
            d["class_ids"] = vec(r.class_ids);
            d["box_offsets"] = vec(r.box_offsets);
            d["row_begin"] = vec(r.row_begin);
            d["row_end"] = vec(r.row_end);
            d["row_lines"] = vec(r.row_lines);
            d["fast"] = vec(r.fast);
            d["consumed"] = static_cast<py::ssize_t>(r.consumed);
            d["rows"] = rows;
            return d;
        },
        py::arg("data"), py::arg("final"), py::arg("max_rows"),
        "Split CSV text (bytes, no header) into rows and decode those in the AITRIOS sample's exact layout.\n"
        "Returns a dict of arrays: boxes (M, 4), scores, class_ids, box_offsets (rows + 1), row_begin,\n"
        "row_end, row_lines, fast (1 = decoded, 0 = left to the general parser), consumed, rows.");

    m.def(
        "format_frames_json",
        [](carray<int32_t> grids, carray<double> boxes, carray<int64_t> offsets, py::object points,
           bool reverse) -> py::tuple {
            require_ndim(grids, 3, "grids");
            check_boxes(boxes);
            require_ndim(offsets, 1, "offsets");
            const int64_t k = grids.shape(0), nv = grids.shape(1), nh = grids.shape(2);
            if (offsets.shape(0) != k + 1) throw py::value_error("offsets must have frames + 1 entries");
            const int64_t* off = offsets.data();
            if (off[0] < 0 || off[k] > boxes.shape(0)) throw py::value_error("offsets out of range");
            for (int64_t t = 0; t < k; ++t)
                if (off[t + 1] < off[t]) throw py::value_error("offsets must be non-decreasing");
            carray<double> pts;
            const double* pp = nullptr;
            if (!points.is_none()) {
                pts = carray<double>::ensure(points);
                if (!pts || pts.ndim() != 2 || pts.shape(1) != 2 || pts.shape(0) != boxes.shape(0))
                    throw py::value_error("points must be (M, 2) like boxes");
                pp = pts.data();
            }
            std::string all, doc;
            std::vector<int64_t> spans(static_cast<std::size_t>(k + 1), 0);
            {
                py::gil_scoped_release release;
                for (int64_t t = 0; t < k; ++t) {
                    if (heatcore::format_frame_json(grids.data() + t * nv * nh, nv, nh, boxes.data(), pp, off[t],
                                                    off[t + 1], reverse, &doc)) {
                        all.append(doc);
                        all.append("\n}");
                        spans[t + 1] = static_cast<int64_t>(all.size());
                    } else {
                        spans[t + 1] = -1 - static_cast<int64_t>(all.size());  // formatted by the caller
                    }
                }
            }
            py::array_t<int64_t> sp(static_cast<py::ssize_t>(k + 1));
            std::memcpy(sp.mutable_data(), spans.data(), spans.size() * sizeof(int64_t));
            return py::make_tuple(py::bytes(all), sp);
        },
        py::arg("grids"), py::arg("boxes"), py::arg("offsets"), py::arg("points"), py::arg("reverse"),
        "Per-frame JSON documents (the sample's indent=4 layout, no timestamp) for frames of a chunk, as\n"
        "(text bytes, ends (K + 1,)): frame t is text[|ends[t]| .. ends[t+1]] with negative ends marking a\n"
        "frame whose values are not all integers (format it in Python; its end is -1 - position).");

    m.def(
        "format_grids_jsonl",
        [](carray<int32_t> grids, carray<int64_t> counts, int64_t first) -> py::bytes {
            require_ndim(grids, 3, "grids");
            require_ndim(counts, 1, "counts");
            const int64_t k = grids.shape(0), nv = grids.shape(1), nh = grids.shape(2);
            if (counts.shape(0) != k) throw py::value_error("counts must have one entry per frame");
            std::string s;
            {
                py::gil_scoped_release release;
                s.reserve(static_cast<std::size_t>(k * (nv * nh * 3 + 64)));
                for (int64_t t = 0; t < k; ++t) {
                    s.append("{\"frame\": ");
                    s.append(std::to_string(first + t));
                    s.append(", \"number_of_detects\": ");
                    s.append(std::to_string(counts.data()[t]));
                    s.append(", \"griddata\": ");
                    heatcore::format_grid_json(grids.data() + t * nv * nh, nv, nh, 0, 0, true, &s);
                    s.append("}\n");
                }
            }
            return py::bytes(s);
        },
        py::arg("grids"), py::arg("counts"), py::arg("first"),
        "JSON Lines text (bytes) for frames first, first + 1, ...: {\"frame\", \"number_of_detects\", \"griddata\"}.");
}
