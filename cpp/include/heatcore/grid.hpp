// grid kernels: plain C++ API (pointers + sizes). No Python types.
//
// Detection grid counting: each box (left, top, right, bottom in image pixels) adds 1 to the
// cells it covers (box mode) or to the cells around one point of it (point mode), spread by
// `spread` cells; a sliding window of `window` frames keeps the sum of the last frames only.
//
// Two geometries:
//  * exact   — boxes count every cell they touch, symmetric spread (rectangle in box mode, disc
//              of radius n in point mode), anchor point on the vertical centre line, boxes and
//              points outside the image clipped or dropped, cell edges at i*W/Nh (any W, Nh).
//  * aitrios — the AITRIOS human-heatmap sample bit for bit: half-open ranges, last row/column
//              never counted in box mode, lopsided spread, int() truncation, floor division by
//              the cell size, negative index wrap-around for spread <= 0 in point mode.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace heatcore {

enum class GridMode : int { box = 0, point = 1 };
enum class GridGeometry : int { exact = 0, aitrios = 1 };

struct GridSpec {
    int64_t width = 0;   // image width in pixels (image_size_h)
    int64_t height = 0;  // image height in pixels (image_size_v)
    int64_t nh = 0;      // cells across (grid_num_h)
    int64_t nv = 0;      // cells down (grid_num_v)
    int64_t spread = 0;  // neighbour spread n, in cells
    GridMode mode = GridMode::box;
    GridGeometry geometry = GridGeometry::exact;
    double anchor = 1.0;  // point mode: 0 = top edge, 1 = bottom edge of the box
};

// Where the AITRIOS sample would raise IndexError (point mode, spread <= 0, a cell index >= N
// or < -N). frame/box are 0-based; cell_h/cell_v the offending cell.
struct GridError {
    int64_t frame = -1;
    int64_t box = -1;
    int64_t cell_h = 0;
    int64_t cell_v = 0;
};

// Index of the first box of boxes[0..n) the sample would crash on, or -1 (always -1 unless
// aitrios geometry, point mode and spread <= 0). Fills *err (frame left at -1) when not -1.
int64_t grid_first_bad_box(const GridSpec& spec, const double* boxes, std::size_t n, GridError* err);

// Adds sign * (contribution of boxes[0..n)) into grid (nv x nh, row-major). The boxes must have
// passed grid_first_bad_box (else they are skipped). Non-finite coordinates are skipped.
void grid_apply(const GridSpec& spec, const double* boxes, std::size_t n, int64_t* grid, int64_t sign);
void grid_apply(const GridSpec& spec, const double* boxes, std::size_t n, int32_t* grid, int32_t sign);

// The whole sequence in one call: frame t holds boxes[offsets[t] .. offsets[t+1]) (offsets has
// frames + 1 entries, non-decreasing, offsets[frames] = number of boxes). The first `history`
// frames are the ring buffer of an earlier run: their contributions are already in `initial`
// (nv x nh, or null for zeros) and they are only subtracted when they leave the window. out
// receives (frames - history) x nv x nh int32: the grid after each later frame with a window of
// `window` frames (window <= 0: unbounded). Returns false and fills *err (frame counted from the
// first frame after the history) when the aitrios geometry hits a box the sample would crash on
// (out is then unspecified). Parallel over row slabs.
bool grid_counts(const GridSpec& spec, const double* boxes, const int64_t* offsets, std::size_t frames,
                 int64_t window, int32_t* out, int threads, GridError* err, const int32_t* initial = nullptr,
                 std::size_t history = 0);

// The point each box turns into in point mode (x, y per box), in the spec's geometry:
// aitrios: x = trunc((l + r) / 2), y = trunc(t * (1 - anchor) + b * anchor); exact: x = (l + r) / 2,
// y = t + anchor * (b - t).
void grid_points(const GridSpec& spec, const double* boxes, std::size_t n, double* xy);

// JSON text of an nv x nh int32 grid as a list of rows, byte-identical to Python's
// json.dumps(grid.tolist(), indent=indent) nested `level` levels deep (indent > 0: one number per
// line; indent <= 0: compact "[[0,1],[2,3]]" with json.dumps' default ", " separators when
// `spaces`, or none at all otherwise). Appended to *out.
void format_grid_json(const int32_t* grid, int64_t nv, int64_t nh, int indent, int level, bool spaces,
                      std::string* out);

}  // namespace heatcore

namespace heatcore {

// Rows of the AITRIOS sample's detection CSV, parsed from a text buffer (no header). Rows in the
// sample's exact layout — `<digits>,"{""perception"": {""object_detection_list"": [{""class_id"":
// <uint>, ""bounding_box"": {""left"": <int>, ""top"": <int>, ""right"": <int>, ""bottom"": <int>},
// ""score"": <number>}, ...]}}"` — are decoded here (fast = 1); any other row (fast = 0) is left
// to the general Python parser, which gives the same arrays for rows both can read.
struct AitriosRows {
    std::vector<double> boxes;         // 4 per box: left, top, right, bottom (pixels)
    std::vector<float> scores;         // 1 per box
    std::vector<int64_t> class_ids;    // 1 per box
    std::vector<int64_t> box_offsets;  // rows + 1: boxes of row i are [box_offsets[i], box_offsets[i+1])
    std::vector<int64_t> row_begin;    // byte span of each row in the buffer (line end excluded)
    std::vector<int64_t> row_end;
    std::vector<int64_t> row_lines;    // number of '\n' inside each row (quoted newlines)
    std::vector<uint8_t> fast;         // 1 = decoded here, 0 = needs the general parser
    std::size_t consumed = 0;          // bytes of complete rows (all of it when final)
};

// Splits text[0..len) into CSV rows (newline outside double quotes) and decodes the fast ones.
// Stops before an unterminated last row unless `final`; at most max_rows rows.
void parse_aitrios_rows(const char* text, std::size_t len, bool final, std::size_t max_rows, AitriosRows* out);

// Per-frame JSON documents in the sample's json.dump(indent=4) layout for frames of one chunk:
// grids (frames x nv x nh int32), boxes (4 per box) with per-frame box offsets, points (2 per
// box, point mode) or null (box mode). Objects are listed last-first when `reverse`. Returns false
// for a frame whose box/point values are not all integers of at most 15 digits (the caller
// formats that frame itself); docs[i] is then left empty.
bool format_frame_json(const int32_t* grid, int64_t nv, int64_t nh, const double* boxes, const double* points,
                       int64_t begin, int64_t end, bool reverse, std::string* doc);

}  // namespace heatcore
