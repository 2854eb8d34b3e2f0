// Detection grid counting (see grid.hpp). Each box becomes a "primitive" in cell space:
// a half-open rectangle [h0, h1) x [v0, v1) (box mode) or a centre cell that a stamp of row
// segments is laid around (point mode). Sums are applied row slab by row slab, so threads own
// disjoint rows of the output and never race.
#include "heatcore/grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "heatcore/parallel.hpp"

namespace heatcore {
namespace {

constexpr double kBig = 4503599627370496.0;  // 2^52: doubles beyond this are out of any grid

inline int64_t floor_i64(double x) {
    if (x != x) return 0;
    if (x > kBig) x = kBig;
    if (x < -kBig) x = -kBig;
    return static_cast<int64_t>(std::floor(x));
}

inline int64_t trunc_i64(double x) {
    if (x != x) return 0;  // NaN: callers skip non-finite boxes; never cast NaN
    if (x > kBig) x = kBig;
    if (x < -kBig) x = -kBig;
    return static_cast<int64_t>(std::trunc(x));
}

// Python's // for a positive divisor (rounds toward -inf).
inline int64_t floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && (a < 0)) --q;
    return q;
}

enum : int { kEmpty = 0, kRect = 1, kPoint = 2 };

struct Prim {
    int64_t h0, h1, v0, v1;  // rect: half-open ranges; point: h0 = gh, v0 = gv
    int kind;
};

struct StampRow {
    int64_t dv, lo, hi;  // cells (gh + lo .. gh + hi, gv + dv), inclusive
};

inline int64_t isqrt_floor(int64_t x) {
    if (x <= 0) return 0;
    int64_t r = static_cast<int64_t>(std::sqrt(static_cast<double>(x)));
    while (r * r > x) --r;
    while ((r + 1) * (r + 1) <= x) ++r;
    return r;
}

// The cells laid around a point, as row segments.
std::vector<StampRow> make_stamp(const GridSpec& s) {
    std::vector<StampRow> rows;
    const int64_t n = s.spread;
    if (n <= 0) {  // single cell (aitrios takes this path for n <= 0 too)
        rows.push_back({0, 0, 0});
        return rows;
    }
    const bool ait = s.geometry == GridGeometry::aitrios;
    const int64_t dv_hi = ait ? n - 1 : n;  // the sample's range(p - n, p + n) stops one short
    for (int64_t dv = -n; dv <= dv_hi; ++dv) {
        const int64_t w = isqrt_floor(n * n - dv * dv);
        const int64_t lo = -w;
        const int64_t hi = ait ? std::min(w, n - 1) : w;
        if (hi >= lo) rows.push_back({dv, lo, hi});
    }
    return rows;
}

inline bool finite4(const double* b) {
    return std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2]) && std::isfinite(b[3]);
}

// Point-mode cell of a box in the aitrios geometry (before wrap-around).
inline void aitrios_cell(const GridSpec& s, const double* b, int64_t& gh, int64_t& gv) {
    const int64_t gsh = s.width / s.nh, gsv = s.height / s.nv;
    const int64_t x = trunc_i64((b[0] + b[2]) / 2.0);
    const int64_t y = trunc_i64(b[1] * (1.0 - s.anchor) + b[3] * s.anchor);
    gh = floordiv(x, gsh);
    gv = floordiv(y, gsv);
}

inline int64_t exact_cell(double x, int64_t n_cells, int64_t size) {
    const int64_t c = floor_i64(x * static_cast<double>(n_cells) / static_cast<double>(size));
    return std::min(std::max<int64_t>(c, 0), n_cells - 1);
}

inline int64_t exact_last(double x, int64_t n_cells, int64_t size, int64_t first) {
    // The last cell whose interior the box reaches: ceil(x * N / W) - 1, at least `first`.
    double e = x * static_cast<double>(n_cells) / static_cast<double>(size);
    if (e > kBig) e = kBig;
    int64_t c = static_cast<int64_t>(std::ceil(e)) - 1;
    c = std::min(c, n_cells - 1);
    return std::max(c, first);
}

Prim make_prim(const GridSpec& s, const double* b) {
    Prim p{0, 0, 0, 0, kEmpty};
    if (!finite4(b)) return p;
    const int64_t n = s.spread;
    if (s.geometry == GridGeometry::aitrios) {
        const int64_t gsh = s.width / s.nh, gsv = s.height / s.nv;
        if (s.mode == GridMode::box) {
            const int64_t gl = floordiv(floor_i64(b[0]), gsh), gt = floordiv(floor_i64(b[1]), gsv);
            const int64_t gr = floordiv(floor_i64(b[2]), gsh), gb = floordiv(floor_i64(b[3]), gsv);
            p.h0 = std::min(std::max<int64_t>(gl - n, 0), s.nh - 1);
            p.v0 = std::min(std::max<int64_t>(gt - n, 0), s.nv - 1);
            p.h1 = std::min(gr + n, s.nh - 1);
            p.v1 = std::min(gb + n, s.nv - 1);
            p.kind = (p.h1 > p.h0 && p.v1 > p.v0) ? kRect : kEmpty;
            return p;
        }
        int64_t gh, gv;
        aitrios_cell(s, b, gh, gv);
        if (n <= 0) {  // plain list indexing: -N..-1 wraps, anything else out of range raises
            if (gh < -s.nh || gh >= s.nh || gv < -s.nv || gv >= s.nv) return p;  // validated before
            if (gh < 0) gh += s.nh;
            if (gv < 0) gv += s.nv;
        }
        p.h0 = gh;
        p.v0 = gv;
        p.kind = kPoint;
        return p;
    }
    // exact
    const double W = static_cast<double>(s.width), H = static_cast<double>(s.height);
    if (s.mode == GridMode::box) {
        double l = b[0], t = b[1], r = b[2], bb = b[3];
        if (r < l || bb < t) return p;
        if (r < 0.0 || l > W || bb < 0.0 || t > H) return p;
        l = std::max(l, 0.0);
        t = std::max(t, 0.0);
        r = std::min(r, W);
        bb = std::min(bb, H);
        const int64_t fh = exact_cell(l, s.nh, s.width), fv = exact_cell(t, s.nv, s.height);
        const int64_t lh = exact_last(r, s.nh, s.width, fh), lv = exact_last(bb, s.nv, s.height, fv);
        p.h0 = std::max<int64_t>(fh - n, 0);
        p.v0 = std::max<int64_t>(fv - n, 0);
        p.h1 = std::min(lh + n, s.nh - 1) + 1;
        p.v1 = std::min(lv + n, s.nv - 1) + 1;
        p.kind = kRect;
        return p;
    }
    const double x = (b[0] + b[2]) * 0.5;
    const double y = b[1] + s.anchor * (b[3] - b[1]);
    if (!(x >= 0.0 && x <= W && y >= 0.0 && y <= H)) return p;
    p.h0 = exact_cell(x, s.nh, s.width);
    p.v0 = exact_cell(y, s.nv, s.height);
    p.kind = kPoint;
    return p;
}

// Adds sign * primitive into the rows [r0, r1) held by `slab` (row r at slab + (r - r0) * nh).
template <class T>
inline void apply_prim(const GridSpec& s, const Prim& p, const std::vector<StampRow>& stamp, T* slab,
                       int64_t r0, int64_t r1, T sign) {
    const int64_t nh = s.nh;
    if (p.kind == kRect) {
        const int64_t va = std::max(p.v0, r0), vb = std::min(p.v1, r1);
        for (int64_t v = va; v < vb; ++v) {
            T* row = slab + (v - r0) * nh;
            for (int64_t h = p.h0; h < p.h1; ++h) row[h] += sign;
        }
    } else if (p.kind == kPoint) {
        for (const StampRow& sr : stamp) {
            const int64_t v = p.v0 + sr.dv;
            if (v < r0 || v >= r1 || v < 0 || v >= s.nv) continue;
            const int64_t ha = std::max<int64_t>(p.h0 + sr.lo, 0);
            const int64_t hb = std::min<int64_t>(p.h0 + sr.hi, nh - 1);
            T* row = slab + (v - r0) * nh;
            for (int64_t h = ha; h <= hb; ++h) row[h] += sign;
        }
    }
}

template <class T>
void apply_all(const GridSpec& s, const double* boxes, std::size_t n, T* grid, T sign) {
    const std::vector<StampRow> stamp = make_stamp(s);
    for (std::size_t i = 0; i < n; ++i) {
        const Prim p = make_prim(s, boxes + 4 * i);
        apply_prim<T>(s, p, stamp, grid, 0, s.nv, sign);
    }
}

}  // namespace

int64_t grid_first_bad_box(const GridSpec& s, const double* boxes, std::size_t n, GridError* err) {
    if (!(s.geometry == GridGeometry::aitrios && s.mode == GridMode::point && s.spread <= 0)) return -1;
    for (std::size_t i = 0; i < n; ++i) {
        const double* b = boxes + 4 * i;
        if (!finite4(b)) continue;
        int64_t gh, gv;
        aitrios_cell(s, b, gh, gv);
        if (gh < -s.nh || gh >= s.nh || gv < -s.nv || gv >= s.nv) {
            if (err) {
                err->box = static_cast<int64_t>(i);
                err->cell_h = gh;
                err->cell_v = gv;
            }
            return static_cast<int64_t>(i);
        }
    }
    return -1;
}

void grid_apply(const GridSpec& s, const double* boxes, std::size_t n, int64_t* grid, int64_t sign) {
    apply_all<int64_t>(s, boxes, n, grid, sign);
}

void grid_apply(const GridSpec& s, const double* boxes, std::size_t n, int32_t* grid, int32_t sign) {
    apply_all<int32_t>(s, boxes, n, grid, sign);
}

bool grid_counts(const GridSpec& s, const double* boxes, const int64_t* offsets, std::size_t frames,
                 int64_t window, int32_t* out, int threads, GridError* err, const int32_t* initial,
                 std::size_t history) {
    if (frames <= history) return true;
    const std::size_t total = static_cast<std::size_t>(offsets[frames]);
    const std::size_t first_box = static_cast<std::size_t>(offsets[history]);
    GridError e;
    int64_t bad = grid_first_bad_box(s, boxes + 4 * first_box, total - first_box, &e);
    if (bad >= 0) bad += static_cast<int64_t>(first_box);
    if (bad >= 0) {
        // frame holding box `bad`: the last t with offsets[t] <= bad < offsets[t + 1]
        const int64_t* it = std::upper_bound(offsets, offsets + frames + 1, bad);
        const int64_t f = static_cast<int64_t>(it - offsets) - 1;
        if (err) {
            *err = e;
            err->frame = f - static_cast<int64_t>(history);
            err->box = bad - offsets[f];
        }
        return false;
    }
    std::vector<Prim> prims(total);
    for (std::size_t i = 0; i < total; ++i) prims[i] = make_prim(s, boxes + 4 * i);  // ~ns per box
    const std::vector<StampRow> stamp = make_stamp(s);

    const int64_t nh = s.nh, nv = s.nv;
    const std::size_t cells = static_cast<std::size_t>(nh * nv);
    const std::size_t todo = frames - history;
    // Threads split the frames into contiguous runs (each writes its own part of `out`). A run
    // starting at frame t0 first rebuilds the grid before t0 (no output), which costs a few
    // primitives per frame against one grid copy per frame, so it pays only for long runs.
    const int nthreads = todo < 4096 ? 1 : resolve_threads(threads);
    const std::size_t min_chunk = 2048;
    auto add_frame = [&](int32_t* g, std::size_t t, int32_t sign) {
        for (int64_t i = offsets[t]; i < offsets[t + 1]; ++i)
            apply_prim<int32_t>(s, prims[static_cast<std::size_t>(i)], stamp, g, 0, nv, sign);
    };
    parallel_for(
        todo, nthreads,
        [&](std::size_t b, std::size_t e, int) {
            const std::size_t t0 = history + b, t1 = history + e;
            std::vector<int32_t> grid(cells, 0);
            int32_t* g = grid.data();
            const std::size_t w = window > 0 ? static_cast<std::size_t>(window) : 0;
            if (w > 0 && t0 >= history + w) {
                // everything before t0 - w (the initial grid included) has left the window
                for (std::size_t t = t0 - w; t < t0; ++t) add_frame(g, t, 1);
            } else {
                if (initial != nullptr) std::memcpy(g, initial, cells * sizeof(int32_t));
                for (std::size_t t = history; t < t0; ++t) {
                    if (w > 0 && t >= w) add_frame(g, t - w, -1);
                    add_frame(g, t, 1);
                }
            }
            int32_t* o = out + b * cells;
            for (std::size_t t = t0; t < t1; ++t, o += cells) {
                if (w > 0 && t >= w) add_frame(g, t - w, -1);
                add_frame(g, t, 1);
                std::memcpy(o, g, cells * sizeof(int32_t));
            }
        },
        min_chunk);
    return true;
}

void grid_points(const GridSpec& s, const double* boxes, std::size_t n, double* xy) {
    for (std::size_t i = 0; i < n; ++i) {
        const double* b = boxes + 4 * i;
        if (s.geometry == GridGeometry::aitrios) {
            xy[2 * i] = static_cast<double>(trunc_i64((b[0] + b[2]) / 2.0));
            xy[2 * i + 1] = static_cast<double>(trunc_i64(b[1] * (1.0 - s.anchor) + b[3] * s.anchor));
        } else {
            xy[2 * i] = (b[0] + b[2]) * 0.5;
            xy[2 * i + 1] = b[1] + s.anchor * (b[3] - b[1]);
        }
    }
}

namespace {

// Writes v in decimal at p; returns the end.
inline char* put_int(char* p, int32_t v) {
    char buf[12];
    char* e = buf + sizeof(buf);
    char* q = e;
    int64_t x = v;
    const bool neg = x < 0;
    if (neg) x = -x;
    do {
        *--q = static_cast<char>('0' + x % 10);
        x /= 10;
    } while (x != 0);
    if (neg) *--q = '-';
    const std::size_t n = static_cast<std::size_t>(e - q);
    std::memcpy(p, q, n);
    return p + n;
}

inline char* put(char* p, const std::string& s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

// "<prefix><digits>" for the small counts that fill most grids, padded to 32 bytes so one
// fixed-size copy writes an entry (the caller keeps 32 bytes of slack at the end).
struct NumberTable {
    static constexpr int kCount = 1024;
    std::string prefix;
    bool ok = false;
    char text[kCount][32];
    unsigned char len[kCount];
    void build(const std::string& pre) {
        prefix = pre;
        ok = pre.size() <= 20;
        if (!ok) return;
        for (int v = 0; v < kCount; ++v) {
            std::memset(text[v], ' ', 32);
            std::memcpy(text[v], pre.data(), pre.size());
            char* e = put_int(text[v] + pre.size(), v);
            len[v] = static_cast<unsigned char>(e - text[v]);
        }
    }
};

inline const NumberTable& number_table(const std::string& prefix) {
    thread_local NumberTable table;
    if (table.prefix != prefix || (!table.ok && !prefix.empty())) table.build(prefix);
    return table;
}

inline char* put_entry(char* p, const NumberTable& t, const std::string& prefix, int32_t v) {
    if (t.ok && v >= 0 && v < NumberTable::kCount) {
        std::memcpy(p, t.text[v], 32);
        return p + t.len[v];
    }
    p = put(p, prefix);
    return put_int(p, v);
}

}  // namespace

void format_grid_json(const int32_t* grid, int64_t nv, int64_t nh, int indent, int level, bool spaces,
                      std::string* out) {
    if (nv <= 0) {
        out->append("[]");
        return;
    }
    const std::size_t base = out->size();
    const bool pretty = indent > 0;
    const std::string sep = spaces ? ", " : ",";
    const std::string pad_row = pretty ? "\n" + std::string(static_cast<std::size_t>(indent * (level + 1)), ' ') : "";
    const std::string pad_num = pretty ? "\n" + std::string(static_cast<std::size_t>(indent * (level + 2)), ' ') : "";
    const std::string pad_end = pretty ? "\n" + std::string(static_cast<std::size_t>(indent * level), ' ') : "";
    // first number of a row: "<pad_num>v"; the others: ",<pad_num>v" (pretty) or "<sep>v"
    const std::string first_pre = pad_num;
    const std::string next_pre = pretty ? "," + pad_num : sep;
    const std::size_t per = std::max(first_pre.size(), next_pre.size()) + 12;
    const std::size_t bound = static_cast<std::size_t>(nv * nh) * per +
                              static_cast<std::size_t>(nv) * (2 * pad_row.size() + sep.size() + 3) +
                              pad_end.size() + 2 + 32;
    out->resize(base + bound);
    char* p = &(*out)[base];
    *p++ = '[';
    for (int64_t v = 0; v < nv; ++v) {
        if (v) p = pretty ? (*p++ = ',', p) : put(p, sep);
        p = put(p, pad_row);
        *p++ = '[';
        const int32_t* row = grid + v * nh;
        if (nh > 0) {
            p = put(p, first_pre);
            p = put_int(p, row[0]);
            const NumberTable& t = number_table(next_pre);
            for (int64_t h = 1; h < nh; ++h) p = put_entry(p, t, next_pre, row[h]);
            p = put(p, pad_row);
        }
        *p++ = ']';
    }
    p = put(p, pad_end);
    *p++ = ']';
    out->resize(static_cast<std::size_t>(p - out->data()));
}

}  // namespace heatcore

namespace heatcore {
namespace {

struct Cursor {
    const char* p;
    const char* e;
    bool lit(const char* s, std::size_t n) {
        if (static_cast<std::size_t>(e - p) < n || std::memcmp(p, s, n) != 0) return false;
        p += n;
        return true;
    }
    template <std::size_t N>
    bool lit(const char (&s)[N]) { return lit(s, N - 1); }
    // JSON integer without leading zeros, at most 15 digits; `neg` allows a minus sign.
    bool integer(bool neg, int64_t* v) {
        const char* q = p;
        bool minus = false;
        if (neg && q < e && *q == '-') {
            minus = true;
            ++q;
        }
        const char* d = q;
        int64_t x = 0;
        while (q < e && *q >= '0' && *q <= '9') {
            x = x * 10 + (*q - '0');
            ++q;
            if (q - d > 15) return false;
        }
        if (q == d || (q - d > 1 && *d == '0')) return false;
        *v = minus ? -x : x;
        p = q;
        return true;
    }
    // JSON number (int, fraction, exponent), finite.
    bool number(double* v) {
        const char* q = p;
        if (q < e && *q == '-') ++q;
        const char* d = q;
        while (q < e && *q >= '0' && *q <= '9') ++q;
        if (q == d || (q - d > 1 && *d == '0')) return false;
        if (q < e && *q == '.') {
            const char* f = ++q;
            while (q < e && *q >= '0' && *q <= '9') ++q;
            if (q == f) return false;
        }
        if (q < e && (*q == 'e' || *q == 'E')) {
            ++q;
            if (q < e && (*q == '+' || *q == '-')) ++q;
            const char* x = q;
            while (q < e && *q >= '0' && *q <= '9') ++q;
            if (q == x) return false;
        }
        const std::size_t n = static_cast<std::size_t>(q - p);
        if (n > 60) return false;
        char buf[64];
        std::memcpy(buf, p, n);
        buf[n] = '\0';
        char* end = nullptr;
        double x = std::strtod(buf, &end);
        if (end != buf + n || !std::isfinite(x)) return false;
        if (x == 0.0 && std::memchr(buf, '.', n) == nullptr && std::memchr(buf, 'e', n) == nullptr &&
            std::memchr(buf, 'E', n) == nullptr)
            x = 0.0;  // JSON "-0" is the integer 0 in Python, not -0.0
        *v = x;
        p = q;
        return true;
    }
};

// Decodes one row [b, e) in the sample's layout; appends to out on success.
bool parse_fast_row(const char* b, const char* e, AitriosRows* out) {
    Cursor c{b, e};
    int64_t idx;
    if (!c.integer(false, &idx)) return false;
    if (!c.lit(",\"{\"\"perception\"\": {\"\"object_detection_list\"\": [")) return false;
    const std::size_t nb = out->scores.size();
    bool first = true;
    while (!c.lit("]}}\"")) {
        if (!first && !c.lit(", ")) goto fail;
        first = false;
        {
            int64_t cls, l, t, r, bt;
            double score;
            if (!c.lit("{\"\"class_id\"\": ") || !c.integer(false, &cls)) goto fail;
            if (!c.lit(", \"\"bounding_box\"\": {\"\"left\"\": ") || !c.integer(true, &l)) goto fail;
            if (!c.lit(", \"\"top\"\": ") || !c.integer(true, &t)) goto fail;
            if (!c.lit(", \"\"right\"\": ") || !c.integer(true, &r)) goto fail;
            if (!c.lit(", \"\"bottom\"\": ") || !c.integer(true, &bt)) goto fail;
            if (!c.lit("}, \"\"score\"\": ") || !c.number(&score)) goto fail;
            if (!c.lit("}")) goto fail;
            out->boxes.insert(out->boxes.end(), {static_cast<double>(l), static_cast<double>(t),
                                                 static_cast<double>(r), static_cast<double>(bt)});
            out->scores.push_back(static_cast<float>(score));
            out->class_ids.push_back(cls);
        }
    }
    if (c.p != c.e) goto fail;
    return true;
fail:
    out->boxes.resize(4 * nb);
    out->scores.resize(nb);
    out->class_ids.resize(nb);
    return false;
}

inline bool integral15(double v) {
    return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15;
}

inline char* put_i64(char* p, int64_t x) {
    char buf[24];
    char* e = buf + sizeof(buf);
    char* q = e;
    const bool neg = x < 0;
    uint64_t u = neg ? static_cast<uint64_t>(-(x + 1)) + 1 : static_cast<uint64_t>(x);
    do {
        *--q = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (neg) *--q = '-';
    const std::size_t n = static_cast<std::size_t>(e - q);
    std::memcpy(p, q, n);
    return p + n;
}

}  // namespace

void parse_aitrios_rows(const char* text, std::size_t len, bool final, std::size_t max_rows, AitriosRows* out) {
    std::size_t pos = 0;
    out->box_offsets.assign(1, 0);
    while (pos < len && out->fast.size() < max_rows) {
        // find the end of this row: '\n' outside quotes
        bool quoted = false;
        std::size_t i = pos, nl = 0;
        for (; i < len; ++i) {
            const char ch = text[i];
            if (ch == '"') quoted = !quoted;
            else if (ch == '\n') {
                if (!quoted) break;
                ++nl;
            }
        }
        if (i == len && !final) break;  // incomplete last row: wait for more text
        std::size_t end = i;
        if (end > pos && text[end - 1] == '\r') --end;
        out->row_begin.push_back(static_cast<int64_t>(pos));
        out->row_end.push_back(static_cast<int64_t>(end));
        out->row_lines.push_back(static_cast<int64_t>(nl));
        out->fast.push_back(parse_fast_row(text + pos, text + end, out) ? 1 : 0);
        out->box_offsets.push_back(static_cast<int64_t>(out->scores.size()));
        pos = i < len ? i + 1 : len;
    }
    out->consumed = pos;
}

bool format_frame_json(const int32_t* grid, int64_t nv, int64_t nh, const double* boxes, const double* points,
                       int64_t begin, int64_t end, bool reverse, std::string* doc) {
    const int64_t n = end - begin;
    const int per = points ? 2 : 4;
    const double* vals = points ? points : boxes;
    for (int64_t i = begin * per; i < end * per; ++i)
        if (!integral15(vals[i])) return false;
    std::string& s = *doc;
    s.clear();
    s.reserve(static_cast<std::size_t>(nv * nh) * 16 + static_cast<std::size_t>(n) * 120 + 128);
    s.append("{\n    \"number_of_detects\": ");
    char buf[32];
    s.append(buf, static_cast<std::size_t>(put_i64(buf, n) - buf));
    s.append(points ? ",\n    \"positiones\": " : ",\n    \"bboxes\": ");
    if (n == 0) {
        s.append("[]");
    } else {
        static const char* const box_keys[4] = {"\n            \"left\": ", ",\n            \"top\": ",
                                                ",\n            \"right\": ", ",\n            \"bottom\": "};
        static const char* const pt_keys[2] = {"\n            \"x\": ", ",\n            \"y\": "};
        s.push_back('[');
        for (int64_t k = 0; k < n; ++k) {
            const int64_t j = reverse ? end - 1 - k : begin + k;
            if (k) s.push_back(',');
            s.append("\n        {");
            for (int f = 0; f < per; ++f) {
                s.append(points ? pt_keys[f] : box_keys[f]);
                const double v = vals[j * per + f];
                s.append(buf, static_cast<std::size_t>(put_i64(buf, static_cast<int64_t>(v)) - buf));
            }
            s.append("\n        }");
        }
        s.append("\n    ]");
    }
    s.append(",\n    \"griddata\": ");
    format_grid_json(grid, nv, nh, 4, 1, true, &s);
    return true;
}

}  // namespace heatcore
